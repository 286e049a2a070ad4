//! Definitions, functions and eligibility criteria: each body is typed against its declared type, and overrides are checked for clashing ranks.

use super::*;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Type, Value};
use crate::ir::*;
use crate::syntax::ast::{self, DataValue};
use chrono::NaiveDate;

impl<'a> Checker<'a> {
    pub(super) fn def_type(&mut self, i: u32) -> Type {
        let idx = i as usize;
        match self.def_state.get(idx) {
            Some(State::Done) => {
                return self
                    .defs
                    .get(idx)
                    .and_then(|d| d.as_ref())
                    .map(|d| d.ty.clone())
                    .unwrap_or(Type::Error)
            }
            Some(State::InProgress) => {
                // A cycle; reported by `find_cycles`. Use the declared type if any.
                let src = self.def_src.get(idx);
                let declared = src.and_then(|s| {
                    s.def
                        .and_then(|d| d.ty.clone())
                        .or_else(|| s.param.and_then(|p| p.ty.clone()))
                });
                return match declared {
                    Some(t) => self.resolve_type(&t).0,
                    None => Type::Error,
                };
            }
            Some(State::Todo) => {}
            None => return Type::Error,
        }
        if self.def_depth >= MAX_DEF_CHAIN {
            // Checking stops descending here so that its own recursion stays
            // bounded; `find_long_chains` reports the chain, whatever the
            // order of the definitions in the file.
            return Type::Error;
        }
        if let Some(s) = self.def_state.get_mut(idx) {
            *s = State::InProgress;
        }
        self.def_depth += 1;
        let saved_locals = std::mem::take(&mut self.locals);
        let saved_node = self.current.replace(Node::Def(i));
        let info = self.check_def(idx);
        self.def_depth -= 1;
        self.locals = saved_locals;
        self.current = saved_node;
        let ty = info.as_ref().map(|d| d.ty.clone()).unwrap_or(Type::Error);
        if let Some(slot) = self.defs.get_mut(idx) {
            *slot = info;
        }
        if let Some(s) = self.def_state.get_mut(idx) {
            *s = State::Done;
        }
        ty
    }

    pub(super) fn check_def(&mut self, idx: usize) -> Option<DefInfo> {
        let src = self.def_src.get(idx)?;
        let (doc, span) = (src.doc.clone(), src.span);
        if let Some(d) = src.def {
            let declared = d.ty.as_ref().map(|t| self.resolve_type(t).0);
            let base = self.expr(&d.body);
            let ty = match &declared {
                Some(t) => {
                    if !base.ty.fits(t) {
                        self.mismatch(d.body.span, t, &base.ty, &format!("`{}`", d.name.name));
                    }
                    t.clone()
                }
                None => base.ty.clone(),
            };
            let mut overrides = Vec::new();
            for o in &d.overrides {
                overrides.push(self.override_info(o, &ty));
            }
            self.check_ranks(&d.name.name, &d.overrides);
            self.precedence(&d.name.name, &d.overrides, &mut overrides);
            return Some(DefInfo {
                name: d.name.name.clone(),
                kind: if d.is_output {
                    DefKind::Output
                } else {
                    DefKind::Let
                },
                ty,
                body: DefBody::Rule { base, overrides },
                formula: self
                    .text
                    .get(d.body.span.start..d.body.span.end)
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                citation: (&d.citation).into(),
                doc,
                span,
                name_span: d.name.span,
            });
        }
        let p = src.param?;
        let declared = p.ty.as_ref().map(|t| self.resolve_type(t).0);
        let mut ty = declared.clone();
        let mut values = Vec::new();
        let mut last_date: Option<(NaiveDate, Span)> = None;
        let dated = p.values.iter().any(|v| v.from.is_some());
        for v in &p.values {
            let Some(data) = expr_to_data(&v.value) else {
                self.err(
                    Diagnostic::error(Code::NotConstant, v.value.span, format!("the value of parameter `{}` must be a constant", p.name.name))
                        .with_label("computed value")
                        .with_help("write the figure itself, such as `290.00 €`; use `let` for a value computed from others"),
                );
                continue;
            };
            let value = match &ty {
                Some(t) => self.const_value(&data, t),
                None => {
                    let (value, t) = match &data {
                        DataValue::Literal(l, _) => literal_value(l),
                        _ => (Value::Bool(false), Type::Error),
                    };
                    ty = Some(t);
                    Some(value)
                }
            };
            if dated && v.from.is_none() {
                self.err(
                    Diagnostic::error(
                        Code::ParameterDates,
                        v.span,
                        "this value has no date, but the parameter's other values do",
                    )
                    .with_help("write `= VALUE from DATE` for every value of a dated parameter"),
                );
            }
            if let (Some((prev, prev_span)), Some(from)) = (last_date, v.from) {
                if from <= prev {
                    self.err(
                        Diagnostic::error(
                            Code::ParameterDates,
                            v.span,
                            format!("the values of `{}` must have increasing dates", p.name.name),
                        )
                        .with_related(prev_span, "the previous value")
                        .with_help("list the values in date order, each date once"),
                    );
                }
            }
            if let Some(from) = v.from {
                last_date = Some((from, v.span));
            }
            if let Some(value) = value {
                values.push((v.from, value));
            }
        }
        if !dated && p.values.len() > 1 {
            self.err(
                Diagnostic::error(
                    Code::ParameterDates,
                    p.name.span,
                    "a parameter with several values needs a date for each",
                )
                .with_help("write `= VALUE from DATE` for each value"),
            );
        }
        Some(DefInfo {
            name: p.name.name.clone(),
            kind: DefKind::Parameter,
            ty: ty.unwrap_or(Type::Error),
            body: DefBody::Dated(values),
            formula: String::new(),
            citation: (&p.citation).into(),
            doc,
            span,
            name_span: p.name.span,
        })
    }

