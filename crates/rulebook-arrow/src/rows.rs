//! Reading the rows of one batch straight into engine values.
//!
//! The columns of a batch are looked at once (their types downcast, the
//! fields of each struct matched to the record's by name) and each row is
//! then read without asking again: a batch of cases with lists of records
//! would otherwise match the same field names for every member of every
//! household. What this path does not read (a null where a value is
//! required, a value out of its bounds, a variant with data, a struct with
//! a field the record lacks) makes the row go through its JSON document,
//! which gives the same decision or says what is wrong.

use crate::cases::{exact_decimal, CaseColumns, Source};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, LargeStringArray, ListArray,
    PrimitiveArray, RecordBatch, StringArray, StringViewArray, StructArray,
};
use arrow_schema::DataType;
use rulebook::cases::input::{fraction_of_percent, MAX_LIST_LEN};
use rulebook::ir::value::{Type, Value};
use rulebook::ir::Program;
use rust_decimal::Decimal;
use std::sync::Arc;

/// The rows of one batch of cases, read for any version.
pub struct BatchReader<'a> {
    columns: &'a CaseColumns,
    batch: &'a RecordBatch,
    date: DateReader<'a>,
    /// Per version (by its address) met so far, a reader per input.
    versions: Vec<(usize, Vec<Reader<'a>>)>,
}

impl<'a> BatchReader<'a> {
    pub fn new(columns: &'a CaseColumns, batch: &'a RecordBatch) -> BatchReader<'a> {
        let date = match columns.decision_date.and_then(|i| batch.columns().get(i)) {
            None => DateReader::None,
            Some(a) => match a.data_type() {
                DataType::Date32 => a
                    .as_primitive_opt::<Date32Type>()
                    .map_or(DateReader::Document, DateReader::Date32),
                _ => Texts::of(a.as_ref()).map_or(DateReader::Document, DateReader::Text),
            },
        };
        BatchReader {
            columns,
            batch,
            date,
            versions: Vec::new(),
        }
    }

    pub fn columns(&self) -> &'a CaseColumns {
        self.columns
    }

    pub fn batch(&self) -> &'a RecordBatch {
        self.batch
    }

    /// The decision date of `row`: `Some(None)` when the row gives none,
    /// `None` when this path cannot read it (the document says why).
    pub fn decision_date(&self, row: usize) -> Option<Option<chrono::NaiveDate>> {
        match &self.date {
            DateReader::None => Some(None),
            DateReader::Document => None,
            DateReader::Date32(a) if a.is_null(row) => Some(None),
            DateReader::Date32(a) => a.value_as_date(row).map(Some),
            DateReader::Text(t) if t.is_null(row) => Some(None),
            DateReader::Text(t) => {
                rulebook::cases::input::parse_date(t.value(row).trim()).map(Some)
            }
        }
    }

    /// The inputs of `row` for version `p`, or `None` when this path does
    /// not read the row.
    pub fn inputs(&mut self, p: &Program, row: usize) -> Option<Vec<Value>> {
        let address = p as *const Program as usize;
        let at = match self.versions.iter().position(|(a, _)| *a == address) {
            Some(at) => at,
            None => {
                let (_, plan) = self.columns.plans.iter().find(|(a, _)| *a == address)?;
                let columns = self.batch.columns();
                let readers = p
                    .inputs
                    .iter()
                    .zip(plan)
                    .map(|(input, src)| from_source(p, columns, src, &input.ty))
                    .collect();
                self.versions.push((address, readers));
                self.versions.len() - 1
            }
        };
        let (_, readers) = self.versions.get(at)?;
        let mut out = Vec::with_capacity(readers.len());
        for (input, reader) in p.inputs.iter().zip(readers) {
            let v = reader.read(p, row)?;
            if let Some(b) = &input.bounds {
                if !b.contains(&v) {
                    return None;
                }
            }
            out.push(v);
        }
        Some(out)
    }
}

enum DateReader<'a> {
    None,
    Date32(&'a Date32Array),
    Text(Texts<'a>),
    Document,
}

/// A column of whole numbers of any width that fits an `i64`.
#[derive(Clone, Copy)]
enum Ints<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
}

