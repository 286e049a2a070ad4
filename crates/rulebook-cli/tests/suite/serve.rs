//! The decision service, started for real on a loopback port by the built
//! binary, exercised over HTTP.

use serde_json::{json, Value as J};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(rulebooks: &Path, db: Option<&Path>, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulebook"));
    cmd.arg("serve")
        .arg("--addr")
        .arg("127.0.0.1:0")
        .arg("--rulebooks")
        .arg(rulebooks);
    match db {
        Some(db) => cmd.arg("--db").arg(db),
        None => cmd.arg("--no-log"),
    };
    cmd.args(extra);
    listening(cmd)
}

/// Starts a service command and waits for its first line, `listening on
/// URL`.
pub(crate) fn listening(mut cmd: Command) -> Server {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Server { child, base }
}

pub(crate) fn rulebooks() -> PathBuf {
    crate::repo().join("rulebooks")
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
}

/// Status and JSON body, for success and error answers alike.
pub(crate) fn call(a: &ureq::Agent, method: &str, url: &str, body: Option<&str>) -> (u16, J) {
    send(a, method, url, None, body)
}

pub(crate) fn case_2021(income: &str) -> String {
    json!({
        "decision_date": "2021-03-01",
        "inputs": {
            "household": { "gross_monthly_income": income, "size": 1 },
            "service": { "hourly_price": "40.00", "hours_per_month": 20 }
        }
    })
    .to_string()
}

pub(crate) const HOME: &str = "/v1/programmes/helsinki.home_care";

