//! Re-checking a rulebook after an edit, as the language server does on
//! every keystroke: a generated 2 000-line rulebook, parsed only (the
//! baseline), checked, and fully analysed (check, index, examples). Then
//! the sizes that must stay linear (long rows, deep `if`s, a 4 000-row
//! table), each against parsing alone, and `table_lookup`: deciding cases
//! against the 4 000-row table, against a 16-row table of the same shape
//! (below the size that is indexed, so its rows are tried in turn).

use criterion::{criterion_group, criterion_main, Criterion};
use rulebook::eval::{evaluate_with, Case, Options, Scratch};
use rulebook::ir::value::Value;
use std::hint::black_box;
use std::sync::Arc;

/// A rulebook of about `lines` lines: tables, parameters, definitions and
/// outputs in the style of the bundled home-care voucher, with examples.
pub fn generated(lines: usize) -> String {
    let mut s = String::from(
        "rulebook bench.generated \"Generated\"\n  version 1\n  in force 2021-01-01\n\n\
         input household {\n  income: money 0 € or more\n  size: integer 1 to 8\n}\n\n",
    );
    let mut i = 0;
    while s.lines().count() < lines {
        s.push_str(&format!(
            "--- Block {i}.\nparameter max_{i} = {}.00 € § {i}\n\n\
             table limit_{i}(size: integer 1 to 8) -> money § {i}.1\n  | size | limit |\n  | 1 to 2 | 588 € |\n  | 3 to 4 | 1084 € |\n  | 5 to 8 | 1701 € |\n\n\
             let excess_{i} = household.income - limit_{i}(household.size)\n\n\
             output value_{i}: money = max(7 €, max_{i} - excess_{i} * 35 % / 60) rounded to cents\n\n\
             example \"block {i}\"\n  on 2021-03-01\n  given household {{ income: 900 €, size: 1 }}\n  expect value_{i} = {}.{:02} €\n\n",
            30 + i % 10,
            // (900 - 588) × 35 % / 60 = 1.82
            30 + i % 10 - 2,
            18
        ));
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = generated(2000);
    assert!(
        rulebook::check::check(&text).program.is_some(),
        "the generated rulebook checks"
    );
    let mut g = c.benchmark_group("recheck_2000_lines");
    g.sample_size(20);
    g.bench_function("parse (baseline)", |b| {
        b.iter(|| rulebook::syntax::parse(black_box(&text)))
    });
    g.bench_function("check", |b| {
        b.iter(|| rulebook::check::check(black_box(&text)))
    });
    g.bench_function("analyze (language server)", |b| {
        b.iter(|| rulebook::editor::analyze(black_box(&text)))
    });
    let analysis = rulebook::editor::analyze(&text);
    g.bench_function("semantic tokens", |b| {
        b.iter(|| black_box(&analysis).tokens())
    });
    g.finish();

    // Checking must stay linear in the length of an expression: 50
    // definitions, each a row of 250 terms (the most a row may hold).
    parse_against_check(c, "long_rows_50x250", &long_rows(50, 250));

    // Table analysis must not try every row for every combination.
    let table = long_table(4000);
    assert!(
        rulebook::check::check(&table).diagnostics.is_empty(),
        "the long table has no findings"
    );
    parse_against_check(c, "table_4000_rows", &table);

    // Likewise in the depth of an expression: 50 definitions, each 250
    // `if`s deep (the most an item may hold).
    parse_against_check(c, "nested_ifs_50x250", &nested_ifs(50, 250));

    // Deciding a case against a large table must not try every row.
    let mut g = c.benchmark_group("table_lookup");
    for (name, rows) in [("16 rows (baseline)", 16), ("4000 rows", 4000)] {
        let Some(p) = rulebook::check::check(&long_table(rows))
            .program
            .map(rulebook::eval::Executable::new)
        else {
            panic!("the {rows}-row table checks");
        };
        // 64 households spread over the bands and past the last one.
        let cases: Vec<Case> = (0..64i64)
            .map(|k| Case {
                decision_date: p.in_force_from,
                inputs: vec![Value::Record(Arc::from(vec![
                    Value::Int(k * (rows as i64) * 10 / 60),
                    Value::Int(2),
                ]))],
            })
            .collect();
        let mut scratch = Scratch::default();
        let options = Options { explain: false };
        g.bench_function(name, |b| {
            b.iter(|| {
                cases
                    .iter()
                    .filter(|c| evaluate_with(&p, black_box(c), &options, &mut scratch).is_ok())
                    .count()
            })
        });
    }
    g.finish();
}

/// A group timing `check` of `text` against parsing it alone.
fn parse_against_check(c: &mut Criterion, group: &str, text: &str) {
    assert!(
        rulebook::check::check(text).program.is_some(),
        "{group}: the rulebook checks"
    );
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.bench_function("parse (baseline)", |b| {
        b.iter(|| rulebook::syntax::parse(black_box(text)))
    });
    g.bench_function("check", |b| {
        b.iter(|| rulebook::check::check(black_box(text)))
    });
    g.finish();
}

/// A unique table of `rows` income bands and a column every row leaves
/// open, with no gap and no overlap.
fn long_table(rows: usize) -> String {
    let mut s = String::from(
        "rulebook bench.table \"Long table\"\n  version 1\n  in force 2021-01-01\n  source \"illustrative\"\n\n\
         input household { income: integer 0 or more, size: integer 1 or more }\n\n\
         table band(income: integer 0 or more, size: integer 1 or more) -> integer\n  | income | size | band |\n",
    );
    for i in 0..rows {
        s.push_str(&format!("  | {} to {} | - | {i} |\n", i * 10, i * 10 + 9));
    }
    s.push_str(&format!(
        "  | {} or more | - | {rows} |\n\noutput b: integer = band(household.income, household.size)\n  source \"illustrative\"\n",
        rows * 10
    ));
    s
}

/// `count` definitions, each `depth` `if`s nested in one another.
fn nested_ifs(count: usize, depth: usize) -> String {
    let mut s = String::from(
        "rulebook bench.deep \"Nested ifs\"\n  version 1\n  in force 2021-01-01\n  source \"illustrative\"\n\n\
         input household { size: integer }\n\n",
    );
    for i in 0..count {
        let mut e = if i == 0 {
            "household.size".to_string()
        } else {
            format!("v{}", i - 1)
        };
        for j in 0..depth {
            e = format!("if household.size > {j} then {e} else {j}");
        }
        s.push_str(&format!("let v{i}: integer = {e}\n"));
    }
    s.push_str(&format!(
        "output total: integer = v{}\n  source \"illustrative\"\n",
        count - 1
    ));
    s
}

/// `count` definitions, each the previous one plus `terms` terms.
fn long_rows(count: usize, terms: usize) -> String {
    let mut s = String::from(
        "rulebook bench.long \"Long rows\"\n  version 1\n  in force 2021-01-01\n  source \"illustrative\"\n\n\
         input household { income: money }\n\nlet v0: money = household.income\n",
    );
    for i in 1..count {
        s.push_str(&format!(
            "let v{i}: money = v{}{}\n",
            i - 1,
            " + 1 €".repeat(terms)
        ));
    }
    s.push_str(&format!(
        "output total: money = v{}\n  source \"illustrative\"\n",
        count - 1
    ));
    s
}

criterion_group!(benches, bench);
criterion_main!(benches);
