//! One case at a time, in process, as a service holding a compiled rulebook
//! would decide them: for each household of a JSON Lines file, from its JSON
//! text to the decision's JSON (`json`), and from decoded inputs to a
//! decision (`decoded`). One thread; the cases are repeated until at least
//! a second has passed. Prints JSON with the seconds per case.
//!
//! cargo run --release --example single_case -- RULEBOOK CASES.jsonl DATE COUNT
//! (see bench/openfisca/run.sh)

use rulebook::cases::batch::{write_jsonl, Decider, Outcome};
use rulebook::eval::{evaluate_with, Case, Options, Scratch};
use std::io::BufRead;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: single_case RULEBOOK CASES.jsonl DATE COUNT");
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
    let count: usize = args[4]
        .parse()
        .unwrap_or_else(|_| fail("COUNT is a number".into()));
    let file = std::fs::File::open(&args[2]).unwrap_or_else(|e| fail(format!("{}: {e}", args[2])));
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .take(count)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| fail(format!("{}: {e}", args[2])));
    if lines.is_empty() {
        fail("no cases".into());
    }
    let mut decider = Decider::new(vec![&p], Some(date));
    let mut out = Vec::with_capacity(4096);
    let mut cases: Vec<Case> = Vec::new();
    for line in &lines {
        match decider.decide_json(line).outcome {
            Outcome::Decided { case, .. } => cases.push(case),
            _ => fail(format!("a case is not decided: {line}")),
        }
    }
    let per_case = |f: &mut dyn FnMut(usize)| {
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed() < Duration::from_secs(1) {
            for i in 0..lines.len() {
                f(i);
            }
            n += lines.len();
        }
        start.elapsed().as_secs_f64() / n as f64
    };
    let json = per_case(&mut |i| {
        out.clear();
        if let Some(line) = lines.get(i) {
            let d = decider.decide_json(line);
            write_jsonl(&mut out, i as u64, &d);
        }
        std::hint::black_box(&out);
    });
    let mut scratch = Scratch::default();
    let options = Options { explain: false };
    let decoded = per_case(&mut |i| {
        if let Some(c) = cases.get(i) {
            std::hint::black_box(evaluate_with(&p, c, &options, &mut scratch).ok());
        }
    });
    println!(
        "{}",
        serde_json::json!({
            "cases": lines.len(),
            "json_seconds_per_case": json,
            "decoded_seconds_per_case": decoded,
        })
    );
}
