//! A rulebook that uses another (`use`): checked against the used
//! programme's versions, decided by the version in force on the decision
//! date, explained with the used rulebook's own citations, and its errors
//! named.

use rulebook::cases::input::decode_case;
use rulebook::diagnostic::Code;
use rulebook::eval::{evaluate, Options};
use rulebook::ops::diff::{diff, to_text, Side};
use rulebook::semantics::explanation::NodeKind;
use rulebook::versions::{self, Source, Version};

const CEILING_2024: &str = r#"rulebook t.ceiling "Ceiling"
  version 2024
  in force 2024-01-01 to 2024-12-31

enum Kind { Visit, Other }

record Fee {
  kind: Kind
  amount: money 0 € or more
}

input year { fees: list of Fee }
input next { amount: money 0 € or more }

parameter ceiling = 100 € § 6a

function counts(k: Kind) -> bool = k = Visit § 6a

output accrued: money = sum(f.amount for f in year.fees where counts(f.kind))

output due: money = next.amount
  unless accrued > ceiling then 0.00 € § 6a.2
"#;

const FEES: &str = r#"rulebook t.fees "Fees"
  version 1
  in force 2024-01-01 to 2025-12-31

use t.ceiling as c

input client {
  earlier: list of c.Fee
  fee: money 0 € or more
}

output limit: money = c.ceiling

output counted: bool = c.counts(c.Kind.Visit)

output fee_due: money = c(year.fees: client.earlier, next.amount: client.fee).due
"#;

fn ceiling(version: &str, from: &str, to: &str, amount: &str) -> String {
    CEILING_2024
        .replace("version 2024", &format!("version {version}"))
        .replace("2024-01-01 to 2024-12-31", &format!("{from} to {to}"))
        .replace("100 €", amount)
}

fn load(texts: &[&str]) -> Vec<Version> {
    let sources: Vec<Source> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Source {
            name: format!("{i}.rulebook"),
            text: t.to_string(),
        })
        .collect();
    let (versions, _) = versions::load(&sources);
    versions
}

fn both_years() -> Vec<Version> {
    let c2025 = ceiling("2025", "2025-01-01", "2025-12-31", "150 €");
    load(&[FEES, CEILING_2024, &c2025])
}

fn decide(
    v: &Version,
    case: serde_json::Value,
    date: &str,
) -> Result<rulebook::eval::Decision, rulebook::eval::EvalError> {
    let p = v
        .program()
        .unwrap_or_else(|| panic!("{:#?}", v.checked.diagnostics));
    let case = decode_case(p, &case, Some(date.parse().unwrap())).unwrap();
    evaluate(p, &case, &Options { explain: true })
}

fn output(v: &Version, d: &rulebook::eval::Decision, name: &str) -> String {
    let p = v.program().unwrap();
    let i = p.output_index(name).unwrap();
    let (_, value) = d.outputs.iter().find(|(o, _)| *o == i).unwrap();
    p.render(value, &p.defs[i as usize].ty)
}

fn case(earlier: &str, fee: &str) -> serde_json::Value {
    serde_json::json!({
        "client": {"earlier": [{"kind": "Visit", "amount": earlier}], "fee": fee}
    })
}

#[test]
fn each_decision_date_uses_the_version_in_force_that_day() {
    let vs = both_years();
    assert!(
        vs[0].checked.diagnostics.is_empty(),
        "{:#?}",
        vs[0].checked.diagnostics
    );
    // 120 € is over 2024's ceiling of 100 € but under 2025's of 150 €.
    let d = decide(&vs[0], case("120", "20"), "2024-06-01").unwrap();
    assert_eq!(output(&vs[0], &d, "limit"), "100.00 €");
    assert_eq!(output(&vs[0], &d, "fee_due"), "0.00 €");
    assert_eq!(output(&vs[0], &d, "counted"), "true");
    let d = decide(&vs[0], case("120", "20"), "2025-06-01").unwrap();
    assert_eq!(output(&vs[0], &d, "limit"), "150.00 €");
    assert_eq!(output(&vs[0], &d, "fee_due"), "20.00 €");
}

#[test]
fn the_explanation_names_the_used_version_and_carries_its_own_citations() {
    let vs = both_years();
    let d = decide(&vs[0], case("120", "20"), "2024-06-01").unwrap();
    let g = d.graph.unwrap();
    let used = g
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Used && n.name.starts_with("c(year.fees:"))
        .unwrap_or_else(|| panic!("{g:#?}"));
    assert_eq!(used.value, "0.00 €");
    assert_eq!(used.source.as_deref(), Some("t.ceiling version 2024"));
    assert_eq!(used.uses.last().map(|u| u.as_str()), Some("c/due"));
    // Inside: the used rule, with the section of its exception.
    let due = g.nodes.iter().find(|n| n.id == "c/due").unwrap();
    assert_eq!(due.section.as_deref(), Some("6a.2"), "{due:#?}");
    assert!(g.nodes.iter().any(|n| n.id == "c/accrued"));
    // The parameter is cited where it is defined.
    let limit = g.nodes.iter().find(|n| n.id == "used:c.ceiling").unwrap();
    assert_eq!(limit.section.as_deref(), Some("6a"));
    let text = rulebook::semantics::explanation::to_text(&g);
    assert!(
        text.contains("accrued = sum(f.amount for f in year.fees where counts(f.kind)) = 120.00 €"),
        "{text}"
    );
}

