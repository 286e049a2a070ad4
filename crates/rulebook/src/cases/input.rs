//! Decoding cases (inputs plus decision date) from JSON or YAML, checked
//! against the rulebook's input declarations. Every problem is reported with
//! the field path, what was expected and what was found.

use crate::cases::document;
use crate::check::suggest;
use crate::eval::Case;
use crate::ir::value::{Duration, Type, Value};
use crate::ir::{Bounds, Program};
use crate::syntax::number::parse_exact;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as J;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputError {
    /// Where the problem is, such as `client.members[2].birth_date`.
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(h) = &self.help {
            write!(f, " (help: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// The largest list an input may hold.
pub const MAX_LIST_LEN: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// Parses JSON or YAML text into a JSON value (see [`document`]: repeated
/// keys are refused). Numbers in JSON keep their exact digits; YAML numbers
/// pass through a binary float, so one with more than 15 significant digits
/// is refused and must be quoted.
pub fn parse_document(text: &str, format: Format) -> Result<J, InputError> {
    let (parsed, what) = match format {
        Format::Json => (document::json_from_str(text), "JSON"),
        Format::Yaml => (document::yaml_from_str(text), "YAML"),
    };
    parsed.map_err(|e| InputError {
        path: if e.line == 0 {
            String::new()
        } else {
            format!("line {}, column {}", e.line, e.column)
        },
        message: format!("this is not valid {what}: {}", e.message),
        help: e.help,
    })
}

fn describe(v: &J) -> String {
    match v {
        J::Null => "nothing (null)".into(),
        J::Bool(b) => format!("`{b}`"),
        J::Number(n) => format!("the number {n}"),
        J::String(s) => format!("the text {s:?}"),
        J::Array(_) => "a list".into(),
        J::Object(_) => "a record".into(),
    }
}

/// Decodes a case: a record with one entry per input and an optional
/// `decision_date`. `date` (from the command line) takes precedence.
pub fn decode_case(p: &Program, doc: &J, date: Option<NaiveDate>) -> Result<Case, Vec<InputError>> {
    let mut errors = Vec::new();
    let Some(map) = doc.as_object() else {
        return Err(vec![InputError {
            path: String::new(),
            message: format!("expected a record of inputs, found {}", describe(doc)),
            help: Some(crate::check::inputs_help(
                p.inputs.iter().map(|i| i.name.as_str()),
            )),
        }]);
    };
    let mut decision_date = date;
    if let Some(d) = map.get("decision_date") {
        match decode(p, d, &Type::Date, None, "decision_date", &mut errors) {
            Some(Value::Date(d)) if date.is_none() => decision_date = Some(d),
            _ => {}
        }
    }
    for key in map.keys() {
        if key != "decision_date" && !p.inputs.iter().any(|i| i.name == *key) {
            let names: Vec<&str> = p.inputs.iter().map(|i| i.name.as_str()).collect();
            errors.push(InputError {
                path: key.clone(),
                message: format!("the rulebook has no input `{key}`"),
                help: Some(match suggest(key, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => crate::check::inputs_help(names.iter().copied()),
                }),
            });
        }
    }
    let mut inputs = Vec::with_capacity(p.inputs.len());
    for i in &p.inputs {
        match map.get(&i.name) {
            Some(v) => {
                if let Some(v) = decode(p, v, &i.ty, i.bounds.as_ref(), &i.name, &mut errors) {
                    inputs.push(v);
                }
            }
            // An optional input may be left out.
            None if matches!(i.ty, Type::Optional(_)) => inputs.push(Value::Absent),
            None => errors.push(InputError {
                path: i.name.clone(),
                message: format!("the input `{}` is missing", i.name),
                help: Some(format!("add `{}`, a {}", i.name, p.type_name(&i.ty))),
            }),
        }
    }
    let Some(decision_date) = decision_date else {
        errors.push(InputError {
            path: "decision_date".into(),
            message: "no decision date".into(),
            help: Some("add `decision_date: YYYY-MM-DD` to the case, or pass --date".into()),
        });
        return Err(errors);
    };
    if errors.is_empty() {
        Ok(Case {
            decision_date,
            inputs,
        })
    } else {
        Err(errors)
    }
}

/// A number as written, refused (rather than rounded) when it cannot be
/// held exactly; spaces and underscores between digit groups are allowed.
fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if let Some(d) = parse_exact(s) {
        return Some(d);
    }
    parse_exact(&s.replace([' ', '\u{a0}', '_'], ""))
}

/// An amount as written, without its euro sign (`1 250,00 €` is not an
/// amount; `1250.00 €`, `1250 EUR` and `1 250.00` are).
fn amount_digits(s: &str) -> &str {
    s.trim()
        .trim_end_matches('€')
        .trim_end_matches("EUR")
        .trim()
}

/// A figure as written in a case, amount or percentage, without its unit:
/// `1 250.50 €` is 1250.50 and `35 %` is 35. Read exactly, or not at all.
pub fn parse_figure(text: &str) -> Option<Decimal> {
    parse_decimal(amount_digits(text).trim_end_matches('%'))
}

/// `35 %` is held as 0.35; refused when the division would round.
pub fn fraction_of_percent(d: Decimal) -> Option<Decimal> {
    let q = d.checked_div(Decimal::ONE_HUNDRED)?;
    (q.checked_mul(Decimal::ONE_HUNDRED)? == d).then_some(q)
}

/// The help for a number that was refused: one that looks like a number but
/// has too many digits says so.
fn number_help(v: &J) -> Option<String> {
    let text = match v {
        J::Number(n) => n.as_str(),
        J::String(s) => s.as_str(),
        _ => return None,
    };
    text.bytes().any(|b| b.is_ascii_digit()).then(|| {
        "numbers are held exactly, with at most 28 significant digits and no more than 28 \
         decimal places; write the figure with fewer digits"
            .to_string()
    })
}

/// Decodes one value against its type; records errors and returns `None`
/// when the value does not fit.
pub fn decode(
    p: &Program,
    v: &J,
    ty: &Type,
    bounds: Option<&Bounds>,
    path: &str,
    errors: &mut Vec<InputError>,
) -> Option<Value> {
    decode_at(p, v, ty, bounds, Path::Root(path), errors)
}

/// Where a value sits in the case, rendered only when there is an error to
/// report: building path strings for every field would cost more than
/// decoding the field.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'a str),
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(s) => write!(f, "{s}"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Parses `YYYY-MM-DD` without the general formatter; anything else falls
/// back to chrono, so both accept the same texts.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut n = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + u32::from(c - b'0');
            }
            Some(n)
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) {
            return NaiveDate::from_ymd_opt(y as i32, m, d);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn decode_at(
    p: &Program,
    v: &J,
    ty: &Type,
    bounds: Option<&Bounds>,
    path: Path<'_>,
    errors: &mut Vec<InputError>,
) -> Option<Value> {
    let mut err = |message: String, help: Option<String>| {
        errors.push(InputError {
            path: path.to_string(),
            message,
            help,
        });
        None
    };
    let value = match ty {
        // `null` or a left-out key is absent; anything else is the value.
        Type::Optional(inner) => {
            return match v {
                J::Null => Some(Value::Absent),
                _ => decode_at(p, v, inner, bounds, path, errors),
            }
        }
        Type::Bool => match v {
            J::Bool(b) => Value::Bool(*b),
            _ => {
                return err(
                    format!("expected true or false, found {}", describe(v)),
                    None,
                )
            }
        },
        Type::Integer => {
            let parsed = match v {
                J::Number(n) => n.as_str().parse::<i64>().ok(),
                _ => None,
            };
            match parsed {
                Some(i) => Value::Int(i),
                None => {
                    return err(
                        format!("expected a whole number, found {}", describe(v)),
                        None,
                    )
                }
            }
        }
        Type::Decimal | Type::Money => {
            let text = match v {
                J::Number(n) => Some(n.as_str()),
                J::String(s) if *ty == Type::Money => Some(amount_digits(s)),
                J::String(s) => Some(s.as_str()),
                _ => None,
            };
            match text.and_then(parse_decimal) {
                Some(d) => Value::Num(d),
                None => {
                    let what = if *ty == Type::Money {
                        "an amount in euros, such as 1250.00 or \"1250.00\""
                    } else {
                        "a number"
                    };
                    return err(
                        format!("expected {what}, found {}", describe(v)),
                        number_help(v),
                    );
                }
            }
        }
        Type::Percent => {
            let text = match v {
                J::Number(n) => Some(n.to_string()),
                J::String(s) => Some(s.trim().trim_end_matches('%').trim().to_string()),
                _ => None,
            };
            match text
                .as_deref()
                .and_then(parse_decimal)
                .and_then(fraction_of_percent)
            {
                Some(d) => Value::Num(d),
                None => {
                    return err(
                        format!(
                            "expected a percentage such as \"35 %\", found {}",
                            describe(v)
                        ),
                        number_help(v),
                    )
                }
            }
        }
        Type::Text => match v {
            J::String(s) => Value::Text(Arc::from(s.as_str())),
            _ => {
                return err(
                    format!("expected a text, found {}", describe(v)),
                    Some("put the text in quotes".into()),
                )
            }
        },
        Type::Date => match v.as_str().and_then(|s| parse_date(s.trim())) {
            Some(d) => Value::Date(d),
            _ => {
                return err(
                    format!(
                        "expected a date such as \"2021-03-01\", found {}",
                        describe(v)
                    ),
                    Some("write dates as YEAR-MONTH-DAY, and only days that exist".into()),
                )
            }
        },
        Type::Duration => match v.as_str().and_then(parse_duration) {
            Some(d) => Value::Duration(d),
            None => {
                return err(
                    format!(
                        "expected a duration such as \"6 months\", found {}",
                        describe(v)
                    ),
                    None,
                )
            }
        },
        Type::Enum(e) => {
            let info = p.enums.get(*e as usize)?;
            // A variant with its data: `{"Salary": {"monthly": "2000"}}`.
            if let Some(map) = v.as_object().filter(|m| m.len() == 1) {
                let (name, data) = map.iter().next()?;
                let Some(i) = info.variants.iter().position(|x| x == name) else {
                    return err(
                        format!("`{name}` is not one of the values of {}", info.name),
                        Some(format!(
                            "the values of {} are {}",
                            info.name,
                            info.variants.join(", ")
                        )),
                    );
                };
                let Some(rid) = info.data.get(i).copied().flatten() else {
                    return err(
                        format!("{name} of {} carries no data", info.name),
                        Some(format!("write it alone: \"{name}\"")),
                    );
                };
                return match decode_at(
                    p,
                    data,
                    &Type::Record(rid),
                    None,
                    Path::Field(&path, name),
                    errors,
                )? {
                    Value::Record(fields) => Some(Value::Tagged(i as u32, fields)),
                    _ => None,
                };
            }
            let found = v
                .as_str()
                .and_then(|s| info.variants.iter().position(|x| x == s));
            if let Some(i) = found.filter(|&i| info.data.get(i).copied().flatten().is_some()) {
                let name = info.variants.get(i).cloned().unwrap_or_default();
                return err(
                    format!("{name} of {} carries data, which is missing", info.name),
                    Some(format!("write it with its data: {{\"{name}\": {{...}}}}")),
                );
            }
            match found {
                Some(i) => Value::Enum(i as u32),
                None => {
                    let help = match v
                        .as_str()
                        .and_then(|s| suggest(s, info.variants.iter().map(|x| x.as_str())))
                    {
                        Some(s) => format!("did you mean {s:?}?"),
                        None => format!(
                            "the values of {} are {}",
                            info.name,
                            info.variants.join(", ")
                        ),
                    };
                    return err(
                        format!(
                            "expected one of the values of {}, found {}",
                            info.name,
                            describe(v)
                        ),
                        Some(help),
                    );
                }
            }
        }
        Type::List(elem) => {
            let Some(items) = v.as_array() else {
                return err(
                    format!("expected a list, found {}", describe(v)),
                    Some("write a list in brackets: [...]".into()),
                );
            };
            if items.len() > MAX_LIST_LEN {
                return err(
                    format!(
                        "the list has {} items; at most {MAX_LIST_LEN} are accepted",
                        items.len()
                    ),
                    None,
                );
            }
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                match decode_at(p, item, elem, None, Path::Index(&path, i), errors) {
                    Some(x) => out.push(x),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Value::List(Arc::from(out))
        }
        Type::Record(r) => {
            let info = p.records.get(*r as usize)?;
            let Some(map) = v.as_object() else {
                return err(
                    format!("expected a record ({}), found {}", info.name, describe(v)),
                    Some(format!(
                        "write the fields {}",
                        info.fields
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            };
            let mut ok = true;
            for key in map.keys() {
                if !info.fields.iter().any(|f| f.name == *key) {
                    let help = match suggest(key, info.fields.iter().map(|f| f.name.as_str())) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "the fields of {} are {}",
                            info.name,
                            info.fields
                                .iter()
                                .map(|f| f.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    errors.push(InputError {
                        path: Path::Field(&path, key).to_string(),
                        message: format!("{} has no field `{key}`", info.name),
                        help: Some(help),
                    });
                    ok = false;
                }
            }
            let mut out = Vec::with_capacity(info.fields.len());
            for f in &info.fields {
                let fpath = Path::Field(&path, &f.name);
                match map.get(&f.name) {
                    Some(x) => match decode_at(p, x, &f.ty, f.bounds.as_ref(), fpath, errors) {
                        Some(val) => out.push(val),
                        None => ok = false,
                    },
                    None if matches!(f.ty, Type::Optional(_)) => out.push(Value::Absent),
                    None => {
                        errors.push(InputError {
                            path: fpath.to_string(),
                            message: format!("the field `{}` is missing", f.name),
                            help: Some(format!("add `{}`, a {}", f.name, p.type_name(&f.ty))),
                        });
                        ok = false;
                    }
                }
            }
            if !ok {
                return None;
            }
            Value::Record(Arc::from(out))
        }
        Type::Error => return None,
    };
    if let Some(b) = bounds {
        if !b.contains(&value) {
            errors.push(InputError {
                path: path.to_string(),
                message: format!(
                    "{} is outside the allowed range: {}",
                    p.render(&value, ty),
                    b.text
                ),
                help: None,
            });
            return None;
        }
    }
    Some(value)
}

/// Parses "6 months", "1 year", "10 days", "2 weeks".
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut parts = s.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    Some(match unit.trim_end_matches('s') {
        "year" => Duration {
            months: n.checked_mul(12)?,
            days: 0,
        },
        "month" => Duration { months: n, days: 0 },
        "week" => Duration {
            months: 0,
            days: n.checked_mul(7)?,
        },
        "day" => Duration { months: 0, days: n },
        _ => return None,
    })
}

// ---- the direct path ------------------------------------------------------
//
// A batch spends more time building JSON trees than deciding cases. Valid
// JSON cases are therefore decoded straight from their text into values,
// guided by the declared types, without a tree. This path only says yes or
// no: at the first thing it does not expect (a wrong type, an unknown or
// repeated key, a value out of range, escapes in a key) it gives up, and the
// caller decodes the case the ordinary way, which reports every problem with
// its path. Whatever it accepts, it decodes exactly as `decode_case` does.

/// Decodes a case from JSON text, or `None` when the ordinary path must
/// decide (and explain). With `take_id`, a top-level `id` that is not an
/// input is returned beside the case.
pub fn decode_case_json(
    p: &Program,
    text: &str,
    date: Option<NaiveDate>,
    take_id: bool,
) -> Option<(Option<J>, Case)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = CaseSeed { p, date, take_id };
    let out = serde::de::DeserializeSeed::deserialize(seed, &mut de).ok()?;
    de.end().ok()?;
    Some(out)
}

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

struct CaseSeed<'p> {
    p: &'p Program,
    date: Option<NaiveDate>,
    take_id: bool,
}

/// Any failure: the message is never shown, the ordinary path explains.
fn no<E: serde::de::Error>() -> E {
    E::custom("")
}

impl<'de> DeserializeSeed<'de> for CaseSeed<'_> {
    type Value = (Option<J>, Case);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CaseSeed<'_> {
    type Value = (Option<J>, Case);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a case")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let p = self.p;
        let mut inputs: Vec<Option<Value>> = vec![None; p.inputs.len()];
        let mut own_date = None;
        let mut id = None;
        while let Some(key) = map.next_key::<&str>()? {
            if key == "decision_date" {
                let text = map.next_value::<&str>()?;
                if own_date.is_some() {
                    return Err(no());
                }
                own_date = Some(parse_date(text.trim()).ok_or_else(no)?);
            } else if let Some(i) = p.inputs.iter().position(|x| x.name == key) {
                let info = p.inputs.get(i).ok_or_else(no)?;
                let v = map.next_value_seed(TypeSeed {
                    p,
                    ty: &info.ty,
                    bounds: info.bounds.as_ref(),
                })?;
                match inputs.get_mut(i) {
                    Some(slot @ None) => *slot = Some(v),
                    _ => return Err(no()),
                }
            } else if key == "id" && self.take_id && id.is_none() {
                id = Some(map.next_value::<J>()?);
            } else {
                return Err(no());
            }
        }
        let decision_date = self.date.or(own_date).ok_or_else(no)?;
        let inputs = inputs
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(no)?;
        Ok((
            id,
            Case {
                decision_date,
                inputs,
            },
        ))
    }
}

#[derive(Clone, Copy)]
struct TypeSeed<'a> {
    p: &'a Program,
    ty: &'a Type,
    bounds: Option<&'a Bounds>,
}

impl<'de> DeserializeSeed<'de> for TypeSeed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let v = match self.ty {
            Type::Bool => d.deserialize_bool(self)?,
            Type::Integer => d.deserialize_i64(self)?,
            Type::List(_) => d.deserialize_seq(self)?,
            Type::Record(_) => d.deserialize_map(self)?,
            Type::Error => return Err(no()),
            _ => d.deserialize_any(self)?,
        };
        match self.bounds {
            Some(b) if !b.contains(&v) => Err(no()),
            _ => Ok(v),
        }
    }
}

