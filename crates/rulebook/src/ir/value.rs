//! Types and runtime values.
//!
//! Money, decimals and percentages are exact decimals (`rust_decimal`).
//! A percentage is held as a fraction: `35 %` is 0.35.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Integer,
    Decimal,
    Money,
    Percent,
    Text,
    Date,
    Duration,
    Enum(u32),
    Record(u32),
    List(Box<Type>),
    /// A value a case may leave out (`optional date`).
    Optional(Box<Type>),
    /// The type of something that already has an error; never reported again.
    Error,
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Type::Integer | Type::Decimal | Type::Money | Type::Percent
        )
    }
    /// A plain number without unit.
    pub fn is_number(&self) -> bool {
        matches!(self, Type::Integer | Type::Decimal)
    }
    pub fn is_ordered(&self) -> bool {
        self.is_numeric() || matches!(self, Type::Date | Type::Duration | Type::Text)
    }
    pub fn builtin(name: &str) -> Option<Type> {
        Some(match name {
            "bool" | "boolean" => Type::Bool,
            "integer" => Type::Integer,
            "decimal" => Type::Decimal,
            "money" => Type::Money,
            "percent" => Type::Percent,
            "text" => Type::Text,
            "date" => Type::Date,
            "duration" => Type::Duration,
            _ => return None,
        })
    }
    /// Whether a value of type `self` can be used where `want` is expected.
    pub fn fits(&self, want: &Type) -> bool {
        match (self, want) {
            (Type::Error, _) | (_, Type::Error) => true,
            (Type::Integer, Type::Decimal) => true,
            (Type::List(a), Type::List(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }
}

pub const BUILTIN_TYPES: &[&str] = &[
    "bool", "integer", "decimal", "money", "percent", "text", "date", "duration",
];

/// A calendar duration: months (a year is 12) and days (a week is 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    pub months: i64,
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    /// Decimal, money or percent (as a fraction).
    Num(Decimal),
    Text(Arc<str>),
    Date(NaiveDate),
    Duration(Duration),
    /// A variant, by its index in its enum.
    Enum(u32),
    Record(Arc<[Value]>),
    /// A variant of an enum with its data (`Salary { monthly: 2000 € }`):
    /// the variant's index and the data's fields in order. It equals the
    /// bare variant, so `income = Salary` tests the variant.
    Tagged(u32, Arc<[Value]>),
    List(Arc<[Value]>),
    /// An optional input the case left out.
    Absent,
}

impl Value {
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Int(i) => Some(Decimal::from(*i)),
            Value::Num(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Orders two values of one type. `None` for values without an order.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Num(a), Value::Num(b)) => Some(compare_amounts(a, b)),
            (Value::Int(_) | Value::Num(_), Value::Int(_) | Value::Num(_)) => {
                Some(compare_amounts(&self.as_decimal()?, &other.as_decimal()?))
            }
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Enum(a) | Value::Tagged(a, _), Value::Enum(b) | Value::Tagged(b, _)) => {
                Some(a.cmp(b))
            }
            (Value::Duration(a), Value::Duration(b)) => {
                if a.months == b.months {
                    Some(a.days.cmp(&b.days))
                } else if a.days == 0 && b.days == 0 {
                    Some(a.months.cmp(&b.months))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(_) | Value::Num(_), Value::Int(_) | Value::Num(_)) => {
                self.compare(other) == Some(Ordering::Equal)
            }
            (Value::Enum(a), Value::Tagged(b, _)) | (Value::Tagged(a, _), Value::Enum(b)) => a == b,
            _ => self == other,
        }
    }
}

