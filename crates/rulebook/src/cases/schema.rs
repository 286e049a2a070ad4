//! JSON Schema (2020-12) of a rulebook version's case: its inputs and the
//! decision date, written as the case decoder accepts them.

use crate::ir::value::{Type, Value};
use crate::ir::{Bounds, Program};
use serde_json::{json, Value as J};

fn bound_note(b: Option<&Bounds>) -> Option<String> {
    b.map(|b| b.text.clone())
}

fn number_bounds(schema: &mut serde_json::Map<String, J>, b: Option<&Bounds>) {
    let Some(b) = b else { return };
    let num = |v: &Value| {
        v.as_decimal()
            .and_then(|d| d.to_string().parse::<f64>().ok())
    };
    if let Some((v, incl)) = &b.low {
        if let Some(n) = num(v) {
            schema.insert(
                if *incl { "minimum" } else { "exclusiveMinimum" }.into(),
                json!(n),
            );
        }
    }
    if let Some((v, incl)) = &b.high {
        if let Some(n) = num(v) {
            schema.insert(
                if *incl { "maximum" } else { "exclusiveMaximum" }.into(),
                json!(n),
            );
        }
    }
}

/// The schema of one value of a type.
pub fn type_schema(
    p: &Program,
    ty: &Type,
    bounds: Option<&Bounds>,
    description: Option<&str>,
) -> J {
    let mut s = serde_json::Map::new();
    match ty {
        // The value, or null; the key may also be left out.
        Type::Optional(inner) => {
            return json!({
                "anyOf": [type_schema(p, inner, bounds, description), { "type": "null" }]
            });
        }
        Type::Bool => {
            s.insert("type".into(), json!("boolean"));
        }
        Type::Integer => {
            s.insert("type".into(), json!("integer"));
            number_bounds(&mut s, bounds);
        }
        Type::Decimal => {
            s.insert("type".into(), json!(["number", "string"]));
            s.insert("pattern".into(), json!("^-?[0-9]+(\\.[0-9]+)?$"));
        }
        Type::Money => {
            s.insert("type".into(), json!(["number", "string"]));
            s.insert("pattern".into(), json!("^-?[0-9]+(\\.[0-9]+)? ?(€|EUR)?$"));
            s.insert("format".into(), json!("euros"));
        }
        Type::Percent => {
            s.insert("type".into(), json!(["number", "string"]));
            s.insert("pattern".into(), json!("^-?[0-9]+(\\.[0-9]+)? ?%?$"));
            s.insert("format".into(), json!("percentage points"));
        }
        Type::Text => {
            s.insert("type".into(), json!("string"));
        }
        Type::Date => {
            s.insert("type".into(), json!("string"));
            s.insert("format".into(), json!("date"));
        }
        Type::Duration => {
            s.insert("type".into(), json!("string"));
            s.insert(
                "pattern".into(),
                json!("^-?[0-9]+ (day|days|week|weeks|month|months|year|years)$"),
            );
        }
        // Variants with data are one-entry objects: `{"Salary": {...}}`.
        Type::Enum(e)
            if p.enums
                .get(*e as usize)
                .is_some_and(|e| e.data.iter().any(|d| d.is_some())) =>
        {
            let Some(info) = p.enums.get(*e as usize) else {
                return json!({});
            };
            let plain: Vec<&String> = info
                .variants
                .iter()
                .zip(info.data.iter().chain(std::iter::repeat(&None)))
                .filter(|(_, d)| d.is_none())
                .map(|(v, _)| v)
                .collect();
            let mut choices = Vec::new();
            if !plain.is_empty() {
                choices.push(json!({ "type": "string", "enum": plain }));
            }
            for (v, d) in info.variants.iter().zip(&info.data) {
                if let Some(r) = d {
                    choices.push(json!({
                        "type": "object",
                        "properties": { v.clone(): type_schema(p, &Type::Record(*r), None, None) },
                        "required": [v],
                        "additionalProperties": false
                    }));
                }
            }
            s.insert("oneOf".into(), json!(choices));
        }
        Type::Enum(e) => {
            let values = p
                .enums
                .get(*e as usize)
                .map(|e| e.variants.clone())
                .unwrap_or_default();
            s.insert("type".into(), json!("string"));
            s.insert("enum".into(), json!(values));
        }
        Type::Record(r) => {
            let Some(rec) = p.records.get(*r as usize) else {
                return json!({});
            };
            let mut props = serde_json::Map::new();
            for f in &rec.fields {
                props.insert(
                    f.name.clone(),
                    type_schema(p, &f.ty, f.bounds.as_ref(), f.description.as_deref()),
                );
            }
            s.insert("type".into(), json!("object"));
            s.insert("properties".into(), J::Object(props));
            s.insert(
                "required".into(),
                json!(rec
                    .fields
                    .iter()
                    .filter(|f| !matches!(f.ty, Type::Optional(_)))
                    .map(|f| f.name.clone())
                    .collect::<Vec<_>>()),
            );
            s.insert("additionalProperties".into(), json!(false));
        }
        Type::List(elem) => {
            s.insert("type".into(), json!("array"));
            s.insert("items".into(), type_schema(p, elem, None, None));
            s.insert("maxItems".into(), json!(crate::cases::input::MAX_LIST_LEN));
        }
        Type::Error => {}
    }
    let mut desc: Vec<String> = description.map(|d| vec![d.to_string()]).unwrap_or_default();
    if let (Some(note), false) = (bound_note(bounds), matches!(ty, Type::Integer)) {
        desc.push(format!("allowed: {note}"));
    }
    if !desc.is_empty() {
        s.insert("description".into(), json!(desc.join("; ")));
    }
    J::Object(s)
}

/// The schema of a case for this version: one property per input, plus an
/// optional `decision_date`.
pub fn case_schema(p: &Program) -> J {
    let mut props = serde_json::Map::new();
    props.insert(
        "decision_date".into(),
        json!({ "type": "string", "format": "date" }),
    );
    for i in &p.inputs {
        props.insert(
            i.name.clone(),
            type_schema(p, &i.ty, i.bounds.as_ref(), i.description.as_deref()),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("{} {} case", p.id, p.version),
        "type": "object",
        "properties": props,
        "required": p
            .inputs
            .iter()
            .filter(|i| !matches!(i.ty, Type::Optional(_)))
            .map(|i| i.name.clone())
            .collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}
