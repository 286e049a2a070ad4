//! Decoding cases (inputs plus decision date) from JSON or YAML, checked
//! against the rulebook's input declarations. Every problem is reported with
//! the field path, what was expected and what was found.

use crate::check::suggest;
use crate::eval::Case;
use crate::ir::{Bounds, Program};
use crate::value::{Duration, Type, Value};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as J;
use std::str::FromStr;
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

/// The largest list an input may hold.
pub const MAX_LIST_LEN: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// Parses JSON or YAML text into a JSON value. Numbers in JSON keep their
/// exact digits; YAML numbers pass through a binary float, so amounts with
/// more than 15 significant digits must be quoted in YAML.
pub fn parse_document(text: &str, format: Format) -> Result<J, InputError> {
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| InputError {
            path: format!("line {}, column {}", e.line(), e.column()),
            message: format!("this is not valid JSON: {e}"),
            help: None,
        }),
        Format::Yaml => serde_norway::from_str::<J>(text).map_err(|e| {
            let path = e
                .location()
                .map(|l| format!("line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            InputError {
                path,
                message: format!("this is not valid YAML: {e}"),
                help: None,
            }
        }),
    }
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
            help: Some(format!(
                "write one entry per input: {}",
                p.inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
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
                    None => format!("the inputs are {}", names.join(", ")),
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

fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if let Ok(d) = Decimal::from_str(s) {
        return Some(d);
    }
    let s = s.replace([' ', '\u{a0}', '_'], "");
    Decimal::from_str(&s)
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
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
fn parse_date(s: &str) -> Option<NaiveDate> {
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
                J::String(s) if *ty == Type::Money => Some(
                    s.trim()
                        .trim_end_matches('€')
                        .trim_end_matches("EUR")
                        .trim(),
                ),
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
                    return err(format!("expected {what}, found {}", describe(v)), None);
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
                .and_then(|d| d.checked_div(Decimal::ONE_HUNDRED))
            {
                Some(d) => Value::Num(d),
                None => {
                    return err(
                        format!(
                            "expected a percentage such as \"35 %\", found {}",
                            describe(v)
                        ),
                        None,
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
            let found = v
                .as_str()
                .and_then(|s| info.variants.iter().position(|x| x == s));
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
