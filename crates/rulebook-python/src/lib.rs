//! The native half of the `rulebook` Python package (`rulebook._native`).
//!
//! It loads rulebooks through the same loading path as the command line
//! (`Workspace::load` over the file system), decides one case given as
//! JSON text, and decides Arrow record batches with `rulebook_arrow` on
//! every core with the GIL released. Errors come back as one exception,
//! `NativeError(kind, message, details_json)`, which the Python half turns
//! into its typed exceptions (see `python/rulebook/__init__.py`).

use arrow_array::RecordBatch;
use arrow_pyarrow::PyArrowType;
use arrow_schema::Schema;
use chrono::NaiveDate;
use pyo3::create_exception;
use pyo3::prelude::*;
use rulebook::cases::batch::Decider;
use rulebook::cases::input::decode_case;
use rulebook::diagnostic::render::render_diagnostics;
use rulebook::eval::{decision_json, evaluate, Executable, Options};
use rulebook::versions::workspace::Workspace;
use serde_json::{json, Value as J};
use std::path::PathBuf;

create_exception!(
    _native,
    NativeError,
    pyo3::exceptions::PyException,
    "An error of the native module: (kind, message, details as JSON)."
);

fn native_error(kind: &str, message: String, details: J) -> PyErr {
    NativeError::new_err((kind.to_string(), message, details.to_string()))
}

fn parse_date(text: Option<&str>) -> PyResult<Option<NaiveDate>> {
    match text {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                native_error(
                    "argument",
                    format!("date: expected a date such as \"2021-03-01\", found {t:?}"),
                    json!({ "path": "date" }),
                )
            }),
    }
}

/// Rulebook versions loaded from a file or a programme's folder.
#[pyclass(frozen, module = "rulebook._native")]
struct Rulebooks {
    workspace: Workspace,
    /// The requested versions, oldest first.
    versions: Vec<usize>,
}

impl Rulebooks {
    /// The newest version as one side of a diff.
    fn side(&self) -> PyResult<rulebook::ops::diff::Side<'_>> {
        self.versions
            .last()
            .and_then(|&i| self.workspace.versions.get(i))
            .and_then(|v| {
                Some(rulebook::ops::diff::Side {
                    text: &v.text,
                    checked: &v.checked,
                    program: v.program()?,
                })
            })
            .ok_or_else(|| native_error("load", "no version to compare".into(), J::Null))
    }

    fn programs(&self) -> Vec<&Executable> {
        self.versions
            .iter()
            .filter_map(|&i| self.workspace.versions.get(i).and_then(|v| v.program()))
            .collect()
    }
}

