//! Drives the real `rulebook-lsp` binary over its JSON-RPC protocol on
//! standard input and output, and snapshots its answers. Each snapshot shows
//! the line the request was made on with a `^` under the cursor.

use serde_json::{json, Value as J};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Lsp {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    notifications: Vec<J>,
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const URI: &str = "file:///work/test/home-care.rulebook";

impl Lsp {
    fn start() -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rulebook-lsp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lsp = Lsp {
            child,
            stdin,
            stdout,
            next_id: 1,
            notifications: Vec::new(),
        };
        let init = lsp.request("initialize", json!({ "capabilities": {}, "rootUri": null }));
        assert!(init["capabilities"]["hoverProvider"].as_bool().unwrap());
        lsp.notify("initialized", json!({}));
        lsp
    }

    fn send(&mut self, msg: J) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> J {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut buf = vec![0; length];
        self.stdout.read_exact(&mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    }

    fn notify(&mut self, method: &str, params: J) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn request(&mut self, method: &str, params: J) -> J {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.read();
            if msg.get("id") == Some(&json!(id)) {
                if let Some(e) = msg.get("error") {
                    return json!({ "error": e });
                }
                return msg["result"].clone();
            }
            if msg.get("method").is_some() && msg.get("id").is_none() {
                self.notifications.push(msg);
            }
        }
    }

    /// Waits for the next diagnostics published for the document.
    fn diagnostics(&mut self) -> J {
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| n["method"] == "textDocument/publishDiagnostics")
            {
                return self.notifications.remove(i)["params"]["diagnostics"].clone();
            }
            let msg = self.read();
            if msg.get("id").is_none() {
                self.notifications.push(msg);
            }
        }
    }

    fn open(&mut self, text: &str) -> J {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": URI, "languageId": "rulebook", "version": 1, "text": text } }),
        );
        self.diagnostics()
    }

    fn change(&mut self, version: i64, text: &str) -> J {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": version }, "contentChanges": [{ "text": text }] }),
        );
        self.diagnostics()
    }

    fn at(&mut self, method: &str, text: &str, needle: &str, extra: J) -> String {
        let (line, col) = find(text, needle);
        let mut params = json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": col } });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        let answer = self.request(method, params);
        format!(
            "{}\n{}",
            cursor(text, line, col),
            serde_json::to_string_pretty(&answer).unwrap()
        )
    }
}

/// The line and UTF-16 column of the first `|` inside `needle`, found in text
/// (`needle` is the text around the cursor with `|` marking it).
fn find(text: &str, needle: &str) -> (usize, usize) {
    let plain = needle.replace('|', "");
    let at = needle.find('|').unwrap();
    let start = text
        .find(&plain)
        .unwrap_or_else(|| panic!("{plain:?} not in the text"));
    let offset = start + at;
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, text[line_start..offset].encode_utf16().count())
}

fn cursor(text: &str, line: usize, col: usize) -> String {
    let l = text.lines().nth(line).unwrap_or("");
    let before: String = l.encode_utf16().take(col).map(|_| ' ').collect();
    format!("{:>3} | {l}\n    | {before}^", line + 1)
}

const TEXT: &str = r#"--- Test rulebook for the language server.
rulebook test.lsp "Language server test"
  version 2021
  in force 2021-01-01 to 2021-12-31

enum Municipality { Hyvinkää, Järvenpää, Other }

input household {
  income: money 0 € or more "gross monthly income"
  size: integer 1 to 3
  home: Municipality
}

--- The most the voucher is worth.
parameter max_value = 34.00 € § 2 source "hel.fi"

table limit(size: integer 1 to 3) -> money § 3
  | size | limit  |
  | 1    | 588 €  |
  | 2    | 1084 € |
  | 3    | 1701 € |

let excess = household.income - limit(household.size)

eligibility
  resident § 4: household.home != Other else "Ei kokeilukunnan asukas"

