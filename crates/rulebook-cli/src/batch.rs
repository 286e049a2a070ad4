//! `rulebook eval --cases`: streams cases (JSON Lines, CSV, Parquet or
//! Arrow IPC) through a rulebook on every core and writes the decisions in
//! input order, in any of those formats.
//!
//! One thread reads chunks of about a megabyte, split at line ends (or
//! batches of 4 096 rows of a columnar file); the workers decide whole
//! chunks; this thread puts the results back in order
//! and writes them. A fixed number of chunks is in flight at any time, so
//! memory stays bounded whatever the size of the population.

use crate::case_files::{csv_header, partial_path};
use crate::columnar::{self, Kind};
use crate::{EXIT_EVAL, EXIT_INPUT, EXIT_IO};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, FieldRef};
use chrono::NaiveDate;
use rulebook::cases::batch::{
    csv_case, type_at, write_jsonl, CsvColumns, Decided, Decider, Outcome,
};
use rulebook::eval::Executable;
use rulebook::ir::Program;
use rulebook_arrow::{CaseColumns, DecisionSchema};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const CHUNK_BYTES: usize = 1 << 20;
/// The longest case line, as large as a whole case file may be: a line
/// that never ends must not fill the memory.
const MAX_LINE_BYTES: u64 = 16 << 20;
const CSV_CHUNK_ROWS: usize = 4096;

#[derive(Clone, Copy, PartialEq)]
pub enum Format {
    Jsonl,
    Csv,
    /// Parquet or Arrow IPC, with typed columns.
    Columnar(Kind),
}

pub struct Config<'a> {
    pub programs: Vec<&'a Executable>,
    pub cases: PathBuf,
    pub output: Option<PathBuf>,
    pub format: Format,
    pub date: Option<NaiveDate>,
    /// See `Decider::allow_off_period`.
    pub off_period: bool,
}

enum Chunk {
    /// Whole lines of a JSON Lines file, the first being line `first`;
    /// the lines in `too_long` were longer than [`MAX_LINE_BYTES`] and are
    /// left empty in `bytes`.
    Lines {
        first: u64,
        bytes: Vec<u8>,
        too_long: Vec<u64>,
    },
    /// CSV rows with their line numbers, or why a row could not be read.
    Rows {
        rows: Vec<(u64, Result<csv::StringRecord, String>)>,
        bytes: u64,
    },
    /// Rows of a columnar file, the first being row `first` (from 1).
    Batch { first: u64, batch: RecordBatch },
}

/// A chunk's decisions, ready to write.
enum Encoded {
    Bytes(Vec<u8>),
    Batch(RecordBatch),
}

#[derive(Default, Clone, Copy)]
struct Counts {
    cases: u64,
    decided: u64,
    invalid: u64,
    failed: u64,
    bytes: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.cases += o.cases;
        self.decided += o.decided;
        self.invalid += o.invalid;
        self.failed += o.failed;
        self.bytes += o.bytes;
    }
}

/// The input's shape, known before the workers start.
enum Source {
    Lines(Box<dyn Read + Send>),
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        header: Vec<String>,
    },
    Columnar {
        batches: columnar::Batches,
        columns: CaseColumns,
        /// The cases' `id` column, passed through to columnar decisions.
        id: Option<FieldRef>,
    },
}

/// Where decisions are written.
enum Sink {
    Text(Box<dyn Write + Send>),
    Columnar(columnar::Writer<Box<dyn Write + Send>>),
}

impl Sink {
    fn write(&mut self, e: Encoded) -> std::io::Result<()> {
        match (self, e) {
            (Sink::Text(w), Encoded::Bytes(b)) => w.write_all(&b),
            (Sink::Columnar(w), Encoded::Batch(b)) => w.write(&b).map_err(std::io::Error::other),
            _ => Err(std::io::Error::other(
                "decisions were encoded for another format",
            )),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Text(mut w) => w.flush(),
            Sink::Columnar(w) => w.finish().map_err(std::io::Error::other),
        }
    }
}

pub fn run(config: Config<'_>) -> u8 {
    let mut created = None;
    match run_inner(config, &mut created) {
        Ok(code) => code,
        Err((code, message)) => {
            // A run that stopped on an error leaves nothing half written.
            if let Some(p) = created {
                let _ = std::fs::remove_file(p);
            }
            eprintln!("error: {message}");
            code
        }
    }
}

