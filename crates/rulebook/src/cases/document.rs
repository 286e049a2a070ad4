//! Reading JSON and YAML documents strictly. The parsers' own readers let a
//! repeated key silently replace the earlier one (`"income": 900, "income":
//! 9000` decides on 9000), round YAML numbers through a binary float and
//! take minutes over deeply nested brackets; here a repeated key is an
//! error naming it, a YAML number with more digits than a float keeps is
//! refused (quote it), and nesting is bounded before the parser sees it.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as J};
use std::fmt;

/// How deeply lists and records may nest in a case, as the parsers allow.
pub const MAX_NESTING: usize = 128;

/// Where a document went wrong, when the parser knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
}

/// Parses JSON text, refusing repeated keys.
pub fn json_from_str(text: &str) -> Result<J, DocumentError> {
    json_from_slice(text.as_bytes())
}

/// Parses JSON bytes, refusing repeated keys.
pub fn json_from_slice(bytes: &[u8]) -> Result<J, DocumentError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| DocumentError {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
            help: repeated_help(&e.to_string()),
        })?;
    Ok(v)
}

/// Parses YAML text, refusing repeated keys, numbers a float cannot hold
/// and nesting deeper than [`MAX_NESTING`].
pub fn yaml_from_str(text: &str) -> Result<J, DocumentError> {
    yaml_precheck(text)?;
    let de = serde_norway::Deserializer::from_str(text);
    Strict.deserialize(de).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        DocumentError {
            line,
            column,
            message: e.to_string(),
            help: repeated_help(&e.to_string()),
        }
    })
}

fn repeated_help(message: &str) -> Option<String> {
    message
        .contains("appears twice")
        .then(|| "write each key once; remove or rename the other".to_string())
}

/// A lexical pass over YAML before parsing: the parser's time grows with
/// the square of bracket nesting, and its numbers are binary floats, so
/// these are caught here with their line and column.
fn yaml_precheck(text: &str) -> Result<(), DocumentError> {
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut token_start: Option<usize> = None;
        let bytes: Vec<(usize, char)> = line.char_indices().collect();
        let mut k = 0;
        while k <= bytes.len() {
            let (at, c) = bytes.get(k).copied().unwrap_or((line.len(), ' '));
            k += 1;
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            let separator = c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}');
            if separator {
                if let Some(start) = token_start.take() {
                    check_number(line.get(start..at).unwrap_or(""), n + 1, start + 1)?;
                }
            }
            match c {
                '#' if token_start.is_none() => break,
                '"' | '\'' if token_start.is_none() => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(DocumentError {
                            line: n + 1,
                            column: at + 1,
                            message: format!(
                                "lists and records are nested more than {MAX_NESTING} deep"
                            ),
                            help: Some("a case needs only a few levels; flatten it".into()),
                        });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ if separator => {}
                _ if token_start.is_none() => token_start = Some(at),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A plain YAML scalar that reads as a number with more significant digits
/// than a binary float keeps (15) would be silently changed.
fn check_number(token: &str, line: usize, column: usize) -> Result<(), DocumentError> {
    let token = token.trim_end_matches(':');
    let body = token.trim_start_matches(['-', '+']);
    let mantissa = body.split(['e', 'E']).next().unwrap_or(body);
    let looks_numeric = !mantissa.is_empty()
        && mantissa
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
        && mantissa.bytes().filter(|b| *b == b'.').count() <= 1
        && mantissa.bytes().any(|b| b.is_ascii_digit());
    if !looks_numeric {
        return Ok(());
    }
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.len() > 15 {
        return Err(DocumentError {
            line,
            column,
            message: format!(
                "the number {token} has {} significant digits, more than YAML keeps exactly",
                significant.len()
            ),
            help: Some(format!(
                "quote it, as \"{token}\", so that every digit is kept"
            )),
        });
    }
    Ok(())
}

/// Builds a JSON value, refusing a key that appears twice in one record.
#[derive(Clone, Copy)]
struct Strict;

/// serde_json hands an exact number (`arbitrary_precision`) to a visitor
/// as a one-entry record under this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = J;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<J, E> {
        Ok(J::Bool(b))
    }
    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<J, E> {
        Ok(J::from(i))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<J, E> {
        Ok(J::from(u))
    }
    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<J, E> {
        Ok(Number::from_f64(f).map_or(J::Null, J::Number))
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<J, E> {
        Ok(J::String(s.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<J, E> {
        Ok(J::String(s))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(J::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == NUMBER_TOKEN && out.is_empty() {
                let digits = map.next_value::<String>()?;
                let n = digits.parse::<Number>().map_err(A::Error::custom)?;
                return Ok(J::Number(n));
            }
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "the key `{key}` appears twice in one record"
                )));
            }
            let v = map.next_value_seed(self)?;
            out.insert(key, v);
        }
        Ok(J::Object(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot parse fails
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_refused_with_its_place() {
        let e = json_from_str(r#"{"a": {"b": 1, "b": 2}}"#).unwrap_err();
        assert!(e.message.contains("`b` appears twice"), "{e:?}");
        assert_eq!((e.line, e.column), (1, 18));
        let e = yaml_from_str("a:\n  b: 1\n  b: 2\n").unwrap_err();
        assert!(e.message.contains("`b` appears twice"), "{e:?}");
        assert_eq!(e.line, 2, "the record holding it");
    }

    #[test]
    fn exact_numbers_and_nesting_survive() {
        let v =
            json_from_str(r#"{"x": 900.00123456789012345678901, "y": [[1]], "z": null}"#).unwrap();
        assert_eq!(v["x"].to_string(), "900.00123456789012345678901");
        assert_eq!(v["y"][0][0], J::from(1));
        let v = yaml_from_str("x: 900.50\ny: [1, {a: 2}]\n# c: [[[\nw: '[[[1234567890123456789'\n")
            .unwrap();
        assert_eq!(v["y"][1]["a"], J::from(2));
        assert_eq!(v["w"], J::from("[[[1234567890123456789"));
    }

    #[test]
    fn yaml_numbers_beyond_a_float_and_deep_nesting_are_refused() {
        let e = yaml_from_str("a:\n  income: 900.00123456789012345\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 11));
        assert!(e.help.unwrap().contains("quote it"));
        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = yaml_from_str(&deep).unwrap_err();
        assert_eq!((e.line, e.column), (1, 4 + MAX_NESTING));
    }
}
