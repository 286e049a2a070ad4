//! The calculation alone, on every core: a JSON Lines population is decoded
//! first (not timed), then every case is evaluated, in chunks spread over
//! the cores; the figure to set beside OpenFisca's vectorised calculation,
//! which is also timed from inputs in memory to results in memory. Prints
//! JSON with the cases and the seconds.
//!
//! cargo run --release --example batch_decoded -- RULEBOOK CASES.jsonl DATE
//! (see bench/openfisca/run.sh)

use rulebook::cases::batch::{Decider, Outcome};
use rulebook::eval::{evaluate_with, Case, Options, Scratch};
use std::io::BufRead;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: batch_decoded RULEBOOK CASES.jsonl DATE");
        std::process::exit(2);
    }
    let fail = |m: String| -> ! {
        eprintln!("error: {m}");
        std::process::exit(1)
    };
    let text =
        std::fs::read_to_string(&args[1]).unwrap_or_else(|e| fail(format!("{}: {e}", args[1])));
    let Some(p) = rulebook::check::check(&text)
        .program
        .map(rulebook::eval::Executable::new)
    else {
        fail(format!("{} does not check", args[1]))
    };
    let date = chrono::NaiveDate::parse_from_str(&args[3], "%Y-%m-%d")
        .unwrap_or_else(|_| fail(format!("{} is not a date", args[3])));
    let file = std::fs::File::open(&args[2]).unwrap_or_else(|e| fail(format!("{}: {e}", args[2])));
    let mut decider = Decider::new(vec![&p], Some(date));
    let mut cases: Vec<Case> = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.unwrap_or_else(|e| fail(format!("{}: {e}", args[2])));
        match decider.decide_json(&line).outcome {
            Outcome::Decided { case, .. } => cases.push(case),
            _ => fail(format!("a case is not decided: {line}")),
        }
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunks: Vec<&[Case]> = cases.chunks(4096).collect();
    let start = Instant::now();
    let eligible: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (chunks, p) = (&chunks, &p);
                s.spawn(move || {
                    let mut scratch = Scratch::default();
                    let options = Options { explain: false };
                    let mut eligible = 0;
                    for chunk in chunks.iter().skip(t).step_by(threads) {
                        for c in chunk.iter() {
                            if let Ok(d) = evaluate_with(p, c, &options, &mut scratch) {
                                eligible += usize::from(d.eligible);
                            }
                        }
                    }
                    eligible
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "cases": cases.len(), "eligible": eligible, "threads": threads, "seconds": seconds })
    );
}
