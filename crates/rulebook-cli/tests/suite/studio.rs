//! Rulebook Studio's server side, over HTTP from the built binary: `rulebook
//! studio DIR` edits a folder, `rulebook serve` shows it read-only; paths
//! stay inside the folder, keys guard the data but not the page. The page
//! itself is tested in a browser (crates/rulebook-server/studio/test).

use crate::serve::{call, copy_dir, listening, rulebooks, start, Server};
use serde_json::json;
use std::process::Command;

/// The Studio's answers check, test and search whole folders: a debug
/// build on a busy machine takes its time.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(120))
        .build()
}

fn studio(dir: &std::path::Path) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulebook"));
    cmd.args(["studio", "--addr", "127.0.0.1:0"]).arg(dir);
    listening(cmd)
}

#[test]
fn the_studio_edits_files_inside_its_folder_only() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&rulebooks(), dir.path());
    let s = studio(dir.path());
    let a = agent();
    // The page, with a policy that allows only its own script.
    let page = a.get(&format!("{}/studio/", s.base)).call().unwrap();
    let policy = page.header("Content-Security-Policy").unwrap().to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(page
        .into_string()
        .unwrap()
        .contains("/studio/assets/studio.js"));
    let script = a
        .get(&format!("{}/studio/assets/studio.js", s.base))
        .call()
        .unwrap();
    assert!(
        script.into_string().unwrap().len() > 100_000,
        "the built page is embedded"
    );

    // Every version, with its status.
    let (status, ov) = call(&a, "GET", &format!("{}/studio/api/overview", s.base), None);
    assert_eq!(status, 200);
    assert_eq!(ov["editable"], true);
    let files = ov["files"].as_array().unwrap();
    assert!(files.len() >= 17);
    let home = files
        .iter()
        .find(|f| f["path"] == "helsinki-home-care/2024-25.rulebook")
        .unwrap();
    assert_eq!(home["errors"], 0);
    assert_eq!(home["examples"]["passed"], home["examples"]["total"]);
    assert_eq!(
        home["texts"]["title"]["en"],
        "Home-care service voucher, income-related"
    );
    assert_eq!(
        home["tables"][0]["rows"][0],
        json!({ "key": "1", "result": "653 €" })
    );

    // Paths outside the folder, hidden or not rulebooks are refused.
    for bad in [
        "../outside.rulebook",
        "/etc/passwd",
        "a/.hidden.rulebook",
        "README.md",
    ] {
        let url = format!("{}/studio/api/file?path={}", s.base, bad);
        let (status, body) = call(&a, "GET", &url, None);
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["error"]["problems"][0]["path"], "path");
    }

    // The editor's analysis counts offsets as the page does (UTF-16), so a
    // finding after `ä` is where the page shows it.
    let text =
        "--- ä\nrulebook t.x \"T\"\n  version 1\n  in force 2024-01-01\n\noutput o: money = nope\n";
    let body = json!({ "path": "helsinki-home-care/2024-25.rulebook", "text": text }).to_string();
    let (status, r) = call(
        &a,
        "POST",
        &format!("{}/studio/api/analyze", s.base),
        Some(&body),
    );
    assert_eq!(status, 200, "{r}");
    let d = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "unknown-name")
        .unwrap_or_else(|| panic!("{r}"));
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let from = d["from"].as_u64().unwrap() as usize;
    let to = d["to"].as_u64().unwrap() as usize;
    assert_eq!(String::from_utf16(&utf16[from..to]).unwrap(), "nope");
    assert_eq!(d["line"], 6);

    // Hover and completion at page offsets.
    let body = json!({ "path": "x/new.rulebook", "text": "parameter limit = 5 €\noutput o: money = limit\n", "offset": 40 }).to_string();
    let (status, h) = call(
        &a,
        "POST",
        &format!("{}/studio/api/hover", s.base),
        Some(&body),
    );
    assert_eq!(status, 200, "{h}");
    assert!(h["text"].as_str().unwrap().contains("limit"), "{h}");
    let body = json!({ "path": "x/new.rulebook", "text": "parameter limit = 5 €\noutput o: money = li\n", "offset": 42 }).to_string();
    let (_, c) = call(
        &a,
        "POST",
        &format!("{}/studio/api/completions", s.base),
        Some(&body),
    );
    assert!(
        c.as_array().unwrap().iter().any(|x| x["label"] == "limit"),
        "{c}"
    );

    // Saving writes the file whole; a broken version is saved (work in
    // progress) and left out of the decisions, the others keep deciding.
    let path = dir.path().join("helsinki-home-care/2024-25.rulebook");
    let original = std::fs::read_to_string(&path).unwrap();
    let broken = original.replace("parameter raise = 120 %", "parameter raisex = 120 %");
    let body = json!({ "path": "helsinki-home-care/2024-25.rulebook", "text": broken }).to_string();
    let (status, r) = call(
        &a,
        "POST",
        &format!("{}/studio/api/save", s.base),
        Some(&body),
    );
    assert_eq!(status, 200, "{r}");
    assert!(r["errors"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("studio-save"))
        .collect();
    assert!(leftovers.is_empty(), "a temporary file was left behind");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let (_, ov) = call(&a, "GET", &format!("{}/studio/api/overview", s.base), None);
        if ov["refused"].as_str().unwrap_or("").contains("2024-25") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the broken version was not left out: {}",
            ov["refused"]
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let case = crate::serve::case_2021("900.00");
    let (status, d) = call(
        &a,
        "POST",
        &format!("{}{}/decisions", s.base, crate::serve::HOME),
        Some(&case),
    );
    assert_eq!(status, 200, "the versions that check still decide: {d}");

    // A tried case as an example that expects what was decided.
    let body = json!({ "programme": "helsinki.home_care", "version": "2021", "name": "tried", "decision_date": "2021-03-01",
        "inputs": { "household": { "gross_monthly_income": "900.00", "size": 1 }, "service": { "hourly_price": "40.00", "hours_per_month": 20 } } }).to_string();
    let (status, e) = call(
        &a,
        "POST",
        &format!("{}/studio/api/example", s.base),
        Some(&body),
    );
    assert_eq!(status, 200, "{e}");
    assert!(
        e["text"].as_str().unwrap().contains(&format!(
            "expect customer_pays = {} €",
            d["outputs"]["customer_pays"].as_str().unwrap()
        )),
        "{e}"
    );
}

