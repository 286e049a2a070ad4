//! What the decision log keeps of a case's inputs. A release may hold a
//! `privacy.yaml` beside its rulebooks, one section per programme, saying
//! for each input field whether the log keeps it as sent, drops it, keeps
//! only the band it falls in (an income band rather than the income) or
//! only the year of a date:
//!
//! ```yaml
//! helsinki.home_care:
//!   household.gross_monthly_income: band 500
//!   household.size: keep
//!   "*": drop          # every field not listed; `keep` when not given
//! ```
//!
//! Paths name fields through records; lists are passed through, so
//! `members.birth_date` applies to every member. A path names a field of
//! at least one version of its programme, and a band is given for numbers
//! and amounts, a year for dates, or the release is refused: a misspelt
//! path would otherwise keep what it meant to mask. The answer to the
//! client is never masked; only what is stored is.

use rulebook::cases::document;
use rulebook::ir::value::Type;
use rulebook::ir::Program;
use rulebook::syntax::number::parse_exact;
use rust_decimal::Decimal;
use serde_json::{Map, Value as J};
use std::collections::HashMap;

/// The name of the file, at the top of the rulebooks folder.
pub const FILE: &str = "privacy.yaml";

#[derive(Debug, Clone, PartialEq)]
pub enum Mask {
    Keep,
    Drop,
    /// The band of this width the figure falls in, as `"500–1000"`
    /// (from, inclusive, to, exclusive).
    Band(Decimal),
    /// Only the year of a date.
    Year,
}

/// One programme's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    fields: Vec<(String, Mask)>,
    others: Mask,
}

/// Every programme's rules; a programme without a section is kept whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Privacy {
    by_programme: HashMap<String, Policy>,
}

impl Privacy {
    pub fn policy(&self, programme: &str) -> Option<&Policy> {
        self.by_programme.get(programme)
    }

    pub fn parse(text: &str, programs: &[&Program]) -> Result<Privacy, String> {
        let doc = document::yaml_from_str(text)
            .map_err(|e| format!("line {}, column {}: {}", e.line, e.column, e.message))?;
        let mut by_programme = HashMap::new();
        let J::Object(sections) = doc else {
            return Err(
                "expected one section per programme id, such as `helsinki.home_care:`".into(),
            );
        };
        for (programme, rules) in sections {
            let versions: Vec<&Program> = programs
                .iter()
                .copied()
                .filter(|p| p.id == programme)
                .collect();
            if versions.is_empty() {
                let ids: Vec<&str> = programs.iter().map(|p| p.id.as_str()).collect();
                return Err(format!(
                    "no programme `{programme}` in this release (the programmes are {})",
                    ids.join(", ")
                ));
            }
            let J::Object(rules) = rules else {
                return Err(format!(
                    "{programme}: expected one line per input field, such as `household.gross_monthly_income: band 500`"
                ));
            };
            let mut policy = Policy {
                fields: Vec::new(),
                others: Mask::Keep,
            };
            for (field, rule) in rules {
                let where_ = format!("{programme}.{field}");
                let mask = match &rule {
                    J::String(s) => parse_mask(s),
                    _ => None,
                }
                .ok_or_else(|| {
                    format!("{where_}: expected keep, drop, `band WIDTH` (such as band 500) or year, found {rule}")
                })?;
                if field == "*" {
                    if !matches!(mask, Mask::Keep | Mask::Drop) {
                        return Err(format!(
                            "{where_}: the fields not listed can only be kept or dropped"
                        ));
                    }
                    policy.others = mask;
                    continue;
                }
                let types: Vec<Type> = versions
                    .iter()
                    .filter_map(|p| p.input_type_at(&field, true))
                    .collect();
                let Some(ty) = types.first() else {
                    return Err(format!(
                        "{where_}: no version of {programme} has an input field `{field}`"
                    ));
                };
                let fits = match mask {
                    Mask::Band(_) => matches!(
                        ty,
                        Type::Integer | Type::Decimal | Type::Money | Type::Percent
                    ),
                    Mask::Year => *ty == Type::Date,
                    Mask::Keep | Mask::Drop => true,
                };
                if !fits {
                    return Err(format!(
                        "{where_}: a band is for numbers and amounts, a year for dates; `{field}` is neither"
                    ));
                }
                policy.fields.push((field, mask));
            }
            by_programme.insert(programme, policy);
        }
        Ok(Privacy { by_programme })
    }
}

fn parse_mask(s: &str) -> Option<Mask> {
    let s = s.trim();
    match s {
        "keep" => Some(Mask::Keep),
        "drop" => Some(Mask::Drop),
        "year" => Some(Mask::Year),
        _ => {
            let width = s.strip_prefix("band")?.trim().trim_end_matches('€').trim();
            let w = parse_exact(width)?;
            (w > Decimal::ZERO).then_some(Mask::Band(w))
        }
    }
}

