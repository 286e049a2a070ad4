//! The decision service on three replicas sharing one PostgreSQL log: load
//! through all three, one killed with SIGKILL mid-load, and every decision
//! a client was answered is in the log exactly once.
//!
//! Needs a PostgreSQL server: `.ci/run` starts a throw-away cluster with
//! `bench/postgres/cluster.sh start DIR --tls` (TLS connections only) and
//! runs this test with
//! `RULEBOOK_TEST_POSTGRES=postgres://...?sslmode=verify-full&sslrootcert=... cargo test -- --ignored replicas`.

use crate::serve::{agent, case_2021, rulebooks, start, HOME};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn database() -> String {
    std::env::var("RULEBOOK_TEST_POSTGRES").expect(
        "set RULEBOOK_TEST_POSTGRES to a PostgreSQL address (bench/postgres/cluster.sh start DIR prints one)",
    )
}

#[test]
#[ignore = "needs PostgreSQL; .ci/run starts a throw-away cluster and runs this test"]
fn replicas_on_postgres_keep_every_answered_decision_exactly_once() {
    let url = database();
    let mut pg =
        rulebook_server::decision_log::connect_postgres(&url).expect("PostgreSQL is reachable");
    if url.contains("sslmode=verify-full") {
        // The replicas reach the log over TLS: the server refuses anything else.
        let plain = format!("{}?sslmode=disable", url.split('?').next().unwrap());
        let refused = rulebook_server::decision_log::connect_postgres(&plain)
            .err()
            .expect("a plain connection is refused");
        assert!(refused.contains("no encryption"), "{refused}");
        let encrypted: bool = pg
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(encrypted);
    }
    pg.batch_execute("DROP TABLE IF EXISTS decisions").unwrap();
    let mut replicas: Vec<_> = (0..3)
        .map(|_| start(&rulebooks(), Some(Path::new(&url)), &["--no-studio"]))
        .collect();
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    // Every replica reports the same release, so a load balancer can
    // route to the ones that agree.
    let a = agent();
    let releases: HashSet<String> = bases
        .iter()
        .map(|b| {
            let r: serde_json::Value = a
                .get(&format!("{b}/v1/ready"))
                .call()
                .unwrap()
                .into_json()
                .unwrap();
            r["release"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(releases.len(), 1, "{releases:?}");

    let answered = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..6 {
        let (bases, answered, failed, stop) = (
            bases.clone(),
            answered.clone(),
            failed.clone(),
            stop.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let a = agent();
            let mut n = w;
            while !stop.load(Ordering::Relaxed) {
                let target = n % bases.len();
                n += 1;
                let body = case_2021(&format!("{}.00", 500 + n % 3000));
                let r = a
                    .post(&format!("{}{HOME}/decisions", bases[target]))
                    .set("Content-Type", "application/json")
                    .send_string(&body);
                match r {
                    Ok(resp) => {
                        let d: serde_json::Value = resp.into_json().unwrap();
                        let id = d["decision_id"].as_str().unwrap().to_string();
                        answered.lock().unwrap().push((target, id));
                    }
                    // A killed replica's requests fail; the client was
                    // not answered, so nothing is promised for them.
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(2500));
    let before_kill = answered.lock().unwrap().len();
    replicas[0].child.kill().unwrap(); // SIGKILL
    replicas[0].child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    let by_killed = answered.iter().filter(|(t, _)| *t == 0).count();
    assert!(
        before_kill > 100,
        "too little load before the kill: {before_kill}"
    );
    assert!(
        by_killed > 10,
        "the killed replica answered only {by_killed}"
    );
    assert!(
        answered.len() > before_kill,
        "the other replicas stopped answering"
    );

    let ids: Vec<String> = answered.iter().map(|(_, id)| id.clone()).collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "an id was given twice");
    let rows = pg
        .query(
            "SELECT id, count(*) FROM decisions WHERE id = ANY($1) GROUP BY id",
            &[&ids],
        )
        .unwrap();
    let found: HashSet<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    let missing: Vec<&String> = ids.iter().filter(|i| !found.contains(*i)).collect();
    assert!(
        missing.is_empty(),
        "{} answered decisions are not in the log: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        rows.iter().all(|r| r.get::<_, i64>(1) == 1),
        "a decision is logged twice"
    );
    // A decision the killed replica answered is read from another one.
    let (_, id) = answered.iter().find(|(t, _)| *t == 0).unwrap();
    let (status, record) =
        crate::serve::call(&a, "GET", &format!("{}/v1/decisions/{id}", bases[1]), None);
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["decision_id"], id.as_str());
    // Replay reads the shared log too.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(["replay", id, "--db", &url, "--rulebooks"])
        .arg(rulebooks())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("the same decision"));
    eprintln!(
        "{} decisions answered ({} by the killed replica, {} before the kill), {} requests not answered",
        answered.len(),
        by_killed,
        before_kill,
        failed.load(Ordering::Relaxed)
    );
}
