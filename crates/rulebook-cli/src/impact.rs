//! Streaming a population of cases (JSON Lines, CSV, Parquet or Arrow IPC)
//! through two versions,
//! on both cores, with a progress line on a terminal; the changes file and
//! shard summaries.

use crate::{EXIT_INPUT, EXIT_IO};
use chrono::NaiveDate;
use rulebook::cases::batch::{csv_case, type_at};
use rulebook::eval::Executable;
use rulebook::ops::impact::{Accumulator, CaseChange, ChangeColumns, Settings, Summary};
use serde_json::Value as J;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

const BATCH: usize = 8192;

enum Item {
    Case(u64, J),
    Unreadable(u64, String),
}

/// Where the changed cases go.
enum ChangesOut {
    Csv(Box<csv::Writer<BufWriter<std::fs::File>>>, ChangeColumns),
    Jsonl(BufWriter<std::fs::File>),
}

impl ChangesOut {
    fn open(path: &Path, old: &Executable, new: &Executable) -> Result<ChangesOut, (u8, String)> {
        let file = std::fs::File::create(path)
            .map_err(|e| (EXIT_IO, format!("cannot write {}: {e}", path.display())))?;
        let out = BufWriter::new(file);
        if path.extension().is_some_and(|e| e == "csv") {
            let columns = ChangeColumns::new(old, new);
            let mut w = csv::Writer::from_writer(out);
            w.write_record(columns.header())
                .map_err(|e| (EXIT_IO, format!("cannot write {}: {e}", path.display())))?;
            Ok(ChangesOut::Csv(Box::new(w), columns))
        } else {
            Ok(ChangesOut::Jsonl(out))
        }
    }

    fn write(&mut self, c: &CaseChange) -> std::io::Result<()> {
        match self {
            ChangesOut::Csv(w, columns) => w
                .write_record(columns.row(c))
                .map_err(std::io::Error::other),
            ChangesOut::Jsonl(w) => {
                serde_json::to_writer(&mut *w, c)?;
                w.write_all(b"\n")
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            ChangesOut::Csv(mut w, _) => w.flush(),
            ChangesOut::Jsonl(mut w) => w.flush(),
        }
    }
}

/// One shard of `n`: the cases whose position (0-based, among the records)
/// is `index - 1` modulo `n`.
#[derive(Debug, Clone, Copy)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write I/N, such as 1/4 for the first of four");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{s}`: the shard number must be from 1 to the number of shards"
            ));
        }
        Ok(Shard { index, count })
    }

    fn takes(&self, position: u64) -> bool {
        position % self.count == self.index - 1
    }
}

pub struct Request<'a> {
    pub cases: &'a Path,
    pub date: Option<NaiveDate>,
    pub settings: Settings,
    pub shard: Option<Shard>,
    pub changes: Option<&'a Path>,
    /// The semantic diff, to name changed tables, scales and functions.
    pub diff: &'a rulebook::ops::diff::Diff,
}

fn process<'p>(acc: &mut Accumulator<'p>, batch: Vec<Item>) -> Vec<CaseChange> {
    let half = batch.len().div_ceil(2);
    let mut a = batch;
    let b = a.split_off(half);
    let worker = acc.fork();
    let run = |mut local: Accumulator<'p>, items: Vec<Item>| {
        let mut changes = Vec::new();
        for item in items {
            match item {
                Item::Case(line, doc) => changes.extend(local.add(line, doc)),
                Item::Unreadable(line, msg) => local.add_unreadable(line, msg),
            }
        }
        (local, changes)
    };
    let other = acc.fork();
    let ((ra, mut ca), rb) = std::thread::scope(|s| {
        let h = s.spawn(|| run(worker, b));
        let ra = run(other, a);
        (ra, h.join().ok())
    });
    acc.merge(ra);
    if let Some((rb, cb)) = rb {
        acc.merge(rb);
        ca.extend(cb);
    }
    ca
}

