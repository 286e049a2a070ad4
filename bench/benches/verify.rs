//! `rulebook verify`: the time to search every property of each bundled
//! version that states properties, against running its examples once (the
//! baseline); then how the search grows with the number of inputs and with
//! the rows of a table, on generated rulebooks of one shape, each against
//! the smallest of its series.

use criterion::{criterion_group, criterion_main, Criterion};
use rulebook::eval::Executable;
use rulebook::ops::verify::{verify, Settings};
use rulebook::versions::workspace::Workspace;
use std::hint::black_box;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A rulebook with `inputs` amount inputs summed into an income, a table of
/// `rows` income bands and two properties.
fn generated(inputs: usize, rows: usize) -> String {
    let mut s = String::from(
        "rulebook bench.verify \"Generated\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\ninput household {\n",
    );
    for i in 0..inputs {
        s.push_str(&format!("  income_{i}: money 0 € to 100000 €\n"));
    }
    s.push_str("  price: money 0 € to 1000 €\n}\n\n");
    let sum: Vec<String> = (0..inputs)
        .map(|i| format!("household.income_{i}"))
        .collect();
    s.push_str(&format!("let income = {}\n\n", sum.join(" + ")));
    s.push_str("table value_by_income(income: money) -> money, hit first\n  | income | value |\n");
    let step = 100_000 * inputs.max(1) / rows.max(1);
    for r in 0..rows.saturating_sub(1) {
        s.push_str(&format!(
            "  | under {} € | {}.00 € |\n",
            (r + 1) * step,
            1000 - (r * 900 / rows.max(1))
        ));
    }
    s.push_str("  | any | 100.00 € |\n\n");
    s.push_str("output voucher: money = value_by_income(income)\n");
    s.push_str("output self_fee: money = max(household.price - voucher, 0 €)\n\n");
    s.push_str("property self_fee_not_negative: self_fee >= 0 €\n");
    s.push_str(
        "property voucher_never_rises: voucher never rises when household.income_0 rises\n\n",
    );
    let zeros: Vec<String> = (0..inputs).map(|i| format!("income_{i}: 100 €")).collect();
    s.push_str(&format!(
        "example \"one\"\n  on 2021-03-01\n  given household {{ {}, price: 900 € }}\n  expect self_fee = 0.00 €\n",
        zeros.join(", ")
    ));
    s
}

fn executable(text: &str) -> Executable {
    let checked = rulebook::check::check(text);
    match checked.program {
        Some(p) => Executable::new(p),
        None => panic!("{:?}", checked.diagnostics),
    }
}

fn bench(c: &mut Criterion) {
    let settings = Settings::default();
    let loaded = Workspace::load(&rulebook_files::Files, &[root().join("rulebooks")])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("verify_bundled");
    g.sample_size(10);
    for &i in &loaded.requested {
        let v = &loaded.versions[i];
        let Some(p) = v.program() else { continue };
        if p.properties.is_empty() {
            continue;
        }
        let name = format!("{} {}", p.id, p.version);
        g.bench_function(format!("{name}: examples (baseline)"), |b| {
            b.iter(|| rulebook::ops::examples::run_examples(black_box(p)))
        });
        g.bench_function(format!("{name}: verify"), |b| {
            b.iter(|| verify(black_box(p), &v.text, settings))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("verify_growth");
    g.sample_size(10);
    for inputs in [1, 4, 16] {
        let text = generated(inputs, 10);
        let p = executable(&text);
        g.bench_function(format!("{inputs} inputs, 10 rows"), |b| {
            b.iter(|| verify(black_box(&p), &text, settings))
        });
    }
    for rows in [100, 1000] {
        let text = generated(1, rows);
        let p = executable(&text);
        g.bench_function(format!("1 inputs, {rows} rows"), |b| {
            b.iter(|| verify(black_box(&p), &text, settings))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
