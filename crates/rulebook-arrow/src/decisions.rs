//! Decisions as an Arrow record batch: one row per case, in the cases'
//! order, with typed columns.
//!
//! | column | Arrow type |
//! | --- | --- |
//! | `id` (when the cases have one) | as in the cases |
//! | `decision_date` | date32 |
//! | `version` | utf8 |
//! | `eligible` | boolean |
//! | one per output | by its type, below |
//! | `failed_criteria` | list of utf8 |
//! | `error` | utf8: the JSON error of a case that was not decided |
//!
//! Output types: `money` is decimal128(18, 2), whole cents (decimal128(38,
//! 28) for a money output `rulebook check` warns is never rounded,
//! `unrounded-money`); `decimal` is decimal128(38, 28), which holds every
//! exact decimal the engine computes below ten billion; `percent` is
//! decimal128(38, 28) in percentage points (35 % is 35); `integer` int64; `bool` boolean; `date` date32; `text`,
//! `duration` and enums utf8 (a variant with data as its JSON); records are
//! structs and lists are lists. A value that does not fit its column
//! exactly (ten billion or more with decimal places, or an amount in a
//! record with fractions of a cent) makes the row an error rather than being rounded.

use arrow_array::builder::{ArrayBuilder, BooleanBuilder, StringBuilder};
use arrow_array::{
    new_null_array, Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array,
    ListArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use rulebook::cases::batch::{jsonl_record, Decided, Outcome};
use rulebook::ir::value::{format_duration, Type, Value};
use rulebook::ir::Program;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Scale of `money` columns: whole cents.
pub const MONEY_SCALE: i8 = 2;
/// Scale of `decimal` and `percent` columns.
pub const DECIMAL_SCALE: i8 = 28;
const PRECISION: u8 = 38;
/// Precision of `money` columns: 16 digits of euros, stored by Parquet as
/// 64-bit integers, which are far quicker to write and read than the
/// 16-byte values of precision 38.
pub const MONEY_PRECISION: u8 = 18;

/// 10^i for i up to 38.
const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The Arrow type of values of `ty` in `p`.
pub fn arrow_type(p: &Program, ty: &Type) -> DataType {
    match ty {
        Type::Bool => DataType::Boolean,
        Type::Integer => DataType::Int64,
        Type::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
        Type::Decimal | Type::Percent => DataType::Decimal128(PRECISION, DECIMAL_SCALE),
        Type::Text | Type::Duration | Type::Enum(_) => DataType::Utf8,
        Type::Date => DataType::Date32,
        Type::Record(r) => DataType::Struct(record_fields(p, *r)),
        Type::List(t) => DataType::List(Arc::new(Field::new("item", arrow_type(p, t), true))),
        Type::Optional(t) => arrow_type(p, t),
        Type::Error => DataType::Null,
    }
}

/// The Arrow type of an output: money nothing rounds to whole cents gets
/// the decimal places of `decimal`, so that no digit is lost.
fn output_type(p: &Program, slot: u32, ty: &Type) -> DataType {
    if *ty == Type::Money && p.unrounded_outputs.contains(&slot) {
        DataType::Decimal128(PRECISION, DECIMAL_SCALE)
    } else {
        arrow_type(p, ty)
    }
}

fn record_fields(p: &Program, r: u32) -> Fields {
    p.records
        .get(r as usize)
        .map(|info| {
            info.fields
                .iter()
                .map(|f| Field::new(&f.name, arrow_type(p, &f.ty), true))
                .collect()
        })
        .unwrap_or_default()
}

/// For each definition slot of a version that is an output: its column and
/// whether its type gives the column's.
type Layout = Vec<Option<(usize, bool)>>;

/// One output column: its name and, per version, the output's slot and type.
struct OutputColumn {
    name: String,
    data_type: DataType,
}

/// The schema of decisions of some versions, and how to fill it.
pub struct DecisionSchema {
    schema: SchemaRef,
    id: Option<FieldRef>,
    outputs: Vec<OutputColumn>,
}

impl DecisionSchema {
    /// `programs`: the versions, oldest first; an output's column type is
    /// its type in the newest version that has it. `id`: the cases' `id`
    /// column, passed through.
    pub fn new(programs: &[&Program], id: Option<FieldRef>) -> DecisionSchema {
        let mut outputs: Vec<OutputColumn> = Vec::new();
        for p in programs.iter().rev() {
            for &o in &p.outputs {
                let Some(def) = p.defs.get(o as usize) else {
                    continue;
                };
                if !outputs.iter().any(|c| c.name == def.name) {
                    outputs.push(OutputColumn {
                        name: def.name.clone(),
                        data_type: output_type(p, o, &def.ty),
                    });
                }
            }
        }
        // The newest version's order, then older versions' extra outputs.
        let mut fields: Vec<FieldRef> = Vec::new();
        if let Some(f) = &id {
            fields.push(Arc::new(f.as_ref().clone().with_nullable(true)));
        }
        fields.push(Arc::new(Field::new(
            "decision_date",
            DataType::Date32,
            true,
        )));
        fields.push(Arc::new(Field::new("version", DataType::Utf8, true)));
        fields.push(Arc::new(Field::new("eligible", DataType::Boolean, true)));
        for o in &outputs {
            fields.push(Arc::new(Field::new(&o.name, o.data_type.clone(), true)));
        }
        fields.push(Arc::new(Field::new(
            "failed_criteria",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        )));
        fields.push(Arc::new(Field::new("error", DataType::Utf8, true)));
        DecisionSchema {
            schema: Arc::new(Schema::new(fields)),
            id,
            outputs,
        }
    }

    /// For each output of `p`: its slot, its column and whether its type
    /// gives the column's Arrow type.
    fn layout(&self, p: &Program) -> Layout {
        let mut layout = vec![None; p.defs.len()];
        for &slot in &p.outputs {
            let Some(def) = p.defs.get(slot as usize) else {
                continue;
            };
            let Some(c) = self.outputs.iter().position(|o| o.name == def.name) else {
                continue;
            };
            let same = self
                .outputs
                .get(c)
                .is_some_and(|o| output_type(p, slot, &def.ty) == o.data_type);
            if let Some(at) = layout.get_mut(slot as usize) {
                *at = Some((c, same));
            }
        }
        layout
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The decisions of one batch of cases as a record batch, and how many
    /// decided cases became errors because an output did not fit its
    /// column. `rows` are the cases' row numbers (for error messages);
    /// `id` is the cases' `id` column, of the same length as `decided`.
    pub fn batch(
        &self,
        decided: &[Decided<'_>],
        rows: &[u64],
        id: Option<ArrayRef>,
    ) -> Result<(RecordBatch, u64), ArrowError> {
        let n = decided.len();
        // Rows whose outputs do not fit their columns become errors.
        let mut misfit: Vec<Option<String>> = vec![None; n];
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        // Per output column, its cells; a top-level decimal column keeps
        // its scaled integers, computed once while checking they fit.
        let mut values: Vec<Cells<'_>> = self
            .outputs
            .iter()
            .map(|o| match o.data_type {
                DataType::Decimal128(p, s) => Cells::Decimal(vec![None; n], p, s),
                _ => Cells::Any(vec![None; n]),
            })
            .collect();
        // Per version met in this batch, the column of each output slot
        // and whether its type is the column's.
        let mut layouts: Vec<(usize, Layout)> = Vec::new();
        for (r, d) in decided.iter().enumerate() {
            let Outcome::Decided {
                program, decision, ..
            } = &d.outcome
            else {
                continue;
            };
            let address = *program as *const Program as usize;
            let layout = match layouts.iter().position(|(a, _)| *a == address) {
                Some(i) => &layouts[i].1,
                None => {
                    layouts.push((address, self.layout(program)));
                    &layouts[layouts.len() - 1].1
                }
            };
            for (slot, v) in &decision.outputs {
                let Some(&Some((c, same_type))) = layout.get(*slot as usize) else {
                    continue;
                };
                let (Some(def), Some(col), Some(cells)) = (
                    program.defs.get(*slot as usize),
                    self.outputs.get(c),
                    values.get_mut(c),
                ) else {
                    continue;
                };
                let cell = Cell {
                    program,
                    value: v,
                    ty: &def.ty,
                };
                let fit = if !same_type {
                    Err(format!(
                        "its type in version {} differs from the newest version's",
                        program.version
                    ))
                } else {
                    cells.set(r, cell, &col.data_type)
                };
                if let Err(why) = fit {
                    misfit[r].get_or_insert(format!("output `{}`: {why}", col.name));
                }
            }
        }
        let decided_row = |r: usize| misfit[r].is_none();
        if let Some(f) = &self.id {
            columns.push(match id {
                Some(a) if a.len() == n => a,
                _ => new_null_array(f.data_type(), n),
            });
        }
        let mut dates = Vec::with_capacity(n);
        let mut versions = StringBuilder::new();
        let mut eligible = BooleanBuilder::with_capacity(n);
        let mut failed_offsets = vec![0i32];
        let mut failed_names = StringBuilder::new();
        let mut failed_valid = Vec::with_capacity(n);
        let mut errors = StringBuilder::new();
        for (r, d) in decided.iter().enumerate() {
            match (&d.outcome, decided_row(r)) {
                (
                    Outcome::Decided {
                        program,
                        case,
                        decision,
                    },
                    true,
                ) => {
                    dates.push(Some(days(case.decision_date)));
                    versions.append_value(&program.version);
                    eligible.append_value(decision.eligible);
                    for c in &decision.failed_criteria {
                        failed_names.append_value(&c.criterion);
                    }
                    failed_valid.push(true);
                    errors.append_null();
                }
                _ => {
                    dates.push(None);
                    versions.append_null();
                    eligible.append_null();
                    failed_valid.push(false);
                    let line = rows.get(r).copied().unwrap_or(r as u64 + 1);
                    let text = match &misfit[r] {
                        Some(why) => serde_json::json!({
                            "kind": "output",
                            "message": why,
                            "help": "round the amount in the rulebook (`rounded to cents`), or write JSON Lines, which keep every digit",
                        })
                        .to_string(),
                        None => jsonl_record(line, d)
                            .get("error")
                            .map(|e| e.to_string())
                            .unwrap_or_default(),
                    };
                    errors.append_value(text);
                }
            }
            failed_offsets.push(i32::try_from(failed_names.len()).unwrap_or(i32::MAX));
        }
        columns.push(Arc::new(Date32Array::from(dates)));
        columns.push(Arc::new(versions.finish()));
        columns.push(Arc::new(eligible.finish()));
        for (col, cells) in self.outputs.iter().zip(values) {
            columns.push(match cells {
                Cells::Decimal(scaled, p, s) => Arc::new(
                    Decimal128Array::from(
                        scaled
                            .into_iter()
                            .enumerate()
                            .map(|(r, v)| v.filter(|_| decided_row(r)))
                            .collect::<Vec<_>>(),
                    )
                    .with_precision_and_scale(p, s)?,
                ),
                Cells::Any(cells) => {
                    let cells: Vec<Option<Cell<'_>>> = cells
                        .into_iter()
                        .enumerate()
                        .map(|(r, v)| v.filter(|_| decided_row(r)))
                        .collect();
                    build(&col.data_type, &cells)?
                }
            });
        }
        columns.push(Arc::new(ListArray::try_new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            OffsetBuffer::new(ScalarBuffer::from(failed_offsets)),
            Arc::new(failed_names.finish()),
            Some(NullBuffer::from(failed_valid)),
        )?));
        columns.push(Arc::new(errors.finish()));
        let misfits = misfit.iter().filter(|m| m.is_some()).count() as u64;
        Ok((RecordBatch::try_new(self.schema.clone(), columns)?, misfits))
    }
}

/// The cells of one output column, a row at a time.
enum Cells<'a> {
    /// decimal128(p, s): each value scaled to an integer.
    Decimal(Vec<Option<i128>>, u8, i8),
    Any(Vec<Option<Cell<'a>>>),
}

impl<'a> Cells<'a> {
    /// Puts `cell` in row `r` when it fits the column `dt` exactly.
    fn set(&mut self, r: usize, cell: Cell<'a>, dt: &DataType) -> Result<(), String> {
        match self {
            Cells::Decimal(v, p, s) => {
                let scaled = decimal_cell(&cell, *p, *s)?;
                if let Some(at) = v.get_mut(r) {
                    *at = scaled;
                }
            }
            Cells::Any(v) => {
                fits(&cell, dt)?;
                if let Some(at) = v.get_mut(r) {
                    *at = Some(cell);
                }
            }
        }
        Ok(())
    }
}

/// Days since 1970-01-01, as date32 holds a date.
fn days(d: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(chrono::NaiveDate::MIN);
    i32::try_from(d.signed_duration_since(epoch).num_days()).unwrap_or(i32::MAX)
}

/// A value with the program and type that say how to read it.
#[derive(Clone, Copy)]
struct Cell<'a> {
    program: &'a Program,
    value: &'a Value,
    ty: &'a Type,
}

impl<'a> Cell<'a> {
    fn with(&self, value: &'a Value, ty: &'a Type) -> Cell<'a> {
        Cell {
            program: self.program,
            value,
            ty,
        }
    }
    /// The type without `optional`, or `None` for an absent value.
    fn present(self) -> Option<Cell<'a>> {
        if matches!(self.value, Value::Absent) {
            return None;
        }
        let mut ty = self.ty;
        while let Type::Optional(t) = ty {
            ty = t;
        }
        Some(Cell { ty, ..self })
    }
}