output value: money = max(0 €, max_value - excess * 35 % / 60) rounded to cents § 5

example "at the limit"
  on 2021-03-01
  given household { income: 588 €, size: 1, home: Hyvinkää }
  expect value = 34.00 €

example "wrong on purpose"
  on 2021-03-01
  given household { income: 900 €, size: 1, home: Järvenpää }
  expect value = 99.00 €
"#;

#[test]
fn diagnostics_on_open_and_after_an_edit() {
    let mut lsp = Lsp::start();
    let d = lsp.open(TEXT);
    insta::assert_snapshot!(
        "open_diagnostics",
        serde_json::to_string_pretty(&d).unwrap()
    );
    let broken = TEXT
        .replace("max_value - excess", "max_valu - excess")
        .replace("| 2    | 1084 € |\n", "");
    let d = lsp.change(2, &broken);
    insta::assert_snapshot!(
        "edit_diagnostics",
        serde_json::to_string_pretty(&d).unwrap()
    );
}

#[test]
fn hover_definition_references_rename() {
    let mut lsp = Lsp::start();
    lsp.open(TEXT);
    let mut out = String::new();
    for (what, needle) in [
        ("a parameter at its use", "max_v|alue - excess"),
        ("a table at its call", "li|mit(household.size)"),
        ("a field", "household.inc|ome - limit"),
        ("a criterion", "  res|ident § 4"),
        ("an input", "given house|hold { income: 588"),
        ("an example's expect line", "expect value = 34|.00 €"),
    ] {
        out.push_str(&format!(
            "## hover on {what}\n{}\n\n",
            lsp.at("textDocument/hover", TEXT, needle, json!({}))
        ));
    }
    out.push_str(&format!(
        "## definition\n{}\n\n",
        lsp.at(
            "textDocument/definition",
            TEXT,
            "max_value - exc|ess",
            json!({})
        )
    ));
    out.push_str(&format!(
        "## references\n{}\n\n",
        lsp.at(
            "textDocument/references",
            TEXT,
            "let exc|ess =",
            json!({ "context": { "includeDeclaration": true } })
        )
    ));
    out.push_str(&format!(
        "## rename\n{}\n\n",
        lsp.at(
            "textDocument/rename",
            TEXT,
            "parameter max|_value",
            json!({ "newName": "maximum" })
        )
    ));
    out.push_str(&format!(
        "## rename to a keyword\n{}\n",
        lsp.at(
            "textDocument/rename",
            TEXT,
            "parameter max|_value",
            json!({ "newName": "output" })
        )
    ));
    insta::assert_snapshot!("navigation", out);
}