/// `a` against `b`, as `Decimal`'s own order, but without its general
/// path for the common case: mantissas compared as `i128`s once the one
/// with fewer decimals is scaled up (exact: a mantissa is below 2^96 and
/// 10^9 below 2^30). Others take the general path.
#[inline]
pub fn compare_amounts(a: &Decimal, b: &Decimal) -> Ordering {
    let (sa, sb) = (a.scale(), b.scale());
    let (ma, mb) = (a.mantissa(), b.mantissa());
    match sa.checked_sub(sb) {
        Some(0) => ma.cmp(&mb),
        Some(d) if d <= 9 => ma.cmp(&(mb * 10i128.pow(d))),
        None if sb - sa <= 9 => (ma * 10i128.pow(sb - sa)).cmp(&mb),
        _ => a.cmp(b),
    }
}

/// Money as people read it: at least two decimals, no needless trailing zeros.
pub fn format_money(d: Decimal) -> String {
    let mut out = String::new();
    push_decimal(&mut out, d, 2);
    out
}

pub fn format_decimal(d: Decimal) -> String {
    let mut out = String::new();
    push_decimal(&mut out, d, 0);
    out
}

/// Appends `d` without trailing zeros after the first `min_scale` decimals
/// and padded to `min_scale` decimals: `format_money` with 2,
/// `format_decimal` with 0. Amounts are written in every decision, so the
/// usual case (a mantissa that fits in 64 bits) writes its digits directly
/// rather than through `Decimal`'s `Display`.
pub fn push_decimal(out: &mut String, d: Decimal, min_scale: u32) {
    let mut buf = [0u8; 64];
    match decimal_digits(d, min_scale, &mut buf) {
        Some(text) => out.push_str(text),
        None => {
            let mut n = d.normalize();
            if n.scale() < min_scale {
                n.rescale(min_scale);
            }
            let _ = write!(out, "{n}");
        }
    }
}

