//! Rounding: money outputs whose value may hold fractions of a cent because nothing rounds them.

use super::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::value::{Type, Value};
use crate::ir::*;
use crate::syntax::ast::{self};
use rust_decimal::Decimal;
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub(super) fn warn_unrounded(&mut self) {
        let mut memo: HashMap<u32, bool> = HashMap::new();
        let mut warnings = Vec::new();
        for &o in &self.outputs {
            let Some(Some(d)) = self.defs.get(o as usize) else {
                continue;
            };
            if d.ty != Type::Money {
                continue;
            }
            if !self.def_exact(o, &mut memo) {
                warnings.push((d.name_span, d.name.clone(), o));
            }
        }
        for (span, name, o) in warnings {
            self.unrounded.push(o);
            self.err(
                Diagnostic::warning(Code::UnroundedMoney, span, format!("the money output `{name}` is never rounded"))
                    .with_label("may hold fractions of a cent")
                    .with_help("end its formula with `rounded to cents` (or the rounding the rulebook prescribes)"),
            );
        }
    }

    pub(super) fn def_exact(&self, i: u32, memo: &mut HashMap<u32, bool>) -> bool {
        if let Some(v) = memo.get(&i) {
            return *v;
        }
        memo.insert(i, true); // cycles are reported elsewhere
        let result = match self.defs.get(i as usize) {
            Some(Some(d)) => match &d.body {
                DefBody::Dated(values) => values.iter().all(|(_, v)| value_in_cents(v)),
                DefBody::Rule { base, overrides } => {
                    self.exact(base, memo) && overrides.iter().all(|o| self.exact(&o.value, memo))
                }
            },
            _ => true,
        };
        memo.insert(i, result);
        result
    }

    /// Whether an amount is known to be whole cents.
    pub(super) fn exact(&self, e: &Expr, memo: &mut HashMap<u32, bool>) -> bool {
        if e.ty != Type::Money {
            return true;
        }
        match &e.kind {
            ExprKind::Round(_, ast::RoundTarget::Cents(_), _) => true,
            ExprKind::Round(_, ast::RoundTarget::Decimals(n), _) => *n <= 2,
            ExprKind::Const(v) => value_in_cents(v),
            ExprKind::Input(_) | ExprKind::Local(_) | ExprKind::Field(..) => true,
            // The used rulebook answers for its own rounding: its outputs
            // are checked for it there.
            ExprKind::Used { .. } => true,
            ExprKind::OrElse(a, b) => self.exact(a, memo) && self.exact(b, memo),
            // Whole cents at the start and at every step: whole cents at the end.
            ExprKind::Fold { init, body, .. } => self.exact(init, memo) && self.exact(body, memo),
            ExprKind::Def(j) => self.def_exact(*j, memo),
            ExprKind::Neg(x) => self.exact(x, memo),
            ExprKind::Arith(ArithOp::Add | ArithOp::Sub, a, b) => {
                self.exact(a, memo) && self.exact(b, memo)
            }
            ExprKind::Arith(ArithOp::Mul, a, b) => {
                (a.ty == Type::Integer && self.exact(b, memo))
                    || (b.ty == Type::Integer && self.exact(a, memo))
            }
            ExprKind::If(_, a, b) => self.exact(a, memo) && self.exact(b, memo),
            ExprKind::Builtin(_, xs) => xs.iter().all(|x| self.exact(x, memo)),
            ExprKind::Call(f, _) => self.functions.get(*f as usize).is_some_and(|f| {
                self.exact(&f.body, memo) && f.overrides.iter().all(|o| self.exact(&o.value, memo))
            }),
            ExprKind::Table(t, _) => self
                .tables
                .get(*t as usize)
                .is_some_and(|t| t.rows.iter().all(|r| self.exact(&r.result, memo))),
            ExprKind::Scale(s, _) => self.scales.get(*s as usize).is_some_and(|s| {
                s.kind == ast::ScaleKind::SingleAmount
                    && s.brackets.iter().all(|(_, v)| value_in_cents(v))
            }),
            ExprKind::Aggregate {
                projection,
                list,
                if_empty,
                ..
            } => {
                let base = match projection {
                    Some(p) => self.exact(p, memo),
                    None => matches!(list.ty, Type::List(_)),
                };
                base && if_empty.as_ref().is_none_or(|x| self.exact(x, memo))
            }
            _ => false,
        }
    }
}

pub(super) fn value_in_cents(v: &Value) -> bool {
    match v {
        // An amount too large to multiply by a hundred has no room for
        // cents (28 significant digits), so it holds none.
        Value::Num(d) => d
            .checked_mul(Decimal::ONE_HUNDRED)
            .is_none_or(|c| c.fract().is_zero()),
        Value::Int(_) => true,
        _ => true,
    }
}
