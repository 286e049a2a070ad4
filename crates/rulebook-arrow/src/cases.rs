//! Arrow rows as cases: each row becomes the same JSON record of inputs a
//! JSON Lines case is, so that a Parquet case is checked by the same
//! decoder, with the same field paths and messages, as a JSON one.
//!
//! A column is named by an input's path: `income` for a top-level input,
//! `household.size` for a field of a record input (or a struct column
//! `household` with a field `size`). A list of records is a list of
//! structs. `decision_date` and a pass-through `id` may be columns too.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use rulebook::cases::input::{InputError, MAX_LIST_LEN};
use rulebook::ir::value::Type;
use rulebook::ir::Program;
use rust_decimal::Decimal;

use serde_json::{Map, Number, Value as J};
use std::str::FromStr;

/// A column the rulebook cannot read, found before any row is decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnError {
    pub column: String,
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for ColumnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column `{}`: {} (help: {})",
            self.column, self.message, self.help
        )
    }
}

impl std::error::Error for ColumnError {}

/// How the columns of a schema map to a case.
#[derive(Debug, Clone)]
pub struct CaseColumns {
    /// Input columns: their position and the path of their value in the
    /// case, split at dots.
    inputs: Vec<(usize, Vec<String>)>,
    id: Option<usize>,
    pub(crate) decision_date: Option<usize>,
    /// Per version (by its address), where each input's value is.
    pub(crate) plans: Vec<(usize, Vec<Source>)>,
}

/// Where a value of a case is in a batch.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Column(usize),
    /// A record made of one column (or nested record) per field.
    Fields(Vec<Source>),
    Missing,
}

impl CaseColumns {
    /// Checks every column of `schema` against the inputs of `programs`
    /// (the versions cases may be decided by): each must name an input,
    /// a field of a record input, `decision_date` or `id`, and have a type
    /// that can be read.
    pub fn new(schema: &Schema, programs: &[&Program]) -> Result<CaseColumns, ColumnError> {
        let id_is_input = programs
            .iter()
            .any(|p| p.inputs.iter().any(|i| i.name == "id"));
        let mut columns = CaseColumns {
            inputs: Vec::new(),
            id: None,
            decision_date: None,
            plans: Vec::new(),
        };
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        for (i, field) in schema.fields().iter().enumerate() {
            let name = field.name();
            let error = |message: String, help: String| ColumnError {
                column: name.clone(),
                message,
                help,
            };
            if let Some(why) = unreadable(field.data_type()) {
                return Err(error(
                    why,
                    "store numbers as integers or decimal128, amounts as decimal128, dates as \
                     date32, texts as strings, records as structs and lists as lists"
                        .into(),
                ));
            }
            if name == "decision_date" {
                columns.decision_date = Some(i);
                continue;
            }
            if name == "id" && !id_is_input {
                columns.id = Some(i);
                continue;
            }
            if !programs
                .iter()
                .any(|p| p.input_type_at(name, false).is_some())
            {
                let inputs: Vec<&str> = programs
                    .last()
                    .map(|p| p.inputs.iter().map(|x| x.name.as_str()).collect())
                    .unwrap_or_default();
                return Err(error(
                    "the rulebook has no input at this path".into(),
                    format!(
                        "name columns by input path (`household.size` for a field of a record); \
                         the inputs are {}; `decision_date` and `id` are also accepted",
                        inputs.join(", ")
                    ),
                ));
            }
            // `household` and `household.size` would both give the same value.
            if let Some(other) = names.iter().find(|o| {
                **o != name.as_str()
                    && (o.starts_with(&format!("{name}.")) || name.starts_with(&format!("{o}.")))
            }) {
                return Err(error(
                    format!("the column `{other}` gives part of the same input"),
                    "keep either the whole record or its fields as columns, not both".into(),
                ));
            }
            columns
                .inputs
                .push((i, name.split('.').map(str::to_string).collect()));
        }
        for p in programs {
            let plan = p
                .inputs
                .iter()
                .map(|i| source(p, &names, &i.name, &i.ty))
                .collect();
            columns.plans.push((*p as *const Program as usize, plan));
        }
        Ok(columns)
    }

    /// Whether the cases have a pass-through `id` column.
    pub fn has_id(&self) -> bool {
        self.id.is_some()
    }

    /// The pass-through `id` column of a batch read with this schema.
    pub fn id(&self, batch: &RecordBatch) -> Option<ArrayRef> {
        self.id.and_then(|i| batch.columns().get(i).cloned())
    }

    /// The `id` of row `row`, as JSON, when the cases have an `id` column.
    pub fn id_json(&self, batch: &RecordBatch, row: usize) -> Option<J> {
        let col = self.id.and_then(|i| batch.columns().get(i))?;
        cell(col.as_ref(), row).ok().filter(|v| !v.is_null())
    }

