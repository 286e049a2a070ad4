//! Decision tables: the analysis of gaps, overlaps and unreachable rows,
//! and the row index that evaluation uses for large tables.
//!
//! Each column's domain is cut at every value a cell mentions; inside one
//! piece, every cell either matches all values or none. One witness value per
//! piece therefore stands for the whole piece, and trying every combination
//! of witnesses decides completeness and overlap exactly.

use crate::ir::row_index::{is_ordered, MAX_INDEX_ENTRIES};
use crate::ir::value::{Type, Value};
use crate::ir::{within, Bounds, CellTest, TableInfo};
use crate::syntax::ast::HitPolicy;
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
    let mut add = |v: &Value| points.push(v.clone());
    let mut flat: Vec<&CellTest> = Vec::new();
    for t in tests {
        match t {
            CellTest::AnyOf(alternatives) => flat.extend(alternatives.iter()),
            t => flat.push(t),
        }
    }
    for t in flat {
        match t {
            CellTest::Any | CellTest::AnyOf(_) => {}
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
    let mut points: Vec<Value> = points
        .into_iter()
        .map(|p| match (ty, &p) {
            (Type::Decimal | Type::Money | Type::Percent, Value::Int(i)) => {
                Value::Num(Decimal::from(*i))
            }
            _ => p,
        })
        .collect();
    // Sorting first makes removing repeated points linear, however many
    // rows the table has.
    points.sort_by(|a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal));
    points.dedup_by(|a, b| a.equals(b));
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

/// Finds gaps, overlaps and unreachable rows of a table.
pub fn analyze(t: &TableInfo, enum_size: &dyn Fn(u32) -> u32) -> Vec<Finding> {
    analyze_with(t, enum_size, false)
}

/// Which witnesses of one column a row's cell matches, by their index.
enum Hits {
    All,
    /// A range cell matches a run of the sorted witnesses.
    Run(usize, usize),
    Some(Vec<usize>),
}

impl Hits {
    fn contains(&self, w: usize) -> bool {
        match self {
            Hits::All => true,
            Hits::Run(lo, hi) => *lo <= w && w < *hi,
            Hits::Some(v) => v.binary_search(&w).is_ok(),
        }
    }
}

/// The witnesses `test` matches. In an ordered column the witnesses are
/// sorted, so a range is found by two binary searches and a list of
/// values by one search each, instead of trying every witness.
fn hits(test: &CellTest, witnesses: &[Value], ordered: bool) -> Hits {
    match test {
        CellTest::Any => Hits::All,
        CellTest::Range { low, high } if ordered => {
            let lo = witnesses.partition_point(|w| !within(w, low.as_ref(), None));
            let hi = witnesses.partition_point(|w| within(w, None, high.as_ref()));
            Hits::Run(lo, hi.max(lo))
        }
        CellTest::OneOf(values) if ordered => {
            let mut found: Vec<usize> = values
                .iter()
                .filter_map(|v| {
                    let i = witnesses
                        .partition_point(|w| w.compare(v) == Some(std::cmp::Ordering::Less));
                    witnesses.get(i).filter(|w| w.equals(v)).map(|_| i)
                })
                .collect();
            found.sort_unstable();
            found.dedup();
            Hits::Some(found)
        }
        _ => Hits::Some(
            witnesses
                .iter()
                .enumerate()
                .filter(|(_, w)| test.matches(w))
                .map(|(i, _)| i)
                .collect(),
        ),
    }
}

/// Finds the first two rows that match a combination of witnesses.
struct RowFinder {
    /// `hits[row][column]`.
    hits: Vec<Vec<Hits>>,
    /// Per column: the rows whose cell is `-`, and per witness the other
    /// rows that match it, each in row order. Empty when not indexed.
    any_rows: Vec<Vec<u32>>,
    by_witness: Vec<Vec<Vec<u32>>>,
    indexed: bool,
}

impl RowFinder {
    fn new(t: &TableInfo, columns: &[Vec<Value>]) -> RowFinder {
        let hits: Vec<Vec<Hits>> = t
            .rows
            .iter()
            .map(|r| {
                r.tests
                    .iter()
                    .zip(columns.iter().zip(&t.params))
                    .map(|(test, (ws, (_, ty, _)))| hits(test, ws, is_ordered(ty)))
                    .collect()
            })
            .collect();
        let entries: usize = hits
            .iter()
            .flatten()
            .map(|h| match h {
                Hits::All => 1,
                Hits::Run(lo, hi) => hi - lo,
                Hits::Some(v) => v.len(),
            })
            .sum();
        let mut any_rows = vec![Vec::new(); columns.len()];
        let mut by_witness: Vec<Vec<Vec<u32>>> =
            columns.iter().map(|c| vec![Vec::new(); c.len()]).collect();
        // A row of the wrong width (reported elsewhere) is only found by
        // trying every row.
        let indexed =
            entries <= MAX_INDEX_ENTRIES && hits.iter().all(|row| row.len() == columns.len());
        if indexed {
            for (r, row) in hits.iter().enumerate() {
                for (c, h) in row.iter().enumerate() {
                    let (Some(any), Some(lists)) = (any_rows.get_mut(c), by_witness.get_mut(c))
                    else {
                        continue;
                    };
                    match h {
                        Hits::All => any.push(r as u32),
                        Hits::Run(lo, hi) => {
                            for list in lists.get_mut(*lo..*hi).into_iter().flatten() {
                                list.push(r as u32);
                            }
                        }
                        Hits::Some(ws) => {
                            for w in ws {
                                if let Some(list) = lists.get_mut(*w) {
                                    list.push(r as u32);
                                }
                            }
                        }
                    }
                }
            }
        }
        RowFinder {
            hits,
            any_rows,
            by_witness,
            indexed,
        }
    }

    fn matches(&self, row: usize, idx: &[usize]) -> bool {
        self.hits
            .get(row)
            .is_some_and(|cells| cells.iter().zip(idx).all(|(h, w)| h.contains(*w)))
    }

    /// The first two rows, in row order, matching the witnesses `idx`.
    fn first_two(&self, idx: &[usize], out: &mut Vec<usize>) {
        out.clear();
        if !self.indexed || idx.is_empty() {
            for r in 0..self.hits.len() {
                if self.matches(r, idx) {
                    out.push(r);
                    if out.len() == 2 {
                        return;
                    }
                }
            }
            return;
        }
        // Candidates come from the column with the fewest; a row that
        // matches must be among them.
        let empty = Vec::new();
        let lists = |c: usize| {
            let any = self.any_rows.get(c).unwrap_or(&empty);
            let some = idx
                .get(c)
                .and_then(|w| self.by_witness.get(c).and_then(|l| l.get(*w)))
                .unwrap_or(&empty);
            (any, some)
        };
        let best = (0..idx.len())
            .min_by_key(|&c| {
                let (a, b) = lists(c);
                a.len() + b.len()
            })
            .unwrap_or(0);
        let (a, b) = lists(best);
        let (mut i, mut j) = (0, 0);
        loop {
            let next = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x <= y => {
                    i += 1;
                    *x
                }
                (_, Some(y)) => {
                    j += 1;
                    *y
                }
                (Some(x), None) => {
                    i += 1;
                    *x
                }
                (None, None) => return,
            } as usize;
            if self.matches(next, idx) {
                out.push(next);
                if out.len() == 2 {
                    return;
                }
            }
        }
    }
}

