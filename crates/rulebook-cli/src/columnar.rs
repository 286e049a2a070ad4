//! Parquet and Arrow IPC files of cases and decisions, read and written
//! with the Apache Arrow and Parquet crates; what a row means is
//! `rulebook_arrow`'s.

use crate::{EXIT_INPUT, EXIT_IO};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use std::io::Write;
use std::path::Path;

/// Rows per batch read from a file.
pub const BATCH_ROWS: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Parquet,
    /// The Arrow IPC file format (Feather version 2).
    ArrowFile,
    /// The Arrow IPC stream format.
    ArrowStream,
}

impl Kind {
    /// The columnar format a file name says, if any.
    pub fn of(path: &Path) -> Option<Kind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(Kind::Parquet),
            "arrow" | "feather" | "ipc" => Some(Kind::ArrowFile),
            "arrows" => Some(Kind::ArrowStream),
            _ => None,
        }
    }
}

pub type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

thread_local! {
    /// Set while this thread reads a file with [`guarded`].
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `read` and turns a panic inside it into an error. The Parquet and
/// Arrow readers can panic on a damaged file (an index out of bounds deep
/// in a page decoder) rather than return an error; such a file is bad
/// input, to be reported by name like any other, not a crash. The panic
/// hook stays quiet for these panics only: the caller reports them.
fn guarded<T>(read: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !READING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    READING.with(|r| r.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    READING.with(|r| r.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the reader stopped".into())
    })
}

/// Batches read with [`guarded`]; after a damaged part, nothing more.
struct Guarded {
    inner: Batches,
    damaged: bool,
}

impl Iterator for Guarded {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.damaged {
            return None;
        }
        match guarded(|| self.inner.next()) {
            Ok(next) => next,
            Err(why) => {
                self.damaged = true;
                Some(Err(damaged(&why)))
            }
        }
    }
}

fn damaged(why: &str) -> ArrowError {
    ArrowError::ParseError(format!(
        "the file is damaged ({why}); write it again from its source"
    ))
}

/// Opens a columnar file of cases: its schema, its batches and, when the
/// file says, its number of rows.
pub fn open(path: &Path, kind: Kind) -> Result<(SchemaRef, Batches, Option<u64>), (u8, String)> {
    let shown = path.display();
    let (schema, batches, rows) = guarded(|| open_unguarded(path, kind)).map_err(|why| {
        (
            EXIT_INPUT,
            format!("cannot read {shown}: {}", damaged(&why)),
        )
    })??;
    let batches: Batches = Box::new(Guarded {
        inner: batches,
        damaged: false,
    });
    Ok((schema, batches, rows))
}

fn open_unguarded(
    path: &Path,
    kind: Kind,
) -> Result<(SchemaRef, Batches, Option<u64>), (u8, String)> {
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| (EXIT_IO, format!("cannot read {shown}: {e}")))?;
    let unreadable = |what: &str, e: &dyn std::fmt::Display| {
        (
            EXIT_INPUT,
            format!("{shown}: not {what} file: {e} (write cases as Parquet, Arrow IPC, CSV or JSON Lines)"),
        )
    };
    match kind {
        Kind::Parquet => {
            let builder =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| unreadable("a Parquet", &e))?;
            let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let reader = builder
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| unreadable("a Parquet", &e))?;
            let schema = arrow_array::RecordBatchReader::schema(&reader);
            Ok((schema, Box::new(reader), rows))
        }
        Kind::ArrowFile => {
            let reader =
                arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
                    .map_err(|e| unreadable("an Arrow IPC", &e))?;
            let schema = reader.schema();
            Ok((schema, Box::new(reader), None))
        }
        Kind::ArrowStream => {
            let reader =
                arrow_ipc::reader::StreamReader::try_new(std::io::BufReader::new(file), None)
                    .map_err(|e| unreadable("an Arrow IPC stream", &e))?;
            let schema = reader.schema();
            Ok((schema, Box::new(reader), None))
        }
    }
}

/// A columnar file of decisions being written.
pub enum Writer<W: Write + Send> {
    Parquet(Box<parquet::arrow::ArrowWriter<W>>),
    ArrowFile(Box<arrow_ipc::writer::FileWriter<W>>),
    ArrowStream(Box<arrow_ipc::writer::StreamWriter<W>>),
}

