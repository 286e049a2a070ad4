//! Throughput of the core, on the bundled rulebooks and on the OpenFisca
//! country template (bench/openfisca):
//!
//! - `parse_check/<rulebook>`: parsing and checking the file, as `rulebook
//!   check` and every other command do once;
//! - `single_eval/<rulebook>`: deciding one case (the first example of the
//!   file) from decoded inputs, and `single_case_json/<rulebook>`: the same
//!   from the case's JSON text to the decision's JSON, as a service would;
//! - `explain/<rulebook>/plain|explained`: deciding one case without and
//!   with its explanation (steps and graph), for the cost of explaining;
//! - `batch_1m`: one million generated households through the country
//!   template, JSON Lines in and out on every core (the work of `rulebook
//!   eval --cases` without the file system), against the baseline of only
//!   parsing the same lines as JSON trees.
//!
//! Run with `cargo bench --bench evaluation`; `bench/openfisca/run.sh` puts
//! the same work side by side with OpenFisca.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rulebook::cases::batch::{write_jsonl, Decider};
use rulebook::eval::{evaluate_with, Case, Options, Scratch};
use rulebook::ir::Program;
use std::hint::black_box;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every rulebook file that checks on its own (an amending version needs
/// its base and is left out), with a short name.
fn rulebooks() -> Vec<(String, String)> {
    let folders = [root().join("bench/openfisca"), root().join("rulebooks")];
    let files = rulebook::versions::workspace::rulebook_files(&rulebook_files::Files, &folders)
        .unwrap_or_default();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = rulebook_files::read_limited(&f) else {
            continue;
        };
        let folder = f.parent().and_then(|d| d.file_name()).unwrap_or_default();
        let name = format!(
            "{}/{}",
            folder.to_string_lossy(),
            f.file_stem().unwrap_or_default().to_string_lossy()
        );
        out.push((name, text));
    }
    out
}

fn first_case(p: &Program) -> Option<Case> {
    p.examples.first().map(|ex| Case {
        decision_date: ex.date,
        inputs: ex.inputs.clone(),
    })
}

fn parse_check_and_single(c: &mut Criterion) {
    let books = rulebooks();
    let mut g = c.benchmark_group("parse_check");
    for (name, text) in &books {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, t| {
            b.iter(|| rulebook::check::check(black_box(t)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("single_eval");
    for (name, text) in &books {
        let Some(p) = rulebook::check::check(text)
            .program
            .map(rulebook::eval::Executable::new)
        else {
            continue;
        };
        let Some(case) = first_case(&p) else { continue };
        let mut scratch = Scratch::default();
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                evaluate_with(
                    &p,
                    black_box(&case),
                    &Options { explain: false },
                    &mut scratch,
                )
                .map(|d| d.eligible)
            })
        });
    }
    g.finish();

    // What an explanation costs: the same case decided plainly and with
    // its explanation (the per-output steps and the graph), side by side.
    let mut g = c.benchmark_group("explain");
    for (name, text) in &books {
        let Some(p) = rulebook::check::check(text)
            .program
            .map(rulebook::eval::Executable::new)
        else {
            continue;
        };
        let Some(case) = first_case(&p) else { continue };
        let mut scratch = Scratch::default();
        for (label, explain) in [("plain", false), ("explained", true)] {
            g.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| {
                    evaluate_with(&p, black_box(&case), &Options { explain }, &mut scratch)
                        .map(|d| d.outputs.len())
                })
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("single_case_json");
    for (name, text) in &books {
        let Some(p) = rulebook::check::check(text)
            .program
            .map(rulebook::eval::Executable::new)
        else {
            continue;
        };
        let Some(case) = first_case(&p) else { continue };
        // The example's inputs as a JSON case, through the decision writer.
        let mut doc = serde_json::Map::new();
        doc.insert(
            "decision_date".into(),
            serde_json::Value::String(case.decision_date.to_string()),
        );
        for (info, v) in p.inputs.iter().zip(&case.inputs) {
            doc.insert(info.name.clone(), p.to_json(v, &info.ty));
        }
        let line = serde_json::Value::Object(doc).to_string();
        let mut decider = Decider::new(vec![&p], None);
        let mut out = Vec::with_capacity(4096);
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                out.clear();
                let d = decider.decide_json(black_box(&line));
                write_jsonl(&mut out, 1, &d);
                out.len()
            })
        });
    }
    g.finish();
}

