//! `verify`: each defect the bundled rulebooks had (kept as fixtures) is
//! found from the property that forbids it; a counterexample is an example
//! that fails until the rule is fixed; the bundled rulebooks pass.

use rulebook::ops::verify::{verify, Outcome, PropertyReport, Settings};
use rulebook::versions::workspace::Workspace;
use rulebook_files::Files;
use std::path::PathBuf;
use std::time::Instant;

fn fixture(name: &str) -> PathBuf {
    crate::data().join("fixtures/defects").join(name)
}

/// Every property report of every requested version below `path`.
fn reports(path: PathBuf, settings: Settings) -> Vec<(String, PropertyReport)> {
    let loaded = match Workspace::load(&Files, &[path]) {
        Ok(w) => w,
        Err(e) => panic!("{e}"),
    };
    let mut out = Vec::new();
    for &i in &loaded.requested {
        let v = &loaded.versions[i];
        let Some(p) = v.program() else {
            panic!(
                "{} does not check: {:?}",
                loaded.sources[i].name,
                loaded.diagnostics(i)
            );
        };
        for r in verify(p, &v.text, settings) {
            out.push((p.version.clone(), r));
        }
    }
    out
}

fn outcome<'r>(
    reports: &'r [(String, PropertyReport)],
    version: &str,
    property: &str,
) -> &'r Outcome {
    match reports
        .iter()
        .find(|(v, r)| v == version && r.property == property)
    {
        Some((_, r)) => &r.outcome,
        None => panic!("no report of {property} in version {version}"),
    }
}

#[test]
fn each_listed_defect_is_found_from_the_property_that_forbids_it() {
    let cases = [
        (
            "home-care-2021-negative-self-fee.rulebook",
            "2021",
            "customer_never_pays_below_zero",
            "customer_pays = -",
        ),
        (
            "home-care-2021-negative-self-fee.rulebook",
            "2021",
            "city_pays_at_most_the_price",
            "city_pays = ",
        ),
        (
            "service-housing-2024-voucher-above-price.rulebook",
            "2024",
            "voucher_at_most_the_price",
            "voucher = ",
        ),
        (
            "dental-voucher-2022-self-fee-above-price.rulebook",
            "2022",
            "self_fee_at_most_the_price",
            "self_fee = ",
        ),
        (
            "primary-care-2017-19-unbounded-bonus.rulebook",
            "2017-19",
            "savings_bonus_within_the_pilot_total",
            "savings_bonus = ",
        ),
        (
            "primary-care-2017-19-unbounded-bonus.rulebook",
            "2017-19",
            "born_before_the_decision",
            "customer.birth_date = ",
        ),
        (
            "keusote-dental",
            "2019",
            "capitation_within_the_target",
            "annual_capitation = 304.50 €",
        ),
        (
            "keusote-dental",
            "2018",
            "fee_for_service_bounded",
            "fee_for_service = ",
        ),
    ];
    for (file, version, property, shown) in cases {
        let started = Instant::now();
        let found = reports(fixture(file), Settings::default());
        let Outcome::Counterexample { why, example, .. } = outcome(&found, version, property)
        else {
            panic!(
                "{file}: no counterexample to {property}: {:?}",
                outcome(&found, version, property)
            );
        };
        assert!(why.contains(shown), "{file} {property}: {why}");
        assert!(
            example.contains(&format!("expect property {property}")),
            "{example}"
        );
        eprintln!("{file} {property}: found in {:?}", started.elapsed());
    }
}

/// The 2021 home-care version before its fix: the counterexample, pasted
/// into it, is an example that fails; pasted into the fixed version, it
/// passes.
#[test]
fn a_counterexample_is_an_example_that_fails_until_the_rule_is_fixed() {
    let found = reports(
        fixture("home-care-2021-negative-self-fee.rulebook"),
        Settings::default(),
    );
    let Outcome::Counterexample {
        example,
        explanation,
        ..
    } = outcome(&found, "2021", "customer_never_pays_below_zero")
    else {
        panic!("not found");
    };
    assert!(
        explanation
            .iter()
            .any(|l| l.starts_with("customer_pays = -")),
        "{explanation:?}"
    );
    let run = |file: PathBuf| {
        let text = std::fs::read_to_string(file).unwrap();
        let text = format!("{text}\n{example}");
        let checked = rulebook::check::check(&text);
        let Some(p) = checked.program else {
            panic!(
                "the pasted example does not check: {:?}",
                checked.diagnostics
            );
        };
        let p = rulebook::eval::Executable::new(p);
        let results = rulebook::ops::examples::run_examples(&p);
        let Some(last) = results.last() else {
            panic!("no examples");
        };
        assert!(last.name.starts_with("counterexample to"), "{}", last.name);
        last.passed()
    };
    assert!(!run(fixture("home-care-2021-negative-self-fee.rulebook")));
    assert!(run(
        crate::repo().join("rulebooks/helsinki-home-care/2021.rulebook")
    ));
}

#[test]
fn the_bundled_rulebooks_have_no_counterexample() {
    let found = reports(crate::repo().join("rulebooks"), Settings::default());
    assert!(found.len() >= 11, "{} properties", found.len());
    for (version, r) in &found {
        assert!(
            matches!(r.outcome, Outcome::NotFound { .. }),
            "{version} {}: {:?}",
            r.property,
            r.outcome
        );
    }
}

const HEADER: &str =
    "rulebook test.verify \"Verify\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\n";

fn verify_text(body: &str) -> Vec<PropertyReport> {
    let text = format!("{HEADER}{body}");
    let checked = rulebook::check::check(&text);
    let Some(p) = checked.program else {
        panic!("{:?}", checked.diagnostics);
    };
    verify(
        &rulebook::eval::Executable::new(p),
        &text,
        Settings::default(),
    )
}

#[test]
fn a_rising_value_breaks_never_rises_and_a_steep_one_the_marginal_bound() {
    let r = verify_text(
        "input h { income: money 0 € or more }\n\
         output fee: money = h.income * 150 % rounded to cents\n\
         property fee_never_rises: fee never rises when h.income rises\n\
         property fee_never_falls: fee never falls when h.income rises\n\
         property no_cliff: fee rises by at most 1 € when h.income rises by 1 €\n",
    );
    assert!(r[0].failed(), "{:?}", r[0]);
    assert!(!r[1].failed(), "{:?}", r[1]);
    assert!(r[2].failed(), "{:?}", r[2]);
    let Outcome::Counterexample { example, .. } = &r[2].outcome else {
        unreachable!()
    };
    assert!(example.contains("expect property no_cliff"), "{example}");
}

#[test]
fn a_property_whose_condition_no_case_meets_is_reported_as_never_applied() {
    let r = verify_text(
        "input h { income: money 0 € or more }\n\
         output fee: money = h.income * 10 % rounded to cents\n\
         property never_checked: fee >= 0 € when h.income < 0 €\n",
    );
    assert!(matches!(r[0].outcome, Outcome::NeverApplied), "{:?}", r[0]);
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let a = reports(
        fixture("service-housing-2024-voucher-above-price.rulebook"),
        Settings::default(),
    );
    let b = reports(
        fixture("service-housing-2024-voucher-above-price.rulebook"),
        Settings::default(),
    );
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}
