//! One small rulebook per diagnostic code in `tests/diagnostics/`. Each file
//! marks the line of every expected diagnostic with a trailing comment such
//! as `-- error[unknown-name]`; the test checks that exactly those are
//! reported, and snapshots the rendered messages.

use rulebook::check::check;
use rulebook::diagnostic::{LineIndex, Severity, CODES};
use rulebook::render::render_diagnostics;
use std::path::Path;

fn expected(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for sev in ["error", "warning"] {
            let marker = format!("-- {sev}[");
            let mut rest = line;
            while let Some(pos) = rest.find(&marker) {
                let after = &rest[pos + marker.len()..];
                if let Some(end) = after.find(']') {
                    out.push((i + 1, format!("{sev}[{}]", &after[..end])));
                    rest = &after[end..];
                } else {
                    break;
                }
            }
        }
    }
    out.sort();
    out
}

fn actual(text: &str) -> Vec<(usize, String)> {
    let index = LineIndex::new(text);
    let mut out: Vec<(usize, String)> = check(text)
        .diagnostics
        .iter()
        .map(|d| {
            let sev = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            (
                index.position(text, d.span.start).0 + 1,
                format!("{sev}[{}]", d.code),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn diagnostics_match_their_annotations() {
    let mut mismatches = Vec::new();
    insta::glob!("diagnostics/*.rulebook", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let (got, want) = (actual(&text), expected(&text));
        if got != want {
            mismatches.push(format!(
                "{}:\n  reported: {got:?}\n  expected: {want:?}",
                path.display()
            ));
        }
        let name = format!(
            "diagnostics/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let checked = check(&text);
        insta::assert_snapshot!(render_diagnostics(
            &name,
            &text,
            &checked.diagnostics,
            false
        ));
    });
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_code_has_a_test_file_that_produces_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    for (code, _) in CODES {
        let file = dir.join(format!("{code}.rulebook"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("no test file for `{code}`: {}", file.display()));
        assert!(
            check(&text).diagnostics.iter().any(|d| d.code == *code),
            "{} does not produce `{code}`",
            file.display()
        );
    }
}

#[test]
fn every_reported_code_is_documented() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md"))
            .unwrap();
    for (code, _) in CODES {
        assert!(
            docs.contains(&format!("`{code}`")),
            "docs/diagnostics.md does not describe `{code}`"
        );
    }
}