    pub(super) fn check_ranks(&mut self, name: &str, overrides: &[ast::Override]) {
        // Two overrides of equal rank are allowed only if they cannot both
        // apply; that is decided at run time, with an error naming both. Here
        // we flag the obvious case: the very same condition twice.
        // Each override is reported once, against the first with the same
        // condition and rank: n copies give n - 1 findings, not n² / 2.
        let conditions: Vec<_> = overrides
            .iter()
            .map(|o| ast::without_spans(&o.condition.kind))
            .collect();
        let ordered = |a: &ast::Override, b: &ast::Override| {
            let named = |x: &ast::Override, y: &ast::Override| {
                x.over
                    .iter()
                    .any(|o| y.name.as_ref().is_some_and(|n| n.name == o.name))
            };
            named(a, b) || named(b, a)
        };
        for (j, b) in overrides.iter().enumerate() {
            let first = (0..j).find(|&i| {
                overrides
                    .get(i)
                    .is_some_and(|a| a.rank == b.rank && !ordered(a, b))
                    && conditions.get(i) == conditions.get(j)
            });
            if let Some(a) = first.and_then(|i| overrides.get(i)) {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateOverrideRank,
                        b.span,
                        format!(
                            "two overrides of `{}` have the same condition and rank {}",
                            name, a.rank
                        ),
                    )
                    .with_related(a.span, "the other override")
                    .with_help("give one of them a higher rank (`rank 2`), or merge them"),
                );
            }
        }
    }

    pub(super) fn check_function(&mut self, i: usize) {
        let Some(f) = self.function_src.get(i).copied() else {
            return;
        };
        let Some(info) = self.functions.get(i) else {
            return;
        };
        self.locals = info.params.clone();
        let ret = info.ret.clone();
        self.current = Some(Node::Func(i as u32));
        let body = self.expr(&f.body);
        if !body.ty.fits(&ret) {
            self.mismatch(
                f.body.span,
                &ret,
                &body.ty,
                &format!("the result of `{}`", f.name.name),
            );
        }
        let mut overrides = Vec::new();
        for o in &f.overrides {
            overrides.push(self.override_info(o, &ret));
        }
        self.check_ranks(&f.name.name, &f.overrides);
        self.precedence(&f.name.name, &f.overrides, &mut overrides);
        if let Some(info) = self.functions.get_mut(i) {
            info.body = body;
            info.overrides = overrides;
        }
        self.locals.clear();
        self.current = None;
    }

    /// An exception (`unless ... then ...`) typed against what it overrides.
    fn override_info(&mut self, o: &ast::Override, ty: &Type) -> OverrideInfo {
        let condition = self.expr(&o.condition);
        if !condition.ty.fits(&Type::Bool) {
            self.mismatch(
                o.condition.span,
                &Type::Bool,
                &condition.ty,
                "the condition after `unless`",
            );
        }
        let value = self.expr(&o.value);
        if !value.ty.fits(ty) {
            self.mismatch(o.value.span, ty, &value.ty, "the value after `then`");
        }
        OverrideInfo {
            condition,
            value,
            rank: o.rank,
            span: o.span,
            text: self
                .text
                .get(o.condition.span.start..o.condition.span.end)
                .unwrap_or("")
                .to_string(),
            citation: (&o.citation).into(),
            name: o.name.as_ref().map(|n| n.name.clone()),
            beats: Vec::new(),
        }
    }

    /// Which exception of a rule wins over which: `over` (followed through
    /// the exceptions it names) and rank. `over` naming no exception of the
    /// rule, a circle of `over`s, and an `over` against the ranks are errors.
    pub(super) fn precedence(
        &mut self,
        rule: &str,
        src: &[ast::Override],
        infos: &mut [OverrideInfo],
    ) {
        let n = src.len();
        let mut direct: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, o) in src.iter().enumerate() {
            for target in &o.over {
                let found = src
                    .iter()
                    .position(|x| x.name.as_ref().is_some_and(|x| x.name == target.name));
                match found {
                    Some(j) if j == i => self.err(
                        Diagnostic::error(
                            Code::Cycle,
                            target.span,
                            format!("the exception `{}` is written over itself", target.name),
                        )
                        .with_help("name the exception it is an exception to"),
                    ),
                    Some(j) => direct[i].push(j),
                    None => {
                        let names: Vec<&str> = src
                            .iter()
                            .filter_map(|x| x.name.as_ref().map(|n| n.name.as_str()))
                            .collect();
                        let d = Diagnostic::error(
                            Code::UnknownName,
                            target.span,
                            format!("`{rule}` has no exception named `{}`", target.name),
                        );
                        let d = match suggest(&target.name, names.iter().copied()) {
                            Some(s) => d.did_you_mean(target.span, s),
                            None => d.with_help("name an exception with `as NAME` after its value, then write `over NAME` on the exception to it"),
                        };
                        self.err(d);
                    }
                }
            }
        }
        // Names are unique within the rule.
        for (j, o) in src.iter().enumerate() {
            let Some(name) = &o.name else { continue };
            if let Some(first) = src
                .iter()
                .take(j)
                .find(|x| x.name.as_ref().is_some_and(|x| x.name == name.name))
            {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        name.span,
                        format!("two exceptions of `{rule}` are named `{}`", name.name),
                    )
                    .with_related(first.span, "the other exception")
                    .with_help("give each exception its own name"),
                );
            }
        }
        // Everything each exception is over, followed through.
        let mut over: Vec<Vec<bool>> = vec![vec![false; n]; n];
        for (i, row) in over.iter_mut().enumerate() {
            let mut todo = direct[i].clone();
            while let Some(j) = todo.pop() {
                if let Some(seen) = row.get_mut(j) {
                    if !*seen {
                        *seen = true;
                        todo.extend(direct[j].iter().copied());
                    }
                }
            }
        }
        for i in 0..n {
            if over[i][i] {
                let span = src[i].span;
                self.err(
                    Diagnostic::error(Code::Cycle, span, format!("the exceptions of `{rule}` are written over each other in a circle"))
                        .with_help("an exception is over the one it is an exception to, never the other way round"),
                );
                return;
            }
        }
        for i in 0..n {
            for j in 0..n {
                if over[i][j] && src[j].rank > src[i].rank {
                    self.err(
                        Diagnostic::error(
                            Code::DuplicateOverrideRank,
                            src[i].span,
                            format!("this exception is written over another of `{rule}` but has a lower rank ({} < {})", src[i].rank, src[j].rank),
                        )
                        .with_related(src[j].span, "the exception it is over")
                        .with_help("remove the ranks, or give this exception the higher one"),
                    );
                }
            }
        }
        for (i, info) in infos.iter_mut().enumerate() {
            info.beats = (0..n)
                .filter(|&j| j != i && (over[i][j] || src[i].rank > src[j].rank))
                .map(|j| j as u32)
                .collect();
        }
    }

    pub(super) fn check_eligibility(&mut self, e: &ast::EligibilityDef) {
        for c in &e.criteria {
            if let Some(first) = self.criteria.iter().find(|x| x.name == c.name.name) {
                let first = first.span;
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        c.name.span,
                        format!("the criterion `{}` is defined twice", c.name.name),
                    )
                    .with_related(first, "first defined here")
                    .with_help("give each criterion its own name"),
                );
                continue;
            }
            self.current = None;
            let condition = self.expr(&c.condition);
            if !condition.ty.fits(&Type::Bool) {
                self.mismatch(c.condition.span, &Type::Bool, &condition.ty, "a criterion");
            }
            let mut citation: Citation = (&c.citation).into();
            if citation.section.is_none() {
                citation.section = e.citation.section.clone();
            }
            if citation.source.is_none() {
                citation.source = e.citation.source.clone();
            }
            self.criteria.push(CriterionInfo {
                name: c.name.name.clone(),
                condition,
                formula: super::one_line(
                    self.text.get(c.condition.span.start..c.condition.span.end),
                ),
                reason: c.reason.clone(),
                citation,
                span: c.name.span,
            });
        }
    }
}
