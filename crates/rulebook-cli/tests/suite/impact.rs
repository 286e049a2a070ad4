//! `rulebook diff --cases`: totals that add up, checked against two
//! `eval --cases` runs joined by id; breakdowns, attribution, the changes
//! file, shards and their merge.

use rust_decimal::Decimal;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::str::FromStr;

fn rulebook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(crate::repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Two versions of one allowance: the new one raises the income limit
/// (some households gain eligibility), raises the age floor (some lose it)
/// and changes the rate.
const OLD: &str = r#"rulebook test.allowance "Allowance"
  version 2025
  in force 2025-01-01 to 2025-12-31

enum Area { North, South }

input household {
  income: money 0 € or more
  age: integer 0 or more
  area: Area
  hours: integer 0 or more
}

eligibility
  income_limit: household.income <= 2000 € else "income over the limit"
  age_floor: household.age >= 65 else "under the age floor"

parameter rate = 10.00 €

output allowance: money = rate * household.hours
output band: text = if household.area = North then "north" else "south"
"#;

const NEW: &str = r#"rulebook test.allowance "Allowance"
  version 2026
  in force 2026-01-01 to 2026-12-31

enum Area { North, South }

input household {
  income: money 0 € or more
  age: integer 0 or more
  area: Area
  hours: integer 0 or more
}

eligibility
  income_limit: household.income <= 2500 € else "income over the limit"
  age_floor: household.age >= 70 else "under the age floor"

parameter rate = 10.50 €

output allowance: money = rate * household.hours
output band: text = if household.area = North then "north" else "south"
"#;

/// A deterministic population of `n` households with ids, and a few cases
/// that cannot be decided.
fn population(n: usize) -> String {
    let mut s = String::new();
    let mut x: u64 = 7;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    for i in 0..n {
        let income = format!("{}.{:02}", 500 + next(2600), next(100));
        let age = 55 + next(35);
        let area = if next(2) == 0 { "North" } else { "South" };
        let hours = next(40);
        s.push_str(&format!(
            "{{\"id\":\"h{i}\",\"household\":{{\"income\":\"{income}\",\"age\":{age},\"area\":\"{area}\",\"hours\":{hours}}},\"decision_date\":\"2026-03-01\"}}\n"
        ));
    }
    // An income that is not an amount, and a negative one.
    s.push_str("{\"id\":\"bad1\",\"household\":{\"income\":\"lots\",\"age\":70,\"area\":\"North\",\"hours\":3},\"decision_date\":\"2026-03-01\"}\n");
    s.push_str("{\"id\":\"bad2\",\"household\":{\"income\":\"-5.00\",\"age\":70,\"area\":\"North\",\"hours\":3},\"decision_date\":\"2026-03-01\"}\n");
    s
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("2025.rulebook"), OLD).unwrap();
        std::fs::write(dir.path().join("2026.rulebook"), NEW).unwrap();
        std::fs::write(dir.path().join("cases.jsonl"), population(n)).unwrap();
        Fixture { dir }
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
    fn diff(&self, extra: &[&str]) -> Output {
        let (old, new, cases) = (
            self.path("2025.rulebook"),
            self.path("2026.rulebook"),
            self.path("cases.jsonl"),
        );
        let mut args = vec!["diff", &old, &new, "--cases", &cases];
        args.extend_from_slice(extra);
        rulebook(&args)
    }
}

/// `eval --cases` of one version: id → allowance when eligible, else zero.
fn eval_by_id(version: &str, cases: &str) -> BTreeMap<String, Decimal> {
    let out = rulebook(&["eval", version, "--cases", cases, "--off-period"]);
    let mut m = BTreeMap::new();
    for line in text(&out.stdout).lines() {
        let v: J = serde_json::from_str(line).unwrap();
        let Some(id) = v["id"].as_str() else { continue };
        if v.get("error").is_some() {
            continue;
        }
        let amount = if v["eligible"] == true {
            Decimal::from_str(v["outputs"]["allowance"].as_str().unwrap()).unwrap()
        } else {
            Decimal::ZERO
        };
        m.insert(id.to_string(), amount);
    }
    m
}

fn dec(v: &J) -> Decimal {
    let s = v.as_str().unwrap().trim_end_matches(" €").replace('+', "");
    Decimal::from_str(&s).unwrap()
}