impl<'a> Ints<'a> {
    fn of(a: &'a dyn Array) -> Option<Ints<'a>> {
        Some(match a.data_type() {
            DataType::Int8 => Ints::I8(a.as_primitive_opt()?),
            DataType::Int16 => Ints::I16(a.as_primitive_opt()?),
            DataType::Int32 => Ints::I32(a.as_primitive_opt()?),
            DataType::Int64 => Ints::I64(a.as_primitive_opt()?),
            DataType::UInt8 => Ints::U8(a.as_primitive_opt()?),
            DataType::UInt16 => Ints::U16(a.as_primitive_opt()?),
            DataType::UInt32 => Ints::U32(a.as_primitive_opt()?),
            _ => return None,
        })
    }

    fn array(&self) -> &'a dyn Array {
        match *self {
            Ints::I8(a) => a,
            Ints::I16(a) => a,
            Ints::I32(a) => a,
            Ints::I64(a) => a,
            Ints::U8(a) => a,
            Ints::U16(a) => a,
            Ints::U32(a) => a,
        }
    }

    fn value(&self, row: usize) -> i64 {
        match *self {
            Ints::I8(a) => i64::from(a.value(row)),
            Ints::I16(a) => i64::from(a.value(row)),
            Ints::I32(a) => i64::from(a.value(row)),
            Ints::I64(a) => a.value(row),
            Ints::U8(a) => i64::from(a.value(row)),
            Ints::U16(a) => i64::from(a.value(row)),
            Ints::U32(a) => i64::from(a.value(row)),
        }
    }
}

/// A column of texts in any of Arrow's three layouts.
#[derive(Clone, Copy)]
enum Texts<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Texts<'a> {
    fn of(a: &'a dyn Array) -> Option<Texts<'a>> {
        Some(match a.data_type() {
            DataType::Utf8 => Texts::Utf8(a.as_string_opt()?),
            DataType::LargeUtf8 => Texts::Large(a.as_string_opt()?),
            DataType::Utf8View => Texts::View(a.as_string_view_opt()?),
            _ => return None,
        })
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Texts::Utf8(a) => a.is_null(row),
            Texts::Large(a) => a.is_null(row),
            Texts::View(a) => a.is_null(row),
        }
    }

    fn value(&self, row: usize) -> &'a str {
        match self {
            Texts::Utf8(a) => a.value(row),
            Texts::Large(a) => a.value(row),
            Texts::View(a) => a.value(row),
        }
    }
}

