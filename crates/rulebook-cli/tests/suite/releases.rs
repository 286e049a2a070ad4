//! Releases under load: a rulebook rewritten slowly in place, and signed
//! bundles replaced slowly in place or tampered with. Clients query all
//! the while; every answer must come whole from one release or the other.

use crate::serve::{agent, call, case_2021, copy_dir, rulebooks, start, HOME};
use serde_json::Value as J;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rulebook(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .output()
        .unwrap()
}

/// The service on `DIR/live.bundle`, trusting `DIR/trust`, looking for a
/// new bundle every 100 ms.
fn serve_bundle(books: &Path, db: &Path, dir: &Path) -> crate::serve::Server {
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let args = [
        "--bundle",
        &p("live.bundle"),
        "--trust",
        &p("trust"),
        "--reload-interval-ms",
        "100",
    ];
    start(books, Some(db), &args)
}

/// `rulebook bundle build` of a folder, signed with the key in `key`.
fn build_bundle(
    books: &Path,
    key: &str,
    signer: &str,
    id: &str,
    out: &str,
) -> std::process::Output {
    rulebook(&[
        "bundle",
        "build",
        books.to_str().unwrap(),
        "--key",
        key,
        "--signer",
        signer,
        "--id",
        id,
        "--out",
        out,
    ])
}

/// Four clients deciding until stopped; each answer's hourly value, or
/// `partial` for an answer without all three outputs.
struct Clients {
    stop: Arc<AtomicBool>,
    failed: Arc<AtomicU64>,
    /// Every distinct hourly value answered so far, so a test can wait for
    /// the clients to see a release rather than hope they did.
    values: Arc<Mutex<BTreeSet<String>>>,
    workers: Vec<std::thread::JoinHandle<Vec<String>>>,
}

impl Clients {
    fn start(url: &str) -> Clients {
        let stop = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicU64::new(0));
        let values = Arc::new(Mutex::new(BTreeSet::new()));
        let workers = (0..4)
            .map(|_| {
                let (url, stop, failed, values) = (
                    url.to_string(),
                    stop.clone(),
                    failed.clone(),
                    values.clone(),
                );
                std::thread::spawn(move || {
                    let a = agent();
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let (st, d) = call(&a, "POST", &url, Some(&case_2021("100.00")));
                        if st != 200 {
                            failed.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        let outputs = d["outputs"].as_object().map_or(0, |o| o.len());
                        let answer = if outputs == 3 {
                            d["outputs"]["hourly_value"]
                                .as_str()
                                .unwrap_or("")
                                .to_string()
                        } else {
                            format!("partial: {d}")
                        };
                        values.lock().unwrap().insert(answer.clone());
                        seen.push(answer);
                    }
                    seen
                })
            })
            .collect();
        Clients {
            stop,
            failed,
            values,
            workers,
        }
    }

    /// Whether some client has been answered `value`.
    fn saw(&self, value: &str) -> bool {
        self.values.lock().unwrap().contains(value)
    }

    /// Stops the clients; every answer, and how many requests failed.
    fn finish(self) -> (Vec<String>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let seen = self
            .workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        (seen, self.failed.load(Ordering::Relaxed))
    }
}

/// The 2021 home care version with a new maximum and without its examples
/// (which expect the old figure).
fn changed_home_care(original: &str) -> String {
    let without_examples = match original.find("\nexample ") {
        Some(at) => original[..at].to_string() + "\n",
        None => original.to_string(),
    };
    without_examples.replace(
        "parameter max_value = 34.00 €",
        "parameter max_value = 35.00 €",
    )
}