/// A deterministic population for the country template with the shape and
/// distributions of bench/openfisca/population.py (another random
/// generator): one or two adults, up to three children, a quarter of adults
/// without salary, some capital returns, rents and housing of every kind.
pub fn households(n: usize) -> Vec<String> {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let statuses = ["owner", "tenant", "free_lodger", "homeless"];
    let cents = |next: &mut dyn FnMut(u64) -> u64, low: u64, high: u64| {
        let c = low * 100 + next((high - low) * 100 + 1);
        format!("{}.{:02}", c / 100, c % 100)
    };
    (0..n)
        .map(|i| {
            let adults = [1, 1, 2, 2, 2][next(5) as usize];
            let children = [0, 0, 1, 2, 3][next(5) as usize];
            let mut members = Vec::new();
            for a in 0..adults + children {
                let adult = a < adults;
                let age = if adult { 18 + next(73) } else { next(18) };
                let (salary, capital) = if adult {
                    (
                        if next(4) == 0 { "0.00".to_string() } else { cents(&mut next, 200, 15000) },
                        if next(10) < 7 { "0.00".to_string() } else { cents(&mut next, 1, 2000) },
                    )
                } else {
                    ("0.00".to_string(), "0.00".to_string())
                };
                members.push(format!(
                    "{{\"role\":\"{}\",\"birth\":\"{}-{:02}-{:02}\",\"salary\":\"{salary}\",\"capital_returns\":\"{capital}\"}}",
                    if adult { "adult" } else { "child" },
                    2015 - age,
                    1 + next(12),
                    1 + next(28),
                ));
            }
            format!(
                "{{\"id\":\"h{i}\",\"household\":{{\"members\":[{}],\"rent\":\"{}\",\"accommodation_size\":\"{}\",\"housing_occupancy_status\":\"{}\"}}}}",
                members.join(","),
                cents(&mut next, 0, 2500),
                15 + next(236),
                statuses[next(4) as usize]
            )
        })
        .collect()
}

/// Decides `lines` on `threads` threads, each taking every `threads`-th
/// chunk; returns the bytes written, so that nothing is optimised away.
fn decide_all(p: &rulebook::eval::Executable, lines: &[String], threads: usize) -> usize {
    let date = chrono::NaiveDate::from_ymd_opt(2016, 1, 1);
    let chunks: Vec<&[String]> = lines.chunks(4096).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let chunks = &chunks;
                s.spawn(move || {
                    let mut decider = Decider::new(vec![p], date);
                    let mut written = 0;
                    let mut out = Vec::with_capacity(1 << 21);
                    for chunk in chunks.iter().skip(t).step_by(threads) {
                        out.clear();
                        for (i, line) in chunk.iter().enumerate() {
                            let d = decider.decide_json(line);
                            write_jsonl(&mut out, i as u64, &d);
                        }
                        written += out.len();
                    }
                    written
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

fn batch(c: &mut Criterion) {
    let Ok(text) =
        std::fs::read_to_string(root().join("bench/openfisca/country_template.rulebook"))
    else {
        return;
    };
    let Some(p) = rulebook::check::check(&text)
        .program
        .map(rulebook::eval::Executable::new)
    else {
        return;
    };
    let n = 1_000_000;
    let lines = households(n);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut g = c.benchmark_group("batch_1m");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("parse JSON only, all cores (baseline)", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let per = n.div_ceil(threads);
                let handles: Vec<_> = lines
                    .chunks(per)
                    .map(|part| {
                        s.spawn(move || {
                            part.iter()
                                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
                                .count()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or(0))
                    .sum::<usize>()
            })
        })
    });
    g.bench_function("decide JSON lines, one core", |b| {
        b.iter(|| decide_all(&p, black_box(&lines), 1))
    });
    g.bench_function("decide JSON lines, all cores", |b| {
        b.iter(|| decide_all(&p, black_box(&lines), threads))
    });
    g.finish();
}

criterion_group!(benches, parse_check_and_single, batch);
criterion_main!(benches);