#[test]
fn every_endpoint_and_error_class() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    let s = start(
        &rulebooks(),
        Some(&db),
        &["--max-body", "4096", "--max-batch", "3"],
    );
    let a = agent();
    let url = |p: &str| format!("{}{p}", s.base);

    assert_eq!(
        call(&a, "GET", &url("/v1/health"), None),
        (200, json!({ "status": "ok" }))
    );
    let (st, ready) = call(&a, "GET", &url("/v1/ready"), None);
    assert_eq!((st, &ready["status"]), (200, &json!("ready")));
    let (st, list) = call(&a, "GET", &url("/v1/programmes"), None);
    assert_eq!(st, 200);
    assert!(list.as_array().unwrap().len() >= 7);
    let (st, home) = call(&a, "GET", &url(HOME), None);
    assert_eq!(st, 200);
    let versions: Vec<&str> = home["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2021", "2022-23", "2024-25"]);
    assert_eq!(
        home["versions"][0]["input_schema"]["properties"]["household"]["properties"]["size"]
            ["maximum"],
        8.0
    );
    // Each output with its type, so that a client knows an amount is euros.
    assert_eq!(
        home["versions"][0]["output_types"],
        serde_json::json!({ "hourly_value": "money", "city_pays": "money", "customer_pays": "money" })
    );

    // One decision, chosen by date, logged and read back.
    let (st, d) = call(
        &a,
        "POST",
        &url(&format!("{HOME}/decisions")),
        Some(&case_2021("900.00")),
    );
    assert_eq!(st, 200, "{d}");
    assert_eq!(
        (d["version"].as_str(), d["outputs"]["hourly_value"].as_str()),
        (Some("2021"), Some("32.18"))
    );
    let id = d["decision_id"].as_str().unwrap().to_string();
    let (st, logged) = call(&a, "GET", &url(&format!("/v1/decisions/{id}")), None);
    assert_eq!(st, 200);
    assert_eq!(logged["decision"]["outputs"], d["outputs"]);
    assert_eq!(
        logged["inputs"]["household"]["gross_monthly_income"],
        "900.00"
    );
    assert_eq!(logged["rulebook_hash"].as_str().unwrap().len(), 64);

    // An explicit version outside its period is refused, naming the
    // version in force; asked for as a what-if, it decides and says so.
    let mut req: J = serde_json::from_str(&case_2021("900.00")).unwrap();
    req["version"] = json!("2022-23");
    req["explain"] = json!(true);
    let (st, d) = call(
        &a,
        "POST",
        &url(&format!("{HOME}/decisions")),
        Some(&req.to_string()),
    );
    assert_eq!(
        (st, d["error"]["code"].as_str()),
        (422, Some("off-period")),
        "{d}"
    );
    assert!(
        d["error"]["message"]
            .as_str()
            .unwrap()
            .contains("version 2021 is in force on that date"),
        "{d}"
    );
    req["off_period"] = json!(true);
    let (st, d) = call(
        &a,
        "POST",
        &url(&format!("{HOME}/decisions")),
        Some(&req.to_string()),
    );
    assert_eq!(
        (st, d["outputs"]["hourly_value"].as_str()),
        (200, Some("32.24"))
    );
    assert!(d["off_period"].as_str().unwrap().contains("2022-23"), "{d}");
    assert!(d["explanation"][0]["steps"].as_array().unwrap().len() > 2);

    // Error classes.
    let expect = |method: &str, path: &str, body: Option<&str>, status: u16, code: &str| -> J {
        let (st, e) = call(&a, method, &url(path), body);
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {e}"
        );
        e
    };
    let e = expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some("{\"decision_date\": "),
        400,
        "malformed-json",
    );
    assert!(e["error"]["problems"][0]["path"]
        .as_str()
        .unwrap()
        .starts_with("body (line 1"));
    expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some("[1, 2]"),
        422,
        "invalid-request",
    );
    expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some("{\"decision_date\": \"2021-03-01\", \"inputs\": {}, \"extra\": 1}"),
        422,
        "invalid-request",
    );
    let e = expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some(&case_2021("lots")),
        422,
        "invalid-inputs",
    );
    assert_eq!(
        e["error"]["problems"][0]["path"],
        "inputs.household.gross_monthly_income"
    );
    let e = expect(
        "POST",
        "/v1/programmes/helsinki.homecare/decisions",
        Some(&case_2021("1")),
        404,
        "unknown-programme",
    );
    assert_eq!(
        e["error"]["problems"][0]["help"],
        "did you mean `helsinki.home_care`?"
    );
    let mut late: J = serde_json::from_str(&case_2021("1")).unwrap();
    late["decision_date"] = json!("2030-01-01");
    let e = expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some(&late.to_string()),
        422,
        "no-version-in-force",
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2021 from 2021-01-01 to 2021-12-31"));
    late["decision_date"] = json!("2021-02-30");
    expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some(&late.to_string()),
        422,
        "invalid-request",
    );
    late["decision_date"] = json!("2021-03-01");
    late["version"] = json!("1999");
    expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some(&late.to_string()),
        404,
        "unknown-version",
    );
    let big = format!(
        "{{\"decision_date\": \"2021-03-01\", \"inputs\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(5000)
    );
    expect(
        "POST",
        &format!("{HOME}/decisions"),
        Some(&big),
        413,
        "body-too-large",
    );
    let batch = |n: usize| {
        json!({ "cases": (0..n).map(|_| serde_json::from_str::<J>(&case_2021("900")).unwrap()).collect::<Vec<_>>() }).to_string()
    };
    expect(
        "POST",
        &format!("{HOME}/decisions/batch"),
        Some(&batch(4)),
        422,
        "batch-too-large",
    );
    expect("GET", "/v1/decisions/nope", None, 404, "not-found");
    expect("DELETE", "/v1/health", None, 405, "method-not-allowed");
    expect("GET", "/v2/anything", None, 404, "not-found");

    // A batch: one answer per case, in order, errors in place.
    let mut cases: J = serde_json::from_str(&batch(2)).unwrap();
    cases["cases"][1]["inputs"] = json!({});
    let (st, b) = call(
        &a,
        "POST",
        &url(&format!("{HOME}/decisions/batch")),
        Some(&cases.to_string()),
    );
    assert_eq!(st, 200);
    assert_eq!(b["results"][0]["outputs"]["hourly_value"], "32.18");
    assert_eq!(b["results"][1]["error"]["code"], "invalid-inputs");

    // The stream: JSON Lines in, JSON Lines out.
    let body = format!(
        "{}\nnot json\n\n{}\n",
        case_2021("900.00"),
        case_2021("10000.00")
    );
    let resp = a
        .post(&url(&format!("{HOME}/decisions/stream")))
        .set("Content-Type", "application/x-ndjson")
        .send_string(&body)
        .unwrap();
    assert_eq!(resp.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<J> = resp
        .into_string()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (
            lines[0]["line"].as_u64(),
            lines[0]["outputs"]["hourly_value"].as_str()
        ),
        (Some(1), Some("32.18"))
    );
    assert_eq!(
        (
            lines[1]["line"].as_u64(),
            lines[1]["error"]["code"].as_str()
        ),
        (Some(2), Some("malformed-json"))
    );
    assert_eq!(
        (
            lines[2]["line"].as_u64(),
            lines[2]["outputs"]["hourly_value"].as_str()
        ),
        (Some(4), Some("7.00"))
    );

    // Metrics and the OpenAPI document.
    let metrics = a
        .get(&url("/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        metrics.contains(
            "rulebook_decisions_total{programme=\"helsinki.home_care\",version=\"2021\"} 4"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("rulebook_http_requests_total{method=\"POST\",route=\"/v1/programmes/{id}/decisions\",status=\"422\"}"));
    assert!(metrics.contains("rulebook_http_request_duration_seconds_bucket{route=\"/v1/programmes/{id}/decisions\",le=\"+Inf\"}"));
    let served = a
        .get(&url("/v1/openapi.json"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let checked_in = std::fs::read_to_string(crate::repo().join("docs/openapi.json")).unwrap();
    assert_eq!(
        served, checked_in,
        "docs/openapi.json is stale: run `rulebook openapi > docs/openapi.json`"
    );
}

#[test]
fn refuses_to_start_when_a_rulebook_does_not_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.rulebook"),
        "rulebook t.bad \"Bad\"\n  version 1\n  in force 2021-01-01\n\noutput x: money = 1 + 1 €\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["serve", "--no-log", "--addr", "127.0.0.1:0", "--rulebooks"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unit-mismatch") && err.contains("does not start"),
        "{err}"
    );
}

