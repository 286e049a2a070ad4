//! Cases and decisions as Apache Arrow record batches.
//!
//! This is the columnar edge of the batch stage: the command line reads and
//! writes Parquet and Arrow IPC files with it, and the Python package hands
//! pyarrow tables to it. Rows are decided by the same
//! [`rulebook::cases::batch::Decider`] as JSON Lines, so a case gets the same
//! decision, and the same errors with the same field paths, in every format.

pub mod cases;
pub mod decisions;
pub mod rows;

pub use cases::{CaseColumns, ColumnError};
pub use decisions::{arrow_type, DecisionSchema};
pub use rows::BatchReader;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use rulebook::cases::batch::{Decided, Decider, Outcome};
use rulebook::eval::Executable;

/// How many cases of a batch were decided, had invalid input or could not
/// be decided (including decided cases whose output does not fit its
/// column).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub cases: u64,
    pub decided: u64,
    pub invalid: u64,
    pub failed: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.cases += other.cases;
        self.decided += other.decided;
        self.invalid += other.invalid;
        self.failed += other.failed;
    }
}

/// Decides row `row` of a batch: straight from the columns when the row
/// is in the usual shapes and valid, else through its JSON document, which
/// gives the same decision or says what is wrong with the row.
pub fn decide_row<'p>(
    decider: &mut Decider<'p>,
    rows: &mut BatchReader<'_>,
    row: usize,
) -> Decided<'p> {
    if let Some(date) = rows.decision_date(row) {
        if let Some(date) = decider.date().or(date) {
            if let Some(program) = decider.version_on(Some(date)) {
                if let Some(inputs) = rows.inputs(program.program(), row) {
                    let case = rulebook::eval::Case {
                        decision_date: date,
                        inputs,
                    };
                    return decider.decide_decoded(program, case, None);
                }
            }
        }
    }
    match rows.columns().document(rows.batch(), row) {
        Ok(doc) => decider.decide(doc),
        Err(e) => Decided {
            id: None,
            outcome: Outcome::Invalid(vec![e]),
        },
    }
}

/// Decides every row of `batch`; `first_row` is the first row's number in
/// the whole input (from 1), for error messages.
pub fn decide_batch(
    decider: &mut Decider<'_>,
    columns: &CaseColumns,
    schema: &DecisionSchema,
    batch: &RecordBatch,
    first_row: u64,
) -> Result<(RecordBatch, Counts), ArrowError> {
    let mut decided: Vec<Decided<'_>> = Vec::with_capacity(batch.num_rows());
    let mut counts = Counts::default();
    let mut rows = BatchReader::new(columns, batch);
    for row in 0..batch.num_rows() {
        let d = decide_row(decider, &mut rows, row);
        counts.cases += 1;
        match d.outcome {
            Outcome::Decided { .. } => counts.decided += 1,
            Outcome::Invalid(_) => counts.invalid += 1,
            Outcome::Failed(_) => counts.failed += 1,
        }
        decided.push(d);
    }
    let rows: Vec<u64> = (0..batch.num_rows() as u64)
        .map(|r| first_row + r)
        .collect();
    let (out, misfits) = schema.batch(&decided, &rows, columns.id(batch))?;
    // A decided case whose output does not fit its column is an error row.
    counts.decided -= misfits;
    counts.failed += misfits;
    Ok((out, counts))
}

/// Rows per piece when a batch is shared among threads.
const PIECE_ROWS: usize = 4096;

/// Decides `batches` (of `cases`, their schema) on `threads` threads and
/// returns the decisions' schema and the decisions in the cases' order, one
/// batch per piece of at most 4 096 rows.
pub fn decide_all(
    programs: &[&Executable],
    date: Option<chrono::NaiveDate>,
    off_period: bool,
    cases: &arrow_schema::Schema,
    batches: &[RecordBatch],
    threads: usize,
) -> Result<(arrow_schema::SchemaRef, Vec<RecordBatch>, Counts), Error> {
    let plain: Vec<&rulebook::ir::Program> = programs.iter().map(|p| p.program()).collect();
    let columns = CaseColumns::new(cases, &plain).map_err(Error::Column)?;
    let id = match columns.has_id() {
        true => Some(std::sync::Arc::new(
            cases.field_with_name("id").map_err(Error::Arrow)?.clone(),
        )),
        false => None,
    };
    let schema = DecisionSchema::new(&plain, id);
    // Pieces of every batch, with the number of their first row.
    let mut pieces: Vec<(RecordBatch, u64)> = Vec::new();
    let mut row = 1u64;
    for b in batches {
        if b.schema_ref().fields() != cases.fields() {
            return Err(Error::Arrow(ArrowError::SchemaError(
                "the batches do not all have the same columns".into(),
            )));
        }
        let mut start = 0;
        while start < b.num_rows() {
            let len = PIECE_ROWS.min(b.num_rows() - start);
            pieces.push((b.slice(start, len), row + start as u64));
            start += len;
        }
        row += b.num_rows() as u64;
    }
    // Each thread takes the next piece and keeps what it decided, with
    // the piece's position; the pieces are put back in order after.
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Piece = (usize, Result<(RecordBatch, Counts), ArrowError>);
    let joined: Result<Vec<Vec<Piece>>, _> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1).min(pieces.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut decider =
                        Decider::new(programs.to_vec(), date).allow_off_period(off_period);
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((piece, first_row)) = pieces.get(i) else {
                            return mine;
                        };
                        mine.push((
                            i,
                            decide_batch(&mut decider, &columns, &schema, piece, *first_row),
                        ));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let stopped = || {
        Error::Arrow(ArrowError::ComputeError(
            "a thread deciding cases stopped".into(),
        ))
    };
    let mut results: Vec<Piece> = joined
        .map_err(|_| stopped())?
        .into_iter()
        .flatten()
        .collect();
    if results.len() != pieces.len() {
        return Err(stopped());
    }
    results.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(results.len());
    let mut counts = Counts::default();
    for (_, r) in results {
        let (b, c) = r.map_err(Error::Arrow)?;
        counts.add(&c);
        out.push(b);
    }
    Ok((schema.schema(), out, counts))
}

/// Why a batch could not be decided at all.
#[derive(Debug)]
pub enum Error {
    /// A column the rulebook cannot read.
    Column(ColumnError),
    Arrow(ArrowError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Column(e) => write!(f, "{e}"),
            Error::Arrow(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}
