//! Streaming a population of cases (JSON Lines or CSV) through two versions,
//! on both cores, with a progress line on a terminal.

use crate::{EXIT_INPUT, EXIT_IO};
use chrono::NaiveDate;
use rulebook::cases::batch::{csv_case, type_at};
use rulebook::eval::Executable;
use rulebook::ops::impact::{Accumulator, Impact};
use serde_json::Value as J;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::Path;

const BATCH: usize = 8192;

enum Item {
    Case(u64, J),
    Unreadable(u64, String),
}

fn process<'p>(
    acc: &mut Accumulator<'p>,
    old: &'p Executable,
    new: &'p Executable,
    date: Option<NaiveDate>,
    top: usize,
    batch: &[Item],
) {
    let half = batch.len().div_ceil(2);
    let (a, b) = batch.split_at(half);
    let run = |items: &[Item]| {
        let mut local = Accumulator::new(old, new, date, top);
        for item in items {
            match item {
                Item::Case(line, doc) => local.add(*line, doc),
                Item::Unreadable(line, msg) => local.add_unreadable(*line, msg.clone()),
            }
        }
        local
    };
    let (ra, rb) = std::thread::scope(|s| {
        let h = s.spawn(|| run(b));
        let ra = run(a);
        (ra, h.join().ok())
    });
    acc.merge(ra);
    if let Some(rb) = rb {
        acc.merge(rb);
    }
}

pub fn run<'p>(
    old: &'p Executable,
    new: &'p Executable,
    path: &Path,
    date: Option<NaiveDate>,
    top: usize,
) -> Result<Impact, (u8, String)> {
    let file = std::fs::File::open(path)
        .map_err(|e| (EXIT_IO, format!("cannot read {}: {e}", path.display())))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    let progress = std::io::stderr().is_terminal();
    let mut acc = Accumulator::new(old, new, date, top);
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    let flush = |acc: &mut Accumulator<'p>, batch: &mut Vec<Item>| {
        process(acc, old, new, date, top, batch);
        batch.clear();
        if progress {
            eprint!("\r{} cases", acc.cases());
            let _ = std::io::stderr().flush();
        }
    };
    if path.extension().is_some_and(|e| e == "csv") {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(reader);
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| {
                (
                    EXIT_INPUT,
                    format!("{}: cannot read the CSV header: {e}", path.display()),
                )
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if let Some(unknown) = header.iter().find(|h| {
            *h != "decision_date" && type_at(new, h).is_none() && type_at(old, h).is_none()
        }) {
            return Err((
                EXIT_INPUT,
                format!("{}: column `{unknown}` is not an input path of either version (write columns as input.field)", path.display()),
            ));
        }
        for (n, row) in rdr.records().enumerate() {
            let line = n as u64 + 2;
            batch.push(match row {
                Ok(r) => Item::Case(line, csv_case(new, &header, &r)),
                Err(e) => Item::Unreadable(line, format!("not a CSV row: {e}")),
            });
            if batch.len() == BATCH {
                flush(&mut acc, &mut batch);
            }
        }
    } else {
        for (n, line) in reader.lines().enumerate() {
            let line_no = n as u64 + 1;
            let text =
                line.map_err(|e| (EXIT_IO, format!("cannot read {}: {e}", path.display())))?;
            if text.trim().is_empty() {
                continue;
            }
            batch.push(match rulebook::cases::document::json_from_str(&text) {
                Ok(doc) => Item::Case(line_no, doc),
                Err(e) => Item::Unreadable(line_no, format!("not JSON: {}", e.message)),
            });
            if batch.len() == BATCH {
                flush(&mut acc, &mut batch);
            }
        }
    }
    if !batch.is_empty() {
        flush(&mut acc, &mut batch);
    }
    if progress {
        eprintln!();
    }
    Ok(acc.finish())
}