fn open_cases(config: &Config<'_>) -> Result<(Source, Option<u64>), (u8, String)> {
    let shown = config.cases.display();
    let (raw, size): (Box<dyn Read + Send>, Option<u64>) = if config.cases == Path::new("-") {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = std::fs::File::open(&config.cases)
            .map_err(|e| (EXIT_IO, format!("cannot read {shown}: {e}")))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    if let Some(kind) = Kind::of(&config.cases) {
        let (schema, batches, rows) = columnar::open(&config.cases, kind)?;
        let programs: Vec<&Program> = config.programs.iter().map(|p| p.program()).collect();
        let columns = CaseColumns::new(&schema, &programs)
            .map_err(|e| (EXIT_INPUT, format!("{shown}: {e}")))?;
        let id = columns
            .has_id()
            .then(|| {
                schema
                    .field_with_name("id")
                    .ok()
                    .map(|f| Arc::new(f.clone()))
            })
            .flatten();
        return Ok((
            Source::Columnar {
                batches,
                columns,
                id,
            },
            rows,
        ));
    }
    if config.cases.extension().is_none_or(|e| e != "csv") {
        return Ok((Source::Lines(raw), size));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(raw);
    let header = csv_header(&mut reader, &shown)?;
    let known = |h: &String| {
        h == "decision_date" || h == "id" || config.programs.iter().any(|p| type_at(p, h).is_some())
    };
    if let Some(unknown) = header.iter().find(|h| !known(h)) {
        return Err((
            EXIT_INPUT,
            format!("{shown}: column `{unknown}` is not an input path (write columns as input.field, such as household.size; `id` and `decision_date` are also accepted)"),
        ));
    }
    Ok((Source::Csv { reader, header }, size))
}

/// `created`: the partial file, once this run has created it.
fn run_inner(config: Config<'_>, created: &mut Option<PathBuf>) -> Result<u8, (u8, String)> {
    if let Some(out) = &config.output {
        let same = std::fs::canonicalize(out)
            .ok()
            .zip(std::fs::canonicalize(&config.cases).ok())
            .is_some_and(|(a, b)| a == b);
        if same {
            return Err((
                crate::EXIT_USAGE,
                format!(
                    "--output {} is the cases file itself; write the decisions elsewhere",
                    out.display()
                ),
            ));
        }
    }
    let (source, total_bytes) = open_cases(&config)?;
    let (header, with_id) = match &source {
        Source::Csv { header, .. } => (Some(header.clone()), header.iter().any(|h| h == "id")),
        // Whether JSON cases carry an id is known only when reading them;
        // CSV output from JSON Lines always has the column.
        Source::Lines(_) => (None, true),
        Source::Columnar { columns, .. } => (None, columns.has_id()),
    };
    let programs: Vec<&Program> = config.programs.iter().map(|p| p.program()).collect();
    let columns = CsvColumns::new(&programs, with_id);
    let case_columns = match &source {
        Source::Columnar { columns, .. } => Some(columns.clone()),
        _ => None,
    };
    // Decisions as columns: the cases' own `id` column when they are
    // columnar, else ids as text (JSON for ids that are not texts).
    let decision_schema = match config.format {
        Format::Columnar(_) => Some(DecisionSchema::new(
            &programs,
            match &source {
                Source::Columnar { id, .. } => id.clone(),
                _ => with_id.then(|| Arc::new(Field::new("id", DataType::Utf8, true))),
            },
        )),
        _ => None,
    };
    let partial = config.output.as_deref().map(partial_path);
    let raw: Box<dyn Write + Send> = match &partial {
        Some(p) => {
            let file = std::fs::File::create(p)
                .map_err(|e| (EXIT_IO, format!("cannot write {}: {e}", p.display())))?;
            *created = Some(p.clone());
            Box::new(std::io::BufWriter::with_capacity(1 << 20, file))
        }
        None => {
            if matches!(config.format, Format::Columnar(_)) && std::io::stdout().is_terminal() {
                return Err((
                    crate::EXIT_USAGE,
                    "Parquet and Arrow decisions are not for a terminal; give --output FILE".into(),
                ));
            }
            Box::new(std::io::BufWriter::with_capacity(
                1 << 20,
                std::io::stdout(),
            ))
        }
    };
    let mut out = match (&config.format, &decision_schema) {
        (Format::Columnar(kind), Some(schema)) => Sink::Columnar(
            columnar::Writer::new(raw, *kind, schema.schema(), true)
                .map_err(|e| (EXIT_IO, format!("cannot write the decisions: {e}")))?,
        ),
        _ => Sink::Text(raw),
    };
    let write_error = |e: std::io::Error| {
        let name = config
            .output
            .as_ref()
            .map(|o| o.display().to_string())
            .unwrap_or_else(|| "standard output".into());
        (EXIT_IO, format!("cannot write {name}: {e}"))
    };
    if config.format == Format::Csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(columns.header())
            .map_err(|e| (EXIT_IO, e.to_string()))?;
        let bytes = w.into_inner().map_err(|e| (EXIT_IO, e.to_string()))?;
        out.write(Encoded::Bytes(bytes)).map_err(write_error)?;
    }

    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(1);
    let in_flight = 4 * workers;
    let progress = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut totals = Counts::default();
    let newest = config.programs.last().copied();

    let (job_tx, job_rx) = sync_channel::<(u64, Chunk)>(in_flight);
    let jobs = Mutex::new(job_rx);
    let result = std::thread::scope(|s| -> Result<(), (u8, String)> {
        let (done_tx, done_rx) = sync_channel::<(u64, Encoded, Counts)>(in_flight);
        let (token_tx, token_rx) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            let _ = token_tx.send(());
        }
        let shown = config.cases.display().to_string();
        let reader = s.spawn(move || read_chunks(source, &token_rx, &job_tx, &shown));
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let (jobs, columns, header, programs) = (&jobs, &columns, &header, &config.programs);
            let (case_columns, decision_schema) = (case_columns.as_ref(), decision_schema.as_ref());
            s.spawn(move || {
                let mut decider =
                    Decider::new(programs.clone(), config.date).allow_off_period(config.off_period);
                loop {
                    let next = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, chunk)) = next else { return };
                    let (bytes, counts) = decide_chunk(
                        &mut decider,
                        chunk,
                        Encoding {
                            format: config.format,
                            columns,
                            header: header.as_deref(),
                            newest,
                            case_columns,
                            decision_schema,
                        },
                    );
                    if done_tx.send((seq, bytes, counts)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        // Write in input order; chunks that finish early wait here.
        let mut pending: BTreeMap<u64, (Encoded, Counts)> = BTreeMap::new();
        let mut next = 0u64;
        let mut failure = None;
        for (seq, bytes, counts) in done_rx.iter() {
            pending.insert(seq, (bytes, counts));
            while let Some((bytes, counts)) = pending.remove(&next) {
                if failure.is_none() {
                    if let Err(e) = out.write(bytes) {
                        failure = Some(write_error(e));
                    }
                }
                totals.add(&counts);
                next += 1;
                let _ = token_tx.send(());
                if progress {
                    show_progress(&totals, total_bytes, started);
                }
            }
            if failure.is_some() {
                // Stop reading: dropping the tokens ends the reader.
                break;
            }
        }
        drop(token_tx);
        drop(done_rx);
        if let Some(f) = failure {
            return Err(f);
        }
        match reader.join() {
            Ok(r) => r,
            Err(_) => Err((EXIT_IO, "the reading thread stopped".into())),
        }
    });
    if progress {
        eprintln!();
    }
    result?;
    out.finish().map_err(write_error)?;
    if let (Some(p), Some(o)) = (&partial, &config.output) {
        std::fs::rename(p, o)
            .map_err(|e| (EXIT_IO, format!("cannot write {}: {e}", o.display())))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} case(s): {} decided, {} with invalid input, {} not decidable; {:.2} s, {:.0} cases/s",
        totals.cases,
        totals.decided,
        totals.invalid,
        totals.failed,
        seconds,
        totals.cases as f64 / seconds.max(1e-9)
    );
    Ok(if totals.failed > 0 {
        EXIT_EVAL
    } else if totals.invalid > 0 {
        EXIT_INPUT
    } else {
        0
    })
}

fn show_progress(totals: &Counts, total_bytes: Option<u64>, started: Instant) {
    let rate = totals.cases as f64 / started.elapsed().as_secs_f64().max(1e-9);
    match total_bytes.filter(|t| *t > 0) {
        Some(t) => {
            let share = (totals.bytes as f64 / t as f64).min(1.0);
            let filled = (share * 30.0) as usize;
            eprint!(
                "\r[{}{}] {:3.0}% {} cases, {:.0}/s ",
                "#".repeat(filled),
                ".".repeat(30 - filled),
                share * 100.0,
                totals.cases,
                rate
            );
        }
        None => eprint!("\r{} cases, {rate:.0}/s ", totals.cases),
    }
    let _ = std::io::stderr().flush();
}

/// Discards the rest of a line that was too long, up to and with its end.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

/// Reads the cases in chunks; waits for a token before each, so that only
/// so many chunks are read ahead of the writer.
fn read_chunks(
    source: Source,
    tokens: &Receiver<()>,
    jobs: &std::sync::mpsc::SyncSender<(u64, Chunk)>,
    shown: &str,
) -> Result<(), (u8, String)> {
    let mut seq = 0u64;
    match source {
        Source::Lines(raw) => {
            let mut reader = BufReader::with_capacity(CHUNK_BYTES, raw);
            let mut line = 1u64;
            loop {
                if tokens.recv().is_err() {
                    return Ok(());
                }
                let mut bytes = Vec::with_capacity(CHUNK_BYTES + 4096);
                let mut too_long = Vec::new();
                let first = line;
                let io = |e: std::io::Error| (EXIT_IO, format!("cannot read {shown}: {e}"));
                // Fill to about a chunk, always ending at a line end.
                while bytes.len() < CHUNK_BYTES {
                    let start = bytes.len();
                    let n = (&mut reader)
                        .take(MAX_LINE_BYTES + 1)
                        .read_until(b'\n', &mut bytes)
                        .map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    if n as u64 > MAX_LINE_BYTES && bytes.last() != Some(&b'\n') {
                        bytes.truncate(start);
                        bytes.push(b'\n');
                        too_long.push(line);
                        skip_line(&mut reader).map_err(io)?;
                    }
                    line += 1;
                }
                if bytes.is_empty() {
                    return Ok(());
                }
                let chunk = Chunk::Lines {
                    first,
                    bytes,
                    too_long,
                };
                if jobs.send((seq, chunk)).is_err() {
                    return Ok(());
                }
                seq += 1;
            }
        }
        Source::Columnar { batches, .. } => {
            let mut first = 1u64;
            for batch in batches {
                let batch = batch.map_err(|e| (EXIT_INPUT, format!("cannot read {shown}: {e}")))?;
                // Batches of an IPC file may be of any size; share them out
                // in pieces (slices share the memory).
                let mut start = 0;
                while start < batch.num_rows() {
                    let len = columnar::BATCH_ROWS.min(batch.num_rows() - start);
                    if tokens.recv().is_err() {
                        return Ok(());
                    }
                    let chunk = Chunk::Batch {
                        first: first + start as u64,
                        batch: batch.slice(start, len),
                    };
                    if jobs.send((seq, chunk)).is_err() {
                        return Ok(());
                    }
                    seq += 1;
                    start += len;
                }
                first += batch.num_rows() as u64;
            }
            Ok(())
        }
        Source::Csv { mut reader, .. } => {
            let mut records = reader.records();
            let mut last_offset = 0u64;
            loop {
                if tokens.recv().is_err() {
                    return Ok(());
                }
                let mut rows = Vec::with_capacity(CSV_CHUNK_ROWS);
                let mut end = last_offset;
                for r in records.by_ref() {
                    match r {
                        Ok(rec) => {
                            let pos = rec.position().map(|p| (p.line(), p.byte()));
                            let (l, b) = pos.unwrap_or((0, end));
                            end = b;
                            rows.push((l, Ok(rec)));
                        }
                        Err(e) => {
                            if let csv::ErrorKind::Io(io) = e.kind() {
                                return Err((EXIT_IO, format!("cannot read {shown}: {io}")));
                            }
                            let l = e.position().map(|p| p.line()).unwrap_or(0);
                            rows.push((l, Err(format!("not a CSV row: {e}"))));
                        }
                    }
                    if rows.len() == CSV_CHUNK_ROWS {
                        break;
                    }
                }
                if rows.is_empty() {
                    return Ok(());
                }
                let bytes = end.saturating_sub(last_offset);
                last_offset = end;
                if jobs.send((seq, Chunk::Rows { rows, bytes })).is_err() {
                    return Ok(());
                }
                seq += 1;
            }
        }
    }
}

/// What a worker needs to encode its chunk's decisions.
#[derive(Clone, Copy)]
struct Encoding<'a, 'p> {
    format: Format,
    columns: &'a CsvColumns,
    header: Option<&'a [String]>,
    newest: Option<&'p Executable>,
    case_columns: Option<&'a CaseColumns>,
    decision_schema: Option<&'a DecisionSchema>,
}

fn decide_chunk<'p>(
    decider: &mut Decider<'p>,
    chunk: Chunk,
    enc: Encoding<'_, 'p>,
) -> (Encoded, Counts) {
    let mut counts = Counts::default();
    let mut decided: Vec<(u64, Decided<'p>)> = Vec::new();
    let mut ids: Option<ArrayRef> = None;
    let invalid = |path: String, message: String, help: Option<String>| Decided {
        id: None,
        outcome: Outcome::Invalid(vec![rulebook::cases::input::InputError {
            path,
            message,
            help,
        }]),
    };
    match chunk {
        Chunk::Lines {
            first,
            bytes,
            too_long,
        } => {
            counts.bytes = bytes.len() as u64;
            for (n, raw) in bytes.split(|&b| b == b'\n').enumerate() {
                let line = first + n as u64;
                if too_long.contains(&line) {
                    let d = invalid(
                        String::new(),
                        format!("the line is longer than {} MiB", MAX_LINE_BYTES >> 20),
                        Some("write one case per line; a case is far smaller".into()),
                    );
                    decided.push((line, d));
                    continue;
                }
                if raw.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let d = match std::str::from_utf8(raw) {
                    Ok(text) => decider.decide_json(text),
                    Err(e) => invalid(
                        format!("byte {}", e.valid_up_to() + 1),
                        "the line is not UTF-8 text".into(),
                        Some("save the cases file as UTF-8".into()),
                    ),
                };
                decided.push((line, d));
            }
        }
        Chunk::Rows { rows, bytes } => {
            counts.bytes = bytes;
            for (line, row) in rows {
                let d = match (row, enc.newest, enc.header) {
                    (Ok(rec), Some(p), Some(h)) => decider.decide(csv_case(p, h, &rec)),
                    (Err(message), _, _) => invalid(String::new(), message, None),
                    _ => continue,
                };
                decided.push((line, d));
            }
        }
        Chunk::Batch { first, batch } => {
            counts.bytes = batch.num_rows() as u64;
            if let Some(columns) = enc.case_columns {
                ids = columns.id(&batch);
                let mut reader = rulebook_arrow::BatchReader::new(columns, &batch);
                for row in 0..batch.num_rows() {
                    let mut d = rulebook_arrow::decide_row(decider, &mut reader, row);
                    if !matches!(enc.format, Format::Columnar(_)) {
                        d.id = columns.id_json(&batch, row);
                    }
                    decided.push((first + row as u64, d));
                }
            }
        }
    }
    for (_, d) in &decided {
        counts.cases += 1;
        match d.outcome {
            Outcome::Decided { .. } => counts.decided += 1,
            Outcome::Invalid(_) => counts.invalid += 1,
            Outcome::Failed(_) => counts.failed += 1,
        }
    }
    let encoded = match (enc.format, enc.decision_schema) {
        (Format::Columnar(_), Some(schema)) => {
            let lines: Vec<u64> = decided.iter().map(|(l, _)| *l).collect();
            let ids = ids.or_else(|| {
                // Ids of JSON or CSV cases, as texts.
                let texts: StringArray = decided
                    .iter()
                    .map(|(_, d)| {
                        d.id.as_ref().map(|id| match id {
                            J::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                    })
                    .collect();
                Some(Arc::new(texts) as ArrayRef)
            });
            let rows: Vec<Decided<'p>> = decided.into_iter().map(|(_, d)| d).collect();
            match schema.batch(&rows, &lines, ids) {
                Ok((b, misfits)) => {
                    counts.decided -= misfits;
                    counts.failed += misfits;
                    Encoded::Batch(b)
                }
                // Only a mistake here could give a batch that does not fit
                // the schema; the writer reports it.
                Err(e) => {
                    eprintln!("error: cannot encode decisions: {e}");
                    Encoded::Bytes(Vec::new())
                }
            }
        }
        (Format::Csv, _) => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::with_capacity(1 << 20));
            for (line, d) in &decided {
                let _ = w.write_record(enc.columns.row(*line, d));
            }
            Encoded::Bytes(w.into_inner().unwrap_or_default())
        }
        _ => {
            let mut out = Vec::with_capacity(1 << 20);
            for (line, d) in &decided {
                write_jsonl(&mut out, *line, d);
            }
            Encoded::Bytes(out)
        }
    };
    (encoded, counts)
}