pub fn run<'p>(
    old: &'p Executable,
    new: &'p Executable,
    request: Request<'_>,
) -> Result<Summary, (u8, String)> {
    let path = request.cases;
    let file = std::fs::File::open(path)
        .map_err(|e| (EXIT_IO, format!("cannot read {}: {e}", path.display())))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    let progress = std::io::stderr().is_terminal();
    let mut acc = Accumulator::new(old, new, request.date, request.settings)
        .map_err(|e| (crate::EXIT_USAGE, e))?
        .with_changes(request.changes.is_some())
        .with_changed_items(request.diff);
    let mut changes = match request.changes {
        Some(p) => Some(ChangesOut::open(p, old, new)?),
        None => None,
    };
    let changes_path = request
        .changes
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let shard = request.shard;
    let mut position: u64 = 0;
    let mut take = || {
        let t = shard.is_none_or(|s| s.takes(position));
        position += 1;
        t
    };
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    let mut flush =
        |acc: &mut Accumulator<'p>, batch: &mut Vec<Item>| -> Result<(), (u8, String)> {
            let found = process(acc, std::mem::take(batch));
            if let Some(out) = changes.as_mut() {
                for c in &found {
                    out.write(c)
                        .map_err(|e| (EXIT_IO, format!("cannot write {changes_path}: {e}")))?;
                }
            }
            if progress {
                eprint!("\r{} cases", acc.cases());
                let _ = std::io::stderr().flush();
            }
            Ok(())
        };
    if let Some(kind) = crate::columnar::Kind::of(path) {
        let (schema, batches, _) = crate::columnar::open(path, kind)?;
        let columns = rulebook_arrow::CaseColumns::new(&schema, &[old.program(), new.program()])
            .map_err(|e| (EXIT_INPUT, format!("{}: {e}", path.display())))?;
        let mut row_no = 0u64;
        for b in batches {
            let b = b.map_err(|e| (EXIT_INPUT, format!("cannot read {}: {e}", path.display())))?;
            for row in 0..b.num_rows() {
                row_no += 1;
                if !take() {
                    continue;
                }
                batch.push(match columns.document(&b, row) {
                    Ok(mut doc) => {
                        if let (Some(id), J::Object(map)) = (columns.id_json(&b, row), &mut doc) {
                            map.insert("id".into(), id);
                        }
                        Item::Case(row_no, doc)
                    }
                    Err(e) => Item::Unreadable(row_no, e.to_string()),
                });
                if batch.len() == BATCH {
                    flush(&mut acc, &mut batch)?;
                }
            }
        }
    } else if path.extension().is_some_and(|e| e == "csv") {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(reader);
        let header = crate::case_files::csv_header(&mut rdr, &path.display())?;
        if let Some(unknown) = header.iter().find(|h| {
            *h != "decision_date"
                && *h != "id"
                && type_at(new, h).is_none()
                && type_at(old, h).is_none()
        }) {
            return Err((
                EXIT_INPUT,
                format!("{}: column `{unknown}` is not an input path of either version (write columns as input.field; `id` and `decision_date` are also accepted)", path.display()),
            ));
        }
        for (n, row) in rdr.records().enumerate() {
            if !take() {
                continue;
            }
            let line = n as u64 + 2;
            batch.push(match row {
                Ok(r) => Item::Case(line, csv_case(new, &header, &r)),
                Err(e) => Item::Unreadable(line, format!("not a CSV row: {e}")),
            });
            if batch.len() == BATCH {
                flush(&mut acc, &mut batch)?;
            }
        }
    } else {
        for (n, line) in reader.lines().enumerate() {
            let line_no = n as u64 + 1;
            let text =
                line.map_err(|e| (EXIT_IO, format!("cannot read {}: {e}", path.display())))?;
            if text.trim().is_empty() || !take() {
                continue;
            }
            batch.push(match rulebook::cases::document::json_from_str(&text) {
                Ok(doc) => Item::Case(line_no, doc),
                Err(e) => Item::Unreadable(line_no, format!("not JSON: {}", e.message)),
            });
            if batch.len() == BATCH {
                flush(&mut acc, &mut batch)?;
            }
        }
    }
    if !batch.is_empty() {
        flush(&mut acc, &mut batch)?;
    }
    if let Some(out) = changes {
        out.finish()
            .map_err(|e| (EXIT_IO, format!("cannot write {changes_path}: {e}")))?;
    }
    if progress {
        eprintln!();
    }
    let mut summary = acc.into_summary();
    summary.shard = shard.map(|s| format!("{}/{}", s.index, s.count));
    Ok(summary)
}

/// Reads shard summaries and merges them into one.
pub fn merge(paths: &[std::path::PathBuf]) -> Result<Summary, (u8, String)> {
    let mut merged: Option<Summary> = None;
    for p in paths {
        let text = rulebook_files::read_limited(p)
            .map_err(|e| (EXIT_IO, format!("cannot read {}: {e}", p.display())))?;
        let s: Summary = serde_json::from_str(&text).map_err(|e| {
            (
                EXIT_INPUT,
                format!(
                    "{}:{}:{}: not a summary written by `rulebook diff --save-summary`: {e}",
                    p.display(),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        match merged.as_mut() {
            None => merged = Some(s),
            Some(m) => m
                .merge(s)
                .map_err(|e| (EXIT_INPUT, format!("{}: {e}", p.display())))?,
        }
    }
    merged.ok_or_else(|| {
        (
            crate::EXIT_USAGE,
            "--merge needs at least one summary file".into(),
        )
    })
}
