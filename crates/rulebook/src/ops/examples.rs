//! Running a rulebook's examples: they are its tests.

use crate::diagnostic::Span;
use crate::eval::Executable;
use crate::eval::{evaluate, Case, Options};
use crate::ir::value::Value;
use crate::ir::ExpectInfo;

#[derive(Debug, Clone, PartialEq)]
pub struct ExampleResult {
    pub name: String,
    pub span: Span,
    /// One line per expectation that did not hold; empty when it passed.
    pub failures: Vec<String>,
}

impl ExampleResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Exact equality, or a difference no larger than the margin.
fn close_enough(got: &Value, want: &Value, margin: Option<&Value>) -> bool {
    match margin {
        None => got.equals(want),
        Some(m) => match (got.as_decimal(), want.as_decimal(), m.as_decimal()) {
            (Some(g), Some(w), Some(m)) => g.checked_sub(w).is_some_and(|d| d.abs() <= m),
            _ => got.equals(want),
        },
    }
}

pub fn run_examples(p: &Executable) -> Vec<ExampleResult> {
    p.examples.iter().map(|e| run_example(p, e)).collect()
}

pub fn run_example(p: &Executable, e: &crate::ir::ExampleInfo) -> ExampleResult {
    let case = Case {
        decision_date: e.date,
        inputs: e.inputs.clone(),
    };
    let mut failures = Vec::new();
    let result = evaluate(p, &case, &Options { explain: false });
    let expects_error = e.expects.iter().any(|x| matches!(x, ExpectInfo::Error(..)));
    match result {
        Err(err) => {
            let wanted = e.expects.iter().find_map(|x| match x {
                ExpectInfo::Error(m, _) => Some(m.clone()),
                _ => None,
            });
            match wanted {
                None => failures.push(format!("evaluation failed: {err}")),
                Some(Some(m)) if !err.to_string().contains(&m) => {
                    failures.push(format!("expected an error mentioning {m:?}, got: {err}"))
                }
                Some(_) => {}
            }
        }
        Ok(d) => {
            if expects_error {
                failures.push("expected an error, but the evaluation succeeded".into());
            }
            for x in &e.expects {
                match x {
                    ExpectInfo::Eligible(want, names, _) => {
                        if d.eligible != *want {
                            let why = if d.failed_criteria.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " (failed: {})",
                                    d.failed_criteria
                                        .iter()
                                        .map(|c| c.criterion.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            };
                            failures.push(format!(
                                "expected {}, got {}{why}",
                                if *want { "eligible" } else { "not eligible" },
                                if d.eligible {
                                    "eligible"
                                } else {
                                    "not eligible"
                                }
                            ));
                        } else if let Some(names) = names {
                            let mut got: Vec<&str> = d
                                .failed_criteria
                                .iter()
                                .map(|c| c.criterion.as_str())
                                .collect();
                            let mut want: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                            got.sort_unstable();
                            want.sort_unstable();
                            if got != want {
                                failures.push(format!(
                                    "expected the failed criteria to be {}, got {}",
                                    want.join(", "),
                                    got.join(", ")
                                ));
                            }
                        }
                    }
                    ExpectInfo::Output(o, want, margin, _) => {
                        let def = p.defs.get(*o as usize);
                        let name = def.map(|d| d.name.as_str()).unwrap_or("?");
                        let ty = def
                            .map(|d| d.ty.clone())
                            .unwrap_or(crate::ir::value::Type::Error);
                        let within = match margin {
                            Some(m) => format!(" within {}", p.render(m, &ty)),
                            None => String::new(),
                        };
                        match d.outputs.iter().find(|(i, _)| i == o) {
                            Some((_, got)) if close_enough(got, want, margin.as_ref()) => {}
                            Some((_, got)) => failures.push(format!(
                                "expected {name} = {}{within}, got {}",
                                p.render(want, &ty),
                                p.render(got, &ty)
                            )),
                            None => failures.push(format!(
                                "expected {name} = {}, but the case is not eligible, so no outputs were computed",
                                p.render(want, &ty)
                            )),
                        }
                    }
                    ExpectInfo::Error(..) => {}
                    ExpectInfo::Property(k, step, _) => {
                        if let Some(f) = property_failure(p, *k, &case, step.as_ref()) {
                            failures.push(f);
                        }
                    }
                }
            }
        }
    }
    ExampleResult {
        name: e.name.clone(),
        span: e.span,
        failures,
    }
}