/// The key under which serde_json hands over a number's exact digits when
/// numbers keep them (its `arbitrary_precision` feature). Should it ever
/// change, numbers simply take the ordinary path.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl TypeSeed<'_> {
    /// A number or text for a decimal, money or percent input, read the way
    /// `decode` reads it.
    fn amount(&self, text: &str, is_number: bool) -> Option<Value> {
        let d = match self.ty {
            Type::Money if !is_number => parse_decimal(amount_digits(text))?,
            Type::Decimal | Type::Money => parse_decimal(text)?,
            Type::Percent if !is_number => {
                fraction_of_percent(parse_decimal(text.trim().trim_end_matches('%').trim())?)?
            }
            Type::Percent => fraction_of_percent(parse_decimal(text)?)?,
            _ => return None,
        };
        Some(Value::Num(d))
    }
}

impl<'de> Visitor<'de> for TypeSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an input value")
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(b)),
            _ => Err(no()),
        }
    }
    // Whole numbers arrive as such even when numbers keep their digits.
    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Value, E> {
        match self.ty {
            Type::Integer => Ok(Value::Int(i)),
            _ => self.amount(&i.to_string(), true).ok_or_else(no),
        }
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        match self.ty {
            Type::Integer => i64::try_from(u).map(Value::Int).map_err(|_| no()),
            _ => self.amount(&u.to_string(), true).ok_or_else(no),
        }
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        let v = match self.ty {
            Type::Decimal | Type::Money | Type::Percent => self.amount(s, false),
            Type::Text => Some(Value::Text(Arc::from(s))),
            Type::Date => parse_date(s.trim()).map(Value::Date),
            Type::Duration => parse_duration(s).map(Value::Duration),
            Type::Enum(e) => self
                .p
                .enums
                .get(*e as usize)
                .and_then(|info| {
                    let i = info.variants.iter().position(|x| x == s)?;
                    // A variant with data is given with it; the ordinary
                    // path says so.
                    info.data.get(i).copied().flatten().is_none().then_some(i)
                })
                .map(|i| Value::Enum(i as u32)),
            _ => None,
        };
        v.ok_or_else(no)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Type::List(elem) = self.ty else {
            return Err(no());
        };
        let item = TypeSeed {
            p: self.p,
            ty: elem,
            bounds: None,
        };
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(v) = seq.next_element_seed(item)? {
            if out.len() == MAX_LIST_LEN {
                return Err(no());
            }
            out.push(v);
        }
        Ok(Value::List(Arc::from(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if let Type::Decimal | Type::Money | Type::Percent = self.ty {
            // An exact number, handed over as a one-entry record.
            let key = map.next_key::<&str>()?;
            if key != Some(NUMBER_TOKEN) {
                return Err(no());
            }
            let digits = map.next_value::<String>()?;
            return self.amount(&digits, true).ok_or_else(no);
        }
        let Type::Record(r) = self.ty else {
            return Err(no());
        };
        let info = self.p.records.get(*r as usize).ok_or_else(no)?;
        let mut fields: Vec<Option<Value>> = vec![None; info.fields.len()];
        while let Some(key) = map.next_key::<&str>()? {
            let i = info
                .fields
                .iter()
                .position(|f| f.name == key)
                .ok_or_else(no)?;
            let f = info.fields.get(i).ok_or_else(no)?;
            let v = map.next_value_seed(TypeSeed {
                p: self.p,
                ty: &f.ty,
                bounds: f.bounds.as_ref(),
            })?;
            match fields.get_mut(i) {
                Some(slot @ None) => *slot = Some(v),
                _ => return Err(no()),
            }
        }
        let fields = fields
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(no)?;
        Ok(Value::Record(Arc::from(fields)))
    }
}