#[test]
fn totals_add_up_against_two_eval_runs_joined_by_id() {
    let f = Fixture::new(3000);
    let out = f.diff(&["--format", "json"]);
    // Two cases could not be read: the run says so in its exit code.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let v: J = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["impact"];
    assert_eq!(i["cases"], 3002);
    assert_eq!(i["invalid"], 2);
    let ids: Vec<&str> = i["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bad1", "bad2"]);

    let cases = f.path("cases.jsonl");
    let old = eval_by_id(&f.path("2025.rulebook"), &cases);
    let new = eval_by_id(&f.path("2026.rulebook"), &cases);
    assert_eq!(old.len(), 3000);
    let (mut old_total, mut new_total) = (Decimal::ZERO, Decimal::ZERO);
    let (mut gained, mut lost) = (0, 0);
    let (mut newly_total, mut lost_total) = (Decimal::ZERO, Decimal::ZERO);
    for (id, a) in &old {
        old_total += a;
        new_total += new[id];
    }
    // Zero hours give a zero allowance, so eligibility is read from the
    // decisions rather than from the amount.
    let eligible = |version: &str| -> BTreeMap<String, bool> {
        let out = rulebook(&["eval", version, "--cases", &cases, "--off-period"]);
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<J>(l).ok())
            .filter(|v| v.get("error").is_none())
            .map(|v| (v["id"].as_str().unwrap().to_string(), v["eligible"] == true))
            .collect()
    };
    let (eo, en) = (
        eligible(&f.path("2025.rulebook")),
        eligible(&f.path("2026.rulebook")),
    );
    for (id, was) in &eo {
        match (was, en[id]) {
            (false, true) => {
                gained += 1;
                newly_total += new[id];
            }
            (true, false) => {
                lost += 1;
                lost_total += old[id];
            }
            _ => {}
        }
    }
    assert!(
        gained > 50 && lost > 50,
        "the population changes both ways: {gained} {lost}"
    );
    assert_eq!(i["newly_eligible"], gained);
    assert_eq!(i["no_longer_eligible"], lost);
    let allowance = i["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["output"] == "allowance")
        .unwrap();
    let t = &allowance["totals"];
    assert_eq!(dec(&t["all"]["old"]), old_total);
    assert_eq!(dec(&t["all"]["new"]), new_total);
    assert_eq!(dec(&t["all"]["change"]), new_total - old_total);
    assert_eq!(dec(&t["newly_eligible"]["new"]), newly_total);
    assert_eq!(dec(&t["no_longer_eligible"]["old"]), lost_total);
    assert_eq!(
        dec(&t["eligible_in_both"]["change"])
            + dec(&t["newly_eligible"]["change"])
            + dec(&t["no_longer_eligible"]["change"]),
        new_total - old_total,
        "the groups add up to the whole"
    );
    assert_eq!(dec(&allowance["change"]["total"]), new_total - old_total);

    // Each eligibility change is put down to the criterion that flipped.
    let criteria = i["criteria"].as_array().unwrap();
    let flips = |name: &str| {
        criteria
            .iter()
            .find(|c| c["criterion"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(flips("age_floor")["lost"].as_u64().unwrap() as usize, lost);
    assert_eq!(flips("age_floor")["gained"], 0);
    assert_eq!(flips("income_limit")["lost"], 0);
    assert!(flips("income_limit")["gained"].as_u64().unwrap() > 0);
    // The rate is where the change of the allowance begins.
    let rules = i["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["rule"] == "rate" && r["cases"].as_u64().unwrap() > 100),
        "{rules:?}"
    );
}

#[test]
fn breakdowns_count_and_sum_each_group() {
    let f = Fixture::new(1000);
    let out = f.diff(&[
        "--format",
        "json",
        "--by",
        "household.area",
        "--by",
        "household.income:1000",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let v: J = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["impact"];
    let allowance_change = i["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["output"] == "allowance")
        .map(|o| dec(&o["totals"]["all"]["change"]))
        .unwrap();
    for b in i["breakdowns"].as_array().unwrap() {
        assert_eq!(b["measure"], "allowance");
        let rows = b["rows"].as_array().unwrap();
        let cases: u64 = rows.iter().map(|r| r["cases"].as_u64().unwrap()).sum();
        assert_eq!(
            cases, 1000,
            "every decided case is in one row of {}",
            b["by"]
        );
        let total: Decimal = rows.iter().map(|r| dec(&r["total_change"])).sum();
        assert_eq!(total, allowance_change, "the rows add up for {}", b["by"]);
        let gained: u64 = rows
            .iter()
            .map(|r| r["gained_eligibility"].as_u64().unwrap())
            .sum();
        assert_eq!(gained, i["newly_eligible"].as_u64().unwrap());
    }
    let bands: Vec<&str> = i["breakdowns"][1]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        bands,
        ["0 – 1000", "1000 – 2000", "2000 – 3000", "3000 – 4000"]
    );
    let areas: Vec<&str> = i["breakdowns"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["North", "South"]);

    // A field that is not an input, and a band of an enum, are refused.
    for (by, says) in [
        ("household.incme", "not an input path"),
        ("household.area:10", "has no bands"),
        ("household.income:0", "not a band width"),
    ] {
        let out = f.diff(&["--by", by]);
        assert_eq!(out.status.code(), Some(2), "{by}");
        assert!(
            text(&out.stderr).contains(says),
            "{by}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn the_changes_file_lists_every_changed_case_with_its_reasons() {
    let f = Fixture::new(400);
    let jsonl = f.path("changes.jsonl");
    let csv = f.path("changes.csv");
    let out = f.diff(&["--format", "json", "--changes", &jsonl]);
    assert_eq!(out.status.code(), Some(3));
    let v: J = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["impact"];
    let changed: Vec<J> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let allowance = i["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["output"] == "allowance")
        .unwrap();
    // Every case that gained or lost eligibility, or whose allowance
    // changed while eligible in both (zero hours change nothing).
    let expected = i["newly_eligible"].as_u64().unwrap()
        + i["no_longer_eligible"].as_u64().unwrap()
        + allowance["changed"].as_u64().unwrap();
    assert_eq!(changed.len() as u64, expected);
    let first = &changed[0];
    assert!(first["id"].as_str().unwrap().starts_with('h'));
    assert!(first["case"]["household"]["income"].is_string());
    assert!(first.get("old").is_some() && first.get("new").is_some());
    for c in &changed {
        let because = c["because"].as_array().unwrap();
        assert!(!because.is_empty(), "{c}");
        if c["old"]["eligible"] != c["new"]["eligible"] {
            assert!(
                because
                    .iter()
                    .all(|b| b.as_str().unwrap().starts_with("criterion ")),
                "{c}"
            );
        } else {
            assert_eq!(because, &vec![J::from("rate")], "{c}");
        }
    }
    let out = f.diff(&["--changes", &csv]);
    assert_eq!(out.status.code(), Some(3));
    let table = std::fs::read_to_string(&csv).unwrap();
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap(),
        "line,id,household.income,household.age,household.area,household.hours,old.eligible,new.eligible,old.allowance,new.allowance,old.band,new.band,because"
    );
    assert_eq!(lines.count(), changed.len());
}

#[test]
fn shards_merge_into_exactly_the_report_of_one_run() {
    let f = Fixture::new(2000);
    let by = ["--by", "household.area", "--by", "household.income:500"];
    let mut whole_args = vec!["--format", "json"];
    whole_args.extend_from_slice(&by);
    let whole = f.diff(&whole_args);
    let mut summaries = Vec::new();
    for k in 1..=3 {
        let file = f.path(&format!("shard{k}.json"));
        let shard = format!("{k}/3");
        let mut args = vec![
            "--format",
            "json",
            "--shard",
            &shard,
            "--save-summary",
            &file,
        ];
        args.extend_from_slice(&by);
        let out = f.diff(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            text(&out.stderr)
        );
        summaries.push(file);
    }
    let (old, new) = (f.path("2025.rulebook"), f.path("2026.rulebook"));
    let mut args = vec![
        "diff",
        old.as_str(),
        new.as_str(),
        "--format",
        "json",
        "--merge",
    ];
    args.extend(summaries.iter().map(|s| s.as_str()));
    let merged = rulebook(&args);
    assert_eq!(
        merged.status.code(),
        whole.status.code(),
        "{}",
        text(&merged.stderr)
    );
    let a: J = serde_json::from_slice(&whole.stdout).unwrap();
    let b: J = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(a["impact"], b["impact"]);

    // A summary of other settings does not merge.
    let other = f.path("other.json");
    let out = f.diff(&["--shard", "1/3", "--save-summary", &other]);
    assert!(matches!(out.status.code(), Some(0 | 3)));
    let out = rulebook(&["diff", &old, &new, "--merge", &summaries[0], &other]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("different --by"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ids_pass_through_and_programmes_are_not_mixed() {
    let f = Fixture::new(50);
    let out = f.diff(&["--format", "json"]);
    let v: J = serde_json::from_slice(&out.stdout).unwrap();
    // No case fails for carrying an id.
    assert_eq!(v["impact"]["failed"], 2);
    let largest = &v["impact"]["largest_changes"][0];
    assert!(largest["id"].as_str().unwrap().starts_with('h'));
    assert!(largest["case"]["household"].is_object());

    let other = Path::new("rulebooks/helsinki-home-care/2021.rulebook");
    let out = rulebook(&["diff", &f.path("2025.rulebook"), other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--allow-programme-change"),
        "{}",
        text(&out.stderr)
    );
    let out = rulebook(&[
        "diff",
        &f.path("2025.rulebook"),
        other.to_str().unwrap(),
        "--allow-programme-change",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