/// The exact i128 of `d` at `scale` in `precision` digits, or `None` when
/// it would need rounding or does not fit.
fn scaled(d: Decimal, precision: u8, scale: i8) -> Option<i128> {
    let target = u32::try_from(scale).ok()?;
    let mut m = d.mantissa();
    let s = d.scale();
    if s > target {
        // Only trailing zeros may go.
        let drop = *POW10.get((s - target) as usize)?;
        if m % drop != 0 {
            return None;
        }
        m /= drop;
    } else if s < target {
        m = m.checked_mul(*POW10.get((target - s) as usize)?)?;
    }
    (m.unsigned_abs() < POW10.get(usize::from(precision))?.unsigned_abs()).then_some(m)
}

fn decimal_of(cell: &Cell<'_>) -> Option<Decimal> {
    let d = cell.value.as_decimal()?;
    if *cell.ty == Type::Percent {
        d.checked_mul(Decimal::ONE_HUNDRED)
    } else {
        Some(d)
    }
}

/// A value as the integer a decimal128(`precision`, `scale`) column holds:
/// `None` when it is absent, an error when it is not a number or does not
/// fit exactly.
fn decimal_cell(cell: &Cell<'_>, precision: u8, scale: i8) -> Result<Option<i128>, String> {
    let Some(cell) = cell.present() else {
        return Ok(None);
    };
    let d = decimal_of(&cell).ok_or("not a number")?;
    scaled(d, precision, scale)
        .map(Some)
        .ok_or_else(|| format!("{d} does not fit decimal128({precision}, {scale}) exactly"))
}

