//! Hostile clients against the real service on loopback, each bounded in
//! time: idle and slow sockets, a flood of connections, oversized heads,
//! slow bodies, more decision requests than the service takes at once, and
//! a stop with requests half-sent. Run by `.ci/run` with the other tests.

use crate::serve::{case_2021, rulebooks, start};
use serde_json::Value as J;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(base: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads until the server closes; the status and the body.
fn answer(mut s: TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn health(base: &str) -> u16 {
    let mut s = connect(base);
    s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    answer(s).0
}

/// A connection the server closed reads end-of-file (or a reset).
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn idle_and_slow_sockets_are_closed_and_a_flood_is_answered_503() {
    let s = start(
        &rulebooks(),
        None,
        &["--header-timeout", "1", "--max-connections", "40"],
    );
    // Idle sockets and a head sent a byte at a time are closed after the
    // head deadline, while the service keeps answering.
    let mut idle: Vec<TcpStream> = (0..20).map(|_| connect(&s.base)).collect();
    let mut slow = connect(&s.base);
    let started = Instant::now();
    for b in b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " {
        if slow.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_millis(1500) {
            break;
        }
    }
    assert_eq!(health(&s.base), 200);
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)),
        "a slow head kept its socket"
    );
    for c in &mut idle {
        assert!(
            closed_within(c, Duration::from_secs(5)),
            "an idle socket stayed open"
        );
    }
    // Over the cap, a connection is answered 503 in the documented form.
    // A service with a long head deadline, so that the held connections
    // stay open however slowly a loaded machine runs this.
    drop(s);
    let s = start(&rulebooks(), None, &["--max-connections", "40"]);
    let held: Vec<TcpStream> = (0..40).map(|_| connect(&s.base)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = answer(connect(&s.base));
    assert_eq!(status, 503, "{body}");
    let body: J = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "overloaded");
    drop(held);
    // Once the flood is gone, the service answers again.
    let deadline = Instant::now() + Duration::from_secs(5);
    while health(&s.base) != 200 {
        assert!(Instant::now() < deadline, "the service did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn oversized_heads_odd_methods_and_slow_bodies_are_refused() {
    let s = start(&rulebooks(), None, &["--request-timeout", "2"]);
    // A head larger than 16 KiB: the HTTP layer answers 431 and closes.
    let mut c = connect(&s.base);
    let big = format!(
        "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let _ = c.write_all(big.as_bytes());
    assert_eq!(answer(c).0, 431);
    // A made-up method gets the JSON error form.
    let mut c = connect(&s.base);
    c.write_all(b"BREW /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (status, body) = answer(c);
    assert_eq!(status, 405, "{body}");
    assert!(serde_json::from_str::<J>(&body).unwrap()["error"]["code"].is_string());
    // A body sent a byte at a time is cut off at the request deadline with
    // a JSON 408, not held open.
    let body = case_2021("900");
    let mut c = connect(&s.base);
    write!(
        c,
        "POST /v1/programmes/helsinki.home_care/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let started = Instant::now();
    let writer = {
        let mut c = c.try_clone().unwrap();
        std::thread::spawn(move || {
            for b in body.bytes() {
                if c.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    let (status, text) = answer(c);
    assert_eq!(status, 408, "{text}");
    assert_eq!(
        serde_json::from_str::<J>(&text).unwrap()["error"]["code"],
        "request-timeout"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(writer);
}

#[test]
fn more_decision_requests_than_taken_at_once_are_shed_and_health_stays_up() {
    let s = start(
        &rulebooks(),
        None,
        &["--max-in-flight", "1", "--request-timeout", "5"],
    );
    // One request holds the only place by sending its body slowly.
    let body = case_2021("900");
    let mut holder = connect(&s.base);
    write!(
        holder,
        "POST /v1/programmes/helsinki.home_care/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut c = connect(&s.base);
    write!(
        c,
        "POST /v1/programmes/helsinki.home_care/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let (status, text) = answer(c);
    assert_eq!(status, 503, "{text}");
    assert_eq!(
        serde_json::from_str::<J>(&text).unwrap()["error"]["code"],
        "overloaded"
    );
    assert_eq!(health(&s.base), 200);
    // The holder finishes and is decided.
    holder.write_all(&body.as_bytes()[10..]).unwrap();
    assert_eq!(answer(holder).0, 200);
}

#[test]
fn a_stop_with_requests_half_sent_exits_promptly() {
    let mut s = start(&rulebooks(), None, &[]);
    let mut half = connect(&s.base);
    half.write_all(b"POST /v1/programmes/helsinki.home_care/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{")
        .unwrap();
    let _idle = connect(&s.base);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

mod tls {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use std::sync::Arc;

    struct Pki {
        ca: rcgen::Certificate,
        ca_key: rcgen::KeyPair,
    }

    impl Pki {
        fn new() -> Pki {
            let ca_key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let ca = params.self_signed(&ca_key).unwrap();
            Pki { ca, ca_key }
        }
        /// A certificate and its key, both PEM.
        fn issue(&self, names: &[&str], client: bool) -> (String, String) {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(
                names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            )
            .unwrap();
            params.extended_key_usages = vec![if client {
                rcgen::ExtendedKeyUsagePurpose::ClientAuth
            } else {
                rcgen::ExtendedKeyUsagePurpose::ServerAuth
            }];
            let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
            (cert.pem(), key.serialize_pem())
        }
    }

    /// GET /v1/health over TLS; `None` when the handshake is refused.
    fn get_health(base: &str, ca_pem: &str, client: Option<&(String, String)>) -> Option<String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
            .unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                    PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
                )
                .unwrap(),
        };
        let conn = rustls::ClientConnection::new(
            Arc::new(config),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let tcp = connect(&base.replace("https://", "http://"));
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut raw = Vec::new();
        match tls.read_to_end(&mut raw) {
            Ok(_) => {}
            Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {}
            Err(_) => return None,
        }
        Some(String::from_utf8_lossy(&raw).into_owned())
    }

    #[test]
    fn https_and_mutual_tls_serve_only_trusted_clients() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new();
        let (cert, key) = pki.issue(&["localhost", "127.0.0.1"], false);
        let ca_pem = pki.ca.pem();
        for (name, text) in [("cert.pem", &cert), ("key.pem", &key), ("ca.pem", &ca_pem)] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
        let (cert_path, key_path, ca_path) = (path("cert.pem"), path("key.pem"), path("ca.pem"));
        let https = [
            "--tls-cert",
            cert_path.as_str(),
            "--tls-key",
            key_path.as_str(),
        ];

        let s = start(&rulebooks(), None, &https);
        assert!(s.base.starts_with("https://"), "{}", s.base);
        let answer = get_health(&s.base, &ca_pem, None).expect("the TLS handshake succeeds");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // Plain HTTP to the TLS port gets no answer from the API.
        let (status, _) = super::answer({
            let mut c = connect(&s.base.replace("https://", "http://"));
            c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .unwrap();
            c
        });
        assert_eq!(status, 0);
        drop(s);

        let mutual = [&https[..], &["--tls-client-ca", ca_path.as_str()]].concat();
        let s = start(&rulebooks(), None, &mutual);
        assert!(
            get_health(&s.base, &ca_pem, None).is_none(),
            "a client without a certificate was served"
        );
        let stranger = Pki::new().issue(&["intruder"], true);
        assert!(
            get_health(&s.base, &ca_pem, Some(&stranger)).is_none(),
            "a certificate from another authority was accepted"
        );
        let client = pki.issue(&["payment-run"], true);
        let answer =
            get_health(&s.base, &ca_pem, Some(&client)).expect("a trusted client is served");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[test]
    fn a_wrong_certificate_file_refuses_to_start_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulebook"))
            .args(["serve", "--no-log", "--addr", "127.0.0.1:0", "--rulebooks"])
            .arg(rulebooks())
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&cert)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cert.pem: no certificate in it"), "{err}");
    }
}

/// A decision log that cannot be written (here: the file-size limit of the
/// process is reached, as on a full disk) makes decisions fail with 503
/// `decision-log-unavailable` and readiness say 503, while health stays up.
#[cfg(unix)]
#[test]
fn a_log_that_cannot_be_written_makes_the_service_unready() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite");
    // SIGXFSZ ignored, so that writing past the limit fails with EFBIG
    // instead of killing the process; 256 KiB (bash counts 1 KiB blocks).
    let script = format!(
        "trap '' XFSZ; ulimit -f 256; exec '{}' serve --addr 127.0.0.1:0 --rulebooks '{}' --db '{}'",
        env!("CARGO_BIN_EXE_rulebook"),
        rulebooks().display(),
        db.display()
    );
    let mut child = std::process::Command::new("bash")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().trim_start_matches("listening on ").to_string();
    let a = crate::serve::agent();
    let url = format!("{base}{}/decisions", crate::serve::HOME);
    let mut refused = None;
    for i in 0..20_000 {
        // Large inputs fill the log quickly.
        let body = serde_json::json!({
            "decision_date": "2021-03-01",
            "subject": format!("{i}-{}", "x".repeat(150)),
            "inputs": {
                "household": { "gross_monthly_income": "900.00", "size": 1 },
                "service": { "hourly_price": "40.00", "hours_per_month": 20 }
            }
        })
        .to_string();
        let (status, answer) = crate::serve::call(&a, "POST", &url, Some(&body));
        if status != 200 {
            refused = Some((status, answer));
            break;
        }
    }
    let (status, answer) = refused.expect("the log never filled");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "decision-log-unavailable");
    let (status, ready) = crate::serve::call(&a, "GET", &format!("{base}/v1/ready"), None);
    assert_eq!(status, 503, "{ready}");
    let (status, _) = crate::serve::call(&a, "GET", &format!("{base}/v1/health"), None);
    assert_eq!(status, 200);
    let _ = child.kill();
    let _ = child.wait();
}
