//! Constants: parameter values, table cells and literals, which must be written as figures, never computed.

use super::*;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Duration, Type, Value};
use crate::syntax::ast::{self, DataValue, DurationUnit, ExprKind as A, Literal};
use rust_decimal::Decimal;
use std::sync::Arc;

impl<'a> Checker<'a> {
    /// A parameter named where a constant is needed (a cell, a bound): its
    /// one value, so that a threshold the law sets once is written once.
    /// `None` when the name is not a parameter; an error when its values
    /// change by date or its type is not the one needed.
    fn parameter_constant(
        &mut self,
        id: &ast::Ident,
        ty: &Type,
    ) -> Option<Result<Value, Box<Diagnostic>>> {
        let Some((Global::Def(i), _)) = self.globals.get(&id.name).copied() else {
            return None;
        };
        // Before the definitions are typed (types and inputs are declared
        // first), a bound cannot name a parameter.
        if self.defs.len() != self.def_src.len() {
            return None;
        }
        let src = self.def_src.get(i as usize)?;
        src.param?;
        let param_ty = self.def_type(i);
        self.uses.push((id.span, SymKey::Global(id.name.clone())));
        self.edge(Node::Def(i), id.span);
        let Some(Some(d)) = self.defs.get(i as usize) else {
            return Some(Err(Box::new(Diagnostic::error(
                Code::NotConstant,
                id.span,
                format!("the value of parameter `{}` is not known", id.name),
            ))));
        };
        let DefBody::Dated(values) = &d.body else {
            return None;
        };
        if !param_ty.fits(ty) {
            let (want, got) = (self.type_name(ty), self.type_name(&param_ty));
            return Some(Err(Box::new(
                Diagnostic::error(
                    Code::TypeMismatch,
                    id.span,
                    format!(
                        "parameter `{}` is {got}, but {want} is needed here",
                        id.name
                    ),
                )
                .with_help(format!(
                    "name a parameter of type {want}, or write the figure"
                )),
            )));
        }
        match values.as_slice() {
            [(None, v)] => Some(Ok(match (v, ty) {
                (Value::Int(n), Type::Decimal | Type::Money | Type::Percent) => {
                    Value::Num(Decimal::from(*n))
                }
                (v, _) => v.clone(),
            })),
            _ => Some(Err(Box::new(
                Diagnostic::error(
                    Code::NotConstant,
                    id.span,
                    format!("parameter `{}` has values that change by date, but a table cell or bound holds one value", id.name),
                )
                .with_help("write the figure of this version's period here, or give the parameter one value"),
            ))),
        }
    }

