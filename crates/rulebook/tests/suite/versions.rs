//! Versions, amendments, semantic diff and impact analysis.

use rulebook::eval::{decision_json, evaluate, Case, Options};
use rulebook::ops::diff::{diff, to_html, to_json, to_markdown, to_text, Side};
use rulebook::ops::impact::Accumulator;
use rulebook::versions::{self, Source, Version};
use std::path::Path;

fn root() -> &'static Path {
    crate::repo()
}

fn read(rel: &str) -> Source {
    Source {
        name: rel.to_string(),
        text: std::fs::read_to_string(root().join(rel)).unwrap(),
    }
}

/// Loads files as one family and returns their versions, asserting no errors.
/// The payment ceiling's and the dental client fees' versions come along, as
/// the loader brings them for the rulebooks that use them; they follow the
/// files asked for.
fn load(rels: &[&str]) -> Vec<(Source, Version)> {
    let mut sources: Vec<Source> = rels.iter().map(|r| read(r)).collect();
    for rel in [
        "rulebooks/payment-ceiling/2020-21.rulebook",
        "rulebooks/payment-ceiling/2022-23.rulebook",
        "rulebooks/payment-ceiling/2024-25.rulebook",
        "rulebooks/dental-client-fees/2018-21.rulebook",
        "rulebooks/dental-client-fees/2022-23.rulebook",
    ] {
        let rel = rel.to_string();
        if !rels.contains(&rel.as_str()) {
            sources.push(read(&rel));
        }
    }
    let (versions, findings) = versions::load(&sources);
    assert!(findings.iter().all(|(_, d)| !d.is_error()), "{findings:#?}");
    let out: Vec<(Source, Version)> = sources.into_iter().zip(versions).collect();
    for (s, v) in &out {
        assert!(
            v.program().is_some(),
            "{} has errors: {:#?}",
            s.name,
            v.own_diagnostics(&s.text)
        );
    }
    out
}

fn side(v: &Version) -> Side<'_> {
    Side {
        text: &v.text,
        checked: &v.checked,
        program: v.program().unwrap(),
    }
}

#[test]
fn an_amendment_behaves_exactly_like_its_written_out_copy() {
    let family = load(&[
        "rulebooks/keusote-dental/2018.rulebook",
        "rulebooks/keusote-dental/2019.rulebook",
    ]);
    let amended = &family[1].1;
    assert!(!amended.origin.is_empty(), "2019 is written out from 2018");
    let copy =
        load(&["crates/rulebook/tests/suite/fixtures/keusote-dental-2019-written-out.rulebook"]);
    let written = &copy[0].1;
    let (pa, pw) = (amended.program().unwrap(), written.program().unwrap());
    // Same decision, explanation included, for every example of either.
    let examples: Vec<_> = pa.examples.iter().chain(&pw.examples).collect();
    assert!(examples.len() >= 20);
    for e in examples {
        let case = Case {
            decision_date: e.date,
            inputs: e.inputs.clone(),
        };
        let a =
            evaluate(pa, &case, &Options { explain: true }).map(|d| decision_json(pa, &case, &d));
        let w =
            evaluate(pw, &case, &Options { explain: true }).map(|d| decision_json(pw, &case, &d));
        assert_eq!(a, w, "example {:?}", e.name);
    }
    let d = diff(&side(amended), &side(written));
    assert!(d.changes.is_empty(), "{}", to_text(&d));
}

const BASE: &str = "rulebook t.amend \"Amend\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\n\
    input p { age: integer }\nparameter limit = 18\nlet old_rule = 1\noutput adult: bool = p.age >= limit\n\
    output bonus: integer = old_rule\n";

