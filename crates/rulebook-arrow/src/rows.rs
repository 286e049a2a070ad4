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
use rulebook::ir::{Bounds, Program};
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
            Some(a) => Dates::of(a.as_ref()).map_or(DateReader::Document, DateReader::Dates),
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
            DateReader::Dates(d) if d.is_null(row) => Some(None),
            DateReader::Dates(d) => d.value(row).map(Some),
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
            out.push(reader.read_within(p, row, input.bounds.as_ref())?);
        }
        Some(out)
    }
}

enum DateReader<'a> {
    None,
    Dates(Dates<'a>),
    Document,
}

/// A column of dates: date32, date64, a timestamp without a time zone (as
/// pandas writes dates) or texts such as `2021-03-01`.
#[derive(Clone)]
enum Dates<'a> {
    Date32(&'a Date32Array),
    Date64(&'a PrimitiveArray<Date64Type>),
    Seconds(&'a PrimitiveArray<TimestampSecondType>),
    Millis(&'a PrimitiveArray<TimestampMillisecondType>),
    Micros(&'a PrimitiveArray<TimestampMicrosecondType>),
    Nanos(&'a PrimitiveArray<TimestampNanosecondType>),
    Text(Texts<'a>),
}

impl<'a> Dates<'a> {
    fn of(a: &'a dyn Array) -> Option<Dates<'a>> {
        use arrow_schema::TimeUnit;
        Some(match a.data_type() {
            DataType::Date32 => Dates::Date32(a.as_primitive_opt()?),
            DataType::Date64 => Dates::Date64(a.as_primitive_opt()?),
            DataType::Timestamp(TimeUnit::Second, None) => Dates::Seconds(a.as_primitive_opt()?),
            DataType::Timestamp(TimeUnit::Millisecond, None) => {
                Dates::Millis(a.as_primitive_opt()?)
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                Dates::Micros(a.as_primitive_opt()?)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, None) => Dates::Nanos(a.as_primitive_opt()?),
            _ => Dates::Text(Texts::of(a)?),
        })
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Dates::Date32(a) => a.is_null(row),
            Dates::Date64(a) => a.is_null(row),
            Dates::Seconds(a) => a.is_null(row),
            Dates::Millis(a) => a.is_null(row),
            Dates::Micros(a) => a.is_null(row),
            Dates::Nanos(a) => a.is_null(row),
            Dates::Text(t) => t.is_null(row),
        }
    }

    /// The date at `row`; `None` for a time of day other than midnight or
    /// a text that is not a date, which the document reports.
    fn value(&self, row: usize) -> Option<chrono::NaiveDate> {
        let midnight =
            |t: chrono::NaiveDateTime| (t.time() == chrono::NaiveTime::MIN).then_some(t.date());
        match self {
            Dates::Date32(a) => a.value_as_date(row),
            Dates::Date64(a) => a.value_as_datetime(row).and_then(midnight),
            Dates::Seconds(a) => a.value_as_datetime(row).and_then(midnight),
            Dates::Millis(a) => a.value_as_datetime(row).and_then(midnight),
            Dates::Micros(a) => a.value_as_datetime(row).and_then(midnight),
            Dates::Nanos(a) => a.value_as_datetime(row).and_then(midnight),
            Dates::Text(t) => rulebook::cases::input::parse_date(t.value(row)?.trim()),
        }
    }
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

/// A column of texts in any of Arrow's three layouts, or dictionary-encoded
/// (as pandas writes a categorical column).
#[derive(Clone)]
enum Texts<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    /// The column (for its nulls), each row's key, and the texts the keys
    /// point at.
    Dictionary(&'a dyn Array, Vec<usize>, Box<Texts<'a>>),
}

impl<'a> Texts<'a> {
    fn of(a: &'a dyn Array) -> Option<Texts<'a>> {
        Some(match a.data_type() {
            DataType::Utf8 => Texts::Utf8(a.as_string_opt()?),
            DataType::LargeUtf8 => Texts::Large(a.as_string_opt()?),
            DataType::Utf8View => Texts::View(a.as_string_view_opt()?),
            DataType::Dictionary(_, _) => {
                let d = a.as_any_dictionary_opt()?;
                let values = Texts::of(d.values().as_ref())?;
                // Once per batch: every key as a position in the texts.
                Texts::Dictionary(a, d.normalized_keys(), Box::new(values))
            }
            _ => return None,
        })
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Texts::Utf8(a) => a.is_null(row),
            Texts::Large(a) => a.is_null(row),
            Texts::View(a) => a.is_null(row),
            Texts::Dictionary(a, _, _) => a.is_null(row),
        }
    }

    /// The text at a row that is not null.
    fn value(&self, row: usize) -> Option<&'a str> {
        match self {
            Texts::Utf8(a) => Some(a.value(row)),
            Texts::Large(a) => Some(a.value(row)),
            Texts::View(a) => Some(a.value(row)),
            Texts::Dictionary(_, keys, values) => {
                let key = *keys.get(row)?;
                (key < values.len()).then(|| values.value(key))?
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Texts::Utf8(a) => a.len(),
            Texts::Large(a) => a.len(),
            Texts::View(a) => a.len(),
            Texts::Dictionary(a, _, _) => a.len(),
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
    Date(Dates<'a>),
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
            Type::Date => Reader::Date(Dates::of(a)?),
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
    /// The value at `row` when it lies within `bounds` (an input's or a
    /// field's); out of them, the document reports it.
    fn read_within(&self, p: &Program, row: usize, bounds: Option<&Bounds>) -> Option<Value> {
        let v = self.read(p, row)?;
        bounds.is_none_or(|b| b.contains(&v)).then_some(v)
    }

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
                Value::Text(Arc::from(t.value(row)?))
            }
            Reader::Date(d) => {
                if d.is_null(row) {
                    return None;
                }
                Value::Date(d.value(row)?)
            }
            Reader::Enum(t, e) => {
                if t.is_null(row) {
                    return None;
                }
                let name = t.value(row)?;
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
        out.push(reader.read_within(p, row, f.bounds.as_ref())?);
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
            vec![("b", Some(250)), ("a", Some(1))],
        ];
        let n = member_rows.len();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from(vec![Some(18_500); n])),
            members(&member_rows),
            Arc::new(
                Decimal128Array::from(vec![355, 1000, 0, 5, 5, 5, 125])
                    .with_precision_and_scale(5, 1)
                    .unwrap(),
            ),
            Arc::new(Int32Array::from(vec![1, 2, 0, 1, 1, 1, 3])),
            Arc::new(Int64Array::from(vec![181, 0, 1, 1, 1, 1, 42])),
            Arc::new(arrow_array::StringArray::from(vec![
                Some("x"),
                None,
                Some("y"),
                None,
                None,
                None,
                Some("z"),
            ])),
            Arc::new(BooleanArray::from(vec![
                true, false, true, true, true, true, false,
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
        assert_eq!(read, vec![true, true, false, false, false, false, true]);
        // A slice of the batch (as the command shares batches out in
        // pieces) reads the same rows: lists and structs keep their offsets.
        let piece = batch.slice(1, 6);
        let mut sliced = BatchReader::new(&case_columns, &piece);
        for row in 0..6 {
            assert_eq!(
                sliced.inputs(&p, row),
                rows.inputs(&p, row + 1),
                "row {row}"
            );
        }
        // The last row's two members, after the slice's first members.
        let last = sliced.inputs(&p, 5).unwrap();
        let Value::Record(fields) = &last[0] else {
            panic!("a record: {last:?}")
        };
        let Value::List(members) = &fields[0] else {
            panic!("a list: {fields:?}")
        };
        assert_eq!(members.len(), 2);
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

    /// Dates as pandas writes them (timestamps at midnight, without a
    /// zone) are read as dates; a time of day goes to the document, which
    /// refuses it.
    #[test]
    fn timestamps_at_midnight_are_dates() {
        use arrow_array::{TimestampMillisecondArray, TimestampNanosecondArray};
        use arrow_schema::TimeUnit;
        let checked = rulebook::check::check(
            r#"rulebook test.dates "Dates"
  version 1
  in force from 2020-01-01
  source "a test"

input born: date

output born_on: date = born
"#,
        );
        let p = checked.program.expect("the rulebook checks");
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let ms = |d: chrono::NaiveDate, h: u32| {
            d.and_hms_opt(h, 0, 0).unwrap().and_utc().timestamp_millis()
        };
        let decided = day(2021, 3, 1);
        let born = day(1990, 5, 1);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(vec![
                Some(ms(decided, 0)),
                Some(ms(decided, 12)),
                None,
            ])),
            Arc::new(TimestampNanosecondArray::from(vec![
                ms(born, 0) * 1_000_000,
                ms(born, 0) * 1_000_000,
                ms(born, 6) * 1_000_000,
            ])),
        ];
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "decision_date",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new(
                "born",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let case_columns = CaseColumns::new(&schema, &[&p]).unwrap();
        let mut rows = BatchReader::new(&case_columns, &batch);
        assert_eq!(rows.decision_date(0), Some(Some(decided)));
        assert_eq!(rows.decision_date(1), None);
        assert_eq!(rows.decision_date(2), Some(None));
        assert_eq!(rows.inputs(&p, 0), Some(vec![Value::Date(born)]));
        let doc = case_columns.document(&batch, 0).unwrap();
        let decoded = rulebook::cases::input::decode_case(&p, &doc, None).unwrap();
        assert_eq!(decoded.inputs, vec![Value::Date(born)]);
        assert_eq!(decoded.decision_date, decided);
        // Six in the morning is not a date: the document says so.
        assert_eq!(rows.inputs(&p, 2), None);
        let e = case_columns.document(&batch, 2).unwrap_err();
        assert_eq!(e.path, "born");
        assert!(e.message.contains("time of day"), "{}", e.message);
    }

    /// A categorical column (dictionary-encoded texts) is read like texts,
    /// for an enum and for a text, nulls and all.
    #[test]
    fn dictionary_texts_are_read_like_texts() {
        use arrow_array::types::Int8Type;
        use arrow_array::DictionaryArray;
        let checked = rulebook::check::check(
            r#"rulebook test.categories "Categories"
  version 1
  in force from 2020-01-01
  source "a test"

enum Kind { a, b }

input kind: Kind
input town: optional text

output is_b: bool = kind = b
"#,
        );
        let p = checked.program.expect("the rulebook checks");
        let kinds: DictionaryArray<Int8Type> = vec![Some("b"), Some("a"), Some("c"), None]
            .into_iter()
            .collect();
        let towns: DictionaryArray<Int8Type> = vec![Some("Espoo"), None, Some("Espoo"), None]
            .into_iter()
            .collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("kind", kinds.data_type().clone(), true),
            Field::new("town", towns.data_type().clone(), true),
        ]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(kinds), Arc::new(towns)]).unwrap();
        let case_columns = CaseColumns::new(&schema, &[&p]).unwrap();
        let mut rows = BatchReader::new(&case_columns, &batch);
        for row in 0..4 {
            let fast = rows.inputs(&p, row);
            let doc = case_columns.document(&batch, row).unwrap();
            let decoded = rulebook::cases::input::decode_case(
                &p,
                &doc,
                chrono::NaiveDate::from_ymd_opt(2021, 1, 1),
            );
            match (&fast, &decoded) {
                (Some(inputs), Ok(case)) => assert_eq!(inputs, &case.inputs, "row {row}"),
                (None, Err(_)) => {}
                _ => panic!("row {row}: the reader gives {fast:?}, the decoder {decoded:?}"),
            }
        }
        assert_eq!(
            rows.inputs(&p, 0),
            Some(vec![Value::Enum(1), Value::Text(Arc::from("Espoo"))])
        );
        assert_eq!(
            rows.inputs(&p, 1),
            Some(vec![Value::Enum(0), Value::Absent])
        );
        // `c` is no variant; a missing kind is missing: the document says so.
        assert_eq!(rows.inputs(&p, 2), None);
        assert_eq!(rows.inputs(&p, 3), None);
    }
}
