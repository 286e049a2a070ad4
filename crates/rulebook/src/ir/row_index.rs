//! An index of a large decision table's rows by one ordered column, built
//! once when the table is checked, so that evaluating it tries only the
//! rows that can match a case.

use crate::ir::value::{Type, Value};
use crate::ir::{CellTest, TableInfo};

/// Above this many (row, witness) pairs the rows are not indexed by
/// witness; each combination then tries every row.
pub const MAX_INDEX_ENTRIES: usize = 4_000_000;

/// Whether a column's values are ordered, so that ranges can be indexed.
pub fn is_ordered(ty: &Type) -> bool {
    matches!(
        ty,
        Type::Integer | Type::Decimal | Type::Money | Type::Percent | Type::Date
    )
}

/// Tables with fewer rows are evaluated by trying each row in turn, which
/// is as fast as a lookup at that size.
pub const INDEX_MIN_ROWS: usize = 32;

/// The rows of a table by the value of one ordered column, so that
/// evaluating a large table (income bands, capitation coefficients by age)
/// tries only the rows that can match rather than all of them.
///
/// The values the column's cells mention cut its domain into pieces: below
/// the first value, at it, between it and the next, ..., above the last.
/// Every cell matches a piece entirely or not at all, so each piece keeps
/// the rows whose cell matches it; a lookup finds the argument's piece by a
/// binary search. Rows whose cell is `-` are kept once, apart.
#[derive(Debug, Clone)]
pub struct RowIndex {
    column: usize,
    points: Vec<Value>,
    any_rows: Vec<u32>,
    /// `2 * points.len() + 1` pieces, each with its rows in row order.
    pieces: Vec<Vec<u32>>,
}

impl RowIndex {
    /// An index on the ordered column that cuts the table into the most
    /// pieces; `None` when no column can be indexed, or when an index would
    /// hold more than `MAX_INDEX_ENTRIES` rows in all.
    pub fn new(t: &TableInfo) -> Option<RowIndex> {
        let width = t.params.len();
        if t.rows.iter().any(|r| r.tests.len() != width) {
            return None;
        }
        let column = (0..width)
            .filter(|c| t.params.get(*c).is_some_and(|(_, ty, _)| is_ordered(ty)))
            .filter_map(|c| Some((c, column_points(t, c)?)))
            .max_by_key(|(_, points)| points.len());
        let (column, points) = column?;
        let mut index = RowIndex {
            column,
            pieces: vec![Vec::new(); 2 * points.len() + 1],
            points,
            any_rows: Vec::new(),
        };
        let mut entries = 0usize;
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32;
            let pieces: Vec<usize> = match row.tests.get(column)? {
                CellTest::Any => {
                    index.any_rows.push(r);
                    continue;
                }
                // A union of ranges is not indexed: the table is searched
                // row by row.
                CellTest::AnyOf(_) => return None,
                CellTest::Range { low, high } => {
                    let first = match low {
                        None => 0,
                        Some((v, inclusive)) => {
                            2 * index.point(v)? + if *inclusive { 1 } else { 2 }
                        }
                    };
                    let last = match high {
                        None => 2 * index.points.len(),
                        Some((v, inclusive)) => 2 * index.point(v)? + usize::from(*inclusive),
                    };
                    (first..=last).collect()
                }
                CellTest::OneOf(values) => {
                    let mut at = values
                        .iter()
                        .map(|v| Some(2 * index.point(v)? + 1))
                        .collect::<Option<Vec<usize>>>()?;
                    at.sort_unstable();
                    at.dedup();
                    at
                }
            };
            entries += pieces.len();
            if entries > MAX_INDEX_ENTRIES {
                return None;
            }
            for p in pieces {
                index.pieces.get_mut(p)?.push(r);
            }
        }
        Some(index)
    }

    /// The position of a value among the points.
    fn point(&self, v: &Value) -> Option<usize> {
        let i = self
            .points
            .partition_point(|p| p.compare(v) == Some(std::cmp::Ordering::Less));
        self.points.get(i).filter(|p| p.equals(v)).map(|_| i)
    }

    /// The column the rows are indexed by.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The rows that can match a case whose value in the indexed column is
    /// `v`, in row order, into `out`; `false` (and `out` untouched) when
    /// `v` cannot be placed, for instance a value of another type, so that
    /// every row must be tried.
    pub fn candidates(&self, v: &Value, out: &mut Vec<u32>) -> bool {
        let mut incomparable = false;
        let i = self.points.partition_point(|p| match p.compare(v) {
            Some(o) => o == std::cmp::Ordering::Less,
            None => {
                incomparable = true;
                false
            }
        });
        if incomparable {
            return false;
        }
        let at = self.points.get(i).is_some_and(|p| p.equals(v));
        let piece = 2 * i + usize::from(at);
        let Some(rows) = self.pieces.get(piece) else {
            return false;
        };
        // Merge the two lists, both in row order.
        out.clear();
        let (mut a, mut b) = (self.any_rows.iter().peekable(), rows.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            if let Some(r) = next {
                out.push(*r);
            }
        }
        true
    }
}

/// The values the cells of a column mention, sorted and distinct; `None`
/// when two cannot be ordered.
fn column_points(t: &TableInfo, column: usize) -> Option<Vec<Value>> {
    let mut points: Vec<Value> = Vec::new();
    for row in &t.rows {
        match row.tests.get(column)? {
            CellTest::Any => {}
            CellTest::AnyOf(_) => return None,
            CellTest::Range { low, high } => {
                points.extend(low.iter().chain(high).map(|(v, _)| v.clone()));
            }
            CellTest::OneOf(values) => points.extend(values.iter().cloned()),
        }
    }
    if points
        .iter()
        .any(|p| points.first().and_then(|f| f.compare(p)).is_none())
    {
        return None;
    }
    points.sort_by(|a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal));
    points.dedup_by(|a, b| a.equals(b));
    Some(points)
}

/// The index of a table large enough to need one.
pub fn build(t: &TableInfo) -> Option<RowIndex> {
    if t.rows.len() < INDEX_MIN_ROWS {
        return None;
    }
    RowIndex::new(t)
}
