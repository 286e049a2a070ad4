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