impl<W: Write + Send> Writer<W> {
    /// `decisions`: the file holds decisions (else cases), which decides
    /// where Parquet dictionaries are used.
    pub fn new(
        out: W,
        kind: Kind,
        schema: SchemaRef,
        decisions: bool,
    ) -> Result<Writer<W>, String> {
        Ok(match kind {
            Kind::Parquet => {
                // Snappy, as pandas and Spark write by default.
                let mut props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk);
                // Dictionaries pay for few distinct values (versions, enum
                // variants, criteria), not for ids, amounts and numbers,
                // which are nearly all distinct and would be hashed for
                // nothing. Decisions have them only where they pay.
                if decisions {
                    props = props
                        .set_dictionary_enabled(false)
                        .set_column_dictionary_enabled(
                            parquet::schema::types::ColumnPath::from("version"),
                            true,
                        );
                }
                let props = props.build();
                Writer::Parquet(Box::new(
                    parquet::arrow::ArrowWriter::try_new(out, schema, Some(props))
                        .map_err(|e| e.to_string())?,
                ))
            }
            Kind::ArrowFile => Writer::ArrowFile(Box::new(
                arrow_ipc::writer::FileWriter::try_new(out, &schema).map_err(|e| e.to_string())?,
            )),
            Kind::ArrowStream => Writer::ArrowStream(Box::new(
                arrow_ipc::writer::StreamWriter::try_new(out, &schema)
                    .map_err(|e| e.to_string())?,
            )),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        match self {
            Writer::Parquet(w) => w.write(batch).map_err(|e| e.to_string()),
            Writer::ArrowFile(w) => w.write(batch).map_err(|e| e.to_string()),
            Writer::ArrowStream(w) => w.write(batch).map_err(|e| e.to_string()),
        }
    }

    /// Writes the footer; the file is complete only after this.
    pub fn finish(self) -> Result<(), String> {
        match self {
            Writer::Parquet(w) => w.close().map(|_| ()).map_err(|e| e.to_string()),
            Writer::ArrowFile(mut w) => w.finish().map_err(|e| e.to_string()),
            Writer::ArrowStream(mut w) => w.finish().map_err(|e| e.to_string()),
        }
    }
}

/// `rulebook convert`: cases in JSON Lines or CSV written as Parquet or
/// Arrow with the rulebook's typed columns (see `rulebook_arrow`), each
/// case checked on the way; the first case that does not fit stops it.
pub fn convert(
    p: &rulebook::ir::Program,
    cases: &Path,
    output: &Path,
    date: Option<chrono::NaiveDate>,
) -> Result<u64, (u8, String)> {
    let partial = crate::case_files::partial_path(output);
    let result = convert_to(p, cases, output, &partial, date);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn convert_to(
    p: &rulebook::ir::Program,
    cases: &Path,
    output: &Path,
    partial: &Path,
    date: Option<chrono::NaiveDate>,
) -> Result<u64, (u8, String)> {
    use rulebook::cases::batch::csv_case;
    use rulebook::cases::input::decode_case;
    use serde_json::Value as J;
    use std::io::BufRead;
    let kind = Kind::of(output).ok_or_else(|| {
        (
            crate::EXIT_USAGE,
            format!(
                "--output {}: name the file .parquet, .arrow or .arrows",
                output.display()
            ),
        )
    })?;
    let shown = cases.display();
    let file =
        std::fs::File::open(cases).map_err(|e| (EXIT_IO, format!("cannot read {shown}: {e}")))?;
    // Each case as (line, its JSON record).
    type Records<'a> = Box<dyn Iterator<Item = Result<(u64, J), (u8, String)>> + 'a>;
    let records: Records<'_> = if cases.extension().is_some_and(|e| e == "csv") {
        let mut reader = csv::Reader::from_reader(file);
        let header = crate::case_files::csv_header(&mut reader, &shown)?;
        let shown = shown.to_string();
        Box::new(reader.into_records().enumerate().map(move |(n, r)| {
            let line = n as u64 + 2;
            r.map(|r| (line, csv_case(p, &header, &r)))
                .map_err(|e| (EXIT_INPUT, format!("{shown}:{line}: not a CSV row: {e}")))
        }))
    } else {
        let shown = shown.to_string();
        Box::new(
            std::io::BufReader::new(file)
                .lines()
                .enumerate()
                .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(move |(n, l)| {
                    let line = n as u64 + 1;
                    let text = l.map_err(|e| (EXIT_IO, format!("cannot read {shown}: {e}")))?;
                    rulebook::cases::document::json_from_str(&text)
                        .map(|doc| (line, doc))
                        .map_err(|e| {
                            (
                                EXIT_INPUT,
                                format!("{shown}:{line}: not JSON: {}", e.message),
                            )
                        })
                }),
        )
    };
    let with_id = true;
    let out = std::fs::File::create(partial)
        .map_err(|e| (EXIT_IO, format!("cannot write {}: {e}", partial.display())))?;
    let out: Box<dyn Write + Send> = Box::new(std::io::BufWriter::new(out));
    let mut writer = Writer::new(
        out,
        kind,
        rulebook_arrow::decisions::case_schema(p, with_id),
        false,
    )
    .map_err(|e| (EXIT_IO, e))?;
    let mut pending: Vec<(Option<String>, rulebook::eval::Case)> = Vec::new();
    let mut count = 0u64;
    let write_error = |e: String| (EXIT_IO, format!("cannot write {}: {e}", output.display()));
    let flush = |pending: &mut Vec<(Option<String>, rulebook::eval::Case)>,
                 writer: &mut Writer<Box<dyn Write + Send>>|
     -> Result<(), (u8, String)> {
        let refs: Vec<(Option<String>, &rulebook::eval::Case)> =
            pending.iter().map(|(id, c)| (id.clone(), c)).collect();
        let batch = rulebook_arrow::decisions::cases_batch(p, &refs, with_id)
            .map_err(|e| (EXIT_INPUT, format!("{shown}: {e}")))?;
        writer.write(&batch).map_err(write_error)?;
        pending.clear();
        Ok(())
    };
    for record in records {
        let (line, mut doc) = record?;
        let id = match &mut doc {
            J::Object(map) if !p.inputs.iter().any(|i| i.name == "id") => {
                map.shift_remove("id").map(|id| match id {
                    J::String(s) => s,
                    other => other.to_string(),
                })
            }
            _ => None,
        };
        let case = decode_case(p, &doc, date).map_err(|errors| {
            let problems: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            (
                EXIT_INPUT,
                format!("{shown}:{line}: {}", problems.join("; ")),
            )
        })?;
        pending.push((id, case));
        count += 1;
        if pending.len() == BATCH_ROWS {
            flush(&mut pending, &mut writer)?;
        }
    }
    if !pending.is_empty() {
        flush(&mut pending, &mut writer)?;
    }
    writer.finish().map_err(write_error)?;
    std::fs::rename(partial, output).map_err(|e| write_error(e.to_string()))?;
    Ok(count)
}
