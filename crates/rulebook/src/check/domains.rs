//! Table calls against the table's domain: an argument whose possible
//! values reach beyond the bounds declared for the table's parameter
//! (`size: integer 1 to 8`) would fail at run time with `no-row-matched`
//! for such a case. The possible values come from the inputs' declared
//! bounds, constants, and `min`, `max`, `+`, `-` and `if` over them; where
//! they cannot be told (a function's parameter, a list element), nothing is
//! said.

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::value::{Type, Value};
use crate::ir::{ArithOp, Builtin, DefBody, Expr, ExprKind, Program};
use rust_decimal::Decimal;

/// The values an expression can take: `None` at an end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    lo: Option<Decimal>,
    hi: Option<Decimal>,
}

impl Range {
    fn any() -> Range {
        Range { lo: None, hi: None }
    }
    fn point(d: Decimal) -> Range {
        Range {
            lo: Some(d),
            hi: Some(d),
        }
    }
    fn union(self, o: Range) -> Range {
        Range {
            lo: self.lo.zip(o.lo).map(|(a, b)| a.min(b)),
            hi: self.hi.zip(o.hi).map(|(a, b)| a.max(b)),
        }
    }
}

fn number(v: &Value) -> Option<Decimal> {
    v.as_decimal()
}

/// An end of declared bounds as an inclusive value: for an integer, an
/// exclusive `over 3` is 4.
fn end(b: Option<&(Value, bool)>, ty: &Type, low: bool) -> Option<Decimal> {
    let (v, inclusive) = b?;
    let d = number(v)?;
    Some(match (inclusive, ty) {
        (true, _) => d,
        (false, Type::Integer) if low => d + Decimal::ONE,
        (false, Type::Integer) => d - Decimal::ONE,
        // For other numbers an exclusive end is kept: close enough to say
        // whether a table's bounds are reached.
        (false, _) => d,
    })
}

struct Ranges<'p> {
    p: &'p Program,
    /// Per definition: not yet computed, in progress, or its range.
    defs: Vec<Option<Option<Range>>>,
}

impl Ranges<'_> {
    fn of(&mut self, e: &Expr, depth: u32) -> Option<Range> {
        if depth > 64 || !e.ty.is_numeric() {
            return None;
        }
        let p = self.p;
        match &e.kind {
            ExprKind::Const(v) => number(v).map(Range::point),
            ExprKind::Input(_) | ExprKind::Field(..) => {
                let path = p.input_path(e)?;
                let (ty, bounds) = input_bounds(p, &path)?;
                Some(match bounds {
                    Some(b) => Range {
                        lo: end(b.low.as_ref(), &ty, true),
                        hi: end(b.high.as_ref(), &ty, false),
                    },
                    None => Range::any(),
                })
            }
            ExprKind::Def(i) => {
                match self.defs.get(*i as usize) {
                    Some(Some(r)) => return *r,
                    Some(None) => {}
                    None => return None,
                }
                // Marked while computed, so that a cycle tells nothing.
                if let Some(slot) = self.defs.get_mut(*i as usize) {
                    *slot = Some(None);
                }
                let r = match p.defs.get(*i as usize).map(|d| &d.body) {
                    Some(DefBody::Rule { base, overrides }) => {
                        let mut r = self.of(base, depth + 1);
                        for o in overrides {
                            r = r.zip(self.of(&o.value, depth + 1)).map(|(a, b)| a.union(b));
                        }
                        r
                    }
                    Some(DefBody::Dated(values)) => values
                        .iter()
                        .map(|(_, v)| number(v).map(Range::point))
                        .reduce(|a, b| a.zip(b).map(|(x, y)| x.union(y)))
                        .flatten(),
                    None => None,
                };
                if let Some(slot) = self.defs.get_mut(*i as usize) {
                    *slot = Some(r);
                }
                r
            }
            ExprKind::Builtin(b @ (Builtin::Min | Builtin::Max), args) => {
                let rs: Vec<Range> = args
                    .iter()
                    .map(|a| self.of(a, depth + 1))
                    .collect::<Option<Vec<_>>>()?;
                let pick = |xs: Vec<Option<Decimal>>, smallest: bool, none_wins: bool| {
                    if xs.iter().any(Option::is_none) && none_wins {
                        return None;
                    }
                    let known = xs.into_iter().flatten();
                    if smallest {
                        known.min()
                    } else {
                        known.max()
                    }
                };
                let los: Vec<Option<Decimal>> = rs.iter().map(|r| r.lo).collect();
                let his: Vec<Option<Decimal>> = rs.iter().map(|r| r.hi).collect();
                Some(if *b == Builtin::Min {
                    // min(a, b): its low is the lowest low (unbounded if
                    // any is), its high the lowest high (bounded if any is).
                    Range {
                        lo: pick(los, true, true),
                        hi: pick(his, true, false),
                    }
                } else {
                    Range {
                        lo: pick(los, false, false),
                        hi: pick(his, false, true),
                    }
                })
            }
            ExprKind::Arith(op @ (ArithOp::Add | ArithOp::Sub), a, b) => {
                let (x, y) = (self.of(a, depth + 1)?, self.of(b, depth + 1)?);
                let add = |u: Option<Decimal>, v: Option<Decimal>| {
                    u.zip(v).and_then(|(u, v)| u.checked_add(v))
                };
                let sub = |u: Option<Decimal>, v: Option<Decimal>| {
                    u.zip(v).and_then(|(u, v)| u.checked_sub(v))
                };
                Some(if *op == ArithOp::Add {
                    Range {
                        lo: add(x.lo, y.lo),
                        hi: add(x.hi, y.hi),
                    }
                } else {
                    Range {
                        lo: sub(x.lo, y.hi),
                        hi: sub(x.hi, y.lo),
                    }
                })
            }
            ExprKind::If(_, t, f) => {
                let (x, y) = (self.of(t, depth + 1)?, self.of(f, depth + 1)?);
                Some(x.union(y))
            }
            _ => None,
        }
    }
}