    /// Row `row` of `batch` as a case document: a JSON record of inputs and
    /// `decision_date`, without the `id`. Null cells are left out, so that
    /// an optional input is absent and a required one is reported missing.
    pub fn document(&self, batch: &RecordBatch, row: usize) -> Result<J, InputError> {
        let mut doc = Map::new();
        let columns = batch.columns();
        if let Some(col) = self.decision_date.and_then(|i| columns.get(i)) {
            let v = cell(col.as_ref(), row).map_err(|m| problem("decision_date", m))?;
            if !v.is_null() {
                doc.insert("decision_date".into(), v);
            }
        }
        for (i, path) in &self.inputs {
            let Some(col) = columns.get(*i) else { continue };
            let v = cell(col.as_ref(), row).map_err(|m| problem(&path.join("."), m))?;
            if !v.is_null() {
                insert(&mut doc, path, v);
            }
        }
        Ok(J::Object(doc))
    }
}

fn source(p: &Program, names: &[&str], path: &str, ty: &Type) -> Source {
    if let Some(i) = names.iter().position(|n| *n == path) {
        return Source::Column(i);
    }
    let prefix = format!("{path}.");
    if let (Type::Record(r), true) = (ty, names.iter().any(|n| n.starts_with(&prefix))) {
        if let Some(info) = p.records.get(*r as usize) {
            return Source::Fields(
                info.fields
                    .iter()
                    .map(|f| source(p, names, &format!("{path}.{}", f.name), &f.ty))
                    .collect(),
            );
        }
    }
    Source::Missing
}

/// A decimal128 value as an exact decimal, trailing zeros dropped first:
/// 181 at scale 28 is 181, though 181 with 28 zeros is too long to hold.
pub(crate) fn exact_decimal(mut v: i128, scale: i8) -> Option<Decimal> {
    let mut scale = i32::from(scale);
    // Held as it is when it fits; else trailing zeros go, eight at a time
    // while they can (each i128 division is costly).
    if (0..=28).contains(&scale) && v.unsigned_abs() < (1u128 << 96) {
        return Decimal::try_from_i128_with_scale(v, u32::try_from(scale).ok()?).ok();
    }
    while scale >= 8 && v % 100_000_000 == 0 && v != 0 {
        v /= 100_000_000;
        scale -= 8;
    }
    while scale > 0 && v % 10 == 0 && v != 0 {
        v /= 10;
        scale -= 1;
    }
    while scale < 0 {
        v = v.checked_mul(10)?;
        scale += 1;
    }
    Decimal::try_from_i128_with_scale(v, u32::try_from(scale).ok()?).ok()
}

fn problem(path: &str, message: String) -> InputError {
    InputError {
        path: path.into(),
        message,
        help: None,
    }
}

fn insert(doc: &mut Map<String, J>, path: &[String], v: J) {
    match path {
        [] => {}
        [last] => {
            doc.insert(last.clone(), v);
        }
        [first, rest @ ..] => {
            let entry = doc
                .entry(first.clone())
                .or_insert_with(|| J::Object(Map::new()));
            if let J::Object(inner) = entry {
                insert(inner, rest, v);
            }
        }
    }
}

/// Why a column of this type cannot be read, if it cannot.
fn unreadable(dt: &DataType) -> Option<String> {
    match dt {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, None) => None,
        DataType::Dictionary(key, value) => {
            if key.is_integer() && matches!(**value, DataType::Utf8 | DataType::LargeUtf8) {
                None
            } else {
                Some(format!("a dictionary of {value} cannot be read"))
            }
        }
        DataType::Struct(fields) => fields.iter().find_map(|f| unreadable(f.data_type())),
        DataType::List(f) | DataType::LargeList(f) => unreadable(f.data_type()),
        DataType::Timestamp(_, Some(_)) => {
            Some("a timestamp with a time zone cannot be read as a date".into())
        }
        other => Some(format!("a column of type {other} cannot be read")),
    }
}

fn number(text: &str) -> Result<J, String> {
    Number::from_str(text)
        .map(J::Number)
        .map_err(|_| format!("{text} is not a number"))
}

