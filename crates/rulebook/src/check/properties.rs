//! Properties: each statement is typed (a bound is a condition; a relation
//! compares a number or amount between a case and the same case with one
//! input moved), and, once the program is built, a property that cannot
//! depend on the case is reported, since it could never fail.

use super::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::value::Type;
use crate::ir::*;

impl<'a> Checker<'a> {
    pub(super) fn check_property(&mut self, d: &ast::PropertyDef, item: &ast::Item) {
        if let Some(first) = self.properties.iter().find(|p| p.name == d.name.name) {
            let first = first.span;
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    d.name.span,
                    format!("the property `{}` is stated twice", d.name.name),
                )
                .with_related(first, "first stated here")
                .with_help("give each property its own name"),
            );
            return;
        }
        self.current = None;
        let kind = match &d.body {
            ast::PropertyBody::Bound { holds, when } => {
                let holds_ir = self.expr(holds);
                if !holds_ir.ty.fits(&Type::Bool) {
                    self.mismatch(holds.span, &Type::Bool, &holds_ir.ty, "a property");
                }
                let when = match when {
                    None => None,
                    Some(ast::PropertyCondition::Eligible(_)) => Some(PropertyCondition::Eligible),
                    Some(ast::PropertyCondition::Holds(c)) => {
                        let c_ir = self.expr(c);
                        if !c_ir.ty.fits(&Type::Bool) {
                            self.mismatch(
                                c.span,
                                &Type::Bool,
                                &c_ir.ty,
                                "the condition after `when`",
                            );
                        }
                        Some(PropertyCondition::Holds(c_ir))
                    }
                };
                PropertyKind::Bound {
                    holds: holds_ir,
                    when,
                }
            }
            ast::PropertyBody::Monotone {
                value,
                value_rises,
                input,
                input_rises,
            } => {
                let value_ir = self.relation_value(value);
                let Some(path) = self.input_path(input) else {
                    return;
                };
                PropertyKind::Monotone {
                    value: value_ir,
                    value_rises: *value_rises,
                    input: path,
                    input_rises: *input_rises,
                }
            }
            ast::PropertyBody::Marginal {
                value,
                at_most,
                input,
                step,
            } => {
                let value_ir = self.relation_value(value);
                let at_most_ir = self.expr(at_most);
                if !at_most_ir.ty.fits(&value_ir.ty) && value_ir.ty != Type::Error {
                    self.err(
                        Diagnostic::error(
                            Code::UnitMismatch,
                            at_most.span,
                            format!(
                                "the limit is {}, but the value it limits is {}",
                                self.type_name(&at_most_ir.ty),
                                self.type_name(&value_ir.ty)
                            ),
                        )
                        .with_help(
                            "write the limit in the value's unit, such as `1 €` for an amount",
                        ),
                    );
                }
                let Some(path) = self.input_path(input) else {
                    return;
                };
                let step_ir = self.expr(step);
                if !step_ir.ty.fits(&path.ty) {
                    self.err(
                        Diagnostic::error(
                            Code::UnitMismatch,
                            step.span,
                            format!(
                                "the step is {}, but `{}` is {}",
                                self.type_name(&step_ir.ty),
                                path.text,
                                self.type_name(&path.ty)
                            ),
                        )
                        .with_help(
                            "write the step in the input's unit, such as `1 €` for an amount",
                        ),
                    );
                }
                PropertyKind::Marginal {
                    value: value_ir,
                    at_most: at_most_ir,
                    input: path,
                    step: step_ir,
                }
            }
        };
        let text = self
            .text
            .get(item.span.start..item.span.end)
            .unwrap_or("")
            .trim()
            .to_string();
        self.properties.push(PropertyInfo {
            name: d.name.name.clone(),
            kind,
            about_outputs: false,
            citation: (&d.citation).into(),
            doc: item.doc.clone(),
            span: d.name.span,
            text,
        });
    }

    /// What a relation compares: a number or an amount.
    fn relation_value(&mut self, value: &ast::Expr) -> Expr {
        let v = self.expr(value);
        if !v.ty.is_numeric() && v.ty != Type::Error {
            self.err(
                Diagnostic::error(
                    Code::TypeMismatch,
                    value.span,
                    format!(
                        "a relation compares numbers or amounts, but this is {}",
                        self.type_name(&v.ty)
                    ),
                )
                .with_help("name an output or value that is an amount, a number or a percentage"),
            );
        }
        v
    }

    /// What a relation moves: an input, or a field of one, that is a
    /// number, an amount or a percentage.
    fn input_path(&mut self, input: &ast::Expr) -> Option<InputPath> {
        let e = self.expr(input);
        if e.ty == Type::Error {
            return None;
        }
        let mut fields = Vec::new();
        let mut at = &e;
        let input_index = loop {
            match &at.kind {
                ExprKind::Field(base, f) => {
                    fields.push(*f);
                    at = base;
                }
                ExprKind::Input(i) => break Some(*i),
                _ => break None,
            }
        };
        fields.reverse();
        let movable = e.ty.is_numeric();
        match input_index {
            Some(i) if movable => Some(InputPath {
                input: i,
                fields,
                ty: e.ty.clone(),
                text: self
                    .text
                    .get(input.span.start..input.span.end)
                    .unwrap_or("")
                    .to_string(),
            }),
            _ => {
                self.err(
                    Diagnostic::error(
                        Code::InvalidProperty,
                        input.span,
                        "a relation moves one input (or a field of one) that is a number, an amount or a percentage",
                    )
                    .with_label(if input_index.is_some() {
                        format!("this is {}", self.type_name(&e.ty))
                    } else {
                        "this is computed, not an input".to_string()
                    })
                    .with_help("name an input field, such as `household.gross_monthly_income`"),
                );
                None
            }
        }
    }
}

