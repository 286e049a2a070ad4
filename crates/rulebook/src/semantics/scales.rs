//! Scales: a marginal scale's total and a single-amount scale's bracket.

use crate::ir::value::compare_amounts;
use crate::ir::ScaleInfo;
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// A marginal scale's total at `base`: each bracket's rate on the part of
/// `base` within it. `None` on overflow.
pub fn marginal_total(s: &ScaleInfo, base: Decimal) -> Option<Decimal> {
    let mut total = Decimal::ZERO;
    for (i, (t, rate)) in s.thresholds.iter().zip(&s.rates).enumerate() {
        if compare_amounts(&base, t) != Ordering::Greater {
            break;
        }
        // The smaller of the two, `base` on a tie (as `Ord::min`).
        let top = match s.thresholds.get(i + 1) {
            Some(n) if compare_amounts(n, &base) == Ordering::Less => *n,
            _ => base,
        };
        total = total.checked_add(top.checked_sub(*t)?.checked_mul(*rate)?)?;
    }
    Some(total)
}

/// The bracket of a single-amount scale that `base` falls in: the last
/// whose threshold it reaches (passes, for a strict scale). The checker
/// makes thresholds increase, so the search stops at the first bracket not
/// reached. `None` when `base` is below the first.
pub fn bracket_of(s: &ScaleInfo, base: Decimal) -> Option<usize> {
    let first = s.thresholds.first()?;
    if compare_amounts(&base, first) == Ordering::Less {
        return None;
    }
    let mut chosen = 0;
    for (i, t) in s.thresholds.iter().enumerate() {
        let ord = compare_amounts(&base, t);
        if ord == Ordering::Greater || (!s.strict && ord == Ordering::Equal) {
            chosen = i;
        } else {
            break;
        }
    }
    Some(chosen)
}
