//! Deciding many cases: a JSON Lines record or a CSV row in, a decision line
//! or row out. The caller reads and writes the bytes and spreads chunks of
//! cases over threads; everything here is pure.
//!
//! A case may carry an `id` (any JSON value) that is not one of the
//! rulebook's inputs; it is passed through to the decision unchanged, so
//! that results can be joined back to the population.

use crate::cases::input::{decode_case, decode_case_json, InputError};
use crate::eval::Executable;
use crate::eval::{decision_json, evaluate_with, Case, Decision, EvalError, Options, Scratch};
use crate::ir::value::{format_percent, write_decimal, Type, Value};
use crate::ir::Program;
use crate::versions;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value as J;
use std::io::Write;

/// What became of one case.
pub enum Outcome<'p> {
    Decided {
        program: &'p Program,
        case: Case,
        decision: Decision,
    },
    /// The case does not fit the rulebook's inputs (or is not JSON).
    Invalid(Vec<InputError>),
    /// The rulebook could not decide the case (a table without a matching
    /// row, a parameter without a value in force...).
    Failed(EvalError),
}

/// A decided case with its pass-through `id`.
pub struct Decided<'p> {
    pub id: Option<J>,
    pub outcome: Outcome<'p>,
}

/// Decides cases against one rulebook version, or against the versions of
/// one programme, choosing for each case the version in force on its
/// decision date.
pub struct Decider<'p> {
    programs: Vec<&'p Executable>,
    /// The same versions' programs, to choose among by date.
    versions: Vec<&'p Program>,
    date: Option<NaiveDate>,
    /// `id` is passed through unless some version has an input named `id`.
    id_passthrough: bool,
    /// Whether a version may decide a date outside its validity period.
    off_period: bool,
    scratch: Scratch,
}

impl<'p> Decider<'p> {
    /// `date`, when given, is every case's decision date (it overrides the
    /// cases' own `decision_date`).
    pub fn new(programs: Vec<&'p Executable>, date: Option<NaiveDate>) -> Decider<'p> {
        let id_passthrough = !programs
            .iter()
            .any(|p| p.inputs.iter().any(|i| i.name == "id"));
        Decider {
            versions: programs.iter().map(|p| p.program()).collect(),
            programs,
            date,
            id_passthrough,
            off_period: false,
            scratch: Scratch::default(),
        }
    }

    /// Lets a single version decide dates outside its validity period (a
    /// what-if). Without this, such a case is refused at `decision_date`.
    pub fn allow_off_period(mut self, allow: bool) -> Decider<'p> {
        self.off_period = allow;
        self
    }

    /// Decides one JSON Lines record.
    pub fn decide_json(&mut self, line: &str) -> Decided<'p> {
        // Valid cases of a single version skip the JSON tree; anything else
        // takes the ordinary path, which explains what is wrong.
        if let [program] = self.programs.as_slice() {
            let program: &'p Executable = program;
            if let Some((id, case)) =
                decode_case_json(program, line, self.date, self.id_passthrough)
            {
                let outcome = self.evaluate(program, case);
                return Decided { id, outcome };
            }
        }
        match crate::cases::document::json_from_str(line) {
            Ok(doc) => self.decide(doc),
            Err(e) => Decided {
                id: None,
                outcome: Outcome::Invalid(vec![InputError {
                    path: format!("column {}", e.column),
                    message: format!("not a JSON record: {}", e.message),
                    help: Some(
                        e.help
                            .unwrap_or_else(|| "write one case per line, as a JSON object".into()),
                    ),
                }]),
            },
        }
    }

    /// The version that decides a case of `date` (`None`: the case gives
    /// none), or `None` when no version is in force then. The decision
    /// date given to [`Decider::new`] takes precedence.
    pub fn version_on(&self, date: Option<NaiveDate>) -> Option<&'p Executable> {
        if let [only] = self.programs.as_slice() {
            return Some(only);
        }
        let when = self.date.or(date)?;
        let i = versions::select(&self.versions, None, when).ok()?;
        self.programs.get(i).copied()
    }

    /// The decision date that overrides the cases' own, if any.
    pub fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    /// Decides a case already decoded against `program` (which
    /// [`Decider::version_on`] chose), as [`Decider::decide`] would.
    pub fn decide_decoded(
        &mut self,
        program: &'p Executable,
        case: Case,
        id: Option<J>,
    ) -> Decided<'p> {
        let outcome = self.evaluate(program, case);
        Decided { id, outcome }
    }

    /// Decides one case given as a JSON record of inputs.
    pub fn decide(&mut self, mut doc: J) -> Decided<'p> {
        let id = match (&mut doc, self.id_passthrough) {
            (J::Object(map), true) => map.shift_remove("id"),
            _ => None,
        };
        let outcome = self.outcome(&doc);
        Decided { id, outcome }
    }

    fn outcome(&mut self, doc: &J) -> Outcome<'p> {
        let program = match self.version_for(doc) {
            Ok(p) => p,
            Err(e) => return Outcome::Invalid(vec![e]),
        };
        let case = match decode_case(program, doc, self.date) {
            Ok(c) => c,
            Err(errors) => return Outcome::Invalid(errors),
        };
        self.evaluate(program, case)
    }

    fn evaluate(&mut self, program: &'p Executable, case: Case) -> Outcome<'p> {
        if !self.off_period {
            if let Err(why) =
                crate::versions::within_period(program, case.decision_date, &self.versions)
            {
                return Outcome::Invalid(vec![InputError {
                    path: "decision_date".into(),
                    message: why.to_string(),
                    help: Some(
                        "evaluate the programme's folder to use the version in force, or pass --off-period to apply this version anyway".into(),
                    ),
                }]);
            }
        }
        match evaluate_with(
            program,
            &case,
            &Options { explain: false },
            &mut self.scratch,
        ) {
            Ok(decision) => Outcome::Decided {
                program,
                case,
                decision,
            },
            Err(e) => Outcome::Failed(e),
        }
    }

    fn version_for(&self, doc: &J) -> Result<&'p Executable, InputError> {
        if let [only] = self.programs.as_slice() {
            return Ok(only);
        }
        let problem = |message: String, help: &str| InputError {
            path: "decision_date".into(),
            message,
            help: Some(help.into()),
        };
        let when = match self.date {
            Some(d) => d,
            None => {
                let text = doc
                    .get("decision_date")
                    .and_then(J::as_str)
                    .ok_or_else(|| {
                        problem(
                            "no decision date to choose a version by".into(),
                            "add `decision_date: YYYY-MM-DD` to the case, or pass --date",
                        )
                    })?;
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                    problem(
                        format!("expected a date such as \"2021-03-01\", found {text:?}"),
                        "write dates as YEAR-MONTH-DAY",
                    )
                })?
            }
        };
        let i = versions::select(&self.versions, None, when).map_err(|e| {
            problem(
                e.to_string(),
                "choose a decision date on which a version is in force",
            )
        })?;
        self.programs.get(i).copied().ok_or_else(|| {
            problem(
                "no version was chosen".into(),
                "choose a decision date on which a version is in force",
            )
        })
    }
}