/// How to read a value of one type from one column (or, for a record
/// given as one column per field, from several).
enum Reader<'a> {
    /// This path does not read the value; rows go through their document.
    Document,
    /// An optional input without a column.
    Absent,
    /// An optional value: absent where the column is null.
    Optional(&'a dyn Array, Box<Reader<'a>>),
    Bool(&'a BooleanArray),
    Int(Ints<'a>),
    /// A decimal or money amount; `percent` reads percentage points.
    Decimal {
        from: Decimals<'a>,
        percent: bool,
    },
    Text(Texts<'a>),
    Date32(&'a Date32Array),
    DateText(Texts<'a>),
    /// An enum's variant by name (enum `enum_index`).
    Enum(Texts<'a>, u32),
    /// A record from a struct column, its fields in the record's order.
    Struct(&'a StructArray, u32, Vec<Reader<'a>>),
    /// A record from one column per field.
    Fields(u32, Vec<Reader<'a>>),
    List(&'a ListArray, Box<Reader<'a>>),
}

#[derive(Clone, Copy)]
enum Decimals<'a> {
    Decimal128(&'a Decimal128Array, i8),
    Ints(Ints<'a>),
}

impl Decimals<'_> {
    fn is_null(&self, row: usize) -> bool {
        match self {
            Decimals::Decimal128(a, _) => a.is_null(row),
            Decimals::Ints(i) => i.array().is_null(row),
        }
    }

    fn value(&self, row: usize) -> Option<Decimal> {
        match self {
            Decimals::Decimal128(a, s) => exact_decimal(a.value(row), *s),
            Decimals::Ints(i) => Some(Decimal::from(i.value(row))),
        }
    }
}

fn from_source<'a>(p: &Program, columns: &'a [ArrayRef], src: &Source, ty: &Type) -> Reader<'a> {
    match src {
        Source::Column(i) => match columns.get(*i) {
            Some(a) => compile(p, a.as_ref(), ty),
            None => Reader::Document,
        },
        Source::Missing if matches!(ty, Type::Optional(_)) => Reader::Absent,
        Source::Missing => Reader::Document,
        Source::Fields(fields) => {
            let Type::Record(r) = ty else {
                return Reader::Document;
            };
            let Some(info) = p.records.get(*r as usize) else {
                return Reader::Document;
            };
            Reader::Fields(
                *r,
                info.fields
                    .iter()
                    .zip(fields)
                    .map(|(f, src)| from_source(p, columns, src, &f.ty))
                    .collect(),
            )
        }
    }
}

/// The reader of values of `ty` in the column `a`.
fn compile<'a>(p: &Program, a: &'a dyn Array, ty: &Type) -> Reader<'a> {
    let read = || -> Option<Reader<'a>> {
        Some(match ty {
            Type::Optional(inner) => Reader::Optional(a, Box::new(compile(p, a, inner))),
            Type::Bool => Reader::Bool(a.as_boolean_opt()?),
            Type::Integer => Reader::Int(Ints::of(a)?),
            Type::Decimal | Type::Money | Type::Percent => Reader::Decimal {
                from: match a.data_type() {
                    DataType::Decimal128(_, s) => Decimals::Decimal128(a.as_primitive_opt()?, *s),
                    _ => Decimals::Ints(Ints::of(a)?),
                },
                percent: *ty == Type::Percent,
            },
            Type::Text => Reader::Text(Texts::of(a)?),
            Type::Date => match a.data_type() {
                DataType::Date32 => Reader::Date32(a.as_primitive_opt()?),
                _ => Reader::DateText(Texts::of(a)?),
            },
            Type::Enum(e) => {
                let info = p.enums.get(*e as usize)?;
                // A variant with data comes as a record; the document reads it.
                if info.data.iter().any(Option::is_some) {
                    return None;
                }
                Reader::Enum(Texts::of(a)?, *e)
            }
            Type::Record(r) => {
                let s = a.as_struct_opt()?;
                let DataType::Struct(columns) = a.data_type() else {
                    return None;
                };
                let info = p.records.get(*r as usize)?;
                // A field the record does not have is an error to report.
                if columns
                    .iter()
                    .any(|c| !info.fields.iter().any(|f| f.name == *c.name()))
                {
                    return None;
                }
                let fields = info
                    .fields
                    .iter()
                    .map(|f| match columns.iter().position(|c| *c.name() == f.name) {
                        Some(i) => compile(p, s.column(i).as_ref(), &f.ty),
                        None if matches!(f.ty, Type::Optional(_)) => Reader::Absent,
                        None => Reader::Document,
                    })
                    .collect();
                Reader::Struct(s, *r, fields)
            }
            Type::List(elem) => {
                let l = a.as_list_opt::<i32>()?;
                Reader::List(l, Box::new(compile(p, l.values().as_ref(), elem)))
            }
            Type::Duration | Type::Error => return None,
        })
    };
    read().unwrap_or(Reader::Document)
}

impl Reader<'_> {
    /// The value at `row`, or `None` when this path does not read it.
    fn read(&self, p: &Program, row: usize) -> Option<Value> {
        Some(match self {
            Reader::Document => return None,
            Reader::Absent => Value::Absent,
            Reader::Optional(a, inner) => {
                if a.is_null(row) {
                    Value::Absent
                } else {
                    inner.read(p, row)?
                }
            }
            Reader::Bool(a) => Value::Bool(a.is_valid(row).then(|| a.value(row))?),
            Reader::Int(i) => Value::Int(i.array().is_valid(row).then(|| i.value(row))?),
            Reader::Decimal { from, percent } => {
                if from.is_null(row) {
                    return None;
                }
                let d = from.value(row)?;
                Value::Num(if *percent { fraction_of_percent(d)? } else { d })
            }
            Reader::Text(t) => {
                if t.is_null(row) {
                    return None;
                }
                Value::Text(Arc::from(t.value(row)))
            }
            Reader::Date32(a) => Value::Date(a.is_valid(row).then(|| a.value_as_date(row))??),
            Reader::DateText(t) => {
                if t.is_null(row) {
                    return None;
                }
                Value::Date(rulebook::cases::input::parse_date(t.value(row).trim())?)
            }
            Reader::Enum(t, e) => {
                if t.is_null(row) {
                    return None;
                }
                let name = t.value(row);
                let i = p
                    .enums
                    .get(*e as usize)?
                    .variants
                    .iter()
                    .position(|v| v == name)?;
                Value::Enum(u32::try_from(i).ok()?)
            }
            Reader::Struct(s, r, fields) => {
                if s.is_null(row) {
                    return None;
                }
                record(p, *r, fields, row)?
            }
            Reader::Fields(r, fields) => record(p, *r, fields, row)?,
            Reader::List(l, item) => {
                if l.is_null(row) {
                    return None;
                }
                let o = l.value_offsets();
                let start = usize::try_from(*o.get(row)?).ok()?;
                let end = usize::try_from(*o.get(row + 1)?).ok()?;
                if end.saturating_sub(start) > MAX_LIST_LEN {
                    return None;
                }
                let mut out = Vec::with_capacity(end.saturating_sub(start));
                for i in start..end {
                    out.push(item.read(p, i)?);
                }
                Value::List(Arc::from(out))
            }
        })
    }
}

