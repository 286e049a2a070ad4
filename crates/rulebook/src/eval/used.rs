//! Evaluating what a rulebook takes from a programme it uses: the version
//! in force on the decision date is found, and its parameter, function,
//! table or scale evaluated, or the whole rulebook decided for the inputs
//! given by path. Names are looked up in that version, since each version
//! numbers its definitions its own way.

use super::*;

/// A sub-decision's error, placed at the expression that asked for it: the
/// used rulebook's own places are in another file.
fn from_used(err: Failure, used: &UsedProgramme, version: &Program, span: Span) -> Failure {
    let mut e = err;
    let rule = if e.rule.is_empty() {
        String::new()
    } else {
        format!(" (in `{}`)", e.rule)
    };
    e.message = format!(
        "{} version {}{rule}: {}",
        used.id, version.version, e.message
    );
    e.rule = String::new();
    e.span = span;
    e
}

impl<'p> Evaluator<'p> {
    // Kept out of the recursive caller, whose frame every level of nesting pays for.
    #[inline(never)]
    pub(super) fn used(&mut self, k: u32, item: &UsedItem, args: &[Expr], span: Span) -> R<Value> {
        let p = self.p;
        let Some(used) = p.uses.get(k as usize) else {
            return Err(fail(Code::Internal, span, "unknown used programme"));
        };
        let date = self.date;
        let Some(version) = used.in_force(date) else {
            return Err(fail(
                Code::UsedRulebook,
                span,
                format!("no version of `{}` is in force on {date}", used.id),
            )
            .with_help(format!(
                "add a version of `{}` in force on {date}, or decide the case on a date it covers",
                used.id
            )));
        };
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(a)?);
        }
        let missing = |what: &str, name: &str| {
            fail(
                Code::Internal,
                span,
                format!(
                    "version {} of `{}` has no {what} `{name}`",
                    version.version, used.id
                ),
            )
        };
        let r = match item {
            UsedItem::Def(name) => {
                let i = version
                    .def_index(name)
                    .ok_or_else(|| missing("definition", name))?;
                Evaluator::new(version, &[], date).def(i)
            }
            UsedItem::Function(name) => {
                let func = version
                    .functions
                    .iter()
                    .find(|f| *f.name == **name)
                    .ok_or_else(|| missing("function", name))?;
                let mut sub = Evaluator::new(version, &[], date);
                sub.stack.extend(values.into_iter().map(Slot::Owned));
                with_stack(|| sub.function_body(func)).map_err(|e| named(e, &func.name))
            }
            UsedItem::Table(name) => {
                let table = version
                    .tables
                    .iter()
                    .find(|t| *t.name == **name)
                    .ok_or_else(|| missing("table", name))?;
                let mut sub = Evaluator::new(version, &[], date);
                sub.stack.extend(values.into_iter().map(Slot::Owned));
                let mut rows = Vec::new();
                with_stack(|| sub.table(table, table.span, &mut rows))
                    .map_err(|e| named(e, &table.name))
            }
            UsedItem::Scale(name) => {
                let scale = version
                    .scales
                    .iter()
                    .find(|s| *s.name == **name)
                    .ok_or_else(|| missing("scale", name))?;
                let x = values.first().ok_or_else(|| missing("argument of", name))?;
                scale_value(scale, x, scale.span).map_err(|e| named(e, &scale.name))
            }
            UsedItem::Decide { paths, result } => {
                let inputs = inputs_by_path(version, paths, values).map_err(|m| {
                    fail(
                        Code::UsedRulebook,
                        span,
                        format!("`{}` version {}: {m}", used.id, version.version),
                    )
                    .with_help(format!("give `{}` inputs its rulebook allows", used.id))
                })?;
                let mut sub = Evaluator::new(version, &inputs, date);
                let d = with_stack(|| evaluate_in(&mut sub, &Options { explain: false }))
                    .map_err(|e| from_used(e, used, version, span))?;
                return match result {
                    None => Ok(Value::Bool(d.eligible)),
                    Some(name) => {
                        if let Some(f) = d.failed_criteria.first() {
                            return Err(fail(
                                Code::UsedRulebook,
                                span,
                                format!(
                                    "`{}` version {} found this part of the case not eligible ({}: {}), so it has no `{name}`",
                                    used.id, version.version, f.criterion, f.reason
                                ),
                            )
                            .with_help(format!(
                                "ask first whether it is eligible: `if {alias}(...).eligible then {alias}(...).{name} else ...`",
                                alias = used.alias
                            )));
                        }
                        let o = version
                            .output_index(name)
                            .ok_or_else(|| missing("output", name))?;
                        d.outputs
                            .iter()
                            .find(|(i, _)| *i == o)
                            .map(|(_, v)| v.clone())
                            .ok_or_else(|| missing("output", name))
                    }
                };
            }
        };
        r.map_err(|e| from_used(e, used, version, span))
    }
}

/// A used rulebook's inputs from values given by path (`year.fees`): each
/// input in its own order, a record input from its fields, an optional one
/// left out as absent; every value within its declared bounds.
pub(super) fn inputs_by_path(
    version: &Program,
    paths: &[Arc<str>],
    values: Vec<Value>,
) -> Result<Vec<Value>, String> {
    let given: Vec<(&str, Value)> = paths.iter().map(|p| &**p).zip(values).collect();
    let find = |path: &str| {
        given
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, v)| v.clone())
    };
    let mut inputs = Vec::with_capacity(version.inputs.len());
    for i in &version.inputs {
        let record = match &i.ty {
            Type::Record(r) => version
                .records
                .get(*r as usize)
                .filter(|rec| rec.name == i.name),
            _ => None,
        };
        let v = match (record, find(&i.name)) {
            (_, Some(v)) => v,
            (Some(rec), None) => {
                let mut fields = Vec::with_capacity(rec.fields.len());
                for f in &rec.fields {
                    let path = format!("{}.{}", i.name, f.name);
                    fields.push(match find(&path) {
                        Some(v) => v,
                        None if matches!(f.ty, Type::Optional(_)) => Value::Absent,
                        None => return Err(format!("`{path}` is not given")),
                    });
                }
                Value::Record(Arc::from(fields))
            }
            (None, None) if matches!(i.ty, Type::Optional(_)) => Value::Absent,
            (None, None) => return Err(format!("`{}` is not given", i.name)),
        };
        if let Some(why) = version.outside_bounds(&i.ty, i.bounds.as_ref(), &v, &i.name) {
            return Err(why);
        }
        inputs.push(v);
    }
    Ok(inputs)
}
