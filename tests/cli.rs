//! Runs the built `rulebook` binary on good and bad inputs and checks its
//! output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rulebook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const HOME_CARE: &str = "rulebooks/helsinki-home-care/2021.rulebook";
const CASE: &str = "rulebooks/helsinki-home-care/case-single.yaml";

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn check_passes_on_the_bundled_rulebooks() {
    let out = rulebook(&["check", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(" 0 errors, 0 warnings"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_reports_errors_with_place_and_exit_1() {
    let out = rulebook(&["check", "tests/diagnostics/cycle.rulebook"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cycle") && err.contains("a → b → c → a"),
        "{err}"
    );
    assert!(
        err.contains("tests/diagnostics/cycle.rulebook:6:9"),
        "{err}"
    );
}

#[test]
fn check_json_is_machine_readable() {
    let out = rulebook(&[
        "check",
        "--format",
        "json",
        "tests/diagnostics/unknown-name.rulebook",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "unknown-name");
    assert_eq!(d["line"], 7);
    assert_eq!(d["help"], "did you mean `adult_age`?");
}

#[test]
fn eval_prints_a_decision() {
    let out = rulebook(&["eval", HOME_CARE, "--input", CASE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("eligible: yes") && s.contains("hourly_value   32.18 €"),
        "{s}"
    );
}

#[test]
fn eval_json_and_date_override() {
    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--input",
        CASE,
        "--format",
        "json",
        "--date",
        "2021-12-31",
        "--explain",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision_date"], "2021-12-31");
    assert_eq!(v["outputs"]["hourly_value"], "32.18");
    assert_eq!(v["explanation"][0]["output"], "hourly_value");
}

#[test]
fn eval_rejects_a_bad_case_with_field_paths_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let case = write(
        dir.path(),
        "case.yaml",
        "decision_date: 2021-03-01\nhousehold: { gross_monthly_income: lots, size: 1 }\nservice: { hourly_price: 40 }\n",
    );
    let out = rulebook(&["eval", HOME_CARE, "--input", &case]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("household.gross_monthly_income: expected an amount in euros"),
        "{err}"
    );
    assert!(
        err.contains("service.hours_per_month: the field `hours_per_month` is missing"),
        "{err}"
    );
    let bad = write(dir.path(), "broken.json", "{\"household\": ");
    let out = rulebook(&["eval", HOME_CARE, "--input", &bad]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("not valid JSON"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn eval_runtime_error_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        "div.rulebook",
        "rulebook t.div \"Division\"\n  version 1\n  in force 2021-01-01\n\ninput h { income: money, persons: integer }\noutput each: money = h.income / h.persons rounded to cents\n",
    );
    let case = write(
        dir.path(),
        "case.json",
        "{\"decision_date\": \"2021-05-01\", \"h\": {\"income\": \"100.00\", \"persons\": 0}}",
    );
    let out = rulebook(&["eval", &rb, "--input", &case]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(
        err.contains("division-by-zero") && err.contains("each"),
        "{err}"
    );
}

#[test]
fn missing_files_exit_5_and_bad_arguments_exit_2() {
    let out = rulebook(&["eval", "no-such.rulebook", "--input", CASE]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("no-such.rulebook"));
    let out = rulebook(&["eval", HOME_CARE, "--input", CASE, "--date", "2021-02-30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a date"),
        "{}",
        text(&out.stderr)
    );
    let out = rulebook(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn test_runs_every_example() {
    let out = rulebook(&["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let s = text(&out.stdout);
    let summary = s.lines().last().unwrap();
    assert!(
        summary.starts_with("examples: ") && summary.ends_with(" passed, 0 failed"),
        "{s}"
    );
}

#[test]
fn test_fails_on_a_wrong_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join(HOME_CARE)).unwrap();
    let broken = original.replacen(
        "expect hourly_value = 32.18 €",
        "expect hourly_value = 32.19 €",
        1,
    );
    assert_ne!(original, broken);
    let rb = write(dir.path(), "broken.rulebook", &broken);
    let out = rulebook(&["test", &rb]);
    assert_eq!(out.status.code(), Some(1));
    let s = text(&out.stdout);
    assert!(
        s.contains("expected hourly_value = 32.19 €, got 32.18 €"),
        "{s}"
    );
    assert!(
        s.lines().last().unwrap().ends_with(" passed, 1 failed"),
        "{s}"
    );
}

#[test]
fn fmt_check_then_fix() {
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        "messy.rulebook",
        "rulebook t.fmt \"Formatting\"\n version 1\n      in force 2021-01-01\n\n\n\ninput h {income:money}\noutput   twice : money=h.income*2   -- doubled\n",
    );
    let out = rulebook(&["fmt", "--check", &rb]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("not formatted"));
    let out = rulebook(&["fmt", &rb]);
    assert_eq!(out.status.code(), Some(0));
    let formatted = std::fs::read_to_string(&rb).unwrap();
    assert_eq!(
        formatted,
        "rulebook t.fmt \"Formatting\"\n  version 1\n    in force 2021-01-01\n\ninput h {income: money}\noutput twice: money = h.income * 2 -- doubled\n"
    );
    let out = rulebook(&["fmt", "--check", &rb]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn eval_on_a_folder_picks_the_version_in_force() {
    let out = rulebook(&[
        "eval",
        "rulebooks/helsinki-home-care",
        "--input",
        CASE,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2021");
    let out = rulebook(&[
        "eval",
        "rulebooks/helsinki-home-care",
        "--input",
        CASE,
        "--date",
        "2030-01-01",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no version of `helsinki.home_care` is in force on 2030-01-01"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn diff_with_cases_from_jsonl_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = write(
        dir.path(),
        "cases.jsonl",
        "{\"household\":{\"gross_monthly_income\":\"900.00\",\"size\":1},\"service\":{\"hourly_price\":\"40.00\",\"hours_per_month\":20}}\n\
         not json\n\
         {\"household\":{\"gross_monthly_income\":\"2000.00\",\"size\":2},\"service\":{\"hourly_price\":\"40.00\",\"hours_per_month\":10}}\n",
    );
    let old = "rulebooks/helsinki-home-care/2021.rulebook";
    let new = "rulebooks/helsinki-home-care/2022-23.rulebook";
    let out = rulebook(&[
        "diff",
        old,
        new,
        "--cases",
        &jsonl,
        "--date",
        "2021-06-01",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["impact"]["cases"], 3);
    assert_eq!(v["impact"]["failed"], 1);
    assert_eq!(v["impact"]["failures"][0]["line"], 2);
    // 900 € for one person: 32.18 € (2021 limit 588 €) → 32.24 € (2022 limit 598 €).
    let hv = v["impact"]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["output"] == "hourly_value")
        .unwrap()
        .clone();
    assert_eq!(hv["changed"], 2);
    assert_eq!(hv["change"]["max"], "0.07 €");
    let csv = write(
        dir.path(),
        "cases.csv",
        "decision_date,household.gross_monthly_income,household.size,service.hourly_price,service.hours_per_month\n\
         2021-06-01,900.00,1,40.00,20\n\
         2021-06-01,2000.00,2,40.00,10\n",
    );
    let out = rulebook(&["diff", old, new, "--cases", &csv, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let w: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(w["impact"]["cases"], 2);
    assert_eq!(w["impact"]["failed"], 0);
    assert_eq!(w["impact"]["outputs"], v["impact"]["outputs"]);
    let bad = write(
        dir.path(),
        "bad.csv",
        "household.incme,household.size\n1,1\n",
    );
    let out = rulebook(&["diff", old, new, "--cases", &bad]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("column `household.incme`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn diff_html_is_one_self_contained_file() {
    let out = rulebook(&[
        "diff",
        "rulebooks/dental-client-fees/2018-21.rulebook",
        "rulebooks/dental-client-fees/2022-23.rulebook",
        "--format",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let html = text(&out.stdout);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<style>"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
}