/// One cell as the JSON value a case document would hold.
fn cell(a: &dyn Array, row: usize) -> Result<J, String> {
    if a.is_null(row) {
        return Ok(J::Null);
    }
    Ok(match a.data_type() {
        DataType::Null => J::Null,
        DataType::Boolean => J::Bool(a.as_boolean().value(row)),
        DataType::Int8 => J::from(a.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => J::from(a.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => J::from(a.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => J::from(a.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => J::from(a.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => J::from(a.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => J::from(a.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => J::from(a.as_primitive::<UInt64Type>().value(row)),
        // A float is read as the shortest decimal that gives it back, which
        // is the figure that was typed: 1234.56, not 1234.5599999999999.
        DataType::Float32 => float(f64::from(a.as_primitive::<Float32Type>().value(row)))?,
        DataType::Float64 => float(a.as_primitive::<Float64Type>().value(row))?,
        DataType::Decimal128(p, s) => {
            let v = a.as_primitive::<Decimal128Type>().value(row);
            match exact_decimal(v, *s) {
                Some(d) => number(&d.to_string())?,
                None => number(&Decimal128Type::format_decimal(v, *p, *s))?,
            }
        }
        DataType::Utf8 => J::String(a.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => J::String(a.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => J::String(a.as_string_view().value(row).to_string()),
        DataType::Date32 => date(a.as_primitive::<Date32Type>().value_as_date(row))?,
        DataType::Date64 => date(a.as_primitive::<Date64Type>().value_as_date(row))?,
        DataType::Timestamp(unit, None) => {
            let at = match unit {
                TimeUnit::Second => a
                    .as_primitive::<TimestampSecondType>()
                    .value_as_datetime(row),
                TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .value_as_datetime(row),
                TimeUnit::Microsecond => a
                    .as_primitive::<TimestampMicrosecondType>()
                    .value_as_datetime(row),
                TimeUnit::Nanosecond => a
                    .as_primitive::<TimestampNanosecondType>()
                    .value_as_datetime(row),
            };
            match at {
                Some(t) if t.time() == chrono::NaiveTime::MIN => date(Some(t.date()))?,
                Some(t) => {
                    return Err(format!(
                        "{t} has a time of day; a date such as 2021-03-01 was expected"
                    ))
                }
                None => return Err("the timestamp is out of range".into()),
            }
        }
        DataType::Dictionary(key, _) => {
            let (keys, values): (Option<usize>, &ArrayRef) = match **key {
                DataType::Int8 => dict::<Int8Type>(a, row),
                DataType::Int16 => dict::<Int16Type>(a, row),
                DataType::Int32 => dict::<Int32Type>(a, row),
                DataType::Int64 => dict::<Int64Type>(a, row),
                DataType::UInt8 => dict::<UInt8Type>(a, row),
                DataType::UInt16 => dict::<UInt16Type>(a, row),
                DataType::UInt32 => dict::<UInt32Type>(a, row),
                DataType::UInt64 => dict::<UInt64Type>(a, row),
                _ => return Err("a dictionary with keys that are not integers".into()),
            };
            match keys {
                Some(k) if k < values.len() => cell(values.as_ref(), k)?,
                _ => J::Null,
            }
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut map = Map::new();
            for (f, col) in fields.iter().zip(s.columns()) {
                let v = cell(col.as_ref(), row).map_err(|m| format!("{}: {m}", f.name()))?;
                if !v.is_null() {
                    map.insert(f.name().clone(), v);
                }
            }
            J::Object(map)
        }
        DataType::List(_) => list(a.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list(a.as_list::<i64>().value(row))?,
        other => return Err(format!("a column of type {other} cannot be read")),
    })
}

fn dict<K: ArrowDictionaryKeyType>(a: &dyn Array, row: usize) -> (Option<usize>, &ArrayRef) {
    let d = a.as_dictionary::<K>();
    (d.key(row), d.values())
}

fn list(items: ArrayRef) -> Result<J, String> {
    // Refused before its items become JSON, as the decoder would refuse it.
    if items.len() > MAX_LIST_LEN {
        return Err(format!(
            "the list has {} items; at most {MAX_LIST_LEN} are accepted",
            items.len()
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        out.push(cell(items.as_ref(), i).map_err(|m| format!("[{i}]: {m}"))?);
    }
    Ok(J::Array(out))
}

fn float(f: f64) -> Result<J, String> {
    if !f.is_finite() {
        return Err(format!("{f} is not a number that can be decided on"));
    }
    number(&format!("{f}"))
}

fn date(d: Option<chrono::NaiveDate>) -> Result<J, String> {
    d.map(|d| J::String(d.format("%Y-%m-%d").to_string()))
        .ok_or_else(|| "the date is out of range".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use arrow_array::builder::{Int64Builder, ListBuilder};
    use arrow_schema::Field;

    #[test]
    fn a_list_too_long_is_refused_before_it_becomes_json() {
        let checked = rulebook::check::check(
            r#"rulebook test.lists "A list input"
  version 1
  in force from 2020-01-01
  source "a test"

input counts: list of integer

output total: integer = sum(c for c in counts)
"#,
        );
        let p = checked.program.expect("the rulebook checks");
        let mut list = ListBuilder::new(Int64Builder::new());
        list.values().append_slice(&vec![1; MAX_LIST_LEN + 1]);
        list.append(true);
        list.values().append_slice(&[1, 2]);
        list.append(true);
        let column: ArrayRef = std::sync::Arc::new(list.finish());
        let schema = Schema::new(vec![Field::new("counts", column.data_type().clone(), true)]);
        let batch =
            RecordBatch::try_new(std::sync::Arc::new(schema.clone()), vec![column]).unwrap();
        let columns = CaseColumns::new(&schema, &[&p]).unwrap();
        let e = columns.document(&batch, 0).unwrap_err();
        assert_eq!(e.path, "counts");
        assert_eq!(
            e.message,
            format!(
                "the list has {} items; at most {MAX_LIST_LEN} are accepted",
                MAX_LIST_LEN + 1
            )
        );
        assert_eq!(
            columns.document(&batch, 1).unwrap(),
            serde_json::json!({ "counts": [1, 2] })
        );
    }
}