/// [`push_decimal`] for a byte buffer, such as a decision being written.
pub fn write_decimal(out: &mut Vec<u8>, d: Decimal, min_scale: u32) {
    let mut buf = [0u8; 64];
    match decimal_digits(d, min_scale, &mut buf) {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => {
            let mut text = String::new();
            push_decimal(&mut text, d, min_scale);
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// The text of [`push_decimal`] in `buf`, or `None` when the mantissa is
/// too long for the direct way.
fn decimal_digits(d: Decimal, min_scale: u32, buf: &mut [u8; 64]) -> Option<&str> {
    let mut scale = d.scale();
    let mut m = u64::try_from(d.mantissa().unsigned_abs()).ok()?;
    if m == 0 {
        // `normalize` drops the sign of zero.
        scale = min_scale;
    } else {
        while scale > min_scale && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        while scale < min_scale {
            m = m.checked_mul(10)?;
            scale += 1;
        }
    }
    let negative = d.is_sign_negative() && m != 0;
    let scale = scale as usize;
    // Digits from the right, with the point `scale` digits in and at least
    // one digit before it.
    let mut at = buf.len();
    let mut written = 0;
    while m > 0 || written <= scale {
        if written == scale && scale > 0 {
            at = at.checked_sub(1)?;
            *buf.get_mut(at)? = b'.';
        }
        at = at.checked_sub(1)?;
        *buf.get_mut(at)? = b'0' + (m % 10) as u8;
        m /= 10;
        written += 1;
    }
    if negative {
        at = at.checked_sub(1)?;
        *buf.get_mut(at)? = b'-';
    }
    std::str::from_utf8(buf.get(at..)?).ok()
}

pub fn format_percent(fraction: Decimal) -> String {
    let points = fraction
        .checked_mul(Decimal::ONE_HUNDRED)
        .unwrap_or(fraction);
    let mut out = String::new();
    push_decimal(&mut out, points, 0);
    out.push_str(" %");
    out
}

pub fn format_duration(d: Duration) -> String {
    let mut parts = Vec::new();
    let (years, months) = (d.months / 12, d.months % 12);
    if years != 0 && months == 0 {
        parts.push(plural(years, "year"));
    } else if d.months != 0 {
        parts.push(plural(d.months, "month"));
    }
    if d.days != 0 || parts.is_empty() {
        parts.push(plural(d.days, "day"));
    }
    parts.join(" ")
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 || n == -1 {
        format!("{n} {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Names of enums and records, needed to show values.
pub trait TypeNames {
    fn variant_name(&self, enum_id: u32, variant: u32) -> &str;
    fn field_names(&self, record_id: u32) -> Vec<&str>;
    /// The record holding a variant's data, if it has any.
    fn variant_record(&self, _enum_id: u32, _variant: u32) -> Option<u32> {
        None
    }
    /// A record's field types, so that its fields show with their units.
    fn field_types(&self, _record_id: u32) -> Vec<Type> {
        Vec::new()
    }
}

/// A value as a person reads it (`145.00 €`, `35 %`, `2021-01-01`).
pub fn render(v: &Value, ty: &Type, names: &dyn TypeNames) -> String {
    let mut out = String::new();
    render_into(&mut out, v, ty, names);
    out
}

fn render_into(out: &mut String, v: &Value, ty: &Type, names: &dyn TypeNames) {
    match (v, ty) {
        (Value::Absent, _) => out.push_str("absent"),
        (v, Type::Optional(t)) => render_into(out, v, t, names),
        (Value::Num(d), Type::Money) => {
            let _ = write!(out, "{} €", format_money(*d));
        }
        (Value::Int(i), Type::Money) => {
            let _ = write!(out, "{} €", format_money(Decimal::from(*i)));
        }
        (Value::Num(d), Type::Percent) => out.push_str(&format_percent(*d)),
        (Value::Num(d), _) => out.push_str(&format_decimal(*d)),
        (Value::Int(i), _) => {
            let _ = write!(out, "{i}");
        }
        (Value::Bool(b), _) => out.push_str(if *b { "true" } else { "false" }),
        (Value::Text(t), _) => {
            let _ = write!(out, "{t:?}");
        }
        (Value::Date(d), _) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        (Value::Duration(d), _) => out.push_str(&format_duration(*d)),
        (Value::Enum(i), Type::Enum(e)) => out.push_str(names.variant_name(*e, *i)),
        (Value::Tagged(i, fields), Type::Enum(e)) => {
            out.push_str(names.variant_name(*e, *i));
            out.push(' ');
            match names.variant_record(*e, *i) {
                Some(r) => {
                    render_into(out, &Value::Record(fields.clone()), &Type::Record(r), names)
                }
                None => out.push_str("{…}"),
            }
        }
        (Value::Tagged(i, _), _) => {
            let _ = write!(out, "#{i} {{…}}");
        }
        (Value::Enum(i), _) => {
            let _ = write!(out, "#{i}");
        }
        (Value::List(items), t) => {
            let elem = match t {
                Type::List(e) => e.as_ref(),
                _ => &Type::Error,
            };
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                render_into(out, item, elem, names);
            }
            out.push(']');
        }
        (Value::Record(fields), Type::Record(r)) => {
            let fnames = names.field_names(*r);
            let ftypes = names.field_types(*r);
            out.push_str("{ ");
            for (n, f) in fields.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", fnames.get(n).copied().unwrap_or("?"));
                render_into(out, f, ftypes.get(n).unwrap_or(&Type::Error), names);
            }
            out.push_str(" }");
        }
        (Value::Record(_), _) => out.push_str("{…}"),
    }
}

/// A value for programs: exact amounts as strings (`"145.00"`), percentages
/// as `"35 %"`, dates as `"2021-01-01"`, variants by name.
pub fn to_json(
    v: &Value,
    ty: &Type,
    names: &dyn TypeNames,
    field_types: &dyn Fn(u32) -> Vec<Type>,
) -> serde_json::Value {
    use serde_json::Value as J;
    match (v, ty) {
        (Value::Absent, _) => J::Null,
        (v, Type::Optional(t)) => to_json(v, t, names, field_types),
        (Value::Num(d), Type::Money) => J::String(format_money(*d)),
        (Value::Int(i), Type::Money) => J::String(format_money(Decimal::from(*i))),
        (Value::Num(d), Type::Percent) => J::String(format_percent(*d)),
        (Value::Num(d), _) => J::String(format_decimal(*d)),
        (Value::Int(i), _) => J::from(*i),
        (Value::Bool(b), _) => J::Bool(*b),
        (Value::Text(t), _) => J::String(t.to_string()),
        (Value::Date(d), _) => J::String(d.format("%Y-%m-%d").to_string()),
        (Value::Duration(d), _) => J::String(format_duration(*d)),
        (Value::Enum(i), Type::Enum(e)) => J::String(names.variant_name(*e, *i).to_string()),
        (Value::Enum(i), _) => J::from(*i),
        (Value::List(items), t) => {
            let elem = match t {
                Type::List(e) => e.as_ref().clone(),
                _ => Type::Error,
            };
            J::Array(
                items
                    .iter()
                    .map(|i| to_json(i, &elem, names, field_types))
                    .collect(),
            )
        }
        (Value::Record(fields), Type::Record(r)) => {
            let fnames = names.field_names(*r);
            let ftypes = field_types(*r);
            let mut map = serde_json::Map::new();
            for (n, f) in fields.iter().enumerate() {
                let name = fnames.get(n).copied().unwrap_or("?").to_string();
                let t = ftypes.get(n).cloned().unwrap_or(Type::Error);
                map.insert(name, to_json(f, &t, names, field_types));
            }
            J::Object(map)
        }
        (Value::Record(_), _) => J::Null,
        // As a case gives it: `{"Salary": {"monthly": "2000.00"}}`.
        (Value::Tagged(i, fields), Type::Enum(e)) => {
            let data = match names.variant_record(*e, *i) {
                Some(r) => to_json(
                    &Value::Record(fields.clone()),
                    &Type::Record(r),
                    names,
                    field_types,
                ),
                None => J::Null,
            };
            let mut map = serde_json::Map::new();
            map.insert(names.variant_name(*e, *i).to_string(), data);
            J::Object(map)
        }
        (Value::Tagged(i, _), _) => J::from(*i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The text `Decimal`'s own formatting gives: normalised, then padded.
    fn reference(d: Decimal, min_scale: u32) -> String {
        let mut n = d.normalize();
        if n.scale() < min_scale {
            n.rescale(min_scale);
        }
        n.to_string()
    }

    proptest! {
        #[test]
        fn decimals_are_written_as_decimal_formats_them(
            mantissa in prop_oneof![
                -1000i128..1000,
                any::<i64>().prop_map(i128::from),
                -(1i128 << 95)..(1i128 << 95),
            ],
            scale in 0u32..=28,
            min_scale in 0u32..=2,
        ) {
            let d = Decimal::from_i128_with_scale(mantissa, scale);
            let mut out = String::new();
            push_decimal(&mut out, d, min_scale);
            let mut bytes = Vec::new();
            write_decimal(&mut bytes, d, min_scale);
            prop_assert_eq!(String::from_utf8(bytes).ok(), Some(out.clone()));
            prop_assert_eq!(out, reference(d, min_scale));
        }
    }

    #[test]
    fn negative_zero_and_small_amounts() {
        let neg_zero = Decimal::from_i128_with_scale(0, 3).checked_mul(Decimal::NEGATIVE_ONE);
        for (d, money, decimal) in [
            (Decimal::new(5, 3), "0.005", "0.005"),
            (Decimal::new(-5, 3), "-0.005", "-0.005"),
            (Decimal::new(500, 2), "5.00", "5"),
            (Decimal::new(-1234500, 4), "-123.45", "-123.45"),
            (Decimal::new(7, 0), "7.00", "7"),
            (neg_zero.unwrap_or_default(), "0.00", "0"),
        ] {
            assert_eq!(format_money(d), money, "{d:?}");
            assert_eq!(format_money(d), reference(d, 2));
            assert_eq!(format_decimal(d), decimal, "{d:?}");
            assert_eq!(format_decimal(d), reference(d, 0));
        }
    }
}