/// Rewrites a file in place, a line at a time, as a slow editor or a copy
/// over a network share does: many of the texts it passes through are
/// whole items and check.
fn write_slowly(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    for piece in text.split_inclusive('\n') {
        f.write_all(piece.as_bytes()).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check_answers(seen: &[String], failed: u64) {
    assert_eq!(failed, 0, "requests failed during the release");
    assert!(seen.len() > 20, "too few answers: {}", seen.len());
    let odd: Vec<&String> = seen
        .iter()
        .filter(|v| *v != "34.00" && *v != "35.00")
        .collect();
    assert!(
        odd.is_empty(),
        "{} of {} answers were not whole: {:?}",
        odd.len(),
        seen.len(),
        &odd[..odd.len().min(3)]
    );
}

#[test]
fn a_rulebook_rewritten_slowly_in_place_is_never_served_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    let s = start(&books, None, &["--reload-interval-ms", "100"]);
    let url = format!("{}{HOME}/decisions", s.base);
    let clients = Clients::start(&url);
    let file = books.join("helsinki-home-care/2021.rulebook");
    let original = std::fs::read_to_string(&file).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    write_slowly(&file, &changed_home_care(&original));
    let a = agent();
    wait_for(
        "the finished file was not picked up",
        Duration::from_secs(20),
        || {
            call(&a, "POST", &url, Some(&case_2021("100.00"))).1["outputs"]["hourly_value"]
                == "35.00"
        },
    );
    let (seen, failed) = clients.finish();
    check_answers(&seen, failed);
}

#[test]
fn signed_bundles_are_served_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    // A signing key, and the trust file the service reads.
    let out = rulebook(&[
        "bundle",
        "keygen",
        "release-team",
        "--secret",
        &p("signing.key"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(p("trust"), &out.stdout).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    let build =
        |id: &str, out: &str| build_bundle(&books, &p("signing.key"), "release-team", id, out);
    let made = build("r1", &p("r1.bundle"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let verified = rulebook(&["bundle", "verify", &p("r1.bundle"), "--trust", &p("trust")]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // The second release: a new figure.
    let file = books.join("helsinki-home-care/2021.rulebook");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, changed_home_care(&original)).unwrap();
    assert!(build("r2", &p("r2.bundle")).status.success());
    let r2 = std::fs::read_to_string(p("r2.bundle")).unwrap();

    // A tampered bundle is refused at start, naming the file that differs.
    let tampered = r2.replace("max_value = 35.00 €", "max_value = 36.00 €");
    assert_ne!(tampered, r2);
    std::fs::write(p("tampered.bundle"), &tampered).unwrap();
    let out = rulebook(&[
        "serve",
        "--no-log",
        "--addr",
        "127.0.0.1:0",
        "--bundle",
        &p("tampered.bundle"),
        "--trust",
        &p("trust"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("helsinki-home-care/2021.rulebook` differs from the signed manifest"),
        "{err}"
    );

    // Serving r1, logging its id with every decision.
    std::fs::copy(p("r1.bundle"), p("live.bundle")).unwrap();
    let db = dir.path().join("log.sqlite");
    let s = serve_bundle(&books, &db, dir.path());
    let a = agent();
    let url = format!("{}{HOME}/decisions", s.base);
    let (_, ready) = call(&a, "GET", &format!("{}/v1/ready", s.base), None);
    assert_eq!(ready["release"], "bundle:r1");
    let (_, d) = call(&a, "POST", &url, Some(&case_2021("100.00")));
    assert_eq!(d["outputs"]["hourly_value"], "34.00");
    let id = d["decision_id"].as_str().unwrap();
    let (_, logged) = call(&a, "GET", &format!("{}/v1/decisions/{id}", s.base), None);
    assert_eq!(logged["release"], "bundle:r1");

    // r2 copied over r1 slowly, in place, under load.
    let clients = Clients::start(&url);
    std::thread::sleep(Duration::from_millis(300));
    write_slowly(Path::new(&p("live.bundle")), &r2);
    wait_for("r2 was not activated", Duration::from_secs(20), || {
        call(&a, "GET", &format!("{}/v1/ready", s.base), None).1["release"] == "bundle:r2"
    });
    // On a busy machine a client's request may still be on its way; wait
    // until one of them is answered by r2 before tampering.
    wait_for(
        "no client was answered by r2",
        Duration::from_secs(20),
        || clients.saw("35.00"),
    );
    // A tampered copy is refused as a whole and r2 keeps serving.
    let rejected = |a: &ureq::Agent| -> u64 {
        let (_, m) = call(a, "GET", &format!("{}/metrics", s.base), None);
        m.as_str()
            .unwrap_or("")
            .lines()
            .find_map(|l| l.strip_prefix("rulebook_rejected_reloads_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    };
    let before = rejected(&a);
    std::fs::write(p("live.bundle.new"), &tampered).unwrap();
    std::fs::rename(p("live.bundle.new"), p("live.bundle")).unwrap();
    wait_for(
        "the tampered bundle was not refused",
        Duration::from_secs(20),
        || rejected(&a) > before,
    );
    let (_, ready) = call(&a, "GET", &format!("{}/v1/ready", s.base), None);
    assert_eq!(ready["release"], "bundle:r2", "{ready}");
    let (seen, failed) = clients.finish();
    check_answers(&seen, failed);
    assert!(seen.iter().any(|v| v == "35.00"));
    let _: J = ready;
}

/// kill -9 while a signed bundle is being replaced slowly in place and
/// clients decide: after a restart every acknowledged decision is in the
/// log, whole, and names the release that made it.
#[test]
fn kill_9_during_a_bundle_release_loses_no_decision() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let out = rulebook(&["bundle", "keygen", "ops", "--secret", &p("signing.key")]);
    std::fs::write(p("trust"), &out.stdout).unwrap();
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    let build = |id: &str| {
        let out = build_bundle(
            &books,
            &p("signing.key"),
            "ops",
            id,
            &p(&format!("{id}.bundle")),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    build("r1");
    let file = books.join("helsinki-home-care/2021.rulebook");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, changed_home_care(&original)).unwrap();
    build("r2");
    std::fs::copy(p("r1.bundle"), p("live.bundle")).unwrap();
    let db = dir.path().join("log.sqlite");
    let s = serve_bundle(&books, &db, dir.path());
    let url = format!("{}{HOME}/decisions", s.base);
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let a = agent();
                let mut acknowledged = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = a
                        .post(&url)
                        .set("Content-Type", "application/json")
                        .send_string(&case_2021("100.00"));
                    // The server dies mid-way: only answered requests count.
                    let Ok(r) = r else { break };
                    let d: J = r.into_json().unwrap();
                    acknowledged.push((
                        d["decision_id"].as_str().unwrap().to_string(),
                        d["outputs"]["hourly_value"].as_str().unwrap().to_string(),
                    ));
                }
                acknowledged
            })
        })
        .collect();
    let r2 = std::fs::read_to_string(p("r2.bundle")).unwrap();
    write_slowly(Path::new(&p("live.bundle")), &r2);
    let a = agent();
    wait_for("r2 was not activated", Duration::from_secs(30), || {
        call(&a, "GET", &format!("{}/v1/ready", s.base), None).1["release"] == "bundle:r2"
    });
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-9", &s.child.id().to_string()])
        .status()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let acknowledged: Vec<(String, String)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    drop(s);
    assert!(acknowledged.len() > 50, "{}", acknowledged.len());
    assert!(
        acknowledged.iter().any(|(_, v)| v == "35.00"),
        "r2 was never served"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    for (id, value) in &acknowledged {
        let (release, decision): (String, String) = conn
            .query_row(
                "SELECT release, decision FROM decisions WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("decision {id} was lost: {e}"));
        let want = if value == "34.00" {
            "bundle:r1"
        } else {
            "bundle:r2"
        };
        assert_eq!(release, want, "{id}");
        assert!(
            decision.contains(&format!("\"hourly_value\":\"{value}\"")),
            "{decision}"
        );
    }
}

/// The Studio beside a service serving a bundle reads the bundle's files as
/// they were verified, not the file on disk, which may have changed or gone.
#[test]
fn the_studio_reads_the_bundle_being_served() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let out = rulebook(&["bundle", "keygen", "ops", "--secret", &p("signing.key")]);
    std::fs::write(p("trust"), &out.stdout).unwrap();
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    let out = build_bundle(&books, &p("signing.key"), "ops", "r1", &p("live.bundle"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = serve_bundle(&books, &dir.path().join("log.sqlite"), dir.path());
    std::fs::remove_file(p("live.bundle")).unwrap();
    let a = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
    let (status, ov) =
        crate::serve::call(&a, "GET", &format!("{}/studio/api/overview", s.base), None);
    assert_eq!(status, 200, "{ov}");
    assert_eq!(ov["editable"], false);
    let home = ov["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "helsinki-home-care/2021.rulebook")
        .unwrap_or_else(|| panic!("{ov}"));
    assert_eq!(home["errors"], 0);
    let url = format!(
        "{}/studio/api/file?path=helsinki-home-care/2021.rulebook",
        s.base
    );
    let (status, file) = crate::serve::call(&a, "GET", &url, None);
    assert_eq!(status, 200, "{file}");
    assert_eq!(
        file["text"].as_str().unwrap(),
        std::fs::read_to_string(rulebooks().join("helsinki-home-care/2021.rulebook")).unwrap()
    );
}

/// A folder named with `..` builds the same bundle as the folder itself:
/// the `use ... from "../payment-ceiling"` of its rulebooks still meets
/// its folder.
#[test]
fn a_bundle_built_from_a_path_with_dots_is_the_same_release() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let out = rulebook(&["bundle", "keygen", "ops", "--secret", &p("signing.key")]);
    assert!(out.status.success());
    let books = dir.path().join("rulebooks");
    copy_dir(&rulebooks(), &books);
    std::fs::create_dir(dir.path().join("tools")).unwrap();
    let plain = build_bundle(&books, &p("signing.key"), "ops", "r1", &p("plain.bundle"));
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let dotted = dir.path().join("tools/../rulebooks");
    let made = build_bundle(&dotted, &p("signing.key"), "ops", "r1", &p("dotted.bundle"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // The same files, named the same and with the same contents, in both.
    let files = |f: &str| -> J {
        let bundle: J = serde_json::from_str(&std::fs::read_to_string(p(f)).unwrap()).unwrap();
        let manifest: J = serde_json::from_str(bundle["manifest"].as_str().unwrap()).unwrap();
        manifest["files"].clone()
    };
    let plain = files("plain.bundle");
    assert!(plain.as_array().is_some_and(|f| f.len() > 10), "{plain}");
    assert_eq!(plain, files("dotted.bundle"));
}