/// With `every_row`, each combination's rows are found by trying every
/// cell's own test instead of the `RowFinder`: slow, but independent of
/// the index, and the reference the property test compares it with.
fn analyze_with(t: &TableInfo, enum_size: &dyn Fn(u32) -> u32, every_row: bool) -> Vec<Finding> {
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
    let finder = RowFinder::new(t, &columns);
    let mut matching: Vec<usize> = Vec::with_capacity(2);
    let check_gaps = matches!(
        t.hit,
        HitPolicy::Unique
            | HitPolicy::First
            | HitPolicy::CollectMin
            | HitPolicy::CollectMax
            | HitPolicy::Priority
    );
    loop {
        if every_row {
            let combo: Vec<Value> = idx
                .iter()
                .zip(&columns)
                .filter_map(|(i, c)| c.get(*i).cloned())
                .collect();
            matching.clear();
            matching.extend(
                t.rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.tests.iter().zip(&combo).all(|(test, v)| test.matches(v)))
                    .map(|(i, _)| i)
                    .take(2),
            );
        } else {
            finder.first_two(&idx, &mut matching);
        }
        let combo = || -> Vec<Value> {
            idx.iter()
                .zip(&columns)
                .filter_map(|(i, c)| c.get(*i).cloned())
                .collect()
        };
        if matching.is_empty() && check_gaps && !gap_found {
            gap_found = true;
            findings.push(Finding::Gap(combo()));
        }
        if t.hit == HitPolicy::Unique {
            if let [a, b, ..] = matching.as_slice() {
                if overlaps.len() < 5 && !overlaps.contains(&(*a, *b)) {
                    overlaps.push((*a, *b));
                    findings.push(Finding::Overlap(*a, *b, combo()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::ir::row_index::RowIndex;
    use crate::ir::{Citation, Expr, ExprKind, TableRowInfo};
    use chrono::NaiveDate;
    use proptest::prelude::*;

    /// Column kinds: integer, money, date, boolean, an enum of three, text.
    fn value(kind: u8, n: i64) -> Value {
        match kind {
            0 => Value::Int(n),
            1 => Value::Num(Decimal::new(n * 50, 2)),
            2 => Value::Date(
                NaiveDate::from_ymd_opt(2024, 1, 1)
                    .and_then(|d| d.checked_add_days(chrono::Days::new(n.unsigned_abs())))
                    .unwrap_or_default(),
            ),
            3 => Value::Bool(n % 2 == 0),
            4 => Value::Enum((n.rem_euclid(3)) as u32),
            _ => Value::Text(Arc::from(format!("t{}", n.rem_euclid(4)))),
        }
    }

    fn ty(kind: u8) -> Type {
        match kind {
            0 => Type::Integer,
            1 => Type::Money,
            2 => Type::Date,
            3 => Type::Bool,
            4 => Type::Enum(0),
            _ => Type::Text,
        }
    }

    fn cell(kind: u8) -> impl Strategy<Value = CellTest> {
        let bound = (0i64..12, any::<bool>()).prop_map(move |(n, incl)| (value(kind, n), incl));
        let ordered = kind <= 2;
        prop_oneof![
            Just(CellTest::Any),
            prop::collection::vec(0i64..12, 1..4).prop_map(move |ns| CellTest::OneOf(
                ns.into_iter().map(|n| value(kind, n)).collect()
            )),
            (prop::option::of(bound.clone()), prop::option::of(bound)).prop_map(
                move |(low, high)| {
                    if ordered {
                        CellTest::Range { low, high }
                    } else {
                        CellTest::Any
                    }
                }
            ),
        ]
    }

    fn table() -> impl Strategy<Value = TableInfo> {
        let hit = prop_oneof![
            Just(HitPolicy::Unique),
            Just(HitPolicy::First),
            Just(HitPolicy::CollectMin),
            Just(HitPolicy::CollectSum),
        ];
        (prop::collection::vec(0u8..6, 1..4), hit, any::<bool>())
            .prop_flat_map(|(kinds, hit, bounded)| {
                let row = kinds.iter().map(|k| cell(*k)).collect::<Vec<_>>();
                (
                    Just(kinds),
                    Just(hit),
                    Just(bounded),
                    prop::collection::vec(row, 0..14),
                )
            })
            .prop_map(|(kinds, hit, bounded, rows)| TableInfo {
                name: "t".into(),
                params: kinds
                    .iter()
                    .map(|k| {
                        let b = (bounded && *k <= 2).then(|| Bounds {
                            low: Some((value(*k, 2), true)),
                            high: Some((value(*k, 9), false)),
                            text: String::new(),
                        });
                        ("c".to_string(), ty(*k), b)
                    })
                    .collect(),
                ret: Type::Integer,
                hit,
                rows: rows
                    .into_iter()
                    .map(|tests| TableRowInfo {
                        tests,
                        result: Expr {
                            kind: ExprKind::Const(Value::Int(0)),
                            ty: Type::Integer,
                            span: Span::default(),
                        },
                        span: Span::default(),
                    })
                    .collect(),
                frame_size: 0,
                citation: Citation::default(),
                doc: None,
                span: Span::default(),
                index: None,
            })
    }

    proptest! {
        /// Finding rows through the witness index gives exactly the
        /// findings of trying every row for every combination.
        #[test]
        fn the_row_index_finds_what_trying_every_row_finds(t in table()) {
            let size = |_| 3;
            prop_assert_eq!(analyze_with(&t, &size, false), analyze_with(&t, &size, true));
        }

        /// The rows the evaluation index offers for a case include every
        /// row that matches it, in row order.
        #[test]
        fn the_evaluation_index_offers_every_matching_row(
            t in table(),
            args in prop::collection::vec(-1i64..14, 3),
        ) {
            let Some(index) = RowIndex::new(&t) else {
                return Ok(());
            };
            let values: Vec<Value> = t
                .params
                .iter()
                .zip(&args)
                .map(|((_, ty, _), n)| match ty {
                    Type::Integer => value(0, *n),
                    Type::Money => value(1, *n),
                    Type::Date => value(2, (*n).max(0)),
                    Type::Bool => value(3, *n),
                    Type::Enum(_) => value(4, *n),
                    _ => value(5, *n),
                })
                .collect();
            let args: Vec<&Value> = values.iter().collect();
            let matching: Vec<u32> = t
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.tests.iter().zip(&args).all(|(c, v)| c.matches(v)))
                .map(|(i, _)| i as u32)
                .collect();
            let mut offered = Vec::new();
            let v = args.get(index.column()).copied();
            prop_assert!(v.is_some_and(|v| index.candidates(v, &mut offered)));
            prop_assert!(offered.windows(2).all(|w| w[0] < w[1]), "{:?}", offered);
            let found: Vec<u32> = offered
                .iter()
                .copied()
                .filter(|r| matching.contains(r))
                .collect();
            prop_assert_eq!(found, matching);
        }
    }
}
