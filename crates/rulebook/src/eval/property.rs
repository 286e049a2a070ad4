//! Whether a property holds at a case: a bound is evaluated at the case; a
//! relation at the case and at the same case with its input moved.

use super::{fail, Evaluator, R};
use crate::diagnostic::{Code, Span};
use crate::ir::value::Value;
use crate::ir::*;
use crate::semantics::decision::{Case, EvalError};
use std::sync::Arc;

/// What a property says about one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Holds,
    /// It does not hold; the values that show why, as a person reads them
    /// (`customer_pays = -420.00 €, not >= 0.00 €`).
    Fails(String),
    /// The property says nothing about this case (not eligible, its
    /// condition is not met, the moved input leaves its declared range).
    NotApplicable(&'static str),
}

/// Checks property `prop` of `p` at `case`. A relation moves its input by
/// `step` (its own step for `rises by at most`; for `never rises`, a step
/// must be given, since any move must keep the relation).
pub fn check_property(
    p: &Program,
    prop: &PropertyInfo,
    case: &Case,
    step: Option<&Value>,
) -> Result<Verdict, EvalError> {
    let mut at = At::new(p, case);
    let verdict = match &prop.kind {
        PropertyKind::Bound { holds, when } => {
            if (prop.about_outputs || matches!(when, Some(PropertyCondition::Eligible)))
                && !at.eligible()?
            {
                return Ok(Verdict::NotApplicable("the case is not eligible"));
            }
            if let Some(PropertyCondition::Holds(c)) = when {
                if !at.holds(c)? {
                    return Ok(Verdict::NotApplicable("its condition is not met"));
                }
            }
            if at.holds(holds)? {
                Verdict::Holds
            } else {
                Verdict::Fails(at.sides(holds)?)
            }
        }
        PropertyKind::Monotone {
            value,
            value_rises,
            input,
            input_rises,
        } => {
            let Some(step) = step else {
                return Ok(Verdict::NotApplicable("no step to move the input by"));
            };
            relation(
                p,
                prop,
                case,
                &mut at,
                value,
                input,
                step,
                *input_rises,
                |before, after| {
                    let rose = after > before;
                    let fell = after < before;
                    if *value_rises {
                        rose
                    } else {
                        fell
                    }
                },
            )?
        }
        PropertyKind::Marginal {
            value,
            at_most,
            input,
            step: own,
        } => {
            let step = match step {
                Some(s) => s.clone(),
                None => at.value(own)?,
            };
            let limit = at.value(at_most)?.as_decimal();
            let Some(limit) = limit else {
                return Err(internal("the limit is not a number"));
            };
            relation(
                p,
                prop,
                case,
                &mut at,
                value,
                input,
                &step,
                true,
                |before, after| after.checked_sub(before).is_some_and(|d| d > limit),
            )?
        }
    };
    Ok(verdict)
}

/// A relation: `value` at the case and with `input` moved by `step`
/// (`up`: raised, else lowered); it fails when `fails(before, after)`.
#[allow(clippy::too_many_arguments)]
fn relation(
    p: &Program,
    prop: &PropertyInfo,
    case: &Case,
    at: &mut At<'_>,
    value: &Expr,
    input: &InputPath,
    step: &Value,
    up: bool,
    fails: impl Fn(rust_decimal::Decimal, rust_decimal::Decimal) -> bool,
) -> Result<Verdict, EvalError> {
    if prop.about_outputs && !at.eligible()? {
        return Ok(Verdict::NotApplicable("the case is not eligible"));
    }
    let Some(moved) = moved(p, case, input, step, up) else {
        return Ok(Verdict::NotApplicable(
            "the moved input leaves its declared range",
        ));
    };
    let mut after_at = At::new(p, &moved);
    if prop.about_outputs && !after_at.eligible()? {
        return Ok(Verdict::NotApplicable("the moved case is not eligible"));
    }
    let before = at.value(value)?;
    let after = after_at.value(value)?;
    let (Some(b), Some(a)) = (before.as_decimal(), after.as_decimal()) else {
        return Err(internal("a relation's value is not a number"));
    };
    if fails(b, a) {
        let moved_to = read(&moved.inputs, input)
            .map(|v| p.render(&v, &input.ty))
            .unwrap_or_default();
        let now = read(&case.inputs, input)
            .map(|v| p.render(&v, &input.ty))
            .unwrap_or_default();
        let name = describe(p, value).unwrap_or_else(|| "the value".into());
        Ok(Verdict::Fails(format!(
            "{name} = {} with {} = {now}, but {} with {} = {moved_to}",
            p.render(&before, &value.ty),
            input.text,
            p.render(&after, &value.ty),
            input.text
        )))
    } else {
        Ok(Verdict::Holds)
    }
}

