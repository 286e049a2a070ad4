//! The language server's re-check after an edit, over its real protocol:
//! the `rulebook-lsp` binary on standard input and output receives a
//! `didChange` with the whole text (as editors send it) and answers with
//! `publishDiagnostics`. The baseline is the same analysis in process, so
//! the difference is what the protocol and the server add.
//!
//! Run with `cargo bench -p rulebook-lsp`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::{json, Value as J};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Option<Server> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook-lsp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        let mut s = Server {
            child,
            stdin,
            stdout,
        };
        s.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"capabilities": {}, "rootUri": null}}));
        while s.read()?.get("id") != Some(&json!(1)) {}
        s.send(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
        Some(s)
    }

    fn send(&mut self, msg: &J) {
        let body = msg.to_string();
        let _ = write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len());
        let _ = self.stdin.flush();
    }

    fn read(&mut self) -> Option<J> {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.trim().parse().ok()?;
            }
        }
        let mut buf = vec![0; length];
        self.stdout.read_exact(&mut buf).ok()?;
        serde_json::from_slice(&buf).ok()
    }

    /// Waits for the diagnostics of `uri`; returns how many there are.
    fn diagnostics(&mut self, uri: &str) -> usize {
        while let Some(msg) = self.read() {
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                return msg["params"]["diagnostics"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or(0);
            }
        }
        0
    }
}

fn bench(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = [
        "rulebooks/helsinki-home-care/2024-25.rulebook",
        "rulebooks/keusote-primary-care/2020.rulebook",
        "bench/openfisca/country_template.rulebook",
    ];
    let mut g = c.benchmark_group("lsp_recheck_after_edit");
    g.sample_size(30);
    for file in files {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        // Two texts that differ by one edit, sent in turn so that every
        // change is a real one.
        let edited = format!("{text}\n--- an edit\n");
        g.bench_with_input(
            BenchmarkId::new("analyze in process (baseline)", file),
            &edited,
            |b, t| b.iter(|| rulebook::editor::analyze(black_box(t))),
        );
        let Some(mut server) = Server::start() else {
            continue;
        };
        let uri = format!("file:///bench/{file}");
        server.send(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "rulebook", "version": 1, "text": text}}}),
        );
        server.diagnostics(&uri);
        let mut version = 1;
        g.bench_function(
            BenchmarkId::new("didChange to publishDiagnostics", file),
            |b| {
                b.iter(|| {
                    version += 1;
                    let t = if version % 2 == 0 { &edited } else { &text };
                    server.send(
                        &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": t}]}}),
                    );
                    server.diagnostics(&uri)
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