    /// Converts a constant written in a cell, bound or example to a value.
    pub(super) fn const_value(&mut self, v: &DataValue, ty: &Type) -> Option<Value> {
        let span = lit_span(v);
        match (v, ty) {
            (_, Type::Error) => None,
            // A value given for an optional field is of the type it holds.
            (v, Type::Optional(inner)) => {
                let inner = (**inner).clone();
                self.const_value(v, &inner)
            }
            (DataValue::Literal(lit, _), _) => {
                let (value, got) = literal_value(lit);
                let fits = match (&got, ty) {
                    (Type::Integer, Type::Decimal) => true,
                    (a, b) => a == b,
                };
                if fits {
                    Some(match (value, ty) {
                        (Value::Int(i), Type::Decimal) => Value::Num(Decimal::from(i)),
                        (v, _) => v,
                    })
                } else {
                    if let (Type::Decimal, Type::Integer, Literal::Number(n, _)) = (&got, ty, lit) {
                        if n.fract().is_zero() {
                            return n.to_string().parse::<i64>().ok().map(Value::Int);
                        }
                    }
                    self.mismatch(span, ty, &got, "this value");
                    None
                }
            }
            (DataValue::Variant(id, fields, vspan), Type::Enum(e)) => {
                let info = self.enums.get(*e as usize)?.clone();
                let Some(v) = info.variants.iter().position(|x| *x == id.name) else {
                    // Reported as for a bare name.
                    return self.const_value(&DataValue::Name(id.clone()), ty);
                };
                let Some(rid) = info.data.get(v).copied().flatten() else {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            *vspan,
                            format!("`{}` of `{}` carries no data", id.name, info.name),
                        )
                        .with_help(format!("write `{}` alone", id.name)),
                    );
                    return None;
                };
                self.uses
                    .push((id.span, SymKey::Variant(info.name.clone(), id.name.clone())));
                match self.const_value(
                    &DataValue::Record(fields.clone(), *vspan),
                    &Type::Record(rid),
                )? {
                    Value::Record(values) => Some(Value::Tagged(v as u32, values)),
                    _ => None,
                }
            }
            (DataValue::Name(id), Type::Enum(e)) => {
                let info = self.enums.get(*e as usize)?;
                match info.variants.iter().position(|v| *v == id.name) {
                    Some(i) if info.data.get(i).copied().flatten().is_some() => {
                        let ename = info.name.clone();
                        self.err(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                id.span,
                                format!(
                                    "`{}` of `{ename}` carries data, which is missing here",
                                    id.name
                                ),
                            )
                            .with_help(format!(
                                "write it with its data, such as `{} {{ ... }}`",
                                id.name
                            )),
                        );
                        None
                    }
                    Some(i) => {
                        self.uses
                            .push((id.span, SymKey::Variant(info.name.clone(), id.name.clone())));
                        Some(Value::Enum(i as u32))
                    }
                    None => {
                        let ename = info.name.clone();
                        let mut d = Diagnostic::error(
                            Code::UnknownName,
                            id.span,
                            format!("`{}` is not one of the values of `{ename}`", id.name),
                        )
                        .with_label("unknown value");
                        let vs = info.variants.clone();
                        d = match suggest(&id.name, vs.iter().map(|s| s.as_str())) {
                            Some(s) => d.did_you_mean(id.span, s),
                            None => d.with_help(format!(
                                "the values of `{ename}` are {}",
                                vs.join(", ")
                            )),
                        };
                        self.err(d);
                        None
                    }
                }
            }
            (DataValue::Name(id), _) => {
                if let Some(r) = self.parameter_constant(id, ty) {
                    return r.map_err(|d| self.err(*d)).ok();
                }
                let known = self.globals.contains_key(&id.name);
                let mut d = Diagnostic::error(
                    if known {
                        Code::NotConstant
                    } else {
                        Code::UnknownName
                    },
                    id.span,
                    if known {
                        format!("`{}` is a name, but a constant is needed here", id.name)
                    } else {
                        format!(
                            "`{}` is not a value of type {}",
                            id.name,
                            self.type_name(ty)
                        )
                    },
                );
                d = d.with_help(format!(
                    "write a {} value here, such as {}",
                    self.type_name(ty),
                    example_of(ty)
                ));
                self.err(d);
                None
            }
            (DataValue::List(items, _), Type::List(elem)) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.const_value(i, elem)?);
                }
                Some(Value::List(Arc::from(out)))
            }
            (DataValue::Record(fields, rspan), Type::Record(r)) => {
                let info = self.records.get(*r as usize)?.clone();
                let mut values: Vec<Option<Value>> = vec![None; info.fields.len()];
                let mut ok = true;
                for (name, v) in fields {
                    match info.fields.iter().position(|f| f.name == name.name) {
                        Some(i) => {
                            self.uses.push((
                                name.span,
                                SymKey::Field(info.name.clone(), name.name.clone()),
                            ));
                            let Some(f) = info.fields.get(i) else {
                                continue;
                            };
                            let val = self.const_value(v, &f.ty);
                            if let (Some(val), Some(b)) = (&val, &f.bounds) {
                                if !b.contains(val) {
                                    self.err(
                                        Diagnostic::error(
                                            Code::InvalidExample,
                                            v.span(),
                                            format!("`{}` must be {}", name.name, b.text),
                                        )
                                        .with_help("use a value inside the declared range"),
                                    );
                                    ok = false;
                                }
                            }
                            ok &= val.is_some();
                            if let Some(slot) = values.get_mut(i) {
                                *slot = val;
                            }
                        }
                        None => {
                            let mut d = Diagnostic::error(
                                Code::UnknownField,
                                name.span,
                                format!("`{}` has no field `{}`", info.name, name.name),
                            );
                            d = match suggest(
                                &name.name,
                                info.fields.iter().map(|f| f.name.as_str()),
                            ) {
                                Some(s) => d.did_you_mean(name.span, s),
                                None => d.with_help(format!(
                                    "the fields of `{}` are {}",
                                    info.name,
                                    info.fields
                                        .iter()
                                        .map(|f| f.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            };
                            self.err(d);
                            ok = false;
                        }
                    }
                }
                let missing: Vec<&str> = info
                    .fields
                    .iter()
                    .zip(&values)
                    .filter(|(f, v)| v.is_none() && !matches!(f.ty, Type::Optional(_)))
                    .map(|(f, _)| f.name.as_str())
                    .filter(|n| !fields.iter().any(|(f, _)| f.name == *n))
                    .collect();
                if !missing.is_empty() {
                    self.err(
                        Diagnostic::error(
                            Code::InvalidExample,
                            *rspan,
                            format!(
                                "`{}` is missing {}",
                                info.name,
                                missing
                                    .iter()
                                    .map(|m| format!("`{m}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                        .with_help("give every field a value"),
                    );
                    return None;
                }
                if !ok {
                    return None;
                }
                // A field left out is absent when it may be, and was
                // reported above when it may not.
                Some(Value::Record(Arc::from(
                    values
                        .into_iter()
                        .zip(&info.fields)
                        .map(|(v, f)| {
                            v.unwrap_or(if matches!(f.ty, Type::Optional(_)) {
                                Value::Absent
                            } else {
                                Value::Bool(false)
                            })
                        })
                        .collect::<Vec<_>>(),
                )))
            }
            (other, _) => {
                let got = match other {
                    DataValue::List(..) => "a list",
                    DataValue::Record(..) => "a record",
                    DataValue::Variant(..) => "a value of an enum with its data",
                    _ => "a value",
                };
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        span,
                        format!("expected {}, but this is {got}", self.type_name(ty)),
                    )
                    .with_help(format!(
                        "write a {} value here, such as {}",
                        self.type_name(ty),
                        example_of(ty)
                    )),
                );
                None
            }
        }
    }
}

pub(super) fn lit_span(v: &DataValue) -> Span {
    v.span()
}

/// The value and type of a literal.
pub fn literal_value(l: &Literal) -> (Value, Type) {
    match l {
        Literal::Bool(b) => (Value::Bool(*b), Type::Bool),
        Literal::Number(n, true) => match n.to_string().parse::<i64>() {
            Ok(i) => (Value::Int(i), Type::Integer),
            Err(_) => (Value::Num(*n), Type::Decimal),
        },
        Literal::Number(n, false) => (Value::Num(*n), Type::Decimal),
        Literal::Money(n) => (Value::Num(*n), Type::Money),
        Literal::Percent(n) => (Value::Num(n / Decimal::ONE_HUNDRED), Type::Percent),
        Literal::Date(d) => (Value::Date(*d), Type::Date),
        Literal::Duration(n, unit) => {
            let d = match unit {
                DurationUnit::Days => Duration {
                    months: 0,
                    days: *n,
                },
                DurationUnit::Weeks => Duration {
                    months: 0,
                    days: n * 7,
                },
                DurationUnit::Months => Duration {
                    months: *n,
                    days: 0,
                },
                DurationUnit::Years => Duration {
                    months: n * 12,
                    days: 0,
                },
            };
            (Value::Duration(d), Type::Duration)
        }
        Literal::Text(t) => (Value::Text(Arc::from(t.as_str())), Type::Text),
    }
}

pub(super) fn cell_to_data(c: &ast::CellValue) -> DataValue {
    match c {
        ast::CellValue::Literal(l, s) => DataValue::Literal(l.clone(), *s),
        ast::CellValue::Name(i) => DataValue::Name(i.clone()),
    }
}

/// A parameter's value written as an expression, if it is a constant.
pub(super) fn expr_to_data(e: &ast::Expr) -> Option<DataValue> {
    match &e.kind {
        A::Literal(l) => Some(DataValue::Literal(l.clone(), e.span)),
        A::Neg(inner) => match &inner.kind {
            A::Literal(Literal::Number(n, i)) => {
                Some(DataValue::Literal(Literal::Number(-n, *i), e.span))
            }
            A::Literal(Literal::Money(n)) => Some(DataValue::Literal(Literal::Money(-n), e.span)),
            A::Literal(Literal::Percent(n)) => {
                Some(DataValue::Literal(Literal::Percent(-n), e.span))
            }
            _ => None,
        },
        A::Name(n) => Some(DataValue::Name(ast::Ident {
            name: n.clone(),
            span: e.span,
        })),
        A::Field(base, field) => match &base.kind {
            A::Name(_) => Some(DataValue::Name(field.clone())),
            _ => None,
        },
        _ => None,
    }
}