#[test]
fn amendments_restate_remove_and_add() {
    let amending = "rulebook t.amend \"Amend\"\n  version 2\n  in force 2022-01-01\n  amends 1\n\n\
        parameter limit = 20\nremove old_rule, bonus\noutput senior: bool = p.age >= 65\n\n\
        example \"20 is adult\"\n  on 2022-02-01\n  given p { age: 20 }\n  expect adult = true\n  expect senior = false\n";
    let sources = vec![
        Source {
            name: "1".into(),
            text: BASE.into(),
        },
        Source {
            name: "2".into(),
            text: amending.into(),
        },
    ];
    let (versions, findings) = versions::load(&sources);
    assert!(findings.is_empty(), "{findings:#?}");
    let p = versions[1]
        .program()
        .unwrap_or_else(|| panic!("{:#?}", versions[1].checked.diagnostics));
    let outputs: Vec<&str> = p
        .outputs
        .iter()
        .map(|o| p.defs[*o as usize].name.as_str())
        .collect();
    assert_eq!(outputs, ["adult", "senior"]);
    assert!(p.def_index("old_rule").is_none());
    let results = rulebook::ops::examples::run_examples(p);
    assert!(results.iter().all(|r| r.passed()), "{results:#?}");
}

#[test]
fn removing_what_is_not_inherited_is_reported_in_the_amending_file() {
    let amending = "rulebook t.amend \"Amend\"\n  version 2\n  in force 2022-01-01\n  amends 1\n\nremove no_such_rule\n";
    let sources = vec![
        Source {
            name: "1".into(),
            text: BASE.into(),
        },
        Source {
            name: "2".into(),
            text: amending.into(),
        },
    ];
    let (_, findings) = versions::load(&sources);
    let (i, d) = &findings[0];
    assert_eq!(
        (*i, d.code),
        (1, rulebook::diagnostic::Code::InvalidAmendment)
    );
    assert_eq!(&amending[d.span.start..d.span.end], "no_such_rule");
    let missing = "rulebook t.amend \"Amend\"\n  version 3\n  in force 2023-01-01\n  amends 7\n";
    let (_, findings) = versions::load(&[Source {
        name: "3".into(),
        text: missing.into(),
    }]);
    assert!(
        findings[0].1.message.contains("there is no version 7"),
        "{findings:#?}"
    );
}

#[test]
fn the_version_in_force_is_chosen_by_date() {
    let family = load(&[
        "rulebooks/helsinki-home-care/2021.rulebook",
        "rulebooks/helsinki-home-care/2022-23.rulebook",
        "rulebooks/helsinki-home-care/2024-25.rulebook",
    ]);
    let programs: Vec<&rulebook::ir::Program> = family
        .iter()
        .filter(|(s, _)| s.name.contains("home-care"))
        .map(|(_, v)| v.program().unwrap().program())
        .collect();
    let on = |d: &str| versions::select(&programs, None, d.parse().unwrap());
    assert_eq!(programs[on("2021-12-31").unwrap()].version, "2021");
    assert_eq!(programs[on("2022-01-01").unwrap()].version, "2022-23");
    assert_eq!(programs[on("2025-12-31").unwrap()].version, "2024-25");
    let err = on("2026-01-01").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no version of `helsinki.home_care` is in force on 2026-01-01; the versions are: 2021 from 2021-01-01 to 2021-12-31; 2022-23 from 2022-01-01 to 2023-12-31; 2024-25 from 2024-01-01 to 2025-12-31"
    );
    assert!(versions::select(&programs, Some("nope"), "2021-01-01".parse().unwrap()).is_err());
}