#[pymethods]
impl Rulebooks {
    /// Loads a rulebook file, or every version in a programme's folder,
    /// checked as `rulebook check` checks them. A version with errors
    /// refuses the load, with the errors rendered and listed.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Rulebooks> {
        let workspace = Workspace::load(&rulebook_files::Files, std::slice::from_ref(&path))
            .map_err(|e| {
                native_error(
                    "load",
                    e.to_string(),
                    json!({ "path": path.display().to_string() }),
                )
            })?;
        let mut rendered = String::new();
        let mut listed = Vec::new();
        for &i in &workspace.requested {
            if !workspace.has_errors(i) {
                continue;
            }
            let Some(src) = workspace.sources.get(i) else {
                continue;
            };
            let errors: Vec<_> = workspace
                .diagnostics(i)
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            rendered.push_str(&render_diagnostics(&src.name, &src.text, &errors, false));
            let index = rulebook::diagnostic::LineIndex::new(&src.text);
            for d in &errors {
                let (line, column) = index.position(&src.text, d.span.start);
                listed.push(json!({
                    "file": src.name, "line": line + 1, "column": column + 1,
                    "code": d.code, "message": d.message, "help": d.help,
                }));
            }
        }
        if !listed.is_empty() {
            return Err(native_error("load", rendered, J::Array(listed)));
        }
        let mut versions: Vec<usize> = workspace
            .requested
            .iter()
            .copied()
            .filter(|&i| {
                workspace
                    .versions
                    .get(i)
                    .and_then(|v| v.program())
                    .is_some()
            })
            .collect();
        versions.sort_by_key(|&i| {
            workspace
                .versions
                .get(i)
                .and_then(|v| v.program())
                .map(|p| p.in_force_from)
        });
        if versions.is_empty() {
            return Err(native_error(
                "load",
                format!("{}: no rulebook to load", path.display()),
                json!({ "path": path.display().to_string() }),
            ));
        }
        Ok(Rulebooks {
            workspace,
            versions,
        })
    }

    /// The versions as JSON: id, version, validity, inputs, outputs and
    /// each output's type as the rulebook writes it.
    fn describe(&self) -> String {
        let versions: Vec<J> = self
            .programs()
            .iter()
            .map(|e| {
                let p = e.program();
                json!({
                    "id": p.id,
                    "version": p.version,
                    "in_force_from": p.in_force_from.to_string(),
                    "in_force_to": p.in_force_to.map(|d| d.to_string()),
                    "inputs": p.inputs.iter().map(|i| &i.name).collect::<Vec<_>>(),
                    "outputs": p.outputs.iter().filter_map(|&o| p.defs.get(o as usize).map(|d| &d.name)).collect::<Vec<_>>(),
                    "output_types": p.outputs.iter().filter_map(|&o| p.defs.get(o as usize).map(|d| (d.name.clone(), J::String(p.type_name(&d.ty))))).collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        J::Array(versions).to_string()
    }

    /// Decides one case (a JSON record of inputs and `decision_date`) and
    /// returns the decision as JSON, as `rulebook eval --format json`
    /// writes it.
    #[pyo3(signature = (case, date=None, explain=false))]
    fn evaluate(&self, case: &str, date: Option<&str>, explain: bool) -> PyResult<String> {
        let date = parse_date(date)?;
        let programs = self.programs();
        let mut doc = rulebook::cases::document::json_from_str(case).map_err(|e| {
            native_error(
                "input",
                format!("the case is not JSON: {}", e.message),
                json!([{ "path": "", "message": e.message }]),
            )
        })?;
        let id_is_input = programs
            .iter()
            .any(|p| p.inputs.iter().any(|i| i.name == "id"));
        if let (J::Object(map), false) = (&mut doc, id_is_input) {
            map.shift_remove("id");
        }
        let when = date.or_else(|| {
            doc.get("decision_date")
                .and_then(J::as_str)
                .and_then(|s| rulebook::cases::input::parse_date(s.trim()))
        });
        let decider = Decider::new(programs.clone(), date);
        let Some(program) = decider.version_on(when) else {
            let message = match when {
                Some(d) => format!("no version of the rulebook is in force on {d}"),
                None => "no decision date to choose a version by".to_string(),
            };
            return Err(native_error(
                "input",
                message.clone(),
                json!([{ "path": "decision_date", "message": message,
                         "help": "give the case a decision_date on which a version is in force, or pass date=" }]),
            ));
        };
        let case = decode_case(program, &doc, date).map_err(|problems| {
            let message = problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            native_error("input", message, json!(problems))
        })?;
        let plain: Vec<&rulebook::ir::Program> = programs.iter().map(|p| p.program()).collect();
        if let Err(why) = rulebook::versions::within_period(program, case.decision_date, &plain) {
            return Err(native_error(
                "input",
                why.to_string(),
                json!([{ "path": "decision_date", "message": why.to_string() }]),
            ));
        }
        let decision = evaluate(program, &case, &Options { explain }).map_err(|e| {
            native_error(
                "evaluation",
                e.to_string(),
                json!({ "code": e.code, "message": e.message, "rule": e.rule, "help": e.help }),
            )
        })?;
        Ok(decision_json(program, &case, &decision).to_string())
    }

    /// Decides record batches of cases (columns named by input path) on
    /// `threads` threads (default: every core), with the GIL released.
    /// Returns the decisions' batches, their schema and the counts
    /// (cases, decided, invalid, failed).
    #[pyo3(signature = (schema, batches, date=None, threads=None, off_period=false))]
    #[allow(clippy::type_complexity)]
    fn evaluate_batches(
        &self,
        py: Python<'_>,
        schema: PyArrowType<Schema>,
        batches: Vec<PyArrowType<RecordBatch>>,
        date: Option<&str>,
        threads: Option<usize>,
        off_period: bool,
    ) -> PyResult<(
        Vec<PyArrowType<RecordBatch>>,
        PyArrowType<Schema>,
        (u64, u64, u64, u64),
    )> {
        let date = parse_date(date)?;
        let batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.0).collect();
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let programs = self.programs();
        let cases = schema.0;
        let result = py.allow_threads(|| {
            rulebook_arrow::decide_all(&programs, date, off_period, &cases, &batches, threads)
        });
        match result {
            Ok((schema, out, c)) => Ok((
                out.into_iter().map(PyArrowType).collect(),
                PyArrowType(schema.as_ref().clone()),
                (c.cases, c.decided, c.invalid, c.failed),
            )),
            Err(rulebook_arrow::Error::Column(e)) => Err(native_error(
                "column",
                e.to_string(),
                json!({ "column": e.column, "message": e.message, "help": e.help }),
            )),
            Err(rulebook_arrow::Error::Arrow(e)) => {
                Err(native_error("arrow", e.to_string(), J::Null))
            }
        }
    }
}

/// The summary of one shard of a population, as `rulebook diff --cases
/// ... --save-summary` writes it: the cases of `batches` decided by the
/// newest version of `old` and of `new`. Row numbers in it count from 1
/// within these batches.
#[pyfunction]
#[pyo3(signature = (old, new, schema, batches, date=None))]
fn impact_summary(
    py: Python<'_>,
    old: &Rulebooks,
    new: &Rulebooks,
    schema: PyArrowType<Schema>,
    batches: Vec<PyArrowType<RecordBatch>>,
    date: Option<&str>,
) -> PyResult<String> {
    let date = parse_date(date)?;
    let (a, b) = (old.side()?, new.side()?);
    let columns =
        rulebook_arrow::CaseColumns::new(&schema.0, &[a.program.program(), b.program.program()])
            .map_err(|e| {
                native_error(
                    "column",
                    e.to_string(),
                    json!({ "column": e.column, "message": e.message, "help": e.help }),
                )
            })?;
    let batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.0).collect();
    let summary = py.allow_threads(|| -> Result<String, String> {
        let d = rulebook::ops::diff::diff(&a, &b);
        let settings = rulebook::ops::impact::Settings {
            top: 10,
            by: Vec::new(),
            measure: None,
        };
        let mut acc =
            rulebook::ops::impact::Accumulator::new(a.program, b.program, date, settings)?
                .with_changed_items(&d);
        let mut row_no = 0u64;
        for batch in &batches {
            for row in 0..batch.num_rows() {
                row_no += 1;
                match columns.document(batch, row) {
                    Ok(mut doc) => {
                        if let (Some(id), J::Object(map)) = (columns.id_json(batch, row), &mut doc)
                        {
                            map.insert("id".into(), id);
                        }
                        acc.add(row_no, doc);
                    }
                    Err(e) => acc.add_unreadable(row_no, e.to_string()),
                }
            }
        }
        serde_json::to_string(&acc.into_summary()).map_err(|e| e.to_string())
    });
    summary.map_err(|e| native_error("argument", e, J::Null))
}

/// Shard summaries merged into one impact report, as the `impact` part of
/// `rulebook diff --format json` gives it.
#[pyfunction]
#[pyo3(signature = (old, new, summaries, date=None))]
fn impact_report(
    old: &Rulebooks,
    new: &Rulebooks,
    summaries: Vec<String>,
    date: Option<&str>,
) -> PyResult<String> {
    let date = parse_date(date)?;
    let (a, b) = (old.side()?, new.side()?);
    let mut merged: Option<rulebook::ops::impact::Summary> = None;
    for (i, text) in summaries.iter().enumerate() {
        let s: rulebook::ops::impact::Summary = serde_json::from_str(text).map_err(|e| {
            native_error(
                "argument",
                format!("summary {i}: not an impact summary: {e}"),
                J::Null,
            )
        })?;
        match merged.as_mut() {
            None => merged = Some(s),
            Some(m) => m
                .merge(s)
                .map_err(|e| native_error("argument", format!("summary {i}: {e}"), J::Null))?,
        }
    }
    let Some(summary) = merged else {
        return Err(native_error(
            "argument",
            "no summaries to merge".into(),
            J::Null,
        ));
    };
    let report = rulebook::ops::impact::finish(&summary, a.program, b.program, date);
    Ok(json!(report).to_string())
}

#[pymodule]
#[pyo3(name = "_native")]
fn native_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Rulebooks>()?;
    m.add_function(wrap_pyfunction!(impact_summary, m)?)?;
    m.add_function(wrap_pyfunction!(impact_report, m)?)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    Ok(())
}
