//! Exact arithmetic, comparisons and rounding, as both evaluators do them:
//! every operation is checked (`None` on overflow or division by zero),
//! never wrapping and never in floating point.

use crate::ir::value::Value;
use crate::ir::{ArithOp, CmpOp};
use crate::syntax::ast::{RoundMode, RoundTarget};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use std::cmp::Ordering;

fn strategy(mode: RoundMode) -> RoundingStrategy {
    match mode {
        RoundMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        RoundMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        RoundMode::Down => RoundingStrategy::ToZero,
        RoundMode::Up => RoundingStrategy::AwayFromZero,
    }
}

/// Rounds as `rounded to ...` prescribes.
pub fn round(d: Decimal, target: RoundTarget, mode: RoundMode) -> Option<Decimal> {
    let s = strategy(mode);
    match target {
        RoundTarget::Cents(1) => Some(d.round_dp_with_strategy(2, s)),
        RoundTarget::Cents(n) => {
            let step = Decimal::from(n).checked_div(Decimal::ONE_HUNDRED)?;
            let q = d.checked_div(step)?.round_dp_with_strategy(0, s);
            let mut r = q.checked_mul(step)?;
            r.rescale(2);
            Some(r)
        }
        RoundTarget::Decimals(n) => Some(d.round_dp_with_strategy(n, s)),
    }
}

/// A parameter's value in force on `date`: the last whose start is not
/// after it.
#[inline]
pub fn in_force(values: &[(Option<NaiveDate>, Value)], date: NaiveDate) -> Option<&Value> {
    let mut found = None;
    for (from, v) in values {
        match from {
            Some(f) if *f > date => break,
            _ => found = Some(v),
        }
    }
    found
}

/// `a op b` exactly; `None` on overflow and on division by zero.
#[inline]
pub fn decimal_arith(op: ArithOp, a: Decimal, b: Decimal) -> Option<Decimal> {
    match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div if b.is_zero() => None,
        ArithOp::Div => a.checked_div(b),
    }
}

/// `a op b` for integers (whose division gives a decimal, elsewhere);
/// `None` on overflow and for a division.
#[inline]
pub fn integer_arith(op: ArithOp, a: i64, b: i64) -> Option<i64> {
    match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div => None,
    }
}

/// Whether a comparison holds for two values in the order `ord`.
#[inline]
pub fn ordering_holds(op: CmpOp, ord: Ordering) -> bool {
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

pub fn pick(a: Value, b: Value, min: bool) -> Value {
    match a.compare(&b) {
        Some(Ordering::Greater) if min => b,
        Some(Ordering::Less) if !min => b,
        _ => a,
    }
}