#[test]
fn symbols_completion_formatting_lenses_actions_tokens_folding() {
    let mut lsp = Lsp::start();
    lsp.open(TEXT);
    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    let outline: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let children: Vec<&str> = s["children"]
                .as_array()
                .map(|c| c.iter().map(|c| c["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            format!(
                "{} ({}) {:?}",
                s["name"].as_str().unwrap(),
                s["kind"],
                children
            )
        })
        .collect();
    insta::assert_snapshot!("outline", outline.join("\n"));
    let ws = lsp.request("workspace/symbol", json!({ "query": "lim" }));
    assert_eq!(ws[0]["name"], "limit");

    // Completion after a dot offers the record's fields.
    let edited = TEXT.replace("let excess = household.income", "let excess = household.");
    lsp.change(2, &edited);
    let fields = lsp.at(
        "textDocument/completion",
        &edited,
        "let excess = household.|",
        json!({}),
    );
    insta::assert_snapshot!("completion_fields", fields);
    lsp.change(3, TEXT);
    let all = lsp.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 26, "character": 24 } }),
    );
    let labels: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    for want in [
        "max_value",
        "excess",
        "limit",
        "household",
        "Hyvinkää",
        "min",
        "rounded to cents",
        "€",
        "eligibility",
        "money",
    ] {
        assert!(labels.contains(&want), "no {want} in {labels:?}");
    }

    // Formatting: whole document, and a range of it.
    let messy = TEXT.replace(
        "let excess = household.income - limit(household.size)",
        "let excess=household.income-limit( household.size )",
    );
    lsp.change(4, &messy);
    let f = lsp.request("textDocument/formatting", json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert_eq!(f[0]["newText"].as_str().unwrap(), TEXT);
    let r = lsp.request(
        "textDocument/rangeFormatting",
        json!({ "textDocument": { "uri": URI }, "range": { "start": { "line": 22, "character": 0 }, "end": { "line": 22, "character": 5 } }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    insta::assert_snapshot!(
        "range_formatting",
        serde_json::to_string_pretty(&r).unwrap()
    );
    lsp.change(5, TEXT);

    let lenses = lsp.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": URI } }),
    );
    insta::assert_snapshot!(
        "code_lenses",
        serde_json::to_string_pretty(&lenses).unwrap()
    );

    // Quick fixes: "did you mean" and a missing table row.
    let fixable = TEXT
        .replace("max_value - excess", "max_valeu - excess")
        .replace("  | 2    | 1084 € |\n", "");
    lsp.change(6, &fixable);
    let (line, col) = find(&fixable, "max_val|eu");
    let a = lsp.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": { "start": { "line": line, "character": col }, "end": { "line": line, "character": col } }, "context": { "diagnostics": [] } }),
    );
    let (tl, tc) = find(&fixable, "table li|mit");
    let b = lsp.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": { "start": { "line": tl, "character": tc }, "end": { "line": tl, "character": tc } }, "context": { "diagnostics": [] } }),
    );
    let titles = |v: &J| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["title"].as_str().unwrap().to_string())
            .collect()
    };
    insta::assert_snapshot!(
        "code_actions",
        format!(
            "{}\n{:?}\n{}\n{:?}\n{}",
            cursor(&fixable, line, col),
            titles(&a),
            cursor(&fixable, tl, tc),
            titles(&b),
            serde_json::to_string_pretty(&b[0]["edit"]).unwrap()
        )
    );
    lsp.change(7, TEXT);

    // Semantic tokens, decoded back to (line, column, text, type).
    let legend = [
        "keyword",
        "type",
        "enumMember",
        "property",
        "variable",
        "function",
        "number",
        "string",
        "comment",
        "operator",
    ];
    let t = lsp.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": URI } }),
    );
    let data: Vec<u64> = t["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    let (mut line, mut col) = (0u64, 0u64);
    let mut decoded = Vec::new();
    for c in data.chunks(5) {
        line += c[0];
        col = if c[0] == 0 { col + c[1] } else { c[1] };
        if (22..=26).contains(&line) {
            let l: Vec<u16> = TEXT
                .lines()
                .nth(line as usize)
                .unwrap()
                .encode_utf16()
                .collect();
            let word = String::from_utf16_lossy(&l[col as usize..(col + c[2]) as usize]);
            decoded.push(format!(
                "{}:{} {word} {}",
                line + 1,
                col,
                legend[c[3] as usize]
            ));
        }
    }
    insta::assert_snapshot!("semantic_tokens", decoded.join("\n"));

    let folds = lsp.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": URI } }),
    );
    let folds: Vec<(u64, u64)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    insta::assert_snapshot!("folding", format!("{folds:?}"));
}