#[test]
fn reload_swaps_rulebooks_without_failing_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    let s = start(&books, None, &["--reload-interval-ms", "100"]);
    let url = format!("{}{HOME}/decisions", s.base);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop, ok, failed) = (url.clone(), stop.clone(), ok.clone(), failed.clone());
            std::thread::spawn(move || {
                let a = agent();
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (st, d) = call(&a, "POST", &url, Some(&case_2021("100.00")));
                    if st == 200 {
                        ok.fetch_add(1, Ordering::Relaxed);
                        seen.push(
                            d["outputs"]["hourly_value"]
                                .as_str()
                                .unwrap_or("")
                                .to_string(),
                        );
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                seen
            })
        })
        .collect();
    let file = books.join("helsinki-home-care/2021.rulebook");
    let original = std::fs::read_to_string(&file).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A good change, picked up by the file watch: a new figure, and its
    // examples (which expected the old one) taken out, since a release
    // whose examples fail is refused.
    let without_examples = match original.find("\nexample ") {
        Some(at) => original[..at].to_string() + "\n",
        None => original.clone(),
    };
    std::fs::write(
        &file,
        without_examples.replace(
            "parameter max_value = 34.00 €",
            "parameter max_value = 35.00 €",
        ),
    )
    .unwrap();
    let a = agent();
    // A reload checks, runs the examples of and verifies every version
    // before it swaps them in; in a debug build on a busy machine that takes
    // several seconds.
    let deadline = Instant::now() + Duration::from_secs(40);
    while call(&a, "POST", &url, Some(&case_2021("100.00"))).1["outputs"]["hourly_value"] != "35.00"
    {
        assert!(Instant::now() < deadline, "the change was not picked up");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A broken change is refused, and the last good set keeps serving.
    std::fs::write(
        &file,
        original.replace(
            "parameter max_value = 34.00 €",
            "parameter max_value = 35.00",
        ),
    )
    .unwrap();
    // SIGHUP asks for a reload at once, too.
    Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .unwrap();
    // Checking the whole set takes a while on a busy machine: wait for the
    // refusal to be counted rather than for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let metrics = a
            .get(&format!("{}/metrics", s.base))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        if !metrics.contains("rulebook_rejected_reloads_total 0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broken change was not refused: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        call(&a, "POST", &url, Some(&case_2021("100.00"))).1["outputs"]["hourly_value"],
        "35.00"
    );
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during reloads"
    );
    assert!(ok.load(Ordering::Relaxed) > 50);
    // Every answer came whole from one set or the other.
    assert!(
        seen.iter().all(|v| v == "34.00" || v == "35.00"),
        "{:?}",
        seen.iter()
            .filter(|v| *v != "34.00" && *v != "35.00")
            .collect::<Vec<_>>()
    );
}

