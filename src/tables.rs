//! Decision-table analysis: gaps, overlaps and unreachable rows.
//!
//! Each column's domain is cut at every value a cell mentions; inside one
//! piece, every cell either matches all values or none. One witness value per
//! piece therefore stands for the whole piece, and trying every combination
//! of witnesses decides completeness and overlap exactly.

use crate::ast::HitPolicy;
use crate::ir::{Bounds, CellTest, TableInfo};
use crate::value::{Type, Value};
use rust_decimal::Decimal;
use std::sync::Arc;

/// Above this many combinations the table is not analysed.
pub const MAX_COMBINATIONS: usize = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Input values that no row matches.
    Gap(Vec<Value>),
    /// Two rows (0-based) of a unique table that match the same input.
    Overlap(usize, usize, Vec<Value>),
    /// A row of a first-hit table that is never the first match.
    Unreachable(usize),
}

fn step(v: &Value, ty: &Type, up: bool) -> Option<Value> {
    match (v, ty) {
        (Value::Int(i), _) => Some(Value::Int(if up {
            i.checked_add(1)?
        } else {
            i.checked_sub(1)?
        })),
        (Value::Num(d), _) => Some(Value::Num(if up {
            d.checked_add(Decimal::ONE)?
        } else {
            d.checked_sub(Decimal::ONE)?
        })),
        (Value::Date(d), _) => Some(Value::Date(if up { d.succ_opt()? } else { d.pred_opt()? })),
        _ => None,
    }
}

fn between(a: &Value, b: &Value) -> Option<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => (y - x >= 2).then(|| Value::Int(x + 1)),
        (Value::Num(x), Value::Num(y)) => {
            let mid = x.checked_add(*y)?.checked_div(Decimal::TWO)?;
            (mid > *x && mid < *y).then_some(Value::Num(mid))
        }
        (Value::Date(x), Value::Date(y)) => {
            let next = x.succ_opt()?;
            (next < *y).then_some(Value::Date(next))
        }
        _ => None,
    }
}

/// One witness value for each piece of a column's domain, or `None` when
/// the column's type cannot be analysed.
fn witnesses(
    ty: &Type,
    bounds: Option<&Bounds>,
    tests: &[&CellTest],
    enum_size: u32,
) -> Option<Vec<Value>> {
    match ty {
        Type::Bool => return Some(vec![Value::Bool(false), Value::Bool(true)]),
        Type::Enum(_) => return Some((0..enum_size).map(Value::Enum).collect()),
        Type::Text => {
            let mut out: Vec<Value> = Vec::new();
            for t in tests {
                if let CellTest::OneOf(vs) = t {
                    for v in vs {
                        if !out.contains(v) {
                            out.push(v.clone());
                        }
                    }
                }
            }
            out.push(Value::Text(Arc::from("(any other text)")));
            return Some(out);
        }
        Type::Integer | Type::Decimal | Type::Money | Type::Percent | Type::Date => {}
        _ => {
            return tests
                .iter()
                .all(|t| **t == CellTest::Any)
                .then(|| vec![Value::Bool(false)]);
        }
    }
    let mut points: Vec<Value> = Vec::new();
    let mut add = |v: &Value| {
        if !points.iter().any(|p| p.equals(v)) {
            points.push(v.clone());
        }
    };
    for t in tests {
        match t {
            CellTest::Any => {}
            CellTest::OneOf(vs) => vs.iter().for_each(&mut add),
            CellTest::Range { low, high } => {
                if let Some((v, _)) = low {
                    add(v);
                }
                if let Some((v, _)) = high {
                    add(v);
                }
            }
        }
    }
    if let Some(b) = bounds {
        if let Some((v, _)) = &b.low {
            add(v);
        }
        if let Some((v, _)) = &b.high {
            add(v);
        }
    }
    // Integer-valued columns compare as integers.
    let points: Vec<Value> = points
        .into_iter()
        .map(|p| match (ty, &p) {
            (Type::Decimal | Type::Money | Type::Percent, Value::Int(i)) => {
                Value::Num(Decimal::from(*i))
            }
            _ => p,
        })
        .collect();
    let mut points = points;
    points.sort_by(|a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal));
    let mut out = Vec::new();
    match (points.first(), points.last()) {
        (Some(first), Some(last)) => {
            if let Some(v) = step(first, ty, false) {
                out.push(v);
            }
            for (i, p) in points.iter().enumerate() {
                out.push(p.clone());
                if let Some(next) = points.get(i + 1) {
                    if let Some(m) = between(p, next) {
                        out.push(m);
                    }
                }
            }
            if let Some(v) = step(last, ty, true) {
                out.push(v);
            }
        }
        _ => out.push(match ty {
            Type::Integer => Value::Int(0),
            Type::Date => Value::Date(chrono::NaiveDate::default()),
            _ => Value::Num(Decimal::ZERO),
        }),
    }
    if let Some(b) = bounds {
        out.retain(|v| b.contains(v));
    }
    Some(out)
}