#[test]
fn random_edits_never_kill_the_server() {
    let mut lsp = Lsp::start();
    lsp.open(TEXT);
    // A deterministic walk of truncations, deletions and insertions of
    // rulebook fragments, each followed by requests.
    let fragments = [
        "(",
        ")",
        "|",
        "\"",
        "€",
        "§",
        "--",
        "\n",
        "table",
        "if",
        "rounded to",
        "{",
        "}",
        "ä",
        "0.",
        "::",
    ];
    let mut x: u64 = 7;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m.max(1)
    };
    let mut text = TEXT.to_string();
    for version in 2..202 {
        let chars: Vec<char> = text.chars().collect();
        let at = next(chars.len() as u64 + 1) as usize;
        let mut new: Vec<char> = chars.clone();
        match next(3) {
            0 => new.truncate(at),
            1 => {
                let end = (at + next(20) as usize).min(new.len());
                new.drain(at.min(end)..end);
            }
            _ => {
                let f = fragments[next(fragments.len() as u64) as usize];
                for (i, c) in f.chars().enumerate() {
                    new.insert((at + i).min(new.len()), c);
                }
            }
        }
        text = new.into_iter().collect();
        if text.len() < 200 {
            text = TEXT.to_string();
        }
        lsp.change(version, &text);
        let line = next(40);
        for method in [
            "textDocument/hover",
            "textDocument/completion",
            "textDocument/definition",
        ] {
            let answer = lsp.request(method, json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": next(30) } }));
            assert!(
                answer.get("error").is_none(),
                "{method} failed after edit {version}: {answer}"
            );
        }
        for method in [
            "textDocument/semanticTokens/full",
            "textDocument/codeLens",
            "textDocument/documentSymbol",
            "textDocument/foldingRange",
        ] {
            let answer = lsp.request(method, json!({ "textDocument": { "uri": URI } }));
            assert!(
                answer.get("error").is_none(),
                "{method} failed after edit {version}: {answer}"
            );
        }
    }
    // Still alive and answering correctly.
    lsp.change(500, TEXT);
    let h = lsp.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 14, "character": 12 } }),
    );
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("parameter max_value"));
}

/// The test rulebook with `n` more outputs after it, so that analysing it
/// takes the server long enough for requests to arrive meanwhile.
fn long_text(text: &str, n: usize) -> String {
    let mut t = text.to_string();
    for i in 0..n {
        t.push_str(&format!(
            "\noutput extra_{i}: money = max(0 €, limit(household.size) - {i} €) § 5\n"
        ));
    }
    t
}

#[test]
fn requests_after_an_edit_answer_for_the_edited_text() {
    let mut lsp = Lsp::start();
    let first = long_text(TEXT, 800);
    // No waiting for the diagnostics: the requests follow at once.
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "rulebook", "version": 1, "text": first } }),
    );
    let hover = lsp.at(
        "textDocument/hover",
        &first,
        "max_v|alue - excess",
        json!({}),
    );
    assert!(hover.contains("parameter max_value"), "{hover}");

    let renamed = format!(
        "-- one line more\n{}",
        first.replace("max_value", "top_value")
    );
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": renamed }] }),
    );
    let hover = lsp.at(
        "textDocument/hover",
        &renamed,
        "top_v|alue - excess",
        json!({}),
    );
    assert!(hover.contains("parameter top_value"), "{hover}");

    // Formatting answers with an edit of the whole text: made from an older
    // text, applying it would undo the user's latest change.
    let untidy = renamed.replace("output value: money =", "output   value:   money =");
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [{ "text": untidy }] }),
    );
    let edits = lsp.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let new_text = edits[0]["newText"].as_str().unwrap_or_default();
    assert!(
        new_text == rulebook::ops::format::format(&untidy),
        "the formatting edit is not the latest text formatted: {} characters",
        new_text.len()
    );
    assert!(new_text.contains("output value: money ="));
}