#[test]
fn no_logged_decision_is_lost_to_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    let mut ids = Vec::new();
    {
        let s = start(&rulebooks(), Some(&db), &[]);
        let url = format!("{}{HOME}/decisions", s.base);
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let url = url.clone();
                std::thread::spawn(move || {
                    let a = agent();
                    (0..50)
                        .map(|i| {
                            let (st, d) = call(
                                &a,
                                "POST",
                                &url,
                                Some(&case_2021(&format!("{}.00", 500 + t * 100 + i))),
                            );
                            assert_eq!(st, 200);
                            d["decision_id"].as_str().unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            ids.extend(h.join().unwrap());
        }
        Command::new("kill")
            .args(["-9", &s.child.id().to_string()])
            .status()
            .unwrap();
    }
    assert_eq!(ids.len(), 200);
    let s = start(&rulebooks(), Some(&db), &[]);
    let a = agent();
    for id in &ids {
        let (st, _) = call(&a, "GET", &format!("{}/v1/decisions/{id}", s.base), None);
        assert_eq!(st, 200, "decision {id} was lost");
    }
    drop(s);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 200);
}

#[test]
fn graceful_shutdown_flushes_the_log_and_replay_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    let mut s = start(&rulebooks(), Some(&db), &[]);
    let a = agent();
    let (_, d) = call(
        &a,
        "POST",
        &format!("{}{HOME}/decisions", s.base),
        Some(&case_2021("900.00")),
    );
    let id = d["decision_id"].as_str().unwrap().to_string();
    Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["replay", &id, "--db"])
        .arg(&db)
        .arg("--rulebooks")
        .arg(rulebooks())
        .args(["--against", "2022-23", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: J = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["reproduced"], true);
    assert_eq!(r["rulebook_text_unchanged"], true);
    // Differences are listed by output name.
    assert_eq!(
        r["differences"],
        json!([
            "city_pays: \"643.60\" → \"644.80\"",
            "customer_pays: \"156.40\" → \"155.20\"",
            "hourly_value: \"32.18\" → \"32.24\""
        ])
    );
}