/// Why property `k` does not hold at `case`, if it does not. A relation
/// without a step moves its input by one (euro, unit or percentage point).
fn property_failure(p: &Executable, k: u32, case: &Case, step: Option<&Value>) -> Option<String> {
    use crate::eval::property::{check_property, Verdict};
    let prop = p.properties.get(k as usize)?;
    let one = Value::Int(1);
    let step = match (&prop.kind, step) {
        (crate::ir::PropertyKind::Monotone { .. }, None) => Some(&one),
        (_, s) => s,
    };
    match check_property(p, prop, case, step) {
        Ok(Verdict::Holds) => None,
        Ok(Verdict::NotApplicable(why)) => Some(format!(
            "expected the property {} to hold, but it does not apply here: {why}",
            prop.name
        )),
        Ok(Verdict::Fails(why)) => Some(format!(
            "expected the property {} to hold, but it fails: {why}",
            prop.name
        )),
        Err(e) => Some(format!(
            "expected the property {} to hold, but evaluating it failed: {e}",
            prop.name
        )),
    }
}

/// A decided case written as an example block to paste into the rulebook:
/// its date, its inputs and, as expectations, what was decided (every
/// output when eligible, the failed criteria when not). The Studio saves a
/// tried case this way.
pub fn example_block(
    p: &crate::ir::Program,
    name: &str,
    case: &Case,
    d: &crate::semantics::decision::Decision,
) -> String {
    let mut out = format!("example {name:?}\n  on {}\n", case.decision_date);
    for (input, v) in p.inputs.iter().zip(&case.inputs) {
        if matches!(v, Value::Absent) {
            continue;
        }
        out.push_str(&format!(
            "  given {} {}\n",
            input.name,
            crate::ops::verify::literal(p, v, &input.ty)
        ));
    }
    if d.eligible {
        for (slot, v) in &d.outputs {
            if let Some(def) = p.defs.get(*slot as usize) {
                out.push_str(&format!(
                    "  expect {} = {}\n",
                    def.name,
                    crate::ops::verify::literal(p, v, &def.ty)
                ));
            }
        }
        if d.outputs.is_empty() {
            out.push_str("  expect eligible\n");
        }
    } else {
        let failed: Vec<&str> = d
            .failed_criteria
            .iter()
            .map(|c| c.criterion.as_str())
            .collect();
        out.push_str(&format!(
            "  expect not eligible because {}\n",
            failed.join(", ")
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot decide fails
mod tests {
    use super::*;

    /// A decided case written as an example is an example the rulebook
    /// accepts, and it passes.
    #[test]
    fn a_decided_case_written_as_an_example_passes() {
        let text = "rulebook t.x \"T\"\n  version 1\n  in force 2024-01-01 to 2024-12-31\n\ninput price: money 0 € or more\ninput size: integer 1 to 9\n\neligibility\n  small: size < 5 else \"too large\"\n\noutput pays = price * 2\n";
        let checked = crate::check::check(text);
        let p = Executable::new(checked.program.clone().expect("checks"));
        for (size, eligible) in [(2, true), (7, false)] {
            let case = Case {
                decision_date: chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
                inputs: vec![Value::Num("12.50".parse().unwrap()), Value::Int(size)],
            };
            let d = evaluate(&p, &case, &Options { explain: false }).unwrap();
            assert_eq!(d.eligible, eligible);
            let block = example_block(&p, "tried", &case, &d);
            let with = format!("{text}\n{block}");
            let checked = crate::check::check(&with);
            assert!(
                checked.diagnostics.iter().all(|d| !d.is_error()),
                "{block}\n{:?}",
                checked.diagnostics
            );
            let again = Executable::new(checked.program.unwrap());
            let results = run_examples(&again);
            assert_eq!(results.len(), 1, "{block}");
            assert!(results[0].passed(), "{block}: {:?}", results[0].failures);
        }
    }
}
