//! Expressions: names are resolved, types and units checked, and the resolved `ir::Expr` built; each use of a definition is recorded for the dependency pass.

use super::*;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Type, Value};
use crate::ir::*;
use crate::syntax::ast::{self, Aggregate, BinOp, ExprKind as A, Literal};

impl<'a> Checker<'a> {
    pub(super) fn type_name(&self, t: &Type) -> String {
        match t {
            Type::Enum(e) => self
                .enums
                .get(*e as usize)
                .map(|e| e.name.clone())
                .unwrap_or_default(),
            Type::Record(r) => self
                .records
                .get(*r as usize)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            Type::List(t) => format!("list of {}", self.type_name(t)),
            Type::Optional(t) => format!("optional {}", self.type_name(t)),
            other => crate::ir::value::BUILTIN_TYPES
                .iter()
                .find(|n| Type::builtin(n).as_ref() == Some(other))
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
        }
    }

    pub(super) fn mismatch(&mut self, span: Span, want: &Type, got: &Type, what: &str) {
        if *want == Type::Error || *got == Type::Error {
            return;
        }
        let (w, g) = (self.type_name(want), self.type_name(got));
        let mut d = Diagnostic::error(
            Code::TypeMismatch,
            span,
            format!("{what} should be {w}, but this is {g}"),
        )
        .with_label(format!("this is {g}"));
        d = match (want, got) {
            (w, Type::Optional(inner)) if !matches!(w, Type::Optional(_)) => d.with_help(format!(
                "this value may be absent: say what an absent value means with `or else`, such as `x or else {}`, or test it first with `is present`",
                example_of(inner).trim_matches('`')
            )),
            (Type::Money, Type::Integer | Type::Decimal) => d.with_help(
                "write an amount with its unit, such as `900 €`, or multiply by an amount",
            ),
            (Type::Percent, Type::Integer | Type::Decimal) => {
                d.with_help("write a percentage with its unit, such as `35 %`")
            }
            (Type::Integer, Type::Decimal) => {
                d.with_help("round it, or declare the value as `decimal`")
            }
            (Type::Bool, _) => d.with_help("a condition compares values, such as `age >= 18`"),
            _ => d,
        };
        self.err(d);
    }

    pub(super) fn edge(&mut self, to: Node, span: Span) {
        self.used.insert(to);
        if let Some(from) = self.current {
            self.edges.push((from, to, span));
        }
    }