/// A stream whose lines arrive split across many network reads, with and
/// without the decision log: every line is answered once, in order, and
/// the answers are those of the one-case endpoint.
#[test]
fn a_stream_split_at_any_byte_is_answered_line_by_line() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    for logged in [false, true] {
        let s = start(&rulebooks(), logged.then_some(db.as_path()), &[]);
        let incomes: Vec<String> = (0..300).map(|i| format!("{}.00", 500 + i * 37)).collect();
        let mut body = String::new();
        for (i, income) in incomes.iter().enumerate() {
            body.push_str(&case_2021(income));
            if i + 1 < incomes.len() {
                body.push('\n');
            }
        }
        let addr = s.base.trim_start_matches("http://").to_string();
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            tcp,
            "POST {HOME}/decisions/stream HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        // Pieces of 997 bytes: boundaries fall inside lines, never in step
        // with them; the last line has no newline.
        for piece in body.as_bytes().chunks(997) {
            tcp.write_all(piece).unwrap();
            tcp.flush().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, chunked) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        // Undo the chunked transfer encoding.
        let mut answers = String::new();
        let mut rest = chunked;
        loop {
            let (size, after) = rest.split_once("\r\n").unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            answers.push_str(&after[..size]);
            rest = &after[size + 2..];
        }
        let lines: Vec<J> = answers
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), incomes.len(), "logged: {logged}");
        let a = agent();
        for (i, (line, income)) in lines.iter().zip(&incomes).enumerate() {
            assert_eq!(line["line"].as_u64(), Some(i as u64 + 1));
            let (st, one) = call(
                &a,
                "POST",
                &format!("{}{HOME}/decisions", s.base),
                Some(&case_2021(income)),
            );
            assert_eq!(st, 200);
            assert_eq!(line["outputs"], one["outputs"], "line {}", i + 1);
            assert_eq!(line["eligible"], one["eligible"]);
        }
    }
}

/// A key made by `rulebook keys new`: the key on stdout, the keys-file line
/// on the last line of stderr.
fn new_key(role: &str, name: &str) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["keys", "new", role, name])
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let err = String::from_utf8(out.stderr).unwrap();
    let line = err.lines().last().unwrap().to_string();
    assert!(
        !line.contains(&key),
        "the keys file would hold the key itself"
    );
    (key, line)
}

fn send(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, J) {
    let mut req = a
        .request(method, url)
        .set("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    let res = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(J::String(text)),
    )
}