#[test]
fn the_service_shows_the_studio_read_only_and_keys_guard_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let (key, line) = {
        let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .args(["keys", "new", "decide", "officer"])
            .output()
            .unwrap();
        let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let line = String::from_utf8(out.stderr)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .to_string();
        (key, line)
    };
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("{line}\n")).unwrap();
    let s = start(&rulebooks(), None, &["--keys", keys.to_str().unwrap()]);
    let a = agent();
    // The page holds no data and opens without a key; its data needs one.
    let page = a.get(&format!("{}/studio/", s.base)).call().unwrap();
    assert_eq!(page.status(), 200);
    let (status, _) = call(&a, "GET", &format!("{}/studio/api/overview", s.base), None);
    assert_eq!(status, 401);
    let ov: serde_json::Value = a
        .get(&format!("{}/studio/api/overview", s.base))
        .set("Authorization", &format!("Bearer {key}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(ov["editable"], false);
    // Nothing is saved through the service.
    let body = json!({ "path": "helsinki-home-care/2021.rulebook", "text": "" }).to_string();
    let r = a
        .post(&format!("{}/studio/api/save", s.base))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body);
    match r {
        Err(ureq::Error::Status(403, resp)) => {
            assert!(resp.into_string().unwrap().contains("read-only"));
        }
        other => panic!("a save through the service answered {other:?}"),
    }
    assert!(
        std::fs::read_to_string(rulebooks().join("helsinki-home-care/2021.rulebook"))
            .unwrap()
            .len()
            > 100
    );
    // `--no-studio` serves no Studio.
    let quiet = start(&rulebooks(), None, &["--no-studio"]);
    let (status, _) = call(&a, "GET", &format!("{}/studio/", quiet.base), None);
    assert_eq!(status, 404);
}

#[test]
fn the_studio_listens_on_this_machine_only() {
    let out = Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["studio", "--addr", "0.0.0.0:0"])
        .arg(rulebooks())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
