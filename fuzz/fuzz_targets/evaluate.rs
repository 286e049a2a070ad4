//! Structured cases: values of the right shape for a bundled rulebook's
//! inputs, with arbitrary contents (huge amounts, odd dates, empty and long
//! lists), evaluated with explanations. Nothing may panic, and without an
//! explanation the decision (by the evaluation plan where there is one)
//! must be the interpreter's.
#![no_main]
use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use rulebook::ir::Program;
use rulebook::ir::value::Type;
use serde_json::{json, Value as J};

#[path = "common.rs"]
mod common;

fn number(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 => format!("{}", u.int_in_range(-10i64..=10)?),
        1 => format!(
            "{}.{:02}",
            u.int_in_range(0i64..=100_000)?,
            u.int_in_range(0u8..=99)?
        ),
        2 => format!("{}", u.arbitrary::<i64>()?),
        _ => format!("{}.{}", u.arbitrary::<i32>()?, u.arbitrary::<u32>()?),
    })
}

fn value(u: &mut Unstructured, p: &Program, ty: &Type, depth: u32) -> Result<J> {
    Ok(match ty {
        Type::Bool => J::Bool(u.arbitrary()?),
        Type::Integer => json!(if u.ratio(1, 8)? {
            u.arbitrary::<i64>()?
        } else {
            u.int_in_range(-2i64..=20)?
        }),
        Type::Decimal | Type::Money => J::String(number(u)?),
        Type::Percent => J::String(format!("{} %", number(u)?)),
        Type::Text => J::String(u.arbitrary()?),
        Type::Date => J::String(format!(
            "{:04}-{:02}-{:02}",
            u.int_in_range(1i32..=9999)?,
            u.int_in_range(1u32..=12)?,
            u.int_in_range(1u32..=31)?
        )),
        Type::Duration => J::String(format!("{} months", u.int_in_range(-1000i64..=1000)?)),
        // A variant with data as a one-entry object with its data.
        Type::Enum(e) => {
            let Some(info) = p.enums.get(*e as usize) else {
                return Ok(J::Null);
            };
            let k = u.choose_index(info.variants.len().max(1))?;
            let name = info.variants.get(k).cloned().unwrap_or_default();
            match info.data.get(k).copied().flatten() {
                Some(r) => json!({ name: value(u, p, &Type::Record(r), depth + 1)? }),
                None => J::String(name),
            }
        }
        Type::Record(r) => {
            let mut m = serde_json::Map::new();
            if let Some(rec) = p.records.get(*r as usize) {
                for f in &rec.fields {
                    m.insert(f.name.clone(), value(u, p, &f.ty, depth + 1)?);
                }
            }
            J::Object(m)
        }
        Type::List(elem) => {
            let n = if depth > 3 {
                0
            } else {
                u.int_in_range(0usize..=6)?
            };
            J::Array(
                (0..n)
                    .map(|_| value(u, p, elem, depth + 1))
                    .collect::<Result<Vec<_>>>()?,
            )
        }
        // Absent (null) now and then, else a value.
        Type::Optional(inner) => {
            if u.ratio(1, 3)? {
                J::Null
            } else {
                value(u, p, inner, depth)?
            }
        }
        Type::Error => J::Null,
    })
}

fn case(u: &mut Unstructured, p: &Program) -> Result<J> {
    let mut m = serde_json::Map::new();
    let from = p.in_force_from;
    m.insert(
        "decision_date".into(),
        json!((from + chrono::Duration::days(u.int_in_range(-400i64..=1200)?)).to_string()),
    );
    for i in &p.inputs {
        m.insert(i.name.clone(), value(u, p, &i.ty, 0)?);
    }
    Ok(J::Object(m))
}

fuzz_target!(|data: &[u8]| {
    let programs = common::programs();
    let mut u = Unstructured::new(data);
    let Ok(i) = u.choose_index(programs.len()) else {
        return;
    };
    let Some(p) = programs.get(i) else { return };
    let Ok(doc) = case(&mut u, p) else { return };
    if let Ok(c) = rulebook::cases::input::decode_case(p, &doc, None) {
        let _ = rulebook::eval::evaluate(p, &c, &rulebook::eval::Options { explain: true });
        let plain = rulebook::eval::Options { explain: false };
        let planned = rulebook::eval::evaluate(p, &c, &plain);
        let mut scratch = rulebook::eval::Scratch::default();
        let interpreted = rulebook::eval::interpret(p, &c, &plain, &mut scratch);
        assert_eq!(format!("{planned:?}"), format!("{interpreted:?}"));
    }
});