/// With keys, nothing but the health probes answers without one; each role
/// reaches only its own endpoints; decision ids are UUIDs of version 7; the
/// log file is private to its owner.
#[test]
fn keys_and_roles_guard_every_endpoint_and_ids_cannot_be_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let (portal, portal_line) = new_key("decide", "portal");
    let (auditor, auditor_line) = new_key("audit", "auditor");
    let (operator, operator_line) = new_key("operate", "operator");
    let keys = dir.path().join("keys");
    std::fs::write(
        &keys,
        format!("{portal_line}\n{auditor_line}\n{operator_line}\n"),
    )
    .unwrap();
    let db = dir.path().join("log.sqlite");
    let s = start(&rulebooks(), Some(&db), &["--keys", keys.to_str().unwrap()]);
    let a = agent();
    let url = |p: &str| format!("{}{p}", s.base);
    let decide = url(&format!("{HOME}/decisions"));

    assert_eq!(send(&a, "GET", &url("/v1/health"), None, None).0, 200);
    assert_eq!(send(&a, "GET", &url("/v1/ready"), None, None).0, 200);
    let (st, d) = send(&a, "POST", &decide, None, Some(&case_2021("900.00")));
    assert_eq!(
        (st, d["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{d}"
    );
    let (st, _) = send(
        &a,
        "POST",
        &decide,
        Some("rbk_guess"),
        Some(&case_2021("900.00")),
    );
    assert_eq!(st, 401);
    let (st, d) = send(
        &a,
        "POST",
        &decide,
        Some(&portal),
        Some(&case_2021("900.00")),
    );
    assert_eq!(st, 200, "{d}");
    let id = d["decision_id"].as_str().unwrap().to_string();
    let uuid: Vec<&str> = id.split('-').collect();
    assert_eq!(
        uuid.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(uuid[2].starts_with('7'), "not a version 7 UUID: {id}");

    let read = url(&format!("/v1/decisions/{id}"));
    let (st, d) = send(&a, "GET", &read, Some(&portal), None);
    assert_eq!(
        (st, d["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{d}"
    );
    assert_eq!(send(&a, "GET", &read, None, None).0, 401);
    let (st, d) = send(&a, "GET", &read, Some(&auditor), None);
    assert_eq!(
        (st, d["decision_id"].as_str()),
        (200, Some(id.as_str())),
        "{d}"
    );
    assert_eq!(
        send(&a, "GET", &url("/metrics"), Some(&portal), None).0,
        403
    );
    assert_eq!(
        send(&a, "GET", &url("/metrics"), Some(&operator), None).0,
        200
    );
    assert_eq!(send(&a, "GET", &url("/v1/programmes"), None, None).0, 401);

    // Only JSON bodies: a form or plain text from a web page is refused.
    let resp = a
        .post(&decide)
        .set("Authorization", &format!("Bearer {portal}"))
        .set("Content-Type", "text/plain")
        .send_string(&case_2021("900.00"));
    let Err(ureq::Error::Status(415, r)) = resp else {
        panic!("text/plain was accepted");
    };
    let body: J = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "unsupported-media-type");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the decision log is {mode:o}");
    }
}

/// A method no client uses is counted as `other`, not as a new label.
#[test]
fn made_up_methods_do_not_become_metric_labels() {
    let s = start(&rulebooks(), None, &[]);
    let a = agent();
    let odd = "X".repeat(2000);
    for _ in 0..3 {
        let _ = send(&a, &odd, &format!("{}/v1/health", s.base), None, None);
    }
    let (_, metrics) = send(&a, "GET", &format!("{}/metrics", s.base), None, None);
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(!metrics.contains(&odd), "the made-up method is a label");
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

#[test]
fn a_public_address_without_keys_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["serve", "--no-log", "--addr", "0.0.0.0:0", "--rulebooks"])
        .arg(rulebooks())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-unauthenticated"));
}

/// A release is refused at start unless every example passes and no
/// property has a counterexample, not only when a version does not check.
#[test]
fn a_release_whose_examples_fail_or_whose_properties_break_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let original =
        std::fs::read_to_string(rulebooks().join("helsinki-home-care/2021.rulebook")).unwrap();
    let cases = [
        (
            original.replace(
                "parameter max_value = 34.00 €",
                "parameter max_value = 36.00 €",
            ),
            "example \"single person just above the limit\" fails",
        ),
        (
            original.replace(
                "max(service.hourly_price - hourly_value, 0 €) * covered_hours",
                "(service.hourly_price - hourly_value) * covered_hours",
            ),
            "the property customer_never_pays_below_zero fails",
        ),
    ];
    for (text, reason) in cases {
        std::fs::write(dir.path().join("home-care.rulebook"), text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .args(["serve", "--no-log", "--addr", "127.0.0.1:0", "--rulebooks"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{err}");
    }
}

/// A loopback service answers only requests that name it by a loopback
/// name (a DNS-rebinding page names its own site) and no request from a
/// web page unless its origin is allowed.
#[test]
fn other_hosts_and_web_origins_are_refused() {
    use std::io::{Read, Write};
    let s = start(
        &rulebooks(),
        None,
        &["--allowed-origin", "https://portal.example"],
    );
    let addr = s.base.trim_start_matches("http://").to_string();
    let get = |headers: &str| -> String {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            tcp,
            "GET /v1/programmes HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        tcp.read_to_string(&mut out).unwrap();
        out
    };
    let port = addr.rsplit(':').next().unwrap();
    assert!(get(&format!("Host: localhost:{port}\r\n")).starts_with("HTTP/1.1 200"));
    assert!(get(&format!("Host: {addr}\r\n")).starts_with("HTTP/1.1 200"));
    let rebound = get("Host: evil.example\r\n");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    assert!(rebound.contains("host-not-allowed"), "{rebound}");
    let page = get(&format!("Host: {addr}\r\nOrigin: https://evil.example\r\n"));
    assert!(
        page.starts_with("HTTP/1.1 403") && page.contains("origin-not-allowed"),
        "{page}"
    );
    let portal = get(&format!(
        "Host: {addr}\r\nOrigin: https://portal.example\r\n"
    ));
    assert!(portal.starts_with("HTTP/1.1 200"), "{portal}");
}

/// A decision log with a damaged page is refused at start (exit 5) rather
/// than found by the first decision that cannot be logged.
#[test]
fn a_damaged_decision_log_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL);")
            .unwrap();
        for i in 0..2000 {
            c.execute(
                "INSERT INTO filler (text) VALUES (?1)",
                [format!("row {i}")],
            )
            .unwrap();
        }
    }
    // The header of the table's first page: an impossible page type.
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(4096).take(12) {
        *b = 0x7f;
    }
    std::fs::write(&db, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["serve", "--addr", "127.0.0.1:0", "--rulebooks"])
        .arg(rulebooks())
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is damaged"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key given twice in a request is refused, naming it, rather than the
/// later value silently deciding.
#[test]
fn a_key_given_twice_in_a_request_is_refused() {
    let s = start(&rulebooks(), None, &[]);
    let a = agent();
    let body = r#"{"decision_date":"2021-03-01","inputs":{"household":{"gross_monthly_income":"900","gross_monthly_income":"9000","size":1},"service":{"hourly_price":"40","hours_per_month":20}}}"#;
    let (status, answer) = call(
        &a,
        "POST",
        &format!("{}{HOME}/decisions", s.base),
        Some(body),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "malformed-json", "{answer}");
    assert!(
        answer
            .to_string()
            .contains("`gross_monthly_income` appears twice"),
        "{answer}"
    );
}

/// The explanation graph and a decision letter over HTTP: the graph only
/// when asked for, the letter in the language asked, refused with the field
/// named for a rulebook that declares no languages.
#[test]
fn decisions_come_with_their_graph_and_letter_when_asked() {
    let s = start(&rulebooks(), None, &[]);
    let a = agent();
    let url = format!("{}{HOME}/decisions", s.base);
    let mut req: J = serde_json::from_str(&case_2021("900.00")).unwrap();
    req["letter"] = json!({ "language": "sv", "format": "text" });
    let (st, d) = call(&a, "POST", &url, Some(&req.to_string()));
    assert_eq!(st, 200, "{d}");
    let letter = d["letter"].as_str().unwrap();
    assert!(letter.contains("Servicesedel för hemvård"), "{letter}");
    assert!(
        letter.contains("Kundens självriskandel: 156,40 €"),
        "{letter}"
    );
    assert!(
        d.get("explanation_graph").is_none(),
        "the graph was not asked for"
    );

    req["explain"] = json!(true);
    req["letter"] = json!({ "language": "fi" });
    let (st, d) = call(&a, "POST", &url, Some(&req.to_string()));
    assert_eq!(st, 200, "{d}");
    assert!(d["letter"].as_str().unwrap().starts_with("<!DOCTYPE html>"));
    let nodes = d["explanation_graph"]["nodes"].as_array().unwrap();
    assert!(nodes
        .iter()
        .any(|n| n["id"] == "table:income_limit(1)" && n["rows"] == json!([1])));

    let fees = "/v1/programmes/fi.dental_client_fees/decisions";
    let body = json!({
        "decision_date": "2021-06-01",
        "inputs": { "client": { "birth_date": "1980-01-01" },
                    "visit": { "professional": "Dentist", "procedures": [] } },
        "letter": { "language": "fi" }
    });
    let (st, d) = call(
        &a,
        "POST",
        &format!("{}{fees}", s.base),
        Some(&body.to_string()),
    );
    assert_eq!(st, 422, "{d}");
    assert_eq!(d["error"]["code"], "letter-unavailable", "{d}");
    assert_eq!(d["error"]["problems"][0]["path"], "letter.language", "{d}");

    // A rulebook that uses another is served with it: the 2023 fee after
    // the payment ceiling, explained with the ceiling rulebook's own rule.
    let body = json!({
        "decision_date": "2023-10-02",
        "explain": true,
        "inputs": { "client": { "birth_date": "1980-01-01", "veteran": false },
                    "visit": { "professional": "Dentist", "with_voucher": false,
                               "procedures": [{ "difficulty_class": 3, "checkup_or_prevention": false }],
                               "other_fees": [],
                               "earlier_fees": [{ "kind": "ShortTermInstitutionalCare", "amount": "700.00", "date": "2023-03-01" }] } }
    });
    let (st, d) = call(
        &a,
        "POST",
        &format!("{}{fees}", s.base),
        Some(&body.to_string()),
    );
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["outputs"]["fee_after_ceiling"], "0.00", "{d}");
    let nodes = d["explanation_graph"]["nodes"].as_array().unwrap();
    assert!(
        nodes.iter().any(|n| n["kind"] == "used"
            && n["source"]
                .as_str()
                .unwrap_or("")
                .starts_with("fi.payment_ceiling version 2022-23")),
        "{d}"
    );
    assert!(
        nodes.iter().any(|n| n["id"] == "ceiling/next_fee_due"),
        "{d}"
    );

    // A programme lists its parameters' values over its versions, its
    // criteria with their reasons and what it uses.
    let (st, d) = call(
        &a,
        "GET",
        &format!("{}/v1/programmes/fi.payment_ceiling", s.base),
        None,
    );
    assert_eq!(st, 200, "{d}");
    let ceilings: Vec<String> = d["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| {
            let p = v["outline"]["parameters"]
                .as_array()?
                .iter()
                .find(|p| p["name"] == "payment_ceiling")?
                .clone();
            Some(format!(
                "{} {}",
                v["version"].as_str()?,
                p["values"][0]["value"].as_str()?
            ))
        })
        .collect();
    assert_eq!(
        ceilings,
        ["2020-21 683.00 €", "2022-23 692.00 €", "2024-25 762.00 €"],
        "{d}"
    );
    let (_, d) = call(
        &a,
        "GET",
        &format!("{}/v1/programmes/helsinki.dental_voucher", s.base),
        None,
    );
    let criteria = d["versions"][0]["outline"]["criteria"].as_array().unwrap();
    assert!(!criteria.is_empty(), "{d}");
    assert!(
        criteria
            .iter()
            .all(|c| c["reason"].as_str().is_some_and(|r| !r.is_empty())),
        "{d}"
    );
    let (_, d) = call(
        &a,
        "GET",
        &format!("{}{}", s.base, fees.trim_end_matches("/decisions")),
        None,
    );
    let uses = &d["versions"][1]["outline"]["uses"][0];
    assert_eq!(uses["programme"], "fi.payment_ceiling", "{d}");
    assert_eq!(uses["versions"], json!(["2022-23"]), "{d}");

    // One home-care case at three providers' prices in one call, each the
    // decision of its own: the customer pays the part over the voucher.
    let mut cmp: J = serde_json::from_str(&case_2021("900.00")).unwrap();
    cmp["alternatives"] = json!([
        { "label": "A", "inputs": { "service.hourly_price": "30.00" } },
        { "label": "B", "inputs": { "service.hourly_price": "45.00" } },
        { "label": "C", "inputs": { "servce.hourly_price": "45.00" } }
    ]);
    let (st, d) = call(
        &a,
        "POST",
        &format!("{}{HOME}/comparisons", s.base),
        Some(&cmp.to_string()),
    );
    assert_eq!(st, 200, "{d}");
    let alts = d["alternatives"].as_array().unwrap();
    assert_eq!(alts.len(), 3, "{d}");
    for (alt, price) in alts.iter().take(2).zip(["30.00", "45.00"]) {
        let mut one: J = serde_json::from_str(&case_2021("900.00")).unwrap();
        one["inputs"]["service"]["hourly_price"] = json!(price);
        let (_, alone) = call(&a, "POST", &url, Some(&one.to_string()));
        assert_eq!(alt["outputs"], alone["outputs"], "{alt} against {alone}");
    }
    assert_ne!(
        alts[0]["outputs"]["customer_pays"], alts[1]["outputs"]["customer_pays"],
        "{d}"
    );
    assert!(
        alts[2]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("servce"),
        "{d}"
    );
}