    pub(super) fn all_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.locals.iter().map(|l| l.0.clone()).collect();
        names.extend(self.globals.keys().cloned());
        names.extend(self.variants.keys().cloned());
        names.extend(BUILTINS.iter().map(|b| b.0.to_string()));
        names.sort();
        names
    }

    pub(super) fn unknown_name(&mut self, name: &str, span: Span) -> Expr {
        // An item that did not parse has its syntax error already: its
        // uses are not reported again as unknown names.
        if self.file.unparsed.iter().any(|n| n == name) {
            return error_expr(span);
        }
        let names = self.all_names();
        let mut d = Diagnostic::error(Code::UnknownName, span, format!("`{name}` is not defined"))
            .with_label("unknown name");
        if let Some(s) = suggest(name, names.iter().map(|s| s.as_str())) {
            // The author most likely meant it: do not also call it unused.
            if let Some((Global::Def(i), _)) = self.globals.get(s) {
                self.used.insert(Node::Def(*i));
            }
            d = d.did_you_mean(span, s);
        } else if self.type_names.contains_key(name) {
            d = d.with_help(format!(
                "`{name}` is a type; write one of its values, such as `{name}.Value`"
            ));
        } else {
            d = d.with_help("define it with `let`, `parameter` or `input`, or check the spelling");
        }
        self.err(d);
        error_expr(span)
    }

    pub(super) fn expr(&mut self, e: &ast::Expr) -> Expr {
        let span = e.span;
        let mk = |kind, ty| Expr { kind, ty, span };
        match &e.kind {
            A::Literal(l) => {
                let (v, t) = literal_value(l);
                if let Literal::Number(n, true) = l {
                    if n.to_string().parse::<i64>().is_err() {
                        return mk(ExprKind::Const(Value::Num(*n)), Type::Decimal);
                    }
                }
                mk(ExprKind::Const(v), t)
            }
            A::DecisionDate => mk(ExprKind::DecisionDate, Type::Date),
            A::Name(n) => self.name(n, span),
            A::Field(base, field) => {
                if let A::Decide(alias, args) = &base.kind {
                    return self.decide(alias, args, Some(field), span);
                }
                if let A::Name(n) = &base.kind {
                    if self.is_unusable(n) {
                        return error_expr(span);
                    }
                    if let Some(k) = self.import_of(n) {
                        let alias = ast::Ident {
                            name: n.clone(),
                            span: base.span,
                        };
                        return self.used_value(k, &alias, field, span);
                    }
                }
                if let Some(v) = self.used_variant(base, field) {
                    return v;
                }
                if let A::Name(n) = &base.kind {
                    if let Some((Type::Enum(eid), _)) = self.type_names.get(n).cloned() {
                        if !self.globals.contains_key(n) && !self.locals.iter().any(|l| l.0 == *n) {
                            self.uses.push((base.span, SymKey::Type(n.clone())));
                            return self.variant_of(eid, field);
                        }
                    }
                }
                let b = self.expr(base);
                // A field of an optional record is itself optional: absent
                // when the record is.
                let record = match &b.ty {
                    Type::Record(r) => Some((*r, false)),
                    Type::Optional(inner) => match **inner {
                        Type::Record(r) => Some((r, true)),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((r, optional)) = record {
                    let Some(info) = self.records.get(r as usize) else {
                        return error_expr(span);
                    };
                    return match info.fields.iter().position(|f| f.name == field.name) {
                        Some(i) => {
                            self.uses.push((
                                field.span,
                                SymKey::Field(info.name.clone(), field.name.clone()),
                            ));
                            let ty = info
                                .fields
                                .get(i)
                                .map(|f| f.ty.clone())
                                .unwrap_or(Type::Error);
                            let ty = match ty {
                                Type::Optional(_) | Type::Error => ty,
                                t if optional => Type::Optional(Box::new(t)),
                                t => t,
                            };
                            mk(ExprKind::Field(Box::new(b), i as u32), ty)
                        }
                        None => {
                            let rname = info.name.clone();
                            let fields: Vec<String> =
                                info.fields.iter().map(|f| f.name.clone()).collect();
                            let mut d = Diagnostic::error(
                                Code::UnknownField,
                                field.span,
                                format!("`{rname}` has no field `{}`", field.name),
                            )
                            .with_label("unknown field");
                            d = match suggest(&field.name, fields.iter().map(|s| s.as_str())) {
                                Some(s) => d.did_you_mean(field.span, s),
                                None => d.with_help(format!(
                                    "the fields of `{rname}` are {}",
                                    fields.join(", ")
                                )),
                            };
                            self.err(d);
                            error_expr(span)
                        }
                    };
                }
                match &b.ty {
                    Type::Error => error_expr(span),
                    // `income.Salary`: the data of that variant, absent when
                    // the value is another one.
                    Type::Enum(e) if self.variant_data(*e, &field.name).is_some() => {
                        let (v, rid) = self.variant_data(*e, &field.name).unwrap_or((0, 0));
                        let ename = self
                            .enums
                            .get(*e as usize)
                            .map(|x| x.name.clone())
                            .unwrap_or_default();
                        self.uses
                            .push((field.span, SymKey::Variant(ename, field.name.clone())));
                        mk(
                            ExprKind::VariantData(Box::new(b), v),
                            Type::Optional(Box::new(Type::Record(rid))),
                        )
                    }
                    Type::List(_) => {
                        self.err(
                            Diagnostic::error(Code::TypeMismatch, field.span, format!("a list has no field `{}`", field.name))
                                .with_help(format!("to use the field of each item, write for example `sum(m.{} for m in LIST)`", field.name)),
                        );
                        error_expr(span)
                    }
                    other => {
                        let t = self.type_name(other);
                        self.err(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                field.span,
                                format!("a {t} has no fields"),
                            )
                            .with_help(
                                "fields belong to records, such as inputs declared with `{ ... }`",
                            ),
                        );
                        error_expr(span)
                    }
                }
            }
            A::Neg(inner) => {
                let i = self.expr(inner);
                if !(i.ty.is_numeric() || matches!(i.ty, Type::Duration | Type::Error)) {
                    let t = self.type_name(&i.ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("a {t} cannot be negated"),
                        )
                        .with_help("only numbers, amounts, percentages and durations have a sign"),
                    );
                    return error_expr(span);
                }
                let ty = i.ty.clone();
                mk(ExprKind::Neg(Box::new(i)), ty)
            }
            A::Not(inner) => {
                let i = self.expr(inner);
                if !i.ty.fits(&Type::Bool) {
                    self.mismatch(inner.span, &Type::Bool, &i.ty, "the value after `not`");
                }
                mk(ExprKind::Not(Box::new(i)), Type::Bool)
            }
            A::Binary(op, l, r) => self.binary(*op, l, r, span),
            A::In {
                value,
                options,
                negated,
            } => {
                let v = self.expr(value);
                let mut opts = Vec::new();
                for o in options {
                    let x = self.expr_expecting(o, &v.ty);
                    if !(x.ty.fits(&v.ty) || v.ty.fits(&x.ty)) {
                        self.mismatch(o.span, &v.ty, &x.ty, "each listed value");
                    }
                    opts.push(x);
                }
                mk(ExprKind::In(Box::new(v), opts, *negated), Type::Bool)
            }
            A::If(c, t, f) => {
                let c = self.expr(c);
                if !c.ty.fits(&Type::Bool) {
                    self.mismatch(c.span, &Type::Bool, &c.ty, "the condition after `if`");
                }
                let t = self.expr(t);
                let f = self.expr(f);
                let ty = match unify(&t.ty, &f.ty) {
                    Some(ty) => ty,
                    None => {
                        self.mismatch(f.span, &t.ty, &f.ty, "the `else` branch");
                        Type::Error
                    }
                };
                mk(ExprKind::If(Box::new(c), Box::new(t), Box::new(f)), ty)
            }
            A::Call(name, args) => self.call(name, args, span),
            // Only a table row with several results is a record; it is
            // typed there, against the table's results.
            A::Record(_) => error_expr(span),
            A::UsedCall(alias, name, args) => self.used_call(alias, name, args, span),
            A::Decide(alias, args) => self.decide(alias, args, None, span),
            A::List(items) => {
                let mut out = Vec::new();
                let mut ty = None;
                for i in items {
                    let x = self.expr(i);
                    ty = match ty {
                        None => Some(x.ty.clone()),
                        Some(t) => match unify(&t, &x.ty) {
                            Some(u) => Some(u),
                            None => {
                                self.mismatch(i.span, &t, &x.ty, "each item of the list");
                                Some(Type::Error)
                            }
                        },
                    };
                    out.push(x);
                }
                mk(
                    ExprKind::List(out),
                    Type::List(Box::new(ty.unwrap_or(Type::Error))),
                )
            }
            A::Between(unit, a, b) => {
                let a = self.expr(a);
                let b = self.expr(b);
                for x in [&a, &b] {
                    if !x.ty.fits(&Type::Date) {
                        self.mismatch(x.span, &Type::Date, &x.ty, "each end of `between`");
                    }
                }
                mk(
                    ExprKind::Between(*unit, Box::new(a), Box::new(b)),
                    Type::Integer,
                )
            }
            A::Aggregate {
                kind,
                projection,
                var,
                position,
                list,
                filter,
                if_empty,
            } => self.aggregate(
                *kind,
                projection.as_deref(),
                (var, position.as_deref()),
                list,
                filter.as_deref(),
                if_empty.as_deref(),
                span,
            ),
            A::Sorted {
                var,
                list,
                key,
                descending,
            } => {
                let l = self.expr(list);
                let elem = self.list_element(
                    &l,
                    "`sorted` orders a list",
                    "write `sorted(c in household.children by c.birth_date)`",
                );
                let slot = self.locals.len() as u32;
                self.locals.push((var.name.clone(), elem));
                let k = self.expr(key);
                self.locals.pop();
                if !(k.ty.is_ordered() || k.ty == Type::Error) {
                    let t = self.type_name(&k.ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            key.span,
                            format!("items are sorted by something with an order (a number, an amount, a date, a text), but this is {t}"),
                        )
                        .with_help(format!("sort by one of the item's fields, such as `{}.birth_date`", var.name)),
                    );
                }
                let ty = l.ty.clone();
                mk(
                    ExprKind::Sorted {
                        slot,
                        list: Box::new(l),
                        key: Box::new(k),
                        descending: *descending,
                    },
                    ty,
                )
            }
            A::Fold {
                acc,
                init,
                var,
                position,
                list,
                filter,
                body,
            } => {
                let start = self.expr(init);
                let l = self.expr(list);
                let elem = self.list_element(
                    &l,
                    "`fold` carries a value through a list",
                    "write `fold(total from 0 € for f in year.fees: total + f.amount)`",
                );
                let slot = self.locals.len() as u32;
                self.locals.push((acc.name.clone(), start.ty.clone()));
                self.locals.push((var.name.clone(), elem));
                if let Some(k) = position {
                    self.locals.push((k.name.clone(), Type::Integer));
                }
                let f = filter.as_ref().map(|f| {
                    let x = self.expr(f);
                    if !x.ty.fits(&Type::Bool) {
                        self.mismatch(f.span, &Type::Bool, &x.ty, "the condition after `where`");
                    }
                    Box::new(x)
                });
                let b = self.expr_expecting(body, &start.ty);
                self.locals.truncate(slot as usize);
                if !b.ty.fits(&start.ty) {
                    self.mismatch(
                        body.span,
                        &start.ty,
                        &b.ty,
                        &format!("each step's value (carried as `{}`)", acc.name),
                    );
                }
                let ty = start.ty.clone();
                mk(
                    ExprKind::Fold {
                        slot,
                        position: position.is_some(),
                        init: Box::new(start),
                        list: Box::new(l),
                        filter: f,
                        body: Box::new(b),
                    },
                    ty,
                )
            }
            A::Presence(inner, present) => {
                let x = self.expr(inner);
                if !matches!(x.ty, Type::Optional(_) | Type::Error) {
                    let t = self.type_name(&x.ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            inner.span,
                            format!(
                                "`is {}` tests a value that may be absent, but this is {t}, which a case always gives",
                                if *present { "present" } else { "absent" }
                            ),
                        )
                        .with_help("declare the input `optional ...` if a case may leave it out, or remove the test"),
                    );
                }
                mk(ExprKind::Presence(Box::new(x), *present), Type::Bool)
            }
            A::OrElse(value, default) => {
                let x = self.expr(value);
                let d = self.expr(default);
                let ty = match &x.ty {
                    // A default that may itself be absent (`a or else b or
                    // else 0 €`) keeps the result optional.
                    Type::Optional(inner) if matches!(&d.ty, Type::Optional(di) if di.fits(inner)) => {
                        x.ty.clone()
                    }
                    Type::Optional(inner) => {
                        if !d.ty.fits(inner) {
                            self.mismatch(default.span, inner, &d.ty, "the value after `or else`");
                        }
                        (**inner).clone()
                    }
                    Type::Error => Type::Error,
                    other => {
                        let t = self.type_name(other);
                        self.err(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                value.span,
                                format!("`or else` gives a value for when this is absent, but this is {t}, which a case always gives"),
                            )
                            .with_help("remove `or else ...`, or declare the input `optional ...`"),
                        );
                        other.clone()
                    }
                };
                mk(ExprKind::OrElse(Box::new(x), Box::new(d)), ty)
            }
            A::Round(inner, target, mode) => {
                let i = self.expr(inner);
                let ok = matches!(
                    (target, &i.ty),
                    (_, Type::Error)
                        | (ast::RoundTarget::Cents(_), Type::Money)
                        | (ast::RoundTarget::Decimals(_), Type::Money | Type::Decimal)
                );
                if !ok {
                    let t = self.type_name(&i.ty);
                    let help = match (target, &i.ty) {
                        (ast::RoundTarget::Cents(_), Type::Decimal | Type::Integer) => {
                            "cents and euros are for amounts; use `rounded to 2 decimals` for a plain number"
                        }
                        _ => "round amounts to cents or euros, and plain numbers to decimals",
                    };
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("a {t} cannot be rounded this way"),
                        )
                        .with_help(help),
                    );
                }
                let ty = i.ty.clone();
                mk(ExprKind::Round(Box::new(i), *target, *mode), ty)
            }
        }
    }

    /// Like `expr`, but a bare variant name is looked up in the expected enum
    /// first, so that two enums may share a variant name.
    pub(super) fn expr_expecting(&mut self, e: &ast::Expr, want: &Type) -> Expr {
        if let (A::Name(n), Type::Enum(eid)) = (&e.kind, want) {
            if !self.locals.iter().any(|l| l.0 == *n) && !self.globals.contains_key(n) {
                if let Some(pos) = self
                    .enums
                    .get(*eid as usize)
                    .and_then(|i| i.variants.iter().position(|v| v == n))
                {
                    let ename = self
                        .enums
                        .get(*eid as usize)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    self.uses.push((e.span, SymKey::Variant(ename, n.clone())));
                    return Expr {
                        kind: ExprKind::Const(Value::Enum(pos as u32)),
                        ty: want.clone(),
                        span: e.span,
                    };
                }
            }
        }
        self.expr(e)
    }

    /// A variant with data of an enum, by name: its position and its data's
    /// record.
    pub(super) fn variant_data(&self, e: u32, name: &str) -> Option<(u32, u32)> {
        let info = self.enums.get(e as usize)?;
        let v = info.variants.iter().position(|x| x == name)?;
        let rid = (*info.data.get(v)?)?;
        Some((v as u32, rid))
    }

    pub(super) fn variant_of(&mut self, eid: u32, field: &ast::Ident) -> Expr {
        let Some(info) = self.enums.get(eid as usize) else {
            return error_expr(field.span);
        };
        match info.variants.iter().position(|v| *v == field.name) {
            Some(i) => {
                self.uses.push((
                    field.span,
                    SymKey::Variant(info.name.clone(), field.name.clone()),
                ));
                Expr {
                    kind: ExprKind::Const(Value::Enum(i as u32)),
                    ty: Type::Enum(eid),
                    span: field.span,
                }
            }
            None => {
                let name = info.name.clone();
                let vs = info.variants.clone();
                let mut d = Diagnostic::error(
                    Code::UnknownName,
                    field.span,
                    format!("`{}` is not one of the values of `{name}`", field.name),
                );
                d = match suggest(&field.name, vs.iter().map(|s| s.as_str())) {
                    Some(s) => d.did_you_mean(field.span, s),
                    None => d.with_help(format!("the values of `{name}` are {}", vs.join(", "))),
                };
                self.err(d);
                error_expr(field.span)
            }
        }
    }

    pub(super) fn name(&mut self, n: &str, span: Span) -> Expr {
        if let Some(pos) = self.locals.iter().rposition(|l| l.0 == n) {
            let ty = self
                .locals
                .get(pos)
                .map(|l| l.1.clone())
                .unwrap_or(Type::Error);
            return Expr {
                kind: ExprKind::Local(pos as u32),
                ty,
                span,
            };
        }
        if let Some((g, _)) = self.globals.get(n).copied() {
            self.uses.push((span, SymKey::Global(n.to_string())));
            return match g {
                Global::Input(i) => {
                    let ty = self
                        .inputs
                        .get(i as usize)
                        .map(|x| x.ty.clone())
                        .unwrap_or(Type::Error);
                    Expr {
                        kind: ExprKind::Input(i),
                        ty,
                        span,
                    }
                }
                Global::Def(i) => {
                    self.edge(Node::Def(i), span);
                    let ty = self.def_type(i);
                    Expr {
                        kind: ExprKind::Def(i),
                        ty,
                        span,
                    }
                }
                other => {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{n}` is {} and needs arguments", describe_global(other)),
                        )
                        .with_help(format!(
                            "call it with its inputs in parentheses, such as `{n}(...)`"
                        )),
                    );
                    error_expr(span)
                }
            };
        }
        if self.is_unusable(n) {
            return error_expr(span);
        }
        if self.import_of(n).is_some() {
            self.err(
                Diagnostic::error(Code::TypeMismatch, span, format!("`{n}` names a programme this rulebook uses, not a value"))
                    .with_help(format!("take a value from it: `{n}.parameter`, `{n}.function(...)`, or decide it for part of the case: `{n}(input.path: value).output`")),
            );
            return error_expr(span);
        }
        if let Some(vs) = self.variants.get(n).cloned() {
            match vs.as_slice() {
                [(e, v)] => {
                    let ename = self
                        .enums
                        .get(*e as usize)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    self.uses
                        .push((span, SymKey::Variant(ename, n.to_string())));
                    return Expr {
                        kind: ExprKind::Const(Value::Enum(*v)),
                        ty: Type::Enum(*e),
                        span,
                    };
                }
                _ => {
                    let enums: Vec<String> = vs
                        .iter()
                        .filter_map(|(e, _)| self.enums.get(*e as usize).map(|x| x.name.clone()))
                        .collect();
                    self.err(
                        Diagnostic::error(
                            Code::UnknownName,
                            span,
                            format!("`{n}` is a value of several enums: {}", enums.join(", ")),
                        )
                        .with_help(format!(
                            "say which one, such as `{}.{n}`",
                            enums.first().cloned().unwrap_or_default()
                        )),
                    );
                    return error_expr(span);
                }
            }
        }
        self.unknown_name(n, span)
    }

    pub(super) fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> Expr {
        let a = self.expr(l);
        let b = match op {
            BinOp::Eq | BinOp::Ne => self.expr_expecting(r, &a.ty),
            _ => self.expr(r),
        };
        let mk = |kind, ty| Expr { kind, ty, span };
        use Type::*;
        if a.ty == Error || b.ty == Error {
            let ty = if matches!(
                op,
                BinOp::Eq
                    | BinOp::Ne
                    | BinOp::Lt
                    | BinOp::Le
                    | BinOp::Gt
                    | BinOp::Ge
                    | BinOp::And
                    | BinOp::Or
            ) {
                Bool
            } else {
                Error
            };
            return mk(ExprKind::Const(Value::Bool(false)), ty);
        }
        let (ta, tb) = (a.ty.clone(), b.ty.clone());
        // Takes the operands rather than cloning them: a clone here would
        // copy the whole left-hand side of `a + b + c + ...` at every step.
        let arith = |op: ArithOp, ty: Type, a: Expr, b: Expr| Expr {
            kind: ExprKind::Arith(op, Box::new(a), Box::new(b)),
            ty,
            span,
        };
        match op {
            BinOp::And | BinOp::Or => {
                for x in [&a, &b] {
                    if !x.ty.fits(&Bool) {
                        self.mismatch(
                            x.span,
                            &Bool,
                            &x.ty,
                            &format!("each side of `{}`", op.symbol()),
                        );
                    }
                }
                let kind = if op == BinOp::And {
                    ExprKind::And(Box::new(a), Box::new(b))
                } else {
                    ExprKind::Or(Box::new(a), Box::new(b))
                };
                mk(kind, Bool)
            }
            BinOp::Add | BinOp::Sub => {
                let aop = if op == BinOp::Add {
                    ArithOp::Add
                } else {
                    ArithOp::Sub
                };
                let ty = match (&ta, &tb) {
                    (Money, Money) => Some(Money),
                    (Percent, Percent) => Some(Percent),
                    (Integer, Integer) => Some(Integer),
                    (Integer | Decimal, Integer | Decimal) => Some(Decimal),
                    (Date, Duration) => Some(Date),
                    (Duration, Duration) => Some(Duration),
                    (Duration, Date) if op == BinOp::Add => Some(Date),
                    _ => None,
                };
                match ty {
                    Some(t) => arith(aop, t, a, b),
                    None => {
                        self.unit_error(op, &ta, &tb, span);
                        error_expr(span)
                    }
                }
            }
            BinOp::Mul => {
                let ty = match (&ta, &tb) {
                    (Money, Integer | Decimal | Percent) | (Integer | Decimal | Percent, Money) => {
                        Some(Money)
                    }
                    (Percent, Percent) => Some(Percent),
                    (Percent, Integer | Decimal) | (Integer | Decimal, Percent) => Some(Percent),
                    (Integer, Integer) => Some(Integer),
                    (Integer | Decimal, Integer | Decimal) => Some(Decimal),
                    _ => None,
                };
                match ty {
                    Some(t) => arith(ArithOp::Mul, t, a, b),
                    None => {
                        self.unit_error(op, &ta, &tb, span);
                        error_expr(span)
                    }
                }
            }
            BinOp::Div => {
                let ty = match (&ta, &tb) {
                    (Money, Integer | Decimal | Percent) => Some(Money),
                    (Money, Money) => Some(Decimal),
                    (Percent, Integer | Decimal) => Some(Percent),
                    (Percent, Percent) => Some(Decimal),
                    (Integer | Decimal, Integer | Decimal) => Some(Decimal),
                    _ => None,
                };
                match ty {
                    Some(t) => arith(ArithOp::Div, t, a, b),
                    None => {
                        self.unit_error(op, &ta, &tb, span);
                        error_expr(span)
                    }
                }
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let cop = match op {
                    BinOp::Eq => CmpOp::Eq,
                    BinOp::Ne => CmpOp::Ne,
                    BinOp::Lt => CmpOp::Lt,
                    BinOp::Le => CmpOp::Le,
                    BinOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let same = ta.fits(&tb) || tb.fits(&ta);
                if !same {
                    self.unit_error(op, &ta, &tb, span);
                    return mk(ExprKind::Const(Value::Bool(false)), Bool);
                }
                if !matches!(cop, CmpOp::Eq | CmpOp::Ne) && !ta.is_ordered() {
                    let t = self.type_name(&ta);
                    self.err(
                        Diagnostic::error(Code::TypeMismatch, span, format!("values of type {t} have no order"))
                            .with_help("compare them with `=` or `!=`, or list the allowed values with `in [...]`"),
                    );
                    return mk(ExprKind::Const(Value::Bool(false)), Bool);
                }
                if matches!(ta, List(_) | Record(_)) {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            "lists and records cannot be compared as a whole",
                        )
                        .with_help("compare their fields, or use `any(...)` or `all(...)`"),
                    );
                }
                mk(ExprKind::Cmp(cop, Box::new(a), Box::new(b)), Bool)
            }
        }
    }

    pub(super) fn unit_error(&mut self, op: BinOp, a: &Type, b: &Type, span: Span) {
        use Type::*;
        let (na, nb) = (self.type_name(a), self.type_name(b));
        let help = match (a, b) {
            (Optional(inner), _) | (_, Optional(inner)) => format!(
                "a value that may be absent is not used as it is: write `x or else {}` to say what an absent value means, or test `x is present`",
                example_of(inner).trim_matches('`')
            ),
            (Money, Integer | Decimal) | (Integer | Decimal, Money) => {
                "write the number as an amount, such as `900 €`".to_string()
            }
            (Percent, Integer | Decimal) | (Integer | Decimal, Percent) => {
                "write the number as a percentage, such as `35 %`".to_string()
            }
            (Money, Money) if op == BinOp::Mul => {
                "multiply an amount by a number or a percentage, not by another amount".to_string()
            }
            (Date, Date) if op == BinOp::Sub => {
                "use `days between A and B` or `years between A and B`".to_string()
            }
            (Date, Money | Integer | Decimal) | (Money | Integer | Decimal, Date) => {
                if op == BinOp::Sub {
                    "subtract a duration from a date, such as `birth_date - 6 months`".to_string()
                } else {
                    "add a duration to a date, such as `6 months`".to_string()
                }
            }
            (Date, Date) => {
                "dates are not added: `years between A and B` gives the time between two dates, and `A + 6 months` a later date".to_string()
            }
            (Money, Percent) | (Percent, Money) => match op {
                BinOp::Add | BinOp::Sub => format!(
                    "to {} a share of an amount, take the share first: `amount {} amount * 10 %`",
                    if op == BinOp::Add { "add" } else { "subtract" },
                    op.symbol()
                ),
                BinOp::Div => "divide an amount by a number, or multiply it by a percentage: `amount * 10 %`".to_string(),
                _ => "compare an amount with an amount (`income > 900 €`) or a percentage with a percentage (`rate > 10 %`)".to_string(),
            },
            (Bool, _) | (_, Bool) => match op {
                BinOp::Eq | BinOp::Ne => "compare a yes/no value with `true` or `false`".to_string(),
                _ => "yes/no values are combined with `and`, `or` and `not`; `if C then X else Y` turns one into a number".to_string(),
            },
            (Text, _) | (_, Text) => "texts can only be compared for equality with other texts; write a number or an amount without quotes".to_string(),
            _ => match op {
                BinOp::Add | BinOp::Sub => format!("{na} and {nb} are not the same kind of quantity: convert one, or add like to like"),
                BinOp::Mul | BinOp::Div => format!("multiply or divide {na} by a plain number instead"),
                _ => format!("compare {na} with {na}: write the other side in the same unit"),
            },
        };
        self.err(
            Diagnostic::error(
                Code::UnitMismatch,
                span,
                format!("cannot {} {na} and {nb}", op_verb(op)),
            )
            .with_label(format!("{na} {} {nb}", op.symbol()))
            .with_help(help),
        );
    }

    pub(super) fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Expr {
        let mk = |kind, ty| Expr { kind, ty, span };
        if self.locals.iter().any(|l| l.0 == name.name) {
            self.err(
                Diagnostic::error(
                    Code::WrongArguments,
                    name.span,
                    format!("`{}` is a value, not a function", name.name),
                )
                .with_help("remove the parentheses"),
            );
            return error_expr(span);
        }
        let global = self.globals.get(&name.name).map(|g| g.0);
        let arity = |c: &mut Checker, want: usize, what: &str| -> bool {
            if args.len() != want {
                c.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        span,
                        format!(
                            "{what} `{}` takes {want} argument{}, but {} {} given",
                            name.name,
                            if want == 1 { "" } else { "s" },
                            args.len(),
                            if args.len() == 1 { "is" } else { "are" }
                        ),
                    )
                    .with_help("give one argument for each of its inputs, in order"),
                );
                false
            } else {
                true
            }
        };
        if global.is_some() {
            self.uses
                .push((name.span, SymKey::Global(name.name.clone())));
        }
        match global {
            Some(Global::Func(f)) => {
                let Some(info) = self.functions.get(f as usize).cloned() else {
                    return error_expr(span);
                };
                self.edge(Node::Func(f), name.span);
                if !arity(self, info.params.len(), "the function") {
                    return error_expr(span);
                }
                let mut out = Vec::new();
                for (a, (pname, pty)) in args.iter().zip(&info.params) {
                    let x = self.expr_expecting(a, pty);
                    if !x.ty.fits(pty) {
                        self.mismatch(a.span, pty, &x.ty, &format!("`{pname}`"));
                    }
                    out.push(x);
                }
                mk(ExprKind::Call(f, out), info.ret)
            }
            Some(Global::Table(t)) => {
                let Some(info) = self.tables.get(t as usize).cloned() else {
                    return error_expr(span);
                };
                self.edge(Node::Table(t), name.span);
                if !arity(self, info.params.len(), "the table") {
                    return error_expr(span);
                }
                let mut out = Vec::new();
                for (a, (pname, pty, _)) in args.iter().zip(&info.params) {
                    let x = self.expr_expecting(a, pty);
                    if !x.ty.fits(pty) {
                        self.mismatch(a.span, pty, &x.ty, &format!("`{pname}`"));
                    }
                    out.push(x);
                }
                mk(ExprKind::Table(t, out), info.ret)
            }
            Some(Global::Scale(s)) => {
                let Some(info) = self.scales.get(s as usize).cloned() else {
                    return error_expr(span);
                };
                self.edge(Node::Scale(s), name.span);
                if !arity(self, 1, "the scale") {
                    return error_expr(span);
                }
                let Some(first) = args.first() else {
                    return error_expr(span);
                };
                let x = self.expr(first);
                if !x.ty.fits(&info.param.1) {
                    self.mismatch(
                        first.span,
                        &info.param.1,
                        &x.ty,
                        &format!("`{}`", info.param.0),
                    );
                }
                mk(ExprKind::Scale(s, Box::new(x)), info.ret)
            }
            Some(other) => {
                self.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        name.span,
                        format!(
                            "`{}` is {}, not a function",
                            name.name,
                            describe_global(other)
                        ),
                    )
                    .with_help("remove the parentheses"),
                );
                error_expr(span)
            }
            None => {
                let Some((_, b, _)) = BUILTINS.iter().find(|b| b.0 == name.name) else {
                    return self.unknown_name(&name.name, name.span);
                };
                let xs: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
                if xs.iter().any(|x| x.ty == Type::Error) {
                    return error_expr(span);
                }
                let ty = match b {
                    Builtin::Min | Builtin::Max => {
                        if xs.is_empty() {
                            self.err(
                                Diagnostic::error(
                                    Code::WrongArguments,
                                    span,
                                    format!("`{}` needs at least one value", name.name),
                                )
                                .with_help(format!(
                                    "write `{}(a, b)`, or `{}(x.field for x in LIST)` for a list",
                                    name.name, name.name
                                )),
                            );
                            return error_expr(span);
                        }
                        let mut ty = xs.first().map(|x| x.ty.clone()).unwrap_or(Type::Error);
                        for x in xs.iter().skip(1) {
                            match unify(&ty, &x.ty) {
                                Some(u) => ty = u,
                                None => {
                                    let t = ty.clone();
                                    self.unit_error(BinOp::Lt, &t, &x.ty, x.span);
                                    return error_expr(span);
                                }
                            }
                        }
                        if !ty.is_ordered() {
                            self.mismatch(span, &Type::Decimal, &ty, "the values compared");
                            return error_expr(span);
                        }
                        ty
                    }
                    Builtin::Abs => {
                        if !arity(self, 1, "the function") {
                            return error_expr(span);
                        }
                        let t = xs.first().map(|x| x.ty.clone()).unwrap_or(Type::Error);
                        if !t.is_numeric() {
                            self.mismatch(span, &Type::Decimal, &t, "the value of `abs`");
                        }
                        t
                    }
                    Builtin::FirstDayOfMonth
                    | Builtin::LastDayOfMonth
                    | Builtin::FirstDayOfYear
                    | Builtin::LastDayOfYear => {
                        if !arity(self, 1, "the function") {
                            return error_expr(span);
                        }
                        if let Some(x) = xs.first() {
                            if !x.ty.fits(&Type::Date) {
                                self.mismatch(x.span, &Type::Date, &x.ty, "the argument");
                            }
                        }
                        Type::Date
                    }
                    Builtin::Years | Builtin::Months | Builtin::Days => {
                        if !arity(self, 1, "the function") {
                            return error_expr(span);
                        }
                        if let Some(x) = xs.first() {
                            if !x.ty.fits(&Type::Integer) {
                                self.mismatch(x.span, &Type::Integer, &x.ty, "the number of units");
                            }
                        }
                        Type::Duration
                    }
                };
                mk(ExprKind::Builtin(*b, xs), ty)
            }
        }
    }

    /// The element type of a list, or an error saying what was expected
    /// (`what`, then "but this is ...").
    fn list_element(&mut self, l: &Expr, what: &str, help: &str) -> Type {
        match &l.ty {
            Type::List(e) => e.as_ref().clone(),
            Type::Error => Type::Error,
            other => {
                let t = self.type_name(other);
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        l.span,
                        format!("{what}, but this is {t}"),
                    )
                    .with_help(help),
                );
                Type::Error
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn aggregate(
        &mut self,
        kind: Aggregate,
        projection: Option<&ast::Expr>,
        (var, position): (&ast::Ident, Option<&ast::Ident>),
        list: &ast::Expr,
        filter: Option<&ast::Expr>,
        if_empty: Option<&ast::Expr>,
        span: Span,
    ) -> Expr {
        let l = self.expr(list);
        let elem = self.list_element(
            &l,
            "expected a list after `in`",
            "aggregates go over lists, such as `household.members`",
        );
        let slot = self.locals.len() as u32;
        self.locals.push((var.name.clone(), elem.clone()));
        // The item's position (from 1) is the local after the item.
        if let Some(pos) = position {
            self.locals.push((pos.name.clone(), Type::Integer));
        }
        let proj = projection.map(|p| self.expr(p));
        let filt = filter.map(|f| {
            let x = self.expr(f);
            if !x.ty.fits(&Type::Bool) {
                self.mismatch(f.span, &Type::Bool, &x.ty, "the condition after `where`");
            }
            x
        });
        if position.is_some() {
            self.locals.pop();
        }
        self.locals.pop();
        let value_ty = proj.as_ref().map(|p| p.ty.clone()).unwrap_or(elem.clone());
        let kw = match kind {
            Aggregate::Sum => "sum",
            Aggregate::Count => "count",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::Any => "any",
            Aggregate::All => "all",
            Aggregate::Collect => "a list of values",
        };
        let ty = match kind {
            Aggregate::Sum => {
                if !(value_ty.is_numeric() || value_ty == Type::Error) {
                    let t = self.type_name(&value_ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("`sum` adds numbers or amounts, but the values are {t}"),
                        )
                        .with_help(format!(
                            "say what to add, such as `sum({}.income for {} in ...)`",
                            var.name, var.name
                        )),
                    );
                }
                value_ty
            }
            Aggregate::Count => Type::Integer,
            Aggregate::Collect => Type::List(Box::new(value_ty)),
            Aggregate::Min | Aggregate::Max => {
                if !(value_ty.is_ordered() || value_ty == Type::Error) {
                    let t = self.type_name(&value_ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("`{kw}` needs values with an order, but these are {t}"),
                        )
                        .with_help(format!(
                            "say what to compare, such as `{kw}({}.income for {} in ...)`",
                            var.name, var.name
                        )),
                    );
                }
                value_ty
            }
            Aggregate::Any | Aggregate::All => {
                if filt.is_none() {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{kw}` needs a condition"),
                        )
                        .with_help(format!(
                            "write `{kw}({} in LIST where CONDITION)`",
                            var.name
                        )),
                    );
                }
                if proj.is_some() {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{kw}` tests a condition; it takes no `... for`"),
                        )
                        .with_help(format!(
                            "write `{kw}({} in LIST where CONDITION)`",
                            var.name
                        )),
                    );
                }
                Type::Bool
            }
        };
        if matches!(kind, Aggregate::Count) && proj.is_some() {
            self.err(
                Diagnostic::error(
                    Code::WrongArguments,
                    span,
                    "`count` counts items; it takes no `... for`",
                )
                .with_help(format!(
                    "write `count({} in LIST where CONDITION)`",
                    var.name
                )),
            );
        }
        let empty = if_empty.map(|e| {
            let x = self.expr(e);
            if !x.ty.fits(&ty) {
                self.mismatch(e.span, &ty, &x.ty, "the value `if empty`");
            }
            x
        });
        Expr {
            kind: ExprKind::Aggregate {
                kind,
                slot,
                position: position.is_some(),
                list: Box::new(l),
                projection: proj.map(Box::new),
                filter: filt.map(Box::new),
                if_empty: empty.map(Box::new),
            },
            ty,
            span,
        }
    }
}

pub(super) fn op_verb(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "subtract",
        BinOp::Mul => "multiply",
        BinOp::Div => "divide",
        _ => "compare",
    }
}

pub(super) fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Error, t) | (t, Type::Error) => Some(t.clone()),
        (Type::Integer, Type::Decimal) | (Type::Decimal, Type::Integer) => Some(Type::Decimal),
        (a, b) if a == b => Some(a.clone()),
        _ => None,
    }
}

pub(super) fn error_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Const(Value::Bool(false)),
        ty: Type::Error,
        span,
    }
}

pub(super) fn example_of(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "`true`",
        Type::Integer => "`3`",
        Type::Decimal => "`0.60`",
        Type::Money => "`12.50 €`",
        Type::Percent => "`35 %`",
        Type::Text => "`\"text\"`",
        Type::Date => "`2021-01-01`",
        Type::Duration => "`6 months`",
        Type::Enum(_) => "one of its values",
        Type::Record(_) => "`{ field: value }`",
        Type::List(_) => "`[ ... ]`",
        Type::Optional(_) => "a value, or nothing",
        Type::Error => "a value",
    }
}