pub fn analyze(t: &TableInfo, enum_size: &dyn Fn(u32) -> u32) -> Vec<Finding> {
    let mut columns: Vec<Vec<Value>> = Vec::new();
    for (i, (_, ty, bounds)) in t.params.iter().enumerate() {
        let tests: Vec<&CellTest> = t.rows.iter().filter_map(|r| r.tests.get(i)).collect();
        let size = if let Type::Enum(e) = ty {
            enum_size(*e)
        } else {
            0
        };
        match witnesses(ty, bounds.as_ref(), &tests, size) {
            Some(w) => columns.push(w),
            None => return Vec::new(),
        }
    }
    let total = columns
        .iter()
        .try_fold(1usize, |acc, c| acc.checked_mul(c.len().max(1)));
    match total {
        Some(n) if n <= MAX_COMBINATIONS => {}
        _ => return Vec::new(),
    }
    if columns.iter().any(|c| c.is_empty()) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let mut gap_found = false;
    let mut overlaps: Vec<(usize, usize)> = Vec::new();
    let mut first_hit = vec![false; t.rows.len()];
    let mut idx = vec![0usize; columns.len()];
    let check_gaps = matches!(
        t.hit,
        HitPolicy::Unique | HitPolicy::First | HitPolicy::CollectMin | HitPolicy::CollectMax
    );
    loop {
        let combo: Vec<Value> = idx
            .iter()
            .zip(&columns)
            .filter_map(|(i, c)| c.get(*i).cloned())
            .collect();
        let matching: Vec<usize> = t
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.tests.iter().zip(&combo).all(|(test, v)| test.matches(v)))
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() && check_gaps && !gap_found {
            gap_found = true;
            findings.push(Finding::Gap(combo.clone()));
        }
        if t.hit == HitPolicy::Unique {
            if let [a, b, ..] = matching.as_slice() {
                if overlaps.len() < 5 && !overlaps.contains(&(*a, *b)) {
                    overlaps.push((*a, *b));
                    findings.push(Finding::Overlap(*a, *b, combo.clone()));
                }
            }
        }
        if let Some(first) = matching.first() {
            if let Some(f) = first_hit.get_mut(*first) {
                *f = true;
            }
        }
        // Next combination, like an odometer.
        let mut pos = 0;
        loop {
            let Some(i) = idx.get_mut(pos) else {
                if t.hit == HitPolicy::First {
                    for (r, hit) in first_hit.iter().enumerate() {
                        if !hit {
                            findings.push(Finding::Unreachable(r));
                        }
                    }
                }
                return findings;
            };
            *i += 1;
            if *i < columns.get(pos).map(|c| c.len()).unwrap_or(0) {
                break;
            }
            *i = 0;
            pos += 1;
        }
    }
}