#[test]
fn an_older_analysis_finishing_last_does_not_replace_a_newer_one() {
    let mut lsp = Lsp::start();
    let long = long_text(TEXT, 800);
    let started = std::time::Instant::now();
    lsp.open(&long);
    // How long the long text takes to analyse here, to wait for it below.
    let analysis = started.elapsed();
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": long.replace("extra_", "more_") }] }),
    );
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [{ "text": TEXT }] }),
    );
    // Version 3 is analysed long before version 2; only it is published.
    let published = loop {
        let msg = lsp.read();
        if msg["method"] == "textDocument/publishDiagnostics" {
            break msg;
        }
    };
    assert_eq!(published["params"]["version"], 3);
    std::thread::sleep(analysis * 3);
    let symbols = lsp
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": URI } }),
        )
        .to_string();
    assert!(symbols.contains("max_value"), "{symbols}");
    assert!(
        !symbols.contains("more_"),
        "the symbols are those of version 2"
    );
    assert!(lsp.notifications.is_empty(), "{:?}", lsp.notifications);
}

/// The diagnostics next published for `uri`, leaving others waiting.
fn diagnostics_for(lsp: &mut Lsp, uri: &str) -> J {
    loop {
        if let Some(i) = lsp.notifications.iter().position(|n| {
            n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
        }) {
            return lsp.notifications.remove(i)["params"]["diagnostics"].clone();
        }
        let msg = lsp.read();
        if msg.get("id").is_none() {
            lsp.notifications.push(msg);
        }
    }
}

/// An amending version is checked against the version it amends as the
/// editor has it: an unsaved edit to the base shows in the amendment's
/// diagnostics, through the same loading path as `rulebook check`.
#[test]
fn an_amendment_is_checked_against_the_unsaved_text_of_its_base() {
    let dir = std::env::temp_dir().join(format!("rulebook-lsp-amend-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = "rulebook test.amend \"Amend\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\ninput h { income: money }\n\nparameter rate: percent = 10 %\n\noutput fee: money = h.income * rate rounded to cents\n";
    let amending = "rulebook test.amend \"Amend\"\n  version 2\n  in force 2022-01-01\n  amends 1\n\nparameter rate: percent = 12 %\n";
    std::fs::write(dir.join("1.rulebook"), base).unwrap();
    std::fs::write(dir.join("2.rulebook"), amending).unwrap();
    let uri = |f: &str| format!("file://{}", dir.join(f).display());
    let mut lsp = Lsp::start();
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri("2.rulebook"), "languageId": "rulebook", "version": 1, "text": amending } }),
    );
    let d = diagnostics_for(&mut lsp, &uri("2.rulebook"));
    assert_eq!(d, json!([]), "the amendment checks against the saved base");
    // The base is edited, not saved: its output now uses a name that does
    // not exist, which the amendment inherits.
    let edited = base.replace("h.income * rate", "h.income * rat");
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri("1.rulebook"), "languageId": "rulebook", "version": 1, "text": edited } }),
    );
    let _ = diagnostics_for(&mut lsp, &uri("1.rulebook"));
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri("2.rulebook"), "version": 2 }, "contentChanges": [{ "text": amending }] }),
    );
    let d = diagnostics_for(&mut lsp, &uri("2.rulebook"));
    let _ = std::fs::remove_dir_all(&dir);
    let messages: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("inherited from version 1") && m.contains("rat")),
        "{messages:#?}"
    );
}