fn bundled() -> Vec<String> {
    crate::files_below(&["rulebooks"])
        .into_iter()
        .map(|f| {
            f.strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn formatting_any_bundled_rulebook_yields_an_empty_diff() {
    let files = bundled();
    assert!(files.len() >= 13);
    let originals: Vec<Source> = files.iter().map(|f| read(f)).collect();
    // Each file is messed up (re-indented, trailing spaces, blank lines,
    // table rows moved to column 0) and formatted again.
    let mess = |t: &str| -> String {
        t.lines()
            .map(|l| match l.strip_prefix("  | ") {
                Some(row) => format!("|   {row}   \n"),
                None if l.starts_with("  ") => format!("     {l}  \n\n"),
                None => format!("{l}\n"),
            })
            .collect()
    };
    let messed: Vec<Source> = originals
        .iter()
        .map(|s| Source {
            name: s.name.clone(),
            text: rulebook::ops::format::format(&mess(&s.text)),
        })
        .collect();
    assert!(
        messed.iter().zip(&originals).any(|(m, o)| m.text != o.text),
        "the messing changed nothing"
    );
    let (a, _) = versions::load(&originals);
    let (b, _) = versions::load(&messed);
    for ((s, va), vb) in originals.iter().zip(&a).zip(&b) {
        let (Some(_), Some(_)) = (va.program(), vb.program()) else {
            panic!("{} does not check after formatting", s.name)
        };
        let d = diff(&side(va), &side(vb));
        assert!(d.changes.is_empty(), "{}: {}", s.name, to_text(&d));
    }
}

fn snapshot_all_formats(name: &str, old: &str, new: &str) {
    let family = load(&[old, new]);
    let d = diff(&side(&family[0].1), &side(&family[1].1));
    insta::assert_snapshot!(format!("{name}.txt"), to_text(&d));
    insta::assert_snapshot!(format!("{name}.md"), to_markdown(&d));
    insta::assert_json_snapshot!(format!("{name}.json"), to_json(&d));
    insta::assert_snapshot!(format!("{name}.html"), to_html(&d, None));
}

#[test]
fn diff_home_care_2021_to_2022_23() {
    snapshot_all_formats(
        "home_care_2021_2022-23",
        "rulebooks/helsinki-home-care/2021.rulebook",
        "rulebooks/helsinki-home-care/2022-23.rulebook",
    );
}

#[test]
fn diff_home_care_2022_23_to_2024_25() {
    snapshot_all_formats(
        "home_care_2022-23_2024-25",
        "rulebooks/helsinki-home-care/2022-23.rulebook",
        "rulebooks/helsinki-home-care/2024-25.rulebook",
    );
}

#[test]
fn diff_dental_client_fees() {
    snapshot_all_formats(
        "dental_fees_2018-21_2022-23",
        "rulebooks/dental-client-fees/2018-21.rulebook",
        "rulebooks/dental-client-fees/2022-23.rulebook",
    );
}

#[test]
fn diff_dental_voucher_lump_sums_show_relative_change() {
    let family = load(&[
        "rulebooks/helsinki-dental-voucher/2021.rulebook",
        "rulebooks/helsinki-dental-voucher/2022.rulebook",
    ]);
    let d = diff(&side(&family[0].1), &side(&family[1].1));
    let text = to_text(&d);
    assert!(
        text.contains("lump_sum_under_45: 83.00 € → 113.00 € (+30.00 €, +36.1 %)"),
        "{text}"
    );
    assert!(
        text.contains("lump_sum_45_or_over: 99.00 € → 135.00 € (+36.00 €, +36.4 %)"),
        "{text}"
    );
    insta::assert_snapshot!("dental_voucher_2021_2022.txt", text);
}

#[test]
fn diff_keusote_dental_2018_to_2019() {
    snapshot_all_formats(
        "keusote_dental_2018_2019",
        "rulebooks/keusote-dental/2018.rulebook",
        "rulebooks/keusote-dental/2019.rulebook",
    );
}

/// A deterministic population without any randomness library.
fn population(n: usize) -> Vec<serde_json::Value> {
    let mut x: u64 = 42;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    (0..n)
        .map(|_| {
            let size = 1 + next(8);
            let income = 300 + next(5000);
            let cents = next(100);
            let price = [36, 38, 40, 42, 45][next(5) as usize];
            let hours = [4, 8, 10, 20, 40, 50][next(6) as usize];
            serde_json::json!({
                "decision_date": "2021-06-01",
                "household": { "gross_monthly_income": format!("{income}.{cents:02}"), "size": size },
                "service": { "hourly_price": format!("{price}.00"), "hours_per_month": hours },
            })
        })
        .collect()
}

fn accumulator<'p>(
    old: &'p rulebook::eval::Executable,
    new: &'p rulebook::eval::Executable,
    top: usize,
) -> Accumulator<'p> {
    let settings = rulebook::ops::impact::Settings {
        top,
        ..Default::default()
    };
    Accumulator::new(old, new, None, settings).unwrap()
}

#[test]
fn impact_of_the_2022_limits_on_a_population() {
    let family = load(&[
        "rulebooks/helsinki-home-care/2021.rulebook",
        "rulebooks/helsinki-home-care/2022-23.rulebook",
    ]);
    let (old, new) = (
        family[0].1.program().unwrap(),
        family[1].1.program().unwrap(),
    );
    let cases = population(2000);
    // Two accumulators merged give the same result as one.
    let mut whole = accumulator(old, new, 3);
    let mut first = accumulator(old, new, 3);
    let mut second = accumulator(old, new, 3);
    for (i, c) in cases.iter().enumerate() {
        whole.add(i as u64 + 1, c.clone());
        if i % 2 == 0 {
            first.add(i as u64 + 1, c.clone());
        } else {
            second.add(i as u64 + 1, c.clone());
        }
    }
    first.merge(second);
    let finish = |a: Accumulator| rulebook::ops::impact::finish(&a.into_summary(), old, new, None);
    let (whole, merged) = (finish(whole), finish(first));
    assert_eq!(whole, merged);
    assert_eq!(whole.cases, 2000);
    assert_eq!(whole.failed, 0);
    // Higher limits never lower the voucher.
    let value = whole
        .outputs
        .iter()
        .find(|o| o.output == "hourly_value")
        .unwrap();
    assert!(
        value.change.as_ref().unwrap().min.starts_with("0.00"),
        "{value:#?}"
    );
    assert!(value.changed > 0);
    insta::assert_json_snapshot!("impact_home_care_2021_2022-23", whole);
    let html = rulebook::ops::impact::to_html(&whole);
    assert!(html.contains("<svg class=\"histogram\""));
}

#[test]
fn impact_reports_unreadable_cases_with_their_line() {
    let family = load(&[
        "rulebooks/helsinki-home-care/2021.rulebook",
        "rulebooks/helsinki-home-care/2022-23.rulebook",
    ]);
    let (old, new) = (
        family[0].1.program().unwrap(),
        family[1].1.program().unwrap(),
    );
    let mut acc = accumulator(old, new, 3);
    acc.add(
        1,
        serde_json::json!({ "decision_date": "2021-06-01", "household": { "size": 2 } }),
    );
    acc.add_unreadable(2, "not JSON".into());
    let i = rulebook::ops::impact::finish(&acc.into_summary(), old, new, None);
    assert_eq!((i.cases, i.failed), (2, 2));
    assert_eq!(i.failures[0].line, 1);
    assert!(
        i.failures[0].message.contains(
            "household.gross_monthly_income: the field `gross_monthly_income` is missing"
        ),
        "{:?}",
        i.failures
    );
}

/// Table rows are matched by their conditions and scale brackets by their
/// thresholds, so a change, an addition and a removal each show as such.
#[test]
fn diff_names_changed_added_and_removed_rows_and_brackets() {
    let book = |version: &str, from: &str, rows: &str, brackets: &str| {
        Source {
        name: format!("{version}.rulebook"),
        text: format!(
            "rulebook t.rows \"T\"\n  version {version}\n  in force {from}\n  source \"illustrative\"\n\n\
             input household {{ size: integer 1 or more, income: money }}\n\n\
             table limit(size: integer 1 or more) -> money, hit first\n  | size | limit |\n{rows}\n\
             scale fee(income: money) -> money, single amount\n  | from | fee |\n{brackets}\n\
             output l: money = limit(household.size)\n  source \"illustrative\"\n\
             output f: money = fee(household.income)\n  source \"illustrative\"\n"
        ),
    }
    };
    let old = book(
        "1",
        "2021-01-01 to 2021-12-31",
        "  | 1 | 500 € |\n  | 2 | 800 € |\n  | 3 or more | 900 € |\n",
        "  | 0 € | 0 € |\n  | 100 € | 5 € |\n  | 200 € | 9 € |\n",
    );
    let new = book(
        "2",
        "from 2022-01-01",
        "  | 1 | 510 € |\n  | 2 to 3 | 850 € |\n  | 3 or more | 900 € |\n",
        "  | 0 € | 0 € |\n  | 100 € | 6 € |\n  | 300 € | 12 € |\n",
    );
    let (versions, findings) = versions::load(&[old, new]);
    assert!(findings.iter().all(|(_, d)| !d.is_error()), "{findings:#?}");
    let d = diff(&side(&versions[0]), &side(&versions[1]));
    let text = to_text(&d);
    for expected in [
        "row size 1: 500 € → 510 €",
        "row removed: | 2 | 800 € |",
        "row added: | 2 to 3 | 850 € |",
        "bracket changed: | 100 € | 5 € | → | 100 € | 6 € |",
        "bracket removed: | 200 € | 9 € |",
        "bracket added: | 300 € | 12 € |",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("3 or more"),
        "an unchanged row is shown:\n{text}"
    );
}

/// The fuzz targets embed the bundled rulebooks at build time, so their list
/// is written out by hand; it must name exactly the files the loader finds.
#[test]
fn the_fuzz_targets_list_every_bundled_rulebook() {
    let common = std::fs::read_to_string(root().join("fuzz/fuzz_targets/common.rs")).unwrap();
    let mut listed: Vec<String> = common
        .lines()
        .filter_map(|l| l.trim().strip_prefix("include_str!(\"../../"))
        .filter_map(|l| l.strip_suffix("\"),"))
        .map(str::to_string)
        .collect();
    listed.sort();
    assert_eq!(listed, bundled());
}

/// A percentage's change is in percentage points beside the relative change;
/// a changed row and function show what changed; JSON values are written as
/// `eval` writes them, without a currency.
#[test]
fn diff_shows_percentage_points_row_deltas_functions_and_plain_json_values() {
    let book = |version: &str, from: &str, share: &str, fee: &str, body: &str| {
        Source {
        name: format!("{version}.rulebook"),
        text: format!(
            "rulebook t.points \"T\"\n  version {version}\n  in force {from}\n  source \"illustrative {version}\"\n\n\
             input household {{ size: integer 1 or more, income: money }}\n\n\
             parameter share = {share}\nparameter base = {fee}\n\n\
             function part(x: money) -> money = {body}\n\n\
             table limit(size: integer 1 or more) -> money, hit first\n  | size | limit |\n  | 1 | 500 € |\n  | 2 or more | {fee} |\n\n\
             output l: money = limit(household.size)\n  source \"illustrative\"\n\
             output s: money = part(household.income)\n  source \"illustrative\"\n"
        ),
    }
    };
    let old = book(
        "1",
        "2021-01-01 to 2021-12-31",
        "42 %",
        "30.00 €",
        "x * share",
    );
    let new = book(
        "2",
        "from 2022-01-01",
        "50 %",
        "33.00 €",
        "x * share + base",
    );
    let (versions, findings) = versions::load(&[old, new]);
    assert!(findings.iter().all(|(_, d)| !d.is_error()), "{findings:#?}");
    let d = diff(&side(&versions[0]), &side(&versions[1]));
    let text = to_text(&d);
    for expected in [
        "share: 42 % → 50 % (+8 percentage points, +19 %)",
        "row size 2 or more: 30.00 € → 33.00 € (+3.00 €, +10 %)",
        "was: function part(x: money) -> money = x * share",
        "now: function part(x: money) -> money = x * share + base",
        "was: illustrative 1",
        "now: illustrative 2",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let json = to_json(&d);
    let base = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "base")
        .unwrap();
    assert_eq!(
        (&base["old"], &base["new"]),
        (&"30.00".into(), &"33.00".into())
    );
}
