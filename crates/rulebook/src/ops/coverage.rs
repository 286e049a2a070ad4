//! Coverage of a version by its examples: which criteria were seen both
//! passing and failing, which table rows matched, which scale brackets were
//! reached, which branches of `if` and `unless` were taken, which values of
//! dated parameters were used, and which cited sections were touched.
//!
//! An item that no valid case can reach is excluded by a comment on its
//! line or the line above it: `-- not reachable: WHY`. The report lists the
//! exclusions with their reasons, so that they stay visible.

use crate::eval::{interpret_for_coverage, Case, Coverage, Executable};
use crate::ir::*;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Serialize)]
pub struct CoverageItem {
    /// What kind of thing: `criterion`, `row`, `bracket`, `branch`,
    /// `override`, `dated value` or `section`.
    pub kind: &'static str,
    /// What must be reached, in words (`criterion adult fails`).
    pub what: String,
    /// 1-based line in the version's text.
    pub line: usize,
    pub covered: bool,
    /// The reason given in a `-- not reachable:` comment, if excluded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub items: Vec<CoverageItem>,
    /// Covered items, of those not excluded.
    pub covered: usize,
    pub total: usize,
}

impl CoverageReport {
    /// Per cent of the items (not excluded) that the examples reached; 100
    /// when there is nothing to reach.
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.total as f64
        }
    }

    /// `covered/total` by kind, in a fixed order.
    pub fn by_kind(&self) -> Vec<(&'static str, usize, usize)> {
        let kinds = [
            "criterion",
            "row",
            "bracket",
            "branch",
            "override",
            "dated value",
            "section",
        ];
        kinds
            .iter()
            .map(|k| {
                let of: Vec<&CoverageItem> = self
                    .items
                    .iter()
                    .filter(|i| i.kind == *k && i.excluded.is_none())
                    .collect();
                (*k, of.iter().filter(|i| i.covered).count(), of.len())
            })
            .filter(|(_, _, n)| *n > 0)
            .collect()
    }
}

