//! One small rulebook per diagnostic code in `tests/diagnostics/`. Each file
//! marks the line of every expected diagnostic with a trailing comment such
//! as `-- error[unknown-name]`; the test checks that exactly those are
//! reported, and snapshots the rendered messages.

use rulebook::check::check;
use rulebook::diagnostic::render::render_diagnostics;
use rulebook::diagnostic::{Code, LineIndex, Severity, Stage};
use rulebook::versions::{self, Source};
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
    positions(text, &check(text).diagnostics)
}

fn positions(text: &str, diags: &[rulebook::diagnostic::Diagnostic]) -> Vec<(usize, String)> {
    let index = LineIndex::new(text);
    let mut out: Vec<(usize, String)> = diags
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

/// The diagnostics of every file of a folder checked together as one
/// programme's versions, with spans in each file's own text.
fn folder_diagnostics(dir: &Path) -> Vec<(String, String, Vec<rulebook::diagnostic::Diagnostic>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let sources: Vec<Source> = files
        .iter()
        .map(|f| Source {
            name: f.file_name().unwrap().to_string_lossy().into_owned(),
            text: std::fs::read_to_string(f).unwrap(),
        })
        .collect();
    let (versions, findings) = versions::load(&sources);
    sources
        .iter()
        .zip(&versions)
        .enumerate()
        .map(|(i, (s, v))| {
            let mut d = v.own_diagnostics(&s.text);
            d.extend(
                findings
                    .iter()
                    .filter(|(j, _)| *j == i)
                    .map(|(_, d)| d.clone()),
            );
            (s.name.clone(), s.text.clone(), d)
        })
        .collect()
}

#[test]
fn version_diagnostics_match_their_annotations() {
    let root = crate::data().join("diagnostics");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let mut rendered = String::new();
        for (name, text, diags) in folder_diagnostics(&dir) {
            assert_eq!(
                positions(&text, &diags),
                expected(&text),
                "in {}/{name}",
                dir.display()
            );
            rendered.push_str(&render_diagnostics(&name, &text, &diags, false));
        }
        let snapshot = format!("versions@{}", dir.file_name().unwrap().to_string_lossy());
        insta::assert_snapshot!(snapshot, rendered);
    }
}

#[test]
fn every_code_has_a_test_file_that_produces_it() {
    let dir = crate::data().join("diagnostics");
    for code in Code::ALL.iter().filter(|c| c.stage() == Stage::Check) {
        let file = dir.join(format!("{code}.rulebook"));
        let folder = dir.join(code.as_str());
        let produced: Vec<Code> = if folder.is_dir() {
            folder_diagnostics(&folder)
                .into_iter()
                .flat_map(|(_, _, d)| d)
                .map(|d| d.code)
                .collect()
        } else {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("no test file for `{code}`: {}", file.display()));
            check(&text).diagnostics.iter().map(|d| d.code).collect()
        };
        assert!(
            produced.contains(code),
            "the test for `{code}` does not produce it"
        );
    }
}

/// Each code is a row of its stage's table in docs/diagnostics.md, and each
/// row there is a code, so the documentation and the enum cannot drift apart.
#[test]
fn every_code_is_documented_in_its_table_and_nothing_else_is() {
    let docs = std::fs::read_to_string(crate::repo().join("docs/diagnostics.md")).unwrap();
    let (check_part, eval_part) = docs
        .split_once("## Evaluation errors")
        .expect("docs/diagnostics.md has an evaluation errors section");
    let rows = |part: &str| -> Vec<String> {
        part.lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(code, _)| code.to_string()))
            .collect()
    };
    for (stage, part) in [(Stage::Check, check_part), (Stage::Evaluation, eval_part)] {
        let documented = rows(part);
        let codes: Vec<String> = Code::ALL
            .iter()
            .filter(|c| c.stage() == stage)
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            documented, codes,
            "{stage:?} codes and their table in docs/diagnostics.md differ"
        );
    }
}

/// A validity period with a day that does not exist gives that one error,
/// not also "the validity period ends (1970-01-01) before it starts" from
/// the placeholder the parser leaves for it.
#[test]
fn an_impossible_end_date_is_one_error() {
    let text = "rulebook t.x \"X\"\n  version 1\n  in force 2025-01-01 to 2025-02-29\n\ninput h { a: integer }\noutput o: integer = h.a\n";
    let found = check(text).diagnostics;
    let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, vec!["invalid-date"], "{found:?}");
}

/// One root cause gives one finding: an item that does not parse is not
/// also reported through its uses (unknown names, unknown criteria in
/// examples, definitions that only it used shown as unused).
#[test]
fn a_syntax_error_is_one_finding_not_a_cascade() {
    let head = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h { a: integer }\n";
    for (what, body) in [
        (
            "a table with an unknown hit policy",
            "table t(a: integer) -> integer, hit highest\n  | a | v |\n  | 1 | 1 |\n\noutput o: integer = t(h.a)\n",
        ),
        (
            "a criterion without its reason",
            "let limit = 18\n\neligibility\n  adult: h.a >= limit\n\noutput o: integer = h.a\n\nexample \"e\"\n  on 2021-06-01\n  given h { a: 20 }\n  expect not eligible because adult\n",
        ),
        (
            "a let that does not parse",
            "let rate: percent = = 5 %\n\noutput o: percent = rate\n",
        ),
    ] {
        let found = check(&format!("{head}{body}")).diagnostics;
        let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["syntax"], "{what}: {found:#?}");
    }
    // The hit policy's error lists the policies there are.
    let found = check(&format!(
        "{head}table t(a: integer) -> integer, hit highest\n  | a | v |\n  | 1 | 1 |\n\noutput o: integer = t(h.a)\n"
    ))
    .diagnostics;
    assert!(
        found[0]
            .message
            .contains("`unique`, `first`, `priority`, `output order`, `collect sum`"),
        "{}",
        found[0].message
    );
}

/// The gap help of a table that is already `hit first` does not suggest
/// `hit first`.
#[test]
fn a_first_hit_tables_gap_help_does_not_suggest_first_hit() {
    let text = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h { a: integer 0 to 9 }\n\ntable t(a: integer 0 to 9) -> integer, hit first\n  | a      | v |\n  | 0 to 4 | 1 |\n\noutput o: integer = t(h.a)\n";
    let found = check(text).diagnostics;
    let gap = found
        .iter()
        .find(|d| d.code.as_str() == "table-gap")
        .expect("a gap");
    let help = gap.help.clone().unwrap_or_default();
    assert!(!help.contains("use `hit first`"), "{help}");
    assert!(help.contains("row of `-` cells"), "{help}");
}