#[test]
fn a_day_without_a_used_version_is_an_error_that_says_so() {
    let vs = load(&[FEES, CEILING_2024]);
    // The period reaches into 2025, which no version of the ceiling covers.
    let warning = vs[0]
        .checked
        .diagnostics
        .iter()
        .find(|d| d.code == Code::InvalidUse)
        .unwrap();
    assert!(!warning.is_error());
    assert!(
        warning.message.contains("2025-01-01"),
        "{}",
        warning.message
    );
    let e = decide(&vs[0], case("1", "20"), "2025-03-01").unwrap_err();
    assert_eq!(e.code, Code::UsedRulebook);
    assert!(
        e.message
            .contains("no version of `t.ceiling` is in force on 2025-03-01"),
        "{}",
        e.message
    );
}

#[test]
fn inputs_outside_the_used_rulebooks_bounds_are_refused() {
    // The client's fee is allowed to be anything here; the ceiling
    // rulebook allows no negative fee.
    let fees = FEES.replace("fee: money 0 € or more", "fee: money");
    let vs = load(&[&fees, CEILING_2024]);
    let e = decide(&vs[0], case("1", "-5"), "2024-03-01").unwrap_err();
    assert_eq!(e.code, Code::UsedRulebook);
    assert!(
        e.message.contains("next.amount must be 0 € or more"),
        "{}",
        e.message
    );
}

#[test]
fn an_output_of_a_part_that_is_not_eligible_names_the_criterion() {
    let ceiling = format!(
        "{CEILING_2024}\neligibility\n  small: next.amount < 1000 € else \"too large a fee\"\n"
    );
    let vs = load(&[FEES, &ceiling]);
    let e = decide(&vs[0], case("1", "2000"), "2024-03-01").unwrap_err();
    assert_eq!(e.code, Code::UsedRulebook);
    assert!(
        e.message.contains("small: too large a fee"),
        "{}",
        e.message
    );
    assert!(e.help.unwrap_or_default().contains(".eligible"));
}

#[test]
fn programmes_that_use_each_other_are_an_error() {
    let a = "rulebook t.a \"A\"\n  version 1\n  in force 2024-01-01\n\nuse t.b\n\noutput x: integer = b.y\n";
    let b = "rulebook t.b \"B\"\n  version 1\n  in force 2024-01-01\n\nuse t.a\n\nparameter y = 1\n\noutput z: integer = a.x\n";
    let vs = load(&[a, b]);
    let messages: Vec<String> = vs
        .iter()
        .flat_map(|v| v.checked.diagnostics.iter())
        .filter(|d| d.code == Code::InvalidUse)
        .map(|d| d.message.clone())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("uses this programme, so this one cannot use it back")),
        "{messages:#?}"
    );
    assert!(vs.iter().all(|v| v.program().is_none()));
}

#[test]
fn versions_that_disagree_on_what_is_used_are_an_error() {
    // 2025 asks one more argument of `counts`.
    let c2025 = ceiling("2025", "2025-01-01", "2025-12-31", "150 €")
        .replace(
            "counts(k: Kind) -> bool = k = Visit",
            "counts(k: Kind, strict: bool) -> bool = k = Visit or not strict",
        )
        .replace("counts(f.kind)", "counts(f.kind, true)");
    let vs = load(&[FEES, CEILING_2024, &c2025]);
    let d = vs[0]
        .checked
        .diagnostics
        .iter()
        .find(|d| d.code == Code::InvalidUse && d.is_error())
        .unwrap_or_else(|| panic!("{:#?}", vs[0].checked.diagnostics));
    assert!(
        d.message
            .contains("versions 2024 and 2025 of `t.ceiling` differ in `counts`"),
        "{}",
        d.message
    );
}

#[test]
fn a_wrong_input_path_or_missing_input_is_named() {
    let fees = FEES.replace("next.amount: client.fee", "next.amout: client.fee");
    let vs = load(&[&fees, CEILING_2024]);
    let ds = &vs[0].checked.diagnostics;
    assert!(
        ds.iter()
            .any(|d| d.message.contains("`t.ceiling` has no input `next.amout`")),
        "{ds:#?}"
    );
    assert!(
        ds.iter().any(|d| d
            .message
            .contains("`t.ceiling` needs `next.amount` to decide")),
        "{ds:#?}"
    );
}

#[test]
fn diff_reports_a_change_in_the_versions_used() {
    let c2025 = ceiling("2025", "2025-01-01", "2025-12-31", "150 €");
    let fees2 = FEES
        .replace("version 1", "version 2")
        .replace("2024-01-01 to 2025-12-31", "2025-01-01 to 2025-12-31");
    let fees1 = FEES.replace("2024-01-01 to 2025-12-31", "2024-01-01 to 2024-12-31");
    let vs = load(&[&fees1, &fees2, CEILING_2024, &c2025]);
    fn side(v: &Version) -> Side<'_> {
        Side {
            text: &v.text,
            checked: &v.checked,
            program: v.program().unwrap(),
        }
    }
    let text = to_text(&diff(&side(&vs[0]), &side(&vs[1])));
    assert!(text.contains("Used rulebooks"), "{text}");
    assert!(text.contains("c: t.ceiling: version 2024 → 2025"), "{text}");
}
