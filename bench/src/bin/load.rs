//! A small HTTP load generator for the decision service: keep-alive
//! connections on loopback, each sending one decision request after
//! another for a fixed time. Prints throughput and latency percentiles.
//!
//! cargo run --release --example load -- URL[,URL...] SECONDS CONNECTIONS BODY_FILE
//! (see bench/serve.sh; only loopback addresses are accepted.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: load URL SECONDS CONNECTIONS BODY_FILE");
        std::process::exit(2);
    }
    // Several URLs, separated by commas (replicas): connection i sends to
    // URL i modulo their number.
    let mut targets = Vec::new();
    for u in args[1].split(',') {
        let url = u.strip_prefix("http://").unwrap_or(u).to_string();
        let (host, path) = url
            .split_once('/')
            .map(|(h, p)| (h.to_string(), format!("/{p}")))
            .unwrap_or((url.clone(), "/".into()));
        if !(host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]"))
        {
            eprintln!("refusing to load {host}: only loopback addresses");
            std::process::exit(2);
        }
        targets.push((host, path));
    }
    let seconds: u64 = args[2].parse().expect("seconds");
    let conns: usize = args[3].parse().expect("connections");
    let body = std::fs::read_to_string(&args[4]).expect("body file");
    // An API key, when the service runs with --keys (bench/serve.sh AUTH=1).
    let auth = std::env::var("RULEBOOK_KEY")
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    let requests: Vec<(String, String)> = targets
        .iter()
        .map(|(host, path)| {
            (
                host.clone(),
                format!(
                    "POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                ),
            )
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..conns)
        .map(|i| {
            let (host, request) = requests[i % requests.len()].clone();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&host).expect("connect");
                stream.set_nodelay(true).ok();
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut line = String::new();
                while Instant::now() < deadline {
                    let start = Instant::now();
                    writer.write_all(request.as_bytes()).expect("write");
                    line.clear();
                    reader.read_line(&mut line).expect("status line");
                    let ok = line.starts_with("HTTP/1.1 200");
                    let mut length = 0usize;
                    loop {
                        line.clear();
                        reader.read_line(&mut line).expect("header");
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut buf = vec![0u8; length];
                    reader.read_exact(&mut buf).expect("body");
                    latencies.push(start.elapsed());
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().expect("worker");
        all.extend(l);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "requests={} errors={} seconds={} throughput={:.0}/s p50={:.3}ms p99={:.3}ms max={:.3}ms",
        all.len(),
        errors,
        seconds,
        all.len() as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}