/// In an amending version, names it inherits are hovered, followed and
/// completed from the version it amends, as the editor has it (unsaved
/// text included).
#[test]
fn an_amendment_sees_the_names_it_inherits() {
    let dir = std::env::temp_dir().join(format!("rulebook-lsp-inherit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = "rulebook test.inherit \"Inherit\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\ninput h { income: money }\n\nparameter rate: percent = 10 %\n\noutput fee: money = h.income * rate rounded to cents\n";
    let amending = "rulebook test.inherit \"Inherit\"\n  version 2\n  in force 2022-01-01\n  amends 1\n\nparameter rate: percent = 12 %\n\noutput doubled: money = fee * 2\n";
    std::fs::write(dir.join("1.rulebook"), base).unwrap();
    std::fs::write(dir.join("2.rulebook"), amending).unwrap();
    let uri = |f: &str| format!("file://{}", dir.join(f).display());
    let mut lsp = Lsp::start();
    // The base, edited and not saved: a doc comment on `fee`.
    let edited = base.replace("output fee", "--- The fee before the voucher.\noutput fee");
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri("1.rulebook"), "languageId": "rulebook", "version": 1, "text": edited } }),
    );
    let _ = diagnostics_for(&mut lsp, &uri("1.rulebook"));
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri("2.rulebook"), "languageId": "rulebook", "version": 1, "text": amending } }),
    );
    let d = diagnostics_for(&mut lsp, &uri("2.rulebook"));
    assert_eq!(d, json!([]));
    let at = |needle: &str| {
        let (line, col) = find(amending, needle);
        json!({ "textDocument": { "uri": uri("2.rulebook") }, "position": { "line": line, "character": col } })
    };
    let hover = lsp.request("textDocument/hover", at("f|ee * 2"));
    let text = hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("fee: money"), "{hover}");
    assert!(text.contains("The fee before the voucher."), "{hover}");
    assert!(text.contains("Defined in version 1"), "{hover}");
    let def = lsp.request("textDocument/definition", at("f|ee * 2"));
    assert_eq!(def["uri"], uri("1.rulebook"), "{def}");
    let fee_line = edited
        .lines()
        .position(|l| l.starts_with("output fee"))
        .unwrap();
    assert_eq!(def["range"]["start"]["line"], fee_line, "{def}");
    let completions = lsp.request("textDocument/completion", at("fee * 2|"));
    let labels: Vec<&str> = completions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    assert!(labels.contains(&"fee"), "{labels:?}");
    assert!(labels.contains(&"h"), "{labels:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sibling that cannot be read is a diagnostic at `amends`, not a silent
/// fall back to checking the amendment on its own.
#[test]
fn an_amendment_whose_folder_cannot_be_read_says_so_at_amends() {
    let dir = std::env::temp_dir().join(format!("rulebook-lsp-unreadable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let amending = "rulebook test.unreadable \"U\"\n  version 2\n  in force 2022-01-01\n  amends 1\n\nparameter rate: percent = 12 %\n";
    std::fs::write(dir.join("2.rulebook"), amending).unwrap();
    // Not UTF-8, so the loader refuses it.
    std::fs::write(dir.join("1.rulebook"), b"-- caf\xe9\n").unwrap();
    let uri = format!("file://{}", dir.join("2.rulebook").display());
    let mut lsp = Lsp::start();
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "rulebook", "version": 1, "text": amending } }),
    );
    let d = diagnostics_for(&mut lsp, &uri);
    let _ = std::fs::remove_dir_all(&dir);
    let found = d
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("could not be read") && m.contains("1.rulebook"))
        })
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(found["code"], "invalid-amendment");
    assert_eq!(
        found["range"]["start"]["line"], 3,
        "at the amends line: {found}"
    );
}

/// A property with a counterexample is an error on the property, and a
/// quick fix inserts the counterexample as an example at the end.
#[test]
fn a_failing_property_is_a_diagnostic_with_its_counterexample_as_a_fix() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rulebook/tests/suite/fixtures/defects/home-care-2021-negative-self-fee.rulebook"
    ))
    .unwrap();
    let mut lsp = Lsp::start();
    let d = lsp.open(&text);
    let failing: Vec<&J> = d
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "property-fails")
        .collect();
    assert!(!failing.is_empty(), "{d:#}");
    let first = failing[0];
    let line = text
        .lines()
        .position(|l| l.starts_with("property customer_never_pays_below_zero"))
        .unwrap();
    assert_eq!(first["range"]["start"]["line"], line, "{first}");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("customer_pays = -"),
        "{first}"
    );
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": first["range"],
            "context": { "diagnostics": [first] }
        }),
    );
    let insert = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "insert the counterexample as an example")
        .unwrap_or_else(|| panic!("{actions:#}"));
    let edit = &insert["edit"]["changes"][URI][0];
    assert!(
        edit["newText"]
            .as_str()
            .unwrap()
            .contains("expect property customer_never_pays_below_zero"),
        "{edit}"
    );
    assert_eq!(
        edit["range"]["start"]["line"],
        text.lines().count(),
        "{edit}"
    );
}