/// A record of record type `r` whose fields `fields` read.
fn record(p: &Program, r: u32, fields: &[Reader<'_>], row: usize) -> Option<Value> {
    let info = p.records.get(r as usize)?;
    let mut out = Vec::with_capacity(fields.len());
    for (f, reader) in info.fields.iter().zip(fields) {
        let v = reader.read(p, row)?;
        if let Some(b) = &f.bounds {
            if !b.contains(&v) {
                return None;
            }
        }
        out.push(v);
    }
    Some(Value::Record(Arc::from(out)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! The column reader against the JSON decoder: every row it reads must
    //! give the inputs the decoder gives from the row's document, and every
    //! row it leaves to the document must be one the decoder refuses or
    //! reads in a shape this path does not.
    use super::*;
    use crate::CaseColumns;
    use arrow_array::builder::{
        Date32Builder, Decimal128Builder, ListBuilder, StringBuilder, StructBuilder,
    };
    use arrow_array::{BooleanArray, Date32Array, Decimal128Array, Int32Array, Int64Array};
    use arrow_schema::{Field, Fields, Schema};

    const RULEBOOK: &str = r#"rulebook test.columns "Every input shape the column reader reads"
  version 1
  in force from 2020-01-01
  source "a test"

enum Kind { a, b }

record Member {
  kind: Kind
  born: date
  pay: money 0 € or more
  note: optional text
}

input case {
  members: list of Member
  share: percent
  size: integer 1 or more
  area: decimal
  nick: optional text
  flag: bool
}

output total: money = sum(m.pay for m in case.members)
"#;

    fn member_fields() -> Fields {
        Fields::from(vec![
            Field::new("kind", DataType::Utf8, true),
            Field::new("born", DataType::Date32, true),
            Field::new("pay", DataType::Decimal128(12, 2), true),
            Field::new("note", DataType::Utf8, true),
        ])
    }

    /// Members per row: (kind, pay in cents or null).
    fn members(rows: &[Vec<(&str, Option<i128>)>]) -> ArrayRef {
        let builders: Vec<Box<dyn arrow_array::builder::ArrayBuilder>> = vec![
            Box::new(StringBuilder::new()),
            Box::new(Date32Builder::new()),
            Box::new(
                Decimal128Builder::new()
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ),
            Box::new(StringBuilder::new()),
        ];
        let mut list = ListBuilder::new(StructBuilder::new(member_fields(), builders));
        for row in rows {
            for (kind, pay) in row {
                let s = list.values();
                s.field_builder::<StringBuilder>(0)
                    .unwrap()
                    .append_value(kind);
                s.field_builder::<Date32Builder>(1)
                    .unwrap()
                    .append_value(7000);
                s.field_builder::<Decimal128Builder>(2)
                    .unwrap()
                    .append_option(*pay);
                s.field_builder::<StringBuilder>(3).unwrap().append_null();
                s.append(true);
            }
            list.append(true);
        }
        Arc::new(list.finish())
    }

    #[test]
    fn rows_read_from_columns_are_the_rows_the_decoder_reads() {
        let checked = rulebook::check::check(RULEBOOK);
        let p = checked.program.expect("the rulebook checks");
        let member_rows = vec![
            vec![("a", Some(123_456)), ("b", Some(0))],
            vec![],
            vec![("a", Some(100))],
            vec![("a", None)],
            vec![("c", Some(100))],
            vec![("b", Some(-1))],
        ];
        let n = member_rows.len();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from(vec![Some(18_500); n])),
            members(&member_rows),
            Arc::new(
                Decimal128Array::from(vec![355, 1000, 0, 5, 5, 5])
                    .with_precision_and_scale(5, 1)
                    .unwrap(),
            ),
            Arc::new(Int32Array::from(vec![1, 2, 0, 1, 1, 1])),
            Arc::new(Int64Array::from(vec![181, 0, 1, 1, 1, 1])),
            Arc::new(arrow_array::StringArray::from(vec![
                Some("x"),
                None,
                Some("y"),
                None,
                None,
                None,
            ])),
            Arc::new(BooleanArray::from(vec![
                true, false, true, true, true, true,
            ])),
        ];
        let schema = Arc::new(Schema::new(vec![
            Field::new("decision_date", DataType::Date32, true),
            Field::new("case.members", columns[1].data_type().clone(), true),
            Field::new("case.share", DataType::Decimal128(5, 1), true),
            Field::new("case.size", DataType::Int32, true),
            Field::new("case.area", DataType::Int64, true),
            Field::new("case.nick", DataType::Utf8, true),
            Field::new("case.flag", DataType::Boolean, true),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let case_columns = CaseColumns::new(&schema, &[&p]).unwrap();
        let mut rows = BatchReader::new(&case_columns, &batch);
        let mut read = Vec::new();
        for row in 0..n {
            let fast = rows.inputs(&p, row);
            let doc = case_columns.document(&batch, row).unwrap();
            let decoded = rulebook::cases::input::decode_case(&p, &doc, None);
            match (&fast, &decoded) {
                (Some(inputs), Ok(case)) => assert_eq!(inputs, &case.inputs, "row {row}"),
                (None, Err(_)) => {}
                _ => panic!("row {row}: the reader gives {fast:?}, the decoder {decoded:?}"),
            }
            read.push(fast.is_some());
        }
        // Size 0 is below its bound, a member's pay is missing, a kind is
        // not a variant, a pay is below 0: those go to the decoder, which
        // says what is wrong.
        assert_eq!(read, vec![true, true, false, false, false, false]);
        assert_eq!(
            rows.decision_date(0),
            Some(chrono::NaiveDate::from_ymd_opt(2020, 8, 26))
        );
        // Percent columns are in points: 35.5 is 0.355.
        let first = rows.inputs(&p, 0).unwrap();
        let Value::Record(fields) = &first[0] else {
            panic!("a record: {first:?}")
        };
        assert_eq!(fields[1], Value::Num(Decimal::new(355, 3)));
        assert_eq!(fields[4], Value::Text(Arc::from("x")));
        // A null optional text is absent.
        let second = rows.inputs(&p, 1).unwrap();
        let Value::Record(fields) = &second[0] else {
            panic!("a record: {second:?}")
        };
        assert_eq!(fields[4], Value::Absent);
    }
}
