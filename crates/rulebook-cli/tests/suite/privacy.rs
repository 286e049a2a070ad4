//! What the decision log keeps: masking by `privacy.yaml`, erasure of one
//! person's decisions, purging past a retention period; against the real
//! service and the real SQLite file.

use crate::serve::{agent, call, copy_dir, rulebooks, start, HOME};
use serde_json::json;
use std::process::Command;

fn rulebook(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .output()
        .unwrap()
}

/// `rulebook log ACTION --db DB FLAG VALUE`: what it printed.
fn log_command(action: &str, db: &std::path::Path, flag: &str, value: &str) -> String {
    let out = rulebook(&["log", action, "--db", db.to_str().unwrap(), flag, value]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn request(income: &str, subject: &str) -> String {
    json!({
        "decision_date": "2021-03-01",
        "subject": subject,
        "inputs": {
            "household": { "gross_monthly_income": income, "size": 1 },
            "service": { "hourly_price": "40.00", "hours_per_month": 20 }
        }
    })
    .to_string()
}

#[test]
fn the_log_keeps_only_what_privacy_yaml_allows_and_forgets_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    std::fs::write(
        books.join("privacy.yaml"),
        "helsinki.home_care:\n  household.gross_monthly_income: band 500\n  service.hours_per_month: drop\n",
    )
    .unwrap();
    let db = dir.path().join("log.sqlite");
    let s = start(&books, Some(&db), &[]);
    let a = agent();
    let url = format!("{}{HOME}/decisions", s.base);
    let (status, first) = call(&a, "POST", &url, Some(&request("1234.56", "client-17")));
    assert_eq!(status, 200, "{first}");
    // The client's answer is whole, the same as the command line's:
    // masking is only for what is stored.
    let case = dir.path().join("case.json");
    std::fs::write(
        &case,
        r#"{"decision_date":"2021-03-01","household":{"gross_monthly_income":"1234.56","size":1},"service":{"hourly_price":"40.00","hours_per_month":20}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["eval", "--format", "json", "--input"])
        .arg(&case)
        .arg(books.join("helsinki-home-care"))
        .output()
        .unwrap();
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["outputs"], cli["outputs"], "{first}");
    let (_, second) = call(&a, "POST", &url, Some(&request("700.00", "client-18")));
    let id = first["decision_id"].as_str().unwrap();
    let (status, logged) = call(&a, "GET", &format!("{}/v1/decisions/{id}", s.base), None);
    assert_eq!(status, 200);
    assert_eq!(
        logged["inputs"]["household"]["gross_monthly_income"],
        "1000–1500"
    );
    assert_eq!(logged["inputs"]["household"]["size"], 1);
    assert!(
        logged["inputs"]["service"].get("hours_per_month").is_none(),
        "{logged}"
    );
    assert_eq!(logged["subject"], "client-17");
    assert_eq!(logged["masked"], true);
    assert!(logged["release"].as_str().unwrap().starts_with("sha256:"));
    drop(s);
    // Nowhere in the file is the income as sent.
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"1234.56"));

    // A masked decision is not replayed as if it were whole.
    let out = rulebook(&[
        "replay",
        id,
        "--db",
        db.to_str().unwrap(),
        "--rulebooks",
        books.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be replayed exactly"));

    // Erasure removes that person's decisions and no one else's.
    assert!(log_command("erase", &db, "--subject", "client-17").contains("deleted 1 decision(s)"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let left: Vec<String> = conn
        .prepare("SELECT id FROM decisions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        left,
        vec![second["decision_id"].as_str().unwrap().to_string()]
    );
    drop(conn);
    // Purging keeps the recent ones and deletes the rest.
    assert!(log_command("purge", &db, "--older-than-days", "1").contains("deleted 0 decision(s)"));
    assert!(log_command("purge", &db, "--older-than-days", "0").contains("deleted 1 decision(s)"));
}

#[test]
fn a_privacy_file_that_names_no_field_refuses_the_release() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    for (text, want) in [
        (
            "helsinki.home_care:\n  household.gross_montly_income: band 500\n",
            "no version of helsinki.home_care has an input field `household.gross_montly_income`",
        ),
        (
            "helsinki.home_care:\n  household.size: year\n",
            "a band is for numbers and amounts, a year for dates",
        ),
        (
            "helsinki.home_cure:\n  household.size: drop\n",
            "no programme `helsinki.home_cure`",
        ),
    ] {
        std::fs::write(books.join("privacy.yaml"), text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .args(["serve", "--no-log", "--addr", "127.0.0.1:0", "--rulebooks"])
            .arg(&books)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn decisions_past_the_retention_period_are_deleted_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    {
        let s = start(&rulebooks(), Some(&db), &[]);
        let a = agent();
        let (status, _) = call(
            &a,
            "POST",
            &format!("{}{HOME}/decisions", s.base),
            Some(&request("900", "x")),
        );
        assert_eq!(status, 200);
    }
    // Age the decision by hand: served 40 days ago.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE decisions SET served_at = '2000-01-01T00:00:00.000000Z'",
        [],
    )
    .unwrap();
    drop(conn);
    let s = start(&rulebooks(), Some(&db), &["--retention-days", "30"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
            .unwrap();
        if n == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old decision was kept"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(s);
}

/// A subject that is empty or longer than 200 characters is refused with
/// the field named, and nothing is logged for it.
#[test]
fn an_unusable_subject_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    let s = start(&rulebooks(), Some(&db), &[]);
    let a = agent();
    let url = format!("{}{HOME}/decisions", s.base);
    for subject in [" ".to_string(), "x".repeat(201)] {
        let (status, answer) = call(&a, "POST", &url, Some(&request("900", &subject)));
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid-request");
        assert_eq!(
            answer["error"]["problems"][0]["path"], "subject",
            "{answer}"
        );
    }
    let (status, _) = call(&a, "POST", &url, Some(&request("900", &"x".repeat(200))));
    assert_eq!(status, 200);
    drop(s);
    let n: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}