/// A rulebook that uses another is checked with it; what it takes from it
/// is hovered (with its citation and the version), followed into the used
/// file, and completed after the alias.
#[test]
fn a_used_rulebooks_names_are_hovered_followed_and_completed() {
    let dir = std::env::temp_dir().join(format!("rulebook-lsp-use-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("ceiling")).unwrap();
    std::fs::create_dir_all(dir.join("fees")).unwrap();
    let ceiling = "rulebook t.ceiling \"Ceiling\"\n  version 1\n  in force 2024-01-01\n\ninput next { amount: money }\n\n--- The annual ceiling.\nparameter ceiling = 100 € § 6a\n\nfunction counts(x: money) -> bool = x > 0 €\n\noutput due: money = next.amount\n";
    let fees = "rulebook t.fees \"Fees\"\n  version 1\n  in force 2024-01-01\n\nuse t.ceiling as c from \"../ceiling\"\n\ninput client { fee: money }\n\noutput limit: money = c.ceiling\n\noutput due: money = c(next.amount: client.fee).due\n";
    std::fs::write(dir.join("ceiling/1.rulebook"), ceiling).unwrap();
    std::fs::write(dir.join("fees/1.rulebook"), fees).unwrap();
    let uri = |f: &str| format!("file://{}", dir.join(f).display());
    let mut lsp = Lsp::start();
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri("fees/1.rulebook"), "languageId": "rulebook", "version": 1, "text": fees } }),
    );
    let d = diagnostics_for(&mut lsp, &uri("fees/1.rulebook"));
    assert_eq!(d, json!([]), "checked with the rulebook it uses");
    let at = |needle: &str| {
        let (line, col) = find(fees, needle);
        json!({ "textDocument": { "uri": uri("fees/1.rulebook") }, "position": { "line": line, "character": col } })
    };
    let hover = lsp.request("textDocument/hover", at("c.ceil|ing"));
    let text = hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("c.ceiling: money"), "{hover}");
    assert!(text.contains("The annual ceiling."), "{hover}");
    assert!(text.contains("§ 6a"), "{hover}");
    assert!(text.contains("from t.ceiling version 1"), "{hover}");
    let def = lsp.request("textDocument/definition", at("c.ceil|ing"));
    assert_eq!(def["uri"], uri("ceiling/1.rulebook"), "{def}");
    assert_eq!(def["range"]["start"]["line"], 7, "{def}");
    let completions = lsp.request("textDocument/completion", at("c.|ceiling"));
    let labels: Vec<&str> = completions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"ceiling") && labels.contains(&"counts") && labels.contains(&"due"),
        "{labels:?}"
    );
    // Renaming the parameter where it is defined renames it where it is used.
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri("ceiling/1.rulebook"), "languageId": "rulebook", "version": 1, "text": ceiling } }),
    );
    let _ = diagnostics_for(&mut lsp, &uri("ceiling/1.rulebook"));
    let (line, col) = find(ceiling, "parameter ceil|ing");
    let edit = lsp.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri("ceiling/1.rulebook") }, "position": { "line": line, "character": col }, "newName": "annual_ceiling" }),
    );
    let in_fees = &edit["changes"][uri("fees/1.rulebook")];
    assert_eq!(in_fees.as_array().map(|a| a.len()), Some(1), "{edit}");
    assert_eq!(in_fees[0]["newText"], "annual_ceiling", "{edit}");
    assert_eq!(
        in_fees[0]["range"]["start"]["line"],
        find(fees, "c.|ceiling").0,
        "{edit}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
