//! Runs the built `rulebook` binary on good and bad inputs and checks its
//! output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    crate::repo().to_path_buf()
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
    let out = rulebook(&[
        "check",
        "crates/rulebook/tests/suite/diagnostics/cycle.rulebook",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cycle") && err.contains("a → b → c → a"),
        "{err}"
    );
    assert!(
        err.contains("crates/rulebook/tests/suite/diagnostics/cycle.rulebook:6:9"),
        "{err}"
    );
}

/// Nesting allowed by the language, in a file beside the one checked (which
/// `check` reads too, for amendments), must not exhaust any thread's stack,
/// even in an unoptimised build.
#[test]
fn check_survives_the_deepest_allowed_nesting_beside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let head =
        "rulebook t.x \"X\"\n  version 1\n  in force from 2021-01-01\n  source \"illustrative\"\n";
    let depth = rulebook::syntax::MAX_NESTING;
    let deep = format!(
        "{head}output x: integer = {}1{}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let deep_path = write(dir.path(), "deep.rulebook", &deep);
    let other = write(
        dir.path(),
        "other.rulebook",
        &format!("{}output a = b\n", head.replace("t.x", "t.y")),
    );
    let out = rulebook(&["check", &other]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`b` is not defined"),
        "{}",
        text(&out.stderr)
    );
    let out = rulebook(&["check", &deep_path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A chain of `length` items ending in output `r`, each definition adding
/// 1 `terms` times to the one before; `reversed` lists the chain from its
/// head down.
fn chain_rulebook(length: usize, terms: usize, reversed: bool) -> String {
    let header = "rulebook t.chain \"T\"\n  version 1\n  in force from 2021-01-01\n  source \"illustrative\"\n\ninput x { a: integer }\n";
    let last = length - 2;
    let mut defs = vec!["let d0: integer = x.a\n".to_string()];
    for i in 1..=last {
        defs.push(format!(
            "let d{i}: integer = d{}{}\n",
            i - 1,
            " + 1".repeat(terms)
        ));
    }
    if reversed {
        defs.reverse();
    }
    format!(
        "{header}{}output r: integer = d{last}\n  source \"illustrative\"\n",
        defs.concat()
    )
}

/// Evaluation recurses through each definition and each term of it. A chain
/// at the documented limit, each link as long as a row of terms may be, must
/// evaluate and explain on any thread's stack (here the main thread of an
/// unoptimised build).
#[test]
fn eval_survives_the_longest_allowed_chain_of_long_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let length = rulebook::check::MAX_DEF_CHAIN;
    let terms = 250;
    let book = write(
        dir.path(),
        "chain.rulebook",
        &chain_rulebook(length, terms, false),
    );
    let case = write(
        dir.path(),
        "case.yaml",
        "decision_date: 2021-06-01\nx: { a: 1 }\n",
    );
    for explain in [false, true] {
        let mut args = vec!["eval", &book, "--input", &case, "--format", "json"];
        if explain {
            args.push("--explain");
        }
        let out = rulebook(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["outputs"]["r"],
            1 + (length - 2) * terms,
            "explain: {explain}"
        );
    }
}

/// The chain limit is measured on the uses, so it holds whichever way round
/// the definitions are written, and names the chain's ends.
#[test]
fn a_chain_longer_than_the_limit_is_too_deep_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let limit = rulebook::check::MAX_DEF_CHAIN;
    for reversed in [false, true] {
        let fits = write(
            dir.path(),
            "fits.rulebook",
            &chain_rulebook(limit, 1, reversed),
        );
        let out = rulebook(&["check", &fits]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let long = write(
            dir.path(),
            "long.rulebook",
            &chain_rulebook(limit + 1, 1, reversed),
        );
        let out = rulebook(&["check", &long, "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "reversed: {reversed}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = v.to_string();
        assert!(found.contains("too-deep"), "{found}");
        assert!(found.contains("chain of 257, longer than 256"), "{found}");
        assert!(found.contains("`r` → `d255` → … → `d1` → `d0`"), "{found}");
    }
}

#[test]
fn check_json_is_machine_readable() {
    let out = rulebook(&[
        "check",
        "--format",
        "json",
        "crates/rulebook/tests/suite/diagnostics/unknown-name.rulebook",
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
    assert_eq!(out.status.code(), Some(6));
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
    // The report is made, and the exit code says a case could not be read.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
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
    assert_eq!(hv["change"]["max"], "0.07");
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

/// A home-care case as one JSON line, with an income that varies by `i`.
fn home_care_line(i: usize) -> String {
    format!(
        "{{\"id\":\"c{i}\",\"decision_date\":\"2021-06-01\",\"household\":{{\"gross_monthly_income\":\"{}.{:02}\",\"size\":{}}},\"service\":{{\"hourly_price\":\"40.00\",\"hours_per_month\":{}}}}}",
        500 + i * 7 % 3000,
        i % 100,
        1 + i % 6,
        1 + i % 40
    )
}

#[test]
fn batch_eval_gives_each_case_the_single_case_decision_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    // Over a megabyte, so that the cases travel in several chunks and over
    // both workers, and must be put back in order.
    let n = 8000;
    let lines: Vec<String> = (0..n).map(home_care_line).collect();
    let cases = write(dir.path(), "cases.jsonl", &(lines.join("\n") + "\n"));
    assert!(std::fs::metadata(&cases).unwrap().len() > 1 << 20);
    let decisions = dir.path().join("decisions.jsonl");
    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--cases",
        &cases,
        "--output",
        decisions.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("8000 case(s): 8000 decided"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("decisions.jsonl.partial").exists());
    let written = std::fs::read_to_string(&decisions).unwrap();
    let records: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), n);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["id"], format!("c{i}"), "line {}", i + 1);
    }
    // Some cases, decided alone,, gives the same decision.
    for i in (0..n).step_by(997) {
        let mut doc: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
        doc.as_object_mut().unwrap().remove("id");
        let case = write(dir.path(), "one.json", &doc.to_string());
        let single = rulebook(&["eval", HOME_CARE, "--input", &case, "--format", "json"]);
        assert_eq!(single.status.code(), Some(0), "{}", text(&single.stderr));
        let mut want: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
        let mut got = records[i].clone();
        got.as_object_mut().unwrap().remove("id");
        want.as_object_mut().unwrap().remove("explanation");
        assert_eq!(got, want, "case {i}");
    }
}

#[test]
fn batch_eval_reports_bad_cases_in_place_and_exits_3_or_4() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        &format!(
            "{}\nnot json\n\n{{\"id\":7,\"decision_date\":\"2021-06-01\",\"household\":{{\"gross_monthly_income\":\"lots\",\"size\":1}},\"service\":{{\"hourly_price\":\"40.00\",\"hours_per_month\":2}}}}\n{}\n",
            home_care_line(1),
            home_care_line(2)
        ),
    );
    let out = rulebook(&["eval", HOME_CARE, "--cases", &cases]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let records: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "the blank line is skipped");
    assert_eq!(records[0]["id"], "c1");
    assert_eq!(records[1]["line"], 2);
    assert_eq!(records[1]["error"]["kind"], "input");
    assert_eq!(records[2]["id"], 7);
    assert_eq!(records[2]["line"], 4);
    assert_eq!(
        records[2]["error"]["problems"][0]["path"],
        "household.gross_monthly_income"
    );
    assert_eq!(records[3]["id"], "c2");
    assert_eq!(records[3]["eligible"], true);

    let rb = write(
        dir.path(),
        "div.rulebook",
        "rulebook t.div \"Division\"\n  version 1\n  in force 2021-01-01\n\ninput h { income: money, persons: integer }\noutput each: money = h.income / h.persons rounded to cents\n",
    );
    let cases = write(
        dir.path(),
        "div.jsonl",
        "{\"h\": {\"income\": \"100.00\", \"persons\": 3}}\n{\"h\": {\"income\": \"100.00\", \"persons\": 0}}\n",
    );
    let out = rulebook(&["eval", &rb, "--cases", &cases, "--date", "2021-05-01"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outputs"]["each"], "33.33");
    assert_eq!(lines[1]["error"]["kind"], "evaluation");
    assert_eq!(lines[1]["error"]["code"], "division-by-zero");
    assert_eq!(lines[1]["error"]["rule"], "each");
}

#[test]
fn batch_eval_reads_and_writes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.csv",
        "id,decision_date,household.gross_monthly_income,household.size,service.hourly_price,service.hours_per_month\n\
         a,2021-06-01,900.00,1,40.00,20\n\
         b,2021-06-01,lots,1,40.00,20\n\
         c,2021-06-01,2000.00,2,40.00,10\n",
    );
    let decisions = dir.path().join("decisions.csv");
    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--cases",
        &cases,
        "--output",
        decisions.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let mut rdr = csv::Reader::from_path(&decisions).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["id", "decision_date", "eligible"]);
    assert!(header.contains(&"hourly_value".to_string()), "{header:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][col("id")], "a");
    assert_eq!(&rows[0][col("hourly_value")], "32.18");
    assert_eq!(&rows[0][col("error")], "");
    assert_eq!(&rows[1][col("id")], "b");
    assert!(
        rows[1][col("error")]
            .starts_with("line 3: household.gross_monthly_income: expected an amount"),
        "{:?}",
        &rows[1][col("error")]
    );
    assert_eq!(&rows[2][col("id")], "c");

    // A column that is no input is refused before anything is decided.
    let bad = write(
        dir.path(),
        "bad.csv",
        "household.incme,household.size\n1,1\n",
    );
    let out = rulebook(&["eval", HOME_CARE, "--cases", &bad]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("column `household.incme`"));
    // The output may not overwrite the cases.
    let out = rulebook(&["eval", HOME_CARE, "--cases", &cases, "--output", &cases]);
    assert_eq!(out.status.code(), Some(2));
    assert!(std::fs::read_to_string(&cases)
        .unwrap()
        .contains("a,2021-06-01"));
    // One case and many are exclusive; text is for one case.
    let out = rulebook(&["eval", HOME_CARE, "--cases", &cases, "--input", CASE]);
    assert_eq!(out.status.code(), Some(2));
    let out = rulebook(&["eval", HOME_CARE, "--cases", &cases, "--format", "text"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn batch_eval_on_a_folder_picks_each_case_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let line = |date: &str| {
        format!("{{\"decision_date\":\"{date}\",\"household\":{{\"gross_monthly_income\":\"900.00\",\"size\":1}},\"service\":{{\"hourly_price\":\"40.00\",\"hours_per_month\":20}}}}")
    };
    let cases = write(
        dir.path(),
        "cases.jsonl",
        &format!(
            "{}\n{}\n{}\n",
            line("2021-06-01"),
            line("2022-06-01"),
            line("2030-01-01")
        ),
    );
    let out = rulebook(&["eval", "rulebooks/helsinki-home-care", "--cases", &cases]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["version"], "2021");
    assert_eq!(lines[1]["version"], "2022-23");
    assert_eq!(lines[2]["error"]["problems"][0]["path"], "decision_date");
}

/// A bare file name that amends a version beside it is loaded with its
/// folder, as `./2019.rulebook` and a path with folders are: `check`,
/// `test` and `eval` all go through the one loading path.
#[test]
fn a_bare_file_name_loads_the_versions_beside_it() {
    let folder = root().join("rulebooks/keusote-dental");
    for file in ["2019.rulebook", "./2019.rulebook"] {
        for args in [vec!["check", file], vec!["test", file]] {
            let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
                .args(&args)
                .current_dir(&folder)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .args(["eval", file, "--input", "case.yaml"])
            .current_dir(&folder)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("eligible: yes"),
            "{}",
            text(&out.stdout)
        );
    }
}

/// A single version file decides only its own period; the message names the
/// period and the version in force instead, and `--off-period` applies it
/// anyway with the decision saying so.
#[test]
fn eval_of_a_version_file_refuses_a_date_outside_its_period() {
    let out = rulebook(&["eval", HOME_CARE, "--input", CASE, "--date", "2023-06-01"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("in force from 2021-01-01 to 2021-12-31, not on 2023-06-01"),
        "{err}"
    );
    assert!(
        err.contains("version 2022-23 is in force on that date"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--input",
        CASE,
        "--date",
        "2023-06-01",
        "--off-period",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["off_period"]
            .as_str()
            .unwrap()
            .contains("not on 2023-06-01"),
        "{v}"
    );

    // The folder has no version in force in 2030 either.
    let out = rulebook(&[
        "eval",
        "rulebooks/helsinki-home-care",
        "--input",
        CASE,
        "--date",
        "2040-01-01",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
}

#[test]
fn eval_cases_refuses_rows_outside_the_versions_period() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        "{\"decision_date\": \"2021-03-01\", \"household\": {\"gross_monthly_income\": \"900\", \"size\": 1}, \"service\": {\"hourly_price\": \"40\", \"hours_per_month\": 20}}\n\
         {\"decision_date\": \"2019-03-01\", \"household\": {\"gross_monthly_income\": \"900\", \"size\": 1}, \"service\": {\"hourly_price\": \"40\", \"hours_per_month\": 20}}\n",
    );
    let out = rulebook(&["eval", HOME_CARE, "--cases", &cases]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outputs"]["hourly_value"], "32.18", "{}", lines[0]);
    assert!(
        lines[1].to_string().contains("not on 2019-03-01"),
        "{}",
        lines[1]
    );
    let out = rulebook(&["eval", HOME_CARE, "--cases", &cases, "--off-period"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn verify_exits_1_with_a_counterexample_and_0_without() {
    let defect =
        "crates/rulebook/tests/suite/fixtures/defects/home-care-2021-negative-self-fee.rulebook";
    let out = rulebook(&["verify", defect]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("expect property customer_never_pays_below_zero"),
        "{stdout}"
    );
    assert!(stdout.contains("searched, not proved"), "{stdout}");

    let out = rulebook(&["verify", defect, "--format", "json", "--cases", "500"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["proved"], 0);
    let props = v["versions"][0]["properties"].as_array().unwrap();
    let failed: Vec<&str> = props
        .iter()
        .filter(|p| p["outcome"] == "counterexample" && p["example"].is_string())
        .map(|p| p["property"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"customer_never_pays_below_zero"), "{v}");

    let out = rulebook(&["verify", "rulebooks/helsinki-home-care"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn test_coverage_lists_what_is_not_reached_and_enforces_the_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        "fees.rulebook",
        "rulebook test.cov \"Coverage\"\n  version 1\n  in force 2021-01-01\n\n\
         input h { size: integer 1 to 2 }\n\n\
         table fee(size: integer 1 to 2) -> money\n  | size | fee |\n  | 1 | 10 € |\n  | 2 | 20 € |\n\n\
         output f: money = fee(h.size)\n\n\
         example \"one\"\n  on 2021-03-01\n  given h { size: 1 }\n  expect f = 10.00 €\n",
    );
    let out = rulebook(&["test", "--coverage", "--min", "100", &rb]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("coverage  50.0 %"), "{stdout}");
    assert!(
        stdout.contains(&format!("not reached  {rb}:10 row 2 of table fee")),
        "{stdout}"
    );
    let out = rulebook(&["test", "--coverage", "--min", "50", &rb]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = rulebook(&["test", "--coverage", "--format", "json", &rb]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["versions"][0]["percent"], 50.0);
    assert_eq!(v["versions"][0]["items"][1]["covered"], false);

    let out = rulebook(&["test", "--coverage", "--min", "100", "rulebooks"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// Inputs that used to panic the checker or the renderer (exit 101): an
/// amount of 10²⁷ € and a finding past column 65 535.
#[test]
fn a_huge_amount_and_a_very_long_line_are_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let header = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h { a: money }\n";
    let big = write(
        dir.path(),
        "big.rulebook",
        &format!("{header}output big: money = h.a + 1000000000000000000000000000 €\n"),
    );
    let out = rulebook(&["check", &big]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let wide = write(
        dir.path(),
        "wide.rulebook",
        &format!(
            "{header}output o: money = h.a + {}nosuch\n",
            " ".repeat(70_000)
        ),
    );
    let out = rulebook(&["check", &wide]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("{wide}:6:70025: unknown-name")),
        "{}",
        text(&out.stderr)
    );
}

/// `fmt` leaves a file that does not parse as it is and fails; a file
/// saved with a byte-order mark checks like any other.
#[test]
fn fmt_refuses_unparsable_files_and_a_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let broken =
        "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\noutput o: money = (1 €\n";
    let path = write(dir.path(), "broken.rulebook", broken);
    let out = rulebook(&["fmt", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("does not parse"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);

    let good = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h { a: money }\noutput o: money = h.a rounded to cents\n";
    let bom = dir.path().join("bom.rulebook");
    std::fs::write(&bom, [&[0xEF, 0xBB, 0xBF][..], good.as_bytes()].concat()).unwrap();
    let out = rulebook(&["check", bom.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A case is never decided on something other than what it says: a key
/// given twice, a figure with more digits than are held, a number too
/// small to hold, a YAML float that would lose digits are all refused,
/// with the place and what to do.
#[test]
fn cases_that_would_be_silently_changed_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let head = "decision_date: 2021-03-01\nservice: { hourly_price: 40, hours_per_month: 20 }\n";
    for (name, body, want) in [
        (
            "twice.yaml",
            format!("{head}household:\n  gross_monthly_income: 900\n  gross_monthly_income: 9000\n  size: 1\n"),
            "the key `gross_monthly_income` appears twice",
        ),
        (
            "twice.json",
            r#"{"decision_date":"2021-03-01","household":{"gross_monthly_income":900,"size":1,"size":2},"service":{"hourly_price":40,"hours_per_month":20}}"#.to_string(),
            "the key `size` appears twice",
        ),
        (
            "digits.json",
            r#"{"decision_date":"2021-03-01","household":{"gross_monthly_income":900.00123456789012345678901234567,"size":1},"service":{"hourly_price":40,"hours_per_month":20}}"#.to_string(),
            "household.gross_monthly_income: expected an amount in euros",
        ),
        (
            "tiny.json",
            r#"{"decision_date":"2021-03-01","household":{"gross_monthly_income":900,"size":1},"service":{"hourly_price":40,"hours_per_month":1e-400}}"#.to_string(),
            "at most 28 significant digits",
        ),
        (
            "float.yaml",
            format!("{head}household: {{ gross_monthly_income: 900.00123456789012345, size: 1 }}\n"),
            "quote it",
        ),
    ] {
        let case = write(dir.path(), name, &body);
        let out = rulebook(&["eval", HOME_CARE, "--input", &case]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out.stdout));
        assert!(text(&out.stderr).contains(want), "{name}: {}", text(&out.stderr));
    }
}

/// Nesting that the YAML parser would spend minutes on is refused before
/// it parses (100 000 brackets took about a minute before).
#[test]
fn deeply_nested_yaml_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "decision_date: 2021-03-01\nhousehold: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let case = write(dir.path(), "deep.yaml", &body);
    let started = std::time::Instant::now();
    let out = rulebook(&["eval", HOME_CARE, "--input", &case]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("line 2, column 140: this is not valid YAML: lists and records are nested more than 128 deep"),
        "{}",
        text(&out.stderr)
    );
    // Generous: the refusal is lexical; a regression takes tens of seconds.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A line of `--cases -` that never ends is cut at 16 MiB and reported;
/// the lines after it are still decided.
#[test]
fn an_endless_case_line_is_reported_and_the_rest_decided() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["eval", HOME_CARE, "--cases", "-"])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        stdin.write_all(b"{\"a\": \"").unwrap();
        let block = vec![b'x'; 1 << 20];
        for _ in 0..20 {
            stdin.write_all(&block).unwrap();
        }
        stdin
            .write_all(b"\"}\n{\"decision_date\":\"2021-03-01\",\"household\":{\"gross_monthly_income\":900,\"size\":1},\"service\":{\"hourly_price\":40,\"hours_per_month\":20}}\n")
            .unwrap();
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout:.400}");
    assert!(lines[0].contains("\"line\":1") && lines[0].contains("longer than 16 MiB"));
    assert!(lines[1].contains("\"eligible\":true"), "{}", lines[1]);
}

/// Each of 400 copies of one override is reported once, against the first
/// (it was every pair: 79 800 findings, and 25 s to print them).
#[test]
fn repeated_overrides_are_reported_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let clauses = vec!["unless h.b then 1"; 400].join(" ");
    let rb = write(
        dir.path(),
        "many.rulebook",
        &format!("rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h {{ b: bool }}\noutput o: integer = 0 {clauses}\n"),
    );
    let out = rulebook(&["check", &rb, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let found = text(&out.stdout).matches("duplicate-override-rank").count();
    assert_eq!(found, 399, "{:.400}", text(&out.stdout));
}

/// Two symbolic links to the folder itself made the walk explode (876 MB
/// in 60 s); now it stops at the nesting limit at once, naming the place.
#[cfg(unix)]
#[test]
fn links_to_a_folder_above_stop_the_walk_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join(HOME_CARE), dir.path().join("2021.rulebook")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("a")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("b")).unwrap();
    let started = std::time::Instant::now();
    let out = rulebook(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("folders nest more than 32 deep here; is there a symbolic link"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A reader that stops early (`| head`) ends the command quietly with exit
/// code 5, not with a panic and its backtrace.
#[test]
fn a_closed_output_pipe_ends_quietly() {
    use std::io::BufRead;
    // 5 000 examples print far more than a pipe holds (64 KiB), so the
    // writer is still writing when the reader goes.
    let dir = tempfile::tempdir().unwrap();
    let mut rb = String::from(
        "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h { a: integer }\noutput o: integer = h.a\n",
    );
    for i in 0..5000 {
        rb.push_str(&format!(
            "\nexample \"case {i}\"\n  on 2021-06-01\n  given h {{ a: {i} }}\n  expect o = {i}\n"
        ));
    }
    let path = write(dir.path(), "many.rulebook", &rb);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["test", &path])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("ok"), "{first}");
    // The reader is dropped: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(text(&out.stderr), "");
}

/// An amending version's examples are printed with their lines in the
/// amending file, like any other version's.
#[test]
fn test_prints_the_lines_of_an_amending_files_examples() {
    let out = rulebook(&["test", "rulebooks/keusote-dental/2019.rulebook"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let file =
        std::fs::read_to_string(root().join("rulebooks/keusote-dental/2019.rulebook")).unwrap();
    let line = file
        .lines()
        .position(|l| l.starts_with("example \"an adult at usage level 3 in Hyvinkää\""))
        .unwrap()
        + 1;
    assert!(
        stdout.contains(&format!(
            "2019.rulebook:{line} an adult at usage level 3 in Hyvinkää"
        )),
        "{stdout}"
    );
}

/// An amending version checked without its base gives the one finding that
/// the base is missing, not one for every inherited name it uses (15
/// before).
#[test]
fn an_amendment_without_its_base_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("rulebooks/keusote-dental/2019.rulebook"),
        dir.path().join("2019.rulebook"),
    )
    .unwrap();
    let out = rulebook(&[
        "check",
        "--format",
        "json",
        dir.path().join("2019.rulebook").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("\"code\":").count(), 1, "{stdout}");
    assert!(stdout.contains("invalid-amendment"), "{stdout}");
}

#[test]
fn eval_writes_a_decision_letter_in_a_declared_language() {
    let out = rulebook(&["eval", HOME_CARE, "--input", CASE, "--letter", "fi"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let letter = text(&out.stdout);
    assert!(
        letter.starts_with("Kotihoidon palveluseteli, tulosidonnainen"),
        "{letter}"
    );
    assert!(letter.contains("Päätöspäivä: 1.3.2021"), "{letter}");
    assert!(
        letter.contains("Asiakkaan omavastuuosuus: 156,40 €"),
        "{letter}"
    );
    assert!(letter.contains("Sovelletut säännökset"), "{letter}");
    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--input",
        CASE,
        "--letter",
        "en",
        "--letter-format",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    // A language that is not a letter language, and a rulebook without
    // languages, are refused with what to do.
    let out = rulebook(&["eval", HOME_CARE, "--input", CASE, "--letter", "de"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("write fi, sv or en"),
        "{}",
        text(&out.stderr)
    );
    let out = rulebook(&[
        "eval",
        "rulebooks/dental-client-fees/2018-21.rulebook",
        "--input",
        "rulebooks/dental-client-fees/case.yaml",
        "--letter",
        "fi",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("add `languages fi, sv, en`"),
        "{}",
        text(&out.stderr)
    );
}

/// A rulebook that uses another, named on its own: the loader follows its
/// `use ... from` to the payment ceiling's folder, in every command.
#[test]
fn a_rulebook_that_uses_another_works_when_named_on_its_own() {
    let book = "rulebooks/dental-client-fees/2022-23.rulebook";
    let out = rulebook(&["check", book]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = rulebook(&["test", book]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout)
        .contains("over the payment ceiling, a public dental care fee is not charged"));
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        concat!(
            r#"{"id":"over","decision_date":"2023-10-02","client":{"birth_date":"1980-05-01","veteran":false},"visit":{"professional":"Dentist","with_voucher":false,"procedures":[{"difficulty_class":3,"checkup_or_prevention":false}],"other_fees":[],"earlier_fees":[{"kind":"ShortTermInstitutionalCare","amount":"700.00","date":"2023-03-01"}]}}"#,
            "\n",
            r#"{"id":"unknown","decision_date":"2023-10-02","client":{"birth_date":"1980-05-01","veteran":false},"visit":{"professional":"Dentist","with_voucher":false,"procedures":[],"other_fees":[]}}"#,
            "\n"
        ),
    );
    let out = rulebook(&["eval", book, "--cases", &cases]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outputs"]["fee_after_ceiling"], "0.00");
    assert_eq!(lines[0]["outputs"]["annual_payment_ceiling"], "692.00");
    assert_eq!(lines[1]["outputs"]["fee_after_ceiling"], "13.30");
}

/// One case at several providers' prices: each line is that case's decision
/// at that price, and a wrong path is reported in its place with exit 3.
#[test]
fn eval_compares_a_case_at_each_alternative() {
    let dir = tempfile::tempdir().unwrap();
    let alternatives = write(
        dir.path(),
        "providers.json",
        r#"[{"label": "A", "inputs": {"service.hourly_price": "30.00"}},
            {"label": "B", "inputs": {"service.hourly_price": "45.00"}}]"#,
    );
    let out = rulebook(&[
        "eval",
        "rulebooks/helsinki-home-care",
        "--input",
        CASE,
        "--compare",
        &alternatives,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("A: hourly_value 32.18 €, city_pays 600.00 €, customer_pays 0.00 €"),
        "{shown}"
    );
    assert!(
        shown.contains("B: hourly_value 32.18 €, city_pays 643.60 €, customer_pays 256.40 €"),
        "{shown}"
    );
    let wrong = write(
        dir.path(),
        "wrong.json",
        r#"[{"label": "C", "inputs": {"servce.hourly_price": "45.00"}}]"#,
    );
    let out = rulebook(&[
        "eval",
        "rulebooks/helsinki-home-care",
        "--input",
        CASE,
        "--compare",
        &wrong,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v[0]["error"].as_str().unwrap_or("").contains("servce"),
        "{v}"
    );
}