/// Completes the properties of a built program: which are about outputs,
/// and a finding for each bound that cannot depend on the case.
pub(super) fn settle(p: &mut Program) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    let about: Vec<bool> = p
        .properties
        .iter()
        .map(|prop| match &prop.kind {
            PropertyKind::Bound { holds, when } => {
                p.mentions_output(holds)
                    || matches!(when, Some(PropertyCondition::Holds(c)) if p.mentions_output(c))
            }
            PropertyKind::Monotone { value, .. } | PropertyKind::Marginal { value, .. } => {
                p.mentions_output(value)
            }
        })
        .collect();
    for (prop, about) in p.properties.iter_mut().zip(about) {
        prop.about_outputs = about;
    }
    for prop in &p.properties {
        if let PropertyKind::Bound { holds, .. } = &prop.kind {
            if !depends_on_case(p, holds) {
                findings.push(
                    Diagnostic::error(
                        Code::TrivialProperty,
                        prop.span,
                        format!(
                            "the property `{}` does not depend on the case, so it can never fail",
                            prop.name
                        ),
                    )
                    .with_help("state it about inputs, outputs or the decision date, such as `customer_pays >= 0 €`"),
                );
            }
        }
    }
    findings
}

/// Whether `e` can differ from one case to another: it reads an input or
/// the decision date, directly or through what it uses (a parameter with
/// dated values depends on the date).
fn depends_on_case(p: &Program, e: &Expr) -> bool {
    let mut seen = vec![false; p.defs.len()];
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        match &e.kind {
            ExprKind::Input(_) | ExprKind::DecisionDate => return true,
            ExprKind::Def(i) => {
                if let Some(s) = seen.get_mut(*i as usize) {
                    if !std::mem::replace(s, true) {
                        match p.defs.get(*i as usize).map(|d| &d.body) {
                            Some(DefBody::Dated(values)) if values.len() > 1 => return true,
                            Some(DefBody::Rule { base, overrides }) => {
                                todo.push(base);
                                for o in overrides {
                                    todo.push(&o.condition);
                                    todo.push(&o.value);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            // A function or table turns what it is given into its result;
            // its arguments are the children walked below.
            _ => {}
        }
        each_child(e, &mut |c| todo.push(c));
    }
    false
}