/// One decision as a JSON Lines record: the decision as `rulebook eval
/// --format json` gives it, preceded by the case's `id`. A case that could
/// not be decided gives `{"id", "line", "error"}` instead, where `error` has
/// a `kind` (`input` or `evaluation`) and the problems.
pub fn jsonl_record(line: u64, d: &Decided<'_>) -> J {
    let mut map = serde_json::Map::new();
    if let Some(id) = &d.id {
        map.insert("id".into(), id.clone());
    }
    match &d.outcome {
        Outcome::Decided {
            program,
            case,
            decision,
        } => {
            if let J::Object(rest) = decision_json(program, case, decision) {
                map.extend(rest);
            }
        }
        Outcome::Invalid(problems) => {
            map.insert("line".into(), J::from(line));
            map.insert(
                "error".into(),
                serde_json::json!({ "kind": "input", "problems": problems }),
            );
        }
        Outcome::Failed(e) => {
            map.insert("line".into(), J::from(line));
            let mut err = serde_json::json!({
                "kind": "evaluation",
                "code": e.code,
                "message": e.message,
                "rule": e.rule,
            });
            if let (Some(h), J::Object(m)) = (&e.help, &mut err) {
                m.insert("help".into(), J::String(h.clone()));
            }
            map.insert("error".into(), err);
        }
    }
    J::Object(map)
}

/// Appends one JSON Lines record for `d` to `out`: the same bytes as
/// `serde_json::to_writer(out, &jsonl_record(line, d))` followed by a line
/// end, written straight from the values for decided cases, which are
/// nearly all of a batch.
pub fn write_jsonl(out: &mut Vec<u8>, line: u64, d: &Decided<'_>) {
    let Outcome::Decided {
        program,
        case,
        decision,
    } = &d.outcome
    else {
        let _ = serde_json::to_writer(&mut *out, &jsonl_record(line, d));
        out.push(b'\n');
        return;
    };
    out.push(b'{');
    if let Some(id) = &d.id {
        out.extend_from_slice(b"\"id\":");
        let _ = serde_json::to_writer(&mut *out, id);
        out.push(b',');
    }
    out.extend_from_slice(b"\"rulebook\":");
    write_str(out, &program.id);
    out.extend_from_slice(b",\"version\":");
    write_str(out, &program.version);
    let _ = write!(
        out,
        ",\"decision_date\":\"{}\",\"eligible\":{},\"failed_criteria\":",
        case.decision_date, decision.eligible
    );
    let _ = serde_json::to_writer(&mut *out, &decision.failed_criteria);
    out.extend_from_slice(b",\"outputs\":{");
    let mut first = true;
    for (i, v) in &decision.outputs {
        let Some(def) = program.defs.get(*i as usize) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, &def.name);
        out.push(b':');
        write_value(out, program, v, &def.ty);
    }
    out.extend_from_slice(b"}}\n");
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A value as `Program::to_json` gives it, written without building it.
fn write_value(out: &mut Vec<u8>, p: &Program, v: &Value, ty: &Type) {
    match (v, ty) {
        (Value::Num(d), Type::Money) => {
            out.push(b'"');
            write_decimal(out, *d, 2);
            out.push(b'"');
        }
        (Value::Num(d), Type::Percent) => write_str(out, &format_percent(*d)),
        (Value::Num(d), _) => {
            out.push(b'"');
            write_decimal(out, *d, 0);
            out.push(b'"');
        }
        (Value::Int(i), Type::Money) => {
            out.push(b'"');
            write_decimal(out, Decimal::from(*i), 2);
            out.push(b'"');
        }
        (Value::Int(i), _) => {
            let _ = write!(out, "{i}");
        }
        (Value::Bool(b), _) => {
            let _ = write!(out, "{b}");
        }
        (Value::Date(d), _) => {
            let _ = write!(out, "\"{}\"", d.format("%Y-%m-%d"));
        }
        _ => {
            let _ = serde_json::to_writer(&mut *out, &p.to_json(v, ty));
        }
    }
}