/// Runs every example of `p` with the interpreter and reports what they
/// reached. `text` is the version's text, for lines and exclusions.
pub fn coverage(p: &Executable, text: &str) -> CoverageReport {
    let mut cov = Coverage::default();
    for e in &p.examples {
        let case = Case {
            decision_date: e.date,
            inputs: e.inputs.clone(),
        };
        // An example that expects an error still reaches what it reached.
        let _ = interpret_for_coverage(p, &case, &mut cov);
    }
    let index = crate::diagnostic::LineIndex::new(text);
    let line = |offset: usize| index.position(text, offset).0 + 1;
    let mut items = Vec::new();
    let mut push = |kind: &'static str, what: String, at: usize, covered: bool| {
        items.push(CoverageItem {
            kind,
            what,
            line: line(at),
            covered,
            excluded: None,
        });
    };

    for (k, c) in p.criteria.iter().enumerate() {
        push(
            "criterion",
            format!("criterion {} passes", c.name),
            c.span.start,
            cov.criteria.contains(&(k, true)),
        );
        push(
            "criterion",
            format!("criterion {} fails", c.name),
            c.span.start,
            cov.criteria.contains(&(k, false)),
        );
    }
    for (t, table) in p.tables.iter().enumerate() {
        for (r, row) in table.rows.iter().enumerate() {
            push(
                "row",
                format!("row {} of table {}", r + 1, table.name),
                row.span.start,
                cov.rows.contains(&(t as u32, r)),
            );
        }
    }
    for (s, scale) in p.scales.iter().enumerate() {
        for k in 0..scale.brackets.len() {
            push(
                "bracket",
                format!("bracket {} of scale {}", k + 1, scale.name),
                scale.span.start,
                cov.brackets.contains(&(s as u32, k)),
            );
        }
    }
    for e in p.rule_exprs() {
        walk(e, &mut |x| {
            if let ExprKind::If(..) = x.kind {
                push(
                    "branch",
                    "`if` taken (then)".into(),
                    x.span.start,
                    cov.ifs.contains(&(x.span.start, true)),
                );
                push(
                    "branch",
                    "`if` not taken (else)".into(),
                    x.span.start,
                    cov.ifs.contains(&(x.span.start, false)),
                );
            }
        });
    }
    // Each exception of a rule or function, and none applying, keyed by the
    // offset of the name the evaluator records them under.
    let exceptions = |push: &mut dyn FnMut(&'static str, String, usize, bool),
                      name: &str,
                      at: usize,
                      overrides: &[crate::ir::OverrideInfo]| {
        for (k, o) in overrides.iter().enumerate() {
            push(
                "override",
                format!("`unless {}` applies in {name}", o.text),
                o.span.start,
                cov.overrides.contains(&(at, Some(k))),
            );
        }
        push(
            "override",
            format!("no `unless` applies in {name}"),
            at,
            cov.overrides.contains(&(at, None)),
        );
    };
    for f in p.functions.iter().filter(|f| !f.overrides.is_empty()) {
        exceptions(&mut push, &f.name, f.span.start, &f.overrides);
    }
    for d in &p.defs {
        match &d.body {
            DefBody::Rule { overrides, .. } if !overrides.is_empty() => {
                exceptions(&mut push, &d.name, d.name_span.start, overrides);
            }
            DefBody::Dated(values) if values.len() > 1 => {
                for (k, (from, _)) in values.iter().enumerate() {
                    let when = from.map_or("without a date".to_string(), |f| format!("from {f}"));
                    push(
                        "dated value",
                        format!("{} {when}", d.name),
                        d.name_span.start,
                        cov.dated.contains(&(d.name_span.start, k)),
                    );
                }
            }
            _ => {}
        }
    }
    // Sections: each cited section, touched when anything citing it was
    // evaluated.
    let mut sections: Vec<(String, usize, bool)> = Vec::new();
    let mut cite = |c: &Citation, at: usize, reached: bool| {
        if let Some(s) = &c.section {
            match sections.iter_mut().find(|(n, _, _)| n == s) {
                Some(entry) => entry.2 |= reached,
                None => sections.push((s.clone(), at, reached)),
            }
        }
    };
    for d in &p.defs {
        cite(
            &d.citation,
            d.name_span.start,
            cov.defs.contains(&d.name_span.start),
        );
    }
    for (t, table) in p.tables.iter().enumerate() {
        cite(
            &table.citation,
            table.span.start,
            cov.tables.contains(&(t as u32)),
        );
    }
    for (s, scale) in p.scales.iter().enumerate() {
        cite(
            &scale.citation,
            scale.span.start,
            cov.brackets.iter().any(|(x, _)| *x == s as u32),
        );
    }
    for (f, func) in p.functions.iter().enumerate() {
        cite(
            &func.citation,
            func.span.start,
            cov.functions.contains(&(f as u32)),
        );
    }
    for (k, c) in p.criteria.iter().enumerate() {
        cite(
            &c.citation,
            c.span.start,
            cov.criteria.iter().any(|(x, _)| *x == k),
        );
    }
    for (name, at, reached) in sections {
        push("section", format!("§ {name}"), at, reached);
    }

    // Exclusions by comment.
    let lines: Vec<&str> = text.lines().collect();
    for item in &mut items {
        let here = lines
            .get(item.line.saturating_sub(1))
            .copied()
            .unwrap_or("");
        let above = item
            .line
            .checked_sub(2)
            .and_then(|k| lines.get(k))
            .copied()
            .unwrap_or("");
        item.excluded = [here, above].iter().find_map(|l| {
            l.split_once("-- not reachable:")
                .map(|(_, why)| why.trim().to_string())
        });
    }
    let counted: Vec<&CoverageItem> = items.iter().filter(|i| i.excluded.is_none()).collect();
    let covered = counted.iter().filter(|i| i.covered).count();
    let total = counted.len();
    let mut seen = BTreeSet::new();
    items.retain(|i| seen.insert((i.kind, i.what.clone(), i.line)));
    CoverageReport {
        items,
        covered,
        total,
    }
}

fn walk<'e>(e: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        f(e);
        each_child(e, &mut |c| todo.push(c));
    }
}
