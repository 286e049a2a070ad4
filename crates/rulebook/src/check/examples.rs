//! Examples: their inputs are decoded against the declarations and their expectations against the outputs and criteria.

use super::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::value::Value;
use crate::ir::*;
use crate::syntax::ast::{self};

impl<'a> Checker<'a> {
    pub(super) fn check_example(&mut self, e: &ast::ExampleDef) {
        let mut ok = true;
        let Some(date) = e.date else {
            self.err(
                Diagnostic::error(
                    Code::InvalidExample,
                    e.name_span,
                    format!("the example {:?} has no decision date", e.name),
                )
                .with_help("add a line such as `on 2021-03-01`"),
            );
            return;
        };
        // An example decides with this version, so its date must be one
        // the version is in force on.
        if let Some(f) = self.file.header.as_ref().and_then(|h| h.in_force.as_ref()) {
            if date < f.from || f.to.is_some_and(|to| date > to) {
                let period = match f.to {
                    Some(to) => format!("from {} to {to}", f.from),
                    None => format!("from {}", f.from),
                };
                self.err(
                    Diagnostic::error(
                        Code::InvalidExample,
                        e.name_span,
                        format!(
                            "the example {:?} is dated {date}, but this version is in force {period}",
                            e.name
                        ),
                    )
                    .with_help("date the example within the version's period, or move it to the version in force then"),
                );
                ok = false;
            }
        }
        let mut inputs: Vec<Option<Value>> = vec![None; self.inputs.len()];
        for (name, value) in &e.given {
            let Some(idx) = self.inputs.iter().position(|i| i.name == name.name) else {
                let mut d = Diagnostic::error(
                    Code::InvalidExample,
                    name.span,
                    format!("there is no input `{}`", name.name),
                )
                .with_label("unknown input");
                let names: Vec<String> = self.inputs.iter().map(|i| i.name.clone()).collect();
                d = match suggest(&name.name, names.iter().map(|s| s.as_str())) {
                    Some(s) => d.did_you_mean(name.span, s),
                    None => d.with_help(super::suggest::inputs_help(
                        names.iter().map(String::as_str),
                    )),
                };
                self.err(d);
                ok = false;
                continue;
            };
            let Some(info) = self.inputs.get(idx) else {
                continue;
            };
            self.uses
                .push((name.span, SymKey::Global(name.name.clone())));
            let (ty, bounds) = (info.ty.clone(), info.bounds.clone());
            let v = self.const_value(value, &ty);
            if let (Some(v), Some(b)) = (&v, &bounds) {
                if !b.contains(v) {
                    self.err(
                        Diagnostic::error(
                            Code::InvalidExample,
                            value.span(),
                            format!("`{}` must be {}", name.name, b.text),
                        )
                        .with_help("use a value inside the declared range"),
                    );
                    ok = false;
                }
            }
            ok &= v.is_some();
            if let Some(slot) = inputs.get_mut(idx) {
                *slot = v;
            }
        }
        // An optional input left out is absent.
        for (i, slot) in self.inputs.iter().zip(inputs.iter_mut()) {
            if slot.is_none()
                && matches!(i.ty, Type::Optional(_))
                && !e.given.iter().any(|(g, _)| g.name == i.name)
            {
                *slot = Some(Value::Absent);
            }
        }
        let missing: Vec<String> = self
            .inputs
            .iter()
            .zip(&inputs)
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i.name.clone())
            .filter(|n| !e.given.iter().any(|(g, _)| g.name == *n))
            .collect();
        if !missing.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::InvalidExample,
                    e.name_span,
                    format!(
                        "the example does not give {}",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_help("add a `given NAME ...` line for each input"),
            );
            ok = false;
        }
        let mut expects = Vec::new();
        for x in &e.expects {
            match x {
                ast::Expectation::Eligible(s) => expects.push(ExpectInfo::Eligible(true, None, *s)),
                ast::Expectation::NotEligible(names, s) => {
                    for n in names {
                        if self.criteria.iter().any(|c| c.name == n.name) {
                            self.uses.push((n.span, SymKey::Criterion(n.name.clone())));
                        } else if self.file.unparsed.iter().any(|u| u == "eligibility") {
                            // The criteria did not parse; that error is
                            // the one to fix first.
                        } else {
                            let mut d = Diagnostic::error(
                                Code::InvalidExample,
                                n.span,
                                format!("there is no criterion `{}`", n.name),
                            );
                            let names: Vec<String> =
                                self.criteria.iter().map(|c| c.name.clone()).collect();
                            if let Some(s) = suggest(&n.name, names.iter().map(|s| s.as_str())) {
                                d = d.with_help(format!("did you mean `{s}`?"));
                            }
                            self.err(d);
                            ok = false;
                        }
                    }
                    let list = if names.is_empty() {
                        None
                    } else {
                        Some(names.iter().map(|n| n.name.clone()).collect())
                    };
                    expects.push(ExpectInfo::Eligible(false, list, *s));
                }
                ast::Expectation::Error(m, s) => expects.push(ExpectInfo::Error(m.clone(), *s)),
                ast::Expectation::Property(name, step, s) => {
                    let Some(k) = self.properties.iter().position(|p| p.name == name.name) else {
                        let names: Vec<String> =
                            self.properties.iter().map(|p| p.name.clone()).collect();
                        let mut d = Diagnostic::error(
                            Code::InvalidExample,
                            name.span,
                            format!("there is no property `{}`", name.name),
                        );
                        d = match suggest(&name.name, names.iter().map(|s| s.as_str())) {
                            Some(s) => d.did_you_mean(name.span, s),
                            None => d.with_help("state it with `property NAME: ...` first"),
                        };
                        self.err(d);
                        ok = false;
                        continue;
                    };
                    self.uses
                        .push((name.span, SymKey::Property(name.name.clone())));
                    let step_ty = match self.properties.get(k).map(|p| &p.kind) {
                        Some(PropertyKind::Monotone { input, .. })
                        | Some(PropertyKind::Marginal { input, .. }) => Some(input.ty.clone()),
                        _ => None,
                    };
                    let step = match (step, step_ty) {
                        (None, _) => None,
                        (Some(v), Some(ty)) => match self.const_value(v, &ty) {
                            Some(v) => Some(v),
                            None => {
                                ok = false;
                                None
                            }
                        },
                        (Some(v), None) => {
                            self.err(
                                Diagnostic::error(
                                    Code::InvalidExample,
                                    v.span(),
                                    format!("`{}` is a bound, which has no step", name.name),
                                )
                                .with_help("remove `by ...`; only relations move an input"),
                            );
                            ok = false;
                            None
                        }
                    };
                    expects.push(ExpectInfo::Property(k as u32, step, *s));
                }
                ast::Expectation::Output(name, value, margin) => {
                    let found = self.outputs.iter().copied().find(|o| {
                        self.def_src
                            .get(*o as usize)
                            .and_then(|s| s.def)
                            .is_some_and(|d| d.name.name == name.name)
                    });
                    let Some(o) = found else {
                        let names: Vec<String> = self
                            .outputs
                            .iter()
                            .filter_map(|o| {
                                self.def_src
                                    .get(*o as usize)
                                    .and_then(|s| s.def)
                                    .map(|d| d.name.name.clone())
                            })
                            .collect();
                        let mut d = Diagnostic::error(
                            Code::InvalidExample,
                            name.span,
                            format!("there is no output `{}`", name.name),
                        )
                        .with_label("unknown output");
                        d = match suggest(&name.name, names.iter().map(|s| s.as_str())) {
                            Some(s) => d.did_you_mean(name.span, s),
                            None if self.globals.contains_key(&name.name) => d.with_help(format!(
                                "`{}` is not an output; examples check outputs only",
                                name.name
                            )),
                            None => d.with_help(format!("the outputs are {}", names.join(", "))),
                        };
                        self.err(d);
                        ok = false;
                        continue;
                    };
                    self.uses
                        .push((name.span, SymKey::Global(name.name.clone())));
                    let ty = self.def_type(o);
                    let margin = match margin {
                        None => None,
                        Some(m) if !ty.is_numeric() => {
                            self.err(
                                Diagnostic::error(
                                    Code::InvalidExample,
                                    m.span(),
                                    format!(
                                        "`within` needs a number, but `{}` is {}",
                                        name.name,
                                        self.type_name(&ty)
                                    ),
                                )
                                .with_label("no difference can be allowed here")
                                .with_help("remove `within ...`: values that are not numbers are compared exactly"),
                            );
                            ok = false;
                            continue;
                        }
                        Some(m) => match self.const_value(m, &ty) {
                            Some(v) if v.as_decimal().is_some_and(|d| d.is_sign_negative()) => {
                                self.err(
                                    Diagnostic::error(
                                        Code::InvalidExample,
                                        m.span(),
                                        "the allowed difference cannot be negative",
                                    )
                                    .with_label("negative")
                                    .with_help("write the largest difference allowed, such as `within 0.01 €`"),
                                );
                                ok = false;
                                continue;
                            }
                            Some(v) => Some(v),
                            None => {
                                ok = false;
                                continue;
                            }
                        },
                    };
                    match self.const_value(value, &ty) {
                        Some(v) => expects.push(ExpectInfo::Output(o, v, margin, name.span)),
                        None => ok = false,
                    }
                }
            }
        }
        if ok {
            self.examples.push(ExampleInfo {
                name: e.name.clone(),
                span: e.name_span,
                date,
                inputs: inputs
                    .into_iter()
                    .map(|v| v.unwrap_or(Value::Bool(false)))
                    .collect(),
                expects,
            });
        }
    }
}