/// An input path's declared type and bounds.
fn input_bounds<'p>(p: &'p Program, path: &str) -> Option<(Type, Option<&'p crate::ir::Bounds>)> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let input = p.inputs.iter().find(|i| i.name == first)?;
    let (mut ty, mut bounds) = (input.ty.clone(), input.bounds.as_ref());
    for part in parts {
        let Type::Record(r) = ty else { return None };
        let field = p
            .records
            .get(r as usize)?
            .fields
            .iter()
            .find(|f| f.name == part)?;
        ty = field.ty.clone();
        bounds = field.bounds.as_ref();
    }
    Some((ty, bounds))
}

fn show(d: Option<Decimal>) -> String {
    d.map(|d| d.normalize().to_string()).unwrap_or_default()
}

/// Warnings for table calls whose arguments can leave the table's domain.
pub(super) fn check(p: &Program) -> Vec<Diagnostic> {
    let mut ranges = Ranges {
        p,
        defs: vec![None; p.defs.len()],
    };
    let mut out = Vec::new();
    let mut todo: Vec<&Expr> = p.rule_exprs();
    // Function bodies read their parameters, whose values are not known here.
    let bodies: Vec<*const Expr> = p
        .functions
        .iter()
        .flat_map(|f| {
            std::iter::once(&f.body)
                .chain(f.overrides.iter().flat_map(|o| [&o.condition, &o.value]))
        })
        .map(|e| e as *const Expr)
        .collect();
    todo.retain(|e| !bodies.contains(&(*e as *const Expr)));
    let mut seen = std::collections::HashSet::new();
    while let Some(e) = todo.pop() {
        if let ExprKind::Table(t, args) = &e.kind {
            if let Some(table) = p.tables.get(*t as usize) {
                for ((name, ty, bounds), arg) in table.params.iter().zip(args) {
                    let Some(b) = bounds else { continue };
                    if !ty.is_numeric() || !seen.insert(arg.span) {
                        continue;
                    }
                    let Some(r) = ranges.of(arg, 0) else { continue };
                    let (lo, hi) = (
                        end(b.low.as_ref(), ty, true),
                        end(b.high.as_ref(), ty, false),
                    );
                    let below = lo.is_some_and(|lo| r.lo.is_none_or(|x| x < lo));
                    let above = hi.is_some_and(|hi| r.hi.is_none_or(|x| x > hi));
                    if !(below || above) {
                        continue;
                    }
                    let reach = match (below, above) {
                        (true, true) => "below and above".to_string(),
                        (true, false) => match r.lo {
                            Some(x) => format!("down to {}", show(Some(x))),
                            None => "below any bound".into(),
                        },
                        _ => match r.hi {
                            Some(x) => format!("up to {}", show(Some(x))),
                            None => "above any bound".into(),
                        },
                    };
                    let clamp = match (lo, hi, above) {
                        (_, Some(hi), true) => format!("min(…, {})", show(Some(hi))),
                        (Some(lo), _, _) => format!("max(…, {})", show(Some(lo))),
                        _ => "min(…)".into(),
                    };
                    out.push(
                        Diagnostic::warning(
                            Code::TableDomain,
                            arg.span,
                            format!(
                                "this value can go {reach}, beyond `{}`'s `{name}: {}`: a case with such a value fails with no-row-matched",
                                table.name, b.text
                            ),
                        )
                        .with_help(format!(
                            "bound the input it comes from to the table's domain, or call the table with {clamp} when larger values share the last row"
                        )),
                    );
                }
            }
        }
        crate::ir::each_child(e, &mut |c| todo.push(c));
    }
    out
}