/// A name for what an expression computes, when it is a name: a rule, a
/// parameter or an input's field.
fn describe(p: &Program, e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Def(i) => p.defs.get(*i as usize).map(|d| d.name.clone()),
        ExprKind::Input(i) => p.inputs.get(*i as usize).map(|d| d.name.clone()),
        ExprKind::Field(base, f) => {
            let record = match &base.ty {
                crate::ir::value::Type::Record(r) => p.records.get(*r as usize)?,
                _ => return None,
            };
            let field = record.fields.get(*f as usize)?;
            Some(format!("{}.{}", describe(p, base)?, field.name))
        }
        _ => None,
    }
}

fn internal(message: &str) -> EvalError {
    *fail(Code::Internal, Span::default(), message)
}

/// The value at an input path.
pub fn read(inputs: &[Value], path: &InputPath) -> Option<Value> {
    let mut v = inputs.get(path.input as usize)?;
    for &f in &path.fields {
        match v {
            Value::Record(fields) => v = fields.get(f as usize)?,
            _ => return None,
        }
    }
    Some(v.clone())
}

/// `inputs` with the value at `path` replaced.
pub fn write(inputs: &[Value], path: &InputPath, new: Value) -> Option<Vec<Value>> {
    fn set(v: &Value, fields: &[u32], new: Value) -> Option<Value> {
        match fields.split_first() {
            None => Some(new),
            Some((&f, rest)) => match v {
                Value::Record(items) => {
                    let mut items: Vec<Value> = items.to_vec();
                    let slot = items.get_mut(f as usize)?;
                    *slot = set(slot, rest, new)?;
                    Some(Value::Record(Arc::from(items)))
                }
                _ => None,
            },
        }
    }
    let mut out = inputs.to_vec();
    let slot = out.get_mut(path.input as usize)?;
    *slot = set(slot, &path.fields, new)?;
    Some(out)
}

/// The declared range of the value at an input path, if any.
pub fn bounds_of<'p>(p: &'p Program, path: &InputPath) -> Option<&'p Bounds> {
    let input = p.inputs.get(path.input as usize)?;
    let Some((&last, within)) = path.fields.split_last() else {
        return input.bounds.as_ref();
    };
    let mut ty = &input.ty;
    for &f in within {
        let crate::ir::value::Type::Record(r) = ty else {
            return None;
        };
        ty = &p.records.get(*r as usize)?.fields.get(f as usize)?.ty;
    }
    let crate::ir::value::Type::Record(r) = ty else {
        return None;
    };
    p.records
        .get(*r as usize)?
        .fields
        .get(last as usize)?
        .bounds
        .as_ref()
}

/// The case with the input at `path` moved by `step`, or `None` when the
/// result leaves the input's declared range or cannot be computed.
pub fn moved(p: &Program, case: &Case, path: &InputPath, step: &Value, up: bool) -> Option<Case> {
    let now = read(&case.inputs, path)?;
    let new = match (&now, step) {
        (Value::Int(a), Value::Int(b)) => Value::Int(if up {
            a.checked_add(*b)?
        } else {
            a.checked_sub(*b)?
        }),
        (a, b) => {
            let (a, b) = (a.as_decimal()?, b.as_decimal()?);
            Value::Num(if up {
                a.checked_add(b)?
            } else {
                a.checked_sub(b)?
            })
        }
    };
    if bounds_of(p, path).is_some_and(|b| !b.contains(&new)) {
        return None;
    }
    Some(Case {
        decision_date: case.decision_date,
        inputs: write(&case.inputs, path, new)?,
    })
}

/// An evaluator for one case, made for checking properties.
struct At<'p> {
    ev: Evaluator<'p>,
}

impl<'p> At<'p> {
    fn new(p: &'p Program, case: &'p Case) -> At<'p> {
        At {
            ev: Evaluator::for_case(p, case),
        }
    }

    fn eligible(&mut self) -> Result<bool, EvalError> {
        let p = self.ev.p;
        for c in &p.criteria {
            if !self.ev.holds(&c.condition).map_err(|e| *e)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn holds(&mut self, e: &Expr) -> Result<bool, EvalError> {
        self.ev.holds(e).map_err(|e| *e)
    }

    fn value(&mut self, e: &Expr) -> Result<Value, EvalError> {
        let r: R<Value> = self.ev.eval(e);
        r.map_err(|e| *e)
    }

    /// The values of a failed condition's comparison (of each failed part
    /// of an `and`), to show why it failed.
    fn sides(&mut self, e: &Expr) -> Result<String, EvalError> {
        let p = self.ev.p;
        Ok(match &e.kind {
            ExprKind::Cmp(op, l, r) => {
                let (lv, rv) = (self.value(l)?, self.value(r)?);
                let side = |e: &Expr, v: &Value| match describe(p, e) {
                    Some(name) => format!("{name} = {}", p.render(v, &e.ty)),
                    None => p.render(v, &e.ty),
                };
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "≠",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                format!("{}, not {op} {}", side(l, &lv), side(r, &rv))
            }
            ExprKind::And(l, r) => {
                let mut parts = Vec::new();
                for part in [l, r] {
                    if !self.holds(part)? {
                        parts.push(self.sides(part)?);
                    }
                }
                parts.join("; ")
            }
            _ => "the condition is false".into(),
        })
    }
}
