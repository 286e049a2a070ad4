//! Finding the rows of a decision table that match a case.

use crate::ir::value::Value;
use crate::ir::TableInfo;
use crate::syntax::ast::HitPolicy;

/// Puts the rows of `t` (0-based, in row order) that match `args` in
/// `matched`: for a first-hit table the first, for a unique table at most
/// the two that show an overlap, otherwise all. A large table offers only
/// the rows its index says can match.
pub fn find_rows<A>(
    t: &TableInfo,
    args: &[A],
    value: impl Fn(&A) -> &Value,
    matched: &mut Vec<usize>,
    candidates: &mut Vec<u32>,
) {
    let indexed = t.row_index().is_some_and(|index| {
        args.get(index.column())
            .is_some_and(|v| index.candidates(value(v), candidates))
    });
    let rows: &mut dyn Iterator<Item = usize> = if indexed {
        &mut candidates.iter().map(|r| *r as usize)
    } else {
        &mut (0..t.rows.len())
    };
    for i in rows {
        let Some(row) = t.rows.get(i) else { continue };
        if row
            .tests
            .iter()
            .zip(args)
            .all(|(test, v)| test.matches(value(v)))
        {
            matched.push(i);
            if t.hit == HitPolicy::First || (t.hit == HitPolicy::Unique && matched.len() == 2) {
                break;
            }
        }
    }
}