/// Whether a value can be written to a column of `dt` exactly.
fn fits(cell: &Cell<'_>, dt: &DataType) -> Result<(), String> {
    let Some(cell) = cell.present() else {
        return Ok(());
    };
    match (cell.value, dt) {
        (_, DataType::Decimal128(precision, scale)) => {
            decimal_cell(&cell, *precision, *scale).map(|_| ())
        }
        (Value::Record(fields), DataType::Struct(_))
        | (Value::Tagged(_, fields), DataType::Struct(_)) => {
            let Type::Record(r) = cell.ty else {
                return Ok(());
            };
            let types = cell.program.field_types(*r);
            let DataType::Struct(arrow_fields) = dt else {
                return Ok(());
            };
            for ((v, t), f) in fields.iter().zip(&types).zip(arrow_fields.iter()) {
                fits(&cell.with(v, t), f.data_type()).map_err(|e| format!("{}: {e}", f.name()))?;
            }
            Ok(())
        }
        (Value::List(items), DataType::List(f)) => {
            let Type::List(t) = cell.ty else {
                return Ok(());
            };
            for (i, v) in items.iter().enumerate() {
                fits(&cell.with(v, t), f.data_type()).map_err(|e| format!("[{i}]: {e}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// An array of `dt` from cells that [`fits`] accepted.
fn build(dt: &DataType, cells: &[Option<Cell<'_>>]) -> Result<ArrayRef, ArrowError> {
    let present: Vec<Option<Cell<'_>>> = cells.iter().map(|c| c.and_then(Cell::present)).collect();
    Ok(match dt {
        DataType::Boolean => Arc::new(BooleanArray::from(
            present
                .iter()
                .map(|c| c.and_then(|c| c.value.as_bool()))
                .collect::<Vec<_>>(),
        )),
        DataType::Int64 => Arc::new(Int64Array::from(
            present
                .iter()
                .map(|c| match c.map(|c| c.value) {
                    Some(Value::Int(i)) => Some(*i),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        DataType::Decimal128(p, s) => Arc::new(
            Decimal128Array::from(
                present
                    .iter()
                    .map(|c| c.and_then(|c| decimal_cell(&c, *p, *s).ok().flatten()))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(*p, *s)?,
        ),
        DataType::Date32 => Arc::new(Date32Array::from(
            present
                .iter()
                .map(|c| match c.map(|c| c.value) {
                    Some(Value::Date(d)) => Some(days(*d)),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        DataType::Utf8 => Arc::new(
            present
                .iter()
                .map(|c| c.map(|c| text(&c)))
                .collect::<StringArray>(),
        ),
        DataType::Struct(fields) => {
            let mut children = Vec::with_capacity(fields.len());
            for (i, f) in fields.iter().enumerate() {
                let child: Vec<Option<Cell<'_>>> = present
                    .iter()
                    .map(|c| {
                        let c = (*c)?;
                        let (Value::Record(values), Type::Record(r)) = (c.value, c.ty) else {
                            return None;
                        };
                        let ty = c
                            .program
                            .records
                            .get(*r as usize)?
                            .fields
                            .get(i)
                            .map(|f| &f.ty)?;
                        Some(c.with(values.get(i)?, ty))
                    })
                    .collect();
                children.push(build(f.data_type(), &child)?);
            }
            let valid = NullBuffer::from(present.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(StructArray::try_new(fields.clone(), children, Some(valid))?)
        }
        DataType::List(f) => {
            let mut offsets = vec![0i32];
            let mut items: Vec<Option<Cell<'_>>> = Vec::new();
            for c in &present {
                if let Some(c) = c {
                    if let (Value::List(values), Type::List(t)) = (c.value, c.ty) {
                        items.extend(values.iter().map(|v| Some(c.with(v, t))));
                    }
                }
                offsets.push(i32::try_from(items.len()).map_err(|_| {
                    ArrowError::ComputeError("a list column longer than 2^31 items".into())
                })?);
            }
            let child = build(f.data_type(), &items)?;
            let valid = NullBuffer::from(present.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(ListArray::try_new(
                f.clone(),
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                child,
                Some(valid),
            )?)
        }
        other => new_null_array(other, cells.len()),
    })
}

/// A value written as text: a text itself, a variant's name, a duration
/// as `rulebook eval` writes it, a variant with data as its JSON.
fn text(c: &Cell<'_>) -> String {
    match c.value {
        Value::Text(t) => t.to_string(),
        Value::Duration(d) => format_duration(*d),
        _ => match c.program.to_json(c.value, c.ty) {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        },
    }
}

/// The Arrow schema of cases of `p`: `id` (text) when `with_id`,
/// `decision_date`, and one column per input, typed as decisions are.
pub fn case_schema(p: &Program, with_id: bool) -> SchemaRef {
    let mut fields = Vec::new();
    if with_id {
        fields.push(Field::new("id", DataType::Utf8, true));
    }
    fields.push(Field::new("decision_date", DataType::Date32, true));
    for i in &p.inputs {
        fields.push(Field::new(&i.name, arrow_type(p, &i.ty), true));
    }
    Arc::new(Schema::new(fields))
}

/// Decoded cases as a record batch of [`case_schema`]. A value that does
/// not fit its column exactly (an amount with fractions of a cent) is an
/// error naming the case's position and the input.
pub fn cases_batch(
    p: &Program,
    cases: &[(Option<String>, &rulebook::eval::Case)],
    with_id: bool,
) -> Result<RecordBatch, String> {
    let schema = case_schema(p, with_id);
    let mut columns: Vec<ArrayRef> = Vec::new();
    if with_id {
        columns.push(Arc::new(
            cases
                .iter()
                .map(|(id, _)| id.clone())
                .collect::<StringArray>(),
        ));
    }
    columns.push(Arc::new(Date32Array::from(
        cases
            .iter()
            .map(|(_, c)| Some(days(c.decision_date)))
            .collect::<Vec<_>>(),
    )));
    for (n, input) in p.inputs.iter().enumerate() {
        let dt = arrow_type(p, &input.ty);
        let mut cells = Vec::with_capacity(cases.len());
        for (k, (_, case)) in cases.iter().enumerate() {
            let cell = case.inputs.get(n).map(|v| Cell {
                program: p,
                value: v,
                ty: &input.ty,
            });
            if let Some(c) = &cell {
                fits(c, &dt).map_err(|e| format!("case {}: {}: {e}", k + 1, input.name))?;
            }
            cells.push(cell);
        }
        columns.push(build(&dt, &cells).map_err(|e| e.to_string())?);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_are_scaled_exactly_or_refused() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(scaled(d("12.3"), 18, 2), Some(1230));
        assert_eq!(scaled(d("12.300"), 18, 2), Some(1230));
        assert_eq!(scaled(d("-0.01"), 18, 2), Some(-1));
        // A fraction of a cent is not rounded away.
        assert_eq!(scaled(d("12.345"), 18, 2), None);
        // Sixteen digits of euros fit money's decimal128(18, 2), seventeen do not.
        assert_eq!(
            scaled(d("9999999999999999.99"), 18, 2),
            Some(999999999999999999)
        );
        assert_eq!(scaled(d("10000000000000000"), 18, 2), None);
        // 38 digits is the most decimal128(38, _) holds.
        assert_eq!(scaled(d("79228162514264337593543950335"), 38, 28), None);
        assert_eq!(
            scaled(d("2062.1590666666666666666666667"), 38, 28),
            Some(20621590666666666666666666667000)
        );
        assert_eq!(
            scaled(d("79228162514264337593543950335"), 38, 2),
            Some(7922816251426433759354395033500)
        );
    }
}