/// The columns of CSV decisions: `id` when the cases have one, the decision
/// date, eligibility, one column per output (of every version, in order),
/// the failed criteria and the error of a case that could not be decided.
pub struct CsvColumns {
    with_id: bool,
    outputs: Vec<String>,
}

impl CsvColumns {
    pub fn new(programs: &[&Program], with_id: bool) -> CsvColumns {
        let mut outputs: Vec<String> = Vec::new();
        for p in programs {
            for &o in &p.outputs {
                if let Some(d) = p.defs.get(o as usize) {
                    if !outputs.contains(&d.name) {
                        outputs.push(d.name.clone());
                    }
                }
            }
        }
        CsvColumns { with_id, outputs }
    }

    pub fn header(&self) -> Vec<String> {
        let mut h = Vec::with_capacity(self.outputs.len() + 5);
        if self.with_id {
            h.push("id".to_string());
        }
        h.extend(["decision_date".to_string(), "eligible".to_string()]);
        h.extend(self.outputs.iter().cloned());
        h.extend(["failed_criteria".to_string(), "error".to_string()]);
        h
    }

    /// One row, in the header's order. Amounts are exact decimals with the
    /// same text as in JSON; lists and records are compact JSON.
    pub fn row(&self, line: u64, d: &Decided<'_>) -> Vec<String> {
        let mut row = Vec::with_capacity(self.outputs.len() + 5);
        if self.with_id {
            row.push(d.id.as_ref().map(cell).unwrap_or_default());
        }
        match &d.outcome {
            Outcome::Decided {
                program,
                case,
                decision,
            } => {
                row.push(case.decision_date.to_string());
                row.push(decision.eligible.to_string());
                for name in &self.outputs {
                    let value = decision.outputs.iter().find_map(|(i, v)| {
                        let def = program.defs.get(*i as usize)?;
                        (def.name == *name).then(|| cell(&program.to_json(v, &def.ty)))
                    });
                    row.push(value.unwrap_or_default());
                }
                row.push(
                    decision
                        .failed_criteria
                        .iter()
                        .map(|c| c.criterion.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                row.push(String::new());
            }
            Outcome::Invalid(problems) => {
                row.extend(std::iter::repeat_n(String::new(), self.outputs.len() + 3));
                row.push(format!(
                    "line {line}: {}",
                    problems
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            Outcome::Failed(e) => {
                row.extend(std::iter::repeat_n(String::new(), self.outputs.len() + 3));
                row.push(format!("line {line}: {e}"));
            }
        }
        row
    }
}

fn cell(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

/// The declared type at a dotted input path such as `household.size`.
pub fn type_at(p: &Program, path: &str) -> Option<Type> {
    p.input_type_at(path, false)
}

/// A CSV row as a case record: columns are dotted input paths (plus
/// `decision_date` and `id`); each cell becomes the JSON its declared type
/// expects, so that decoding reports problems as for JSON cases.
pub fn csv_case(p: &Program, header: &[String], row: &csv::StringRecord) -> J {
    let mut root = serde_json::Map::new();
    for (name, cell) in header.iter().zip(row.iter()) {
        let value = match type_at(p, name) {
            Some(Type::Integer) => cell
                .trim()
                .parse::<i64>()
                .map(J::from)
                .unwrap_or_else(|_| J::String(cell.to_string())),
            Some(Type::Bool) => match cell.trim() {
                "true" => J::Bool(true),
                "false" => J::Bool(false),
                other => J::String(other.to_string()),
            },
            _ => J::String(cell.to_string()),
        };
        let parts: Vec<&str> = name.split('.').collect();
        insert_path(&mut root, &parts, value);
    }
    J::Object(root)
}

fn insert_path(map: &mut serde_json::Map<String, J>, parts: &[&str], value: J) {
    match parts {
        [] => {}
        [last] => {
            map.insert(last.to_string(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry(first.to_string())
                .or_insert_with(|| J::Object(serde_json::Map::new()));
            if !entry.is_object() {
                *entry = J::Object(serde_json::Map::new());
            }
            if let J::Object(m) = entry {
                insert_path(m, rest, value);
            }
        }
    }
}