impl Policy {
    /// The inputs as the log keeps them, and whether anything was changed
    /// (a masked decision cannot be replayed exactly).
    pub fn apply(&self, inputs: &J) -> (J, bool) {
        let mut changed = false;
        let kept = self
            .walk(inputs, "", &mut changed)
            .unwrap_or(J::Object(Map::new()));
        (kept, changed)
    }

    fn walk(&self, v: &J, path: &str, changed: &mut bool) -> Option<J> {
        if let Some((_, mask)) = self.fields.iter().find(|(f, _)| f == path) {
            return mask_value(mask, v, changed);
        }
        match v {
            J::Object(m) => {
                let mut out = Map::new();
                for (k, child) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if let Some(c) = self.walk(child, &p, changed) {
                        out.insert(k.clone(), c);
                    }
                }
                Some(J::Object(out))
            }
            J::Array(items) => Some(J::Array(
                items
                    .iter()
                    .filter_map(|i| self.walk(i, path, changed))
                    .collect(),
            )),
            _ => mask_value(&self.others, v, changed),
        }
    }
}

fn mask_value(mask: &Mask, v: &J, changed: &mut bool) -> Option<J> {
    if let J::Array(items) = v {
        if !matches!(mask, Mask::Keep | Mask::Drop) {
            return Some(J::Array(
                items
                    .iter()
                    .filter_map(|i| mask_value(mask, i, changed))
                    .collect(),
            ));
        }
    }
    match mask {
        Mask::Keep => Some(v.clone()),
        Mask::Drop => {
            *changed = true;
            None
        }
        Mask::Band(width) => {
            *changed = true;
            let text = match v {
                J::Number(n) => n.to_string(),
                J::String(s) => s.clone(),
                _ => return Some(J::String("(masked)".into())),
            };
            let band = rulebook::cases::input::parse_figure(&text).and_then(|d| {
                let from = d.checked_div(*width)?.floor().checked_mul(*width)?;
                let to = from.checked_add(*width)?;
                Some(format!("{}–{}", from.normalize(), to.normalize()))
            });
            Some(J::String(band.unwrap_or_else(|| "(masked)".into())))
        }
        Mask::Year => {
            *changed = true;
            Some(match v.as_str().and_then(|s| s.get(..4)) {
                Some(y) if y.bytes().all(|b| b.is_ascii_digit()) => J::String(y.into()),
                _ => J::String("(masked)".into()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(fields: &[(&str, Mask)], others: Mask) -> Policy {
        Policy {
            fields: fields
                .iter()
                .map(|(f, m)| (f.to_string(), m.clone()))
                .collect(),
            others,
        }
    }

    #[test]
    fn bands_years_drops_and_lists() {
        let p = policy(
            &[
                ("household.income", Mask::Band(Decimal::from(500))),
                ("members.birth_date", Mask::Year),
                ("note", Mask::Drop),
            ],
            Mask::Keep,
        );
        let (kept, masked) = p.apply(&json!({
            "household": { "income": "1 499,99 €", "size": 2 },
            "members": [ { "birth_date": "1950-04-02" }, { "birth_date": "2001-12-31" } ],
            "note": "free text",
        }));
        assert!(masked);
        // "1 499,99" is not a figure this reads (a decimal comma): masked,
        // never kept as sent.
        assert_eq!(kept["household"]["income"], "(masked)");
        assert_eq!(kept["household"]["size"], 2);
        assert_eq!(kept["members"][1]["birth_date"], "2001");
        assert!(kept.get("note").is_none());
        let (kept, _) = p.apply(&json!({ "household": { "income": 1500 } }));
        assert_eq!(kept["household"]["income"], "1500–2000");
        let (kept, _) = p.apply(&json!({ "household": { "income": "-0.01" } }));
        assert_eq!(kept["household"]["income"], "-500–0");
    }

    #[test]
    fn unlisted_fields_follow_the_star_rule() {
        let p = policy(&[("a.keep_me", Mask::Keep)], Mask::Drop);
        let (kept, masked) = p.apply(&json!({ "a": { "keep_me": 1, "secret": 2 }, "b": [1, 2] }));
        assert!(masked);
        assert_eq!(kept, json!({ "a": { "keep_me": 1 }, "b": [] }));
        let nothing = policy(&[], Mask::Keep);
        let v = json!({ "a": { "b": [1, { "c": "2021-01-01" }] } });
        assert_eq!(nothing.apply(&v), (v.clone(), false));
    }
}
