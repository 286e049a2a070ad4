//! `rulebook fmt` must be idempotent and must not change meaning: the syntax
//! tree of the formatted text equals the original's, spans aside.

use rulebook::ops::format::format;
use std::path::PathBuf;

fn rulebook_files() -> Vec<PathBuf> {
    let mut out = crate::files_below(&["rulebooks", "crates/rulebook/tests/suite/diagnostics"]);
    out.sort();
    assert!(
        out.len() > 20,
        "expected the bundled and test rulebooks, found {}",
        out.len()
    );
    out
}

/// The syntax tree and diagnostic codes without byte positions.
fn meaning(text: &str) -> String {
    let (file, diags) = rulebook::syntax::parse(text);
    let s = rulebook::syntax::ast::without_spans(&file);
    let codes: Vec<&str> = rulebook::check::check(text)
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    format!("{s}\n{codes:?}\n{}", diags.len())
}

#[test]
fn formatting_is_idempotent_and_keeps_meaning() {
    for f in rulebook_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let once = format(&text);
        assert_eq!(
            format(&once),
            once,
            "formatting {} twice differs from once",
            f.display()
        );
        assert_eq!(
            meaning(&once),
            meaning(&text),
            "formatting changed the meaning of {}",
            f.display()
        );
    }
}

#[test]
fn bundled_rulebooks_are_formatted() {
    for f in rulebook_files()
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("rulebooks"))
    {
        let text = std::fs::read_to_string(&f).unwrap();
        assert_eq!(
            format(&text),
            text,
            "{} is not formatted; run `rulebook fmt`",
            f.display()
        );
    }
}

#[test]
fn formats_spacing_tables_and_blank_lines() {
    let messy = "rulebook t.x \"X\"\n   version 1\n  in force 2021-01-01\n\n\n\
table   fee( age:integer 0 to 120 )->money,hit first   -- fees\n\
|age|fee|\n\
|  under 18 |0.00 €|\n\
| - | 13.10€ | -- adults\n\
output  f : money=fee( 30 )\n\
example \"x\"\n  on 2021-01-01\n  given p {a:1,b:[1,2]}\n";
    insta::assert_snapshot!(format(messy));
}

/// Found by fuzzing: a bracket inside a table row used to indent the lines
/// after it, differently on each pass.
#[test]
fn a_bracket_in_a_table_row_does_not_indent_what_follows() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../..",
        "/fuzz/corpus-min/format/regression-row-bracket"
    ))
    .unwrap();
    let once = format(&text);
    assert_eq!(format(&once), once);
    let simple = "table t(a: integer) -> integer\n  | a | r |\n  | (1 | 2 |\n  | 2 | 3 |\n";
    let once = format(simple);
    assert_eq!(format(&once), once);
    assert!(once.ends_with("  | 2  | 3 |\n"), "{once}");
}

/// A long result cell is written as it is: the other rows keep their own
/// width instead of being padded to it.
#[test]
fn a_long_cell_does_not_widen_its_column() {
    let text = "table t(a: integer) -> money\n  | a | r |\n  | 1 | 2 € |\n  | 2 | if a > 1 then some_parameter_with_a_long_name * 3 else other_parameter |\n";
    let once = format(text);
    assert_eq!(format(&once), once);
    assert!(once.contains("  | 1 | 2 € |\n"), "{once}");
    assert!(
        once.contains(
            "  | 2 | if a > 1 then some_parameter_with_a_long_name * 3 else other_parameter |\n"
        ),
        "{once}"
    );
}
