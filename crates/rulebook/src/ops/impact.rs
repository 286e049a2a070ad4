//! Impact analysis: a population of cases run through two versions.
//!
//! The accumulator sees one case at a time and keeps only counts, totals,
//! the distinct changes with their counts (for exact quartiles) and the few
//! largest changes, so memory does not grow with the number of cases.
//! Accumulators of parallel workers merge.

use crate::cases::input::decode_case;
use crate::eval::Executable;
use crate::eval::{evaluate, Decision, Options};
use crate::ir::value::{Type, Value};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as J;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct OutputAcc {
    name: String,
    ty: Type,
    old: u32,
    new: u32,
    compared: u64,
    changed: u64,
    deltas: BTreeMap<Decimal, u64>,
    total_old: Decimal,
    total_new: Decimal,
}

#[derive(Debug, Clone)]
struct Candidate {
    magnitude: Decimal,
    line: u64,
    output: String,
    old: String,
    new: String,
    delta: Decimal,
    ty: Type,
    case: J,
}

#[derive(Debug, Clone)]
pub struct Accumulator<'p> {
    old: &'p Executable,
    new: &'p Executable,
    date: Option<NaiveDate>,
    top_n: usize,
    cases: u64,
    failed: u64,
    failures: Vec<CaseFailure>,
    gained: u64,
    lost: u64,
    eligible_both: u64,
    outputs: Vec<OutputAcc>,
    top: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseFailure {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub min: String,
    pub q1: String,
    pub median: String,
    pub q3: String,
    pub max: String,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bin {
    pub from: String,
    pub to: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputImpact {
    pub output: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// Cases eligible in both versions, where the output was compared.
    pub compared: u64,
    pub changed: u64,
    /// Distribution of new − old over the compared cases; numbers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_new: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bin>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LargestChange {
    /// The case's line in the input (1-based; the header is line 1 in CSV).
    pub line: u64,
    pub output: String,
    pub old: String,
    pub new: String,
    pub change: String,
    pub old_explanation: Vec<String>,
    pub new_explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    pub cases: u64,
    /// Cases one of the versions could not read or evaluate.
    pub failed: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<CaseFailure>,
    pub gained_eligibility: u64,
    pub lost_eligibility: u64,
    pub eligible_in_both: u64,
    pub outputs: Vec<OutputImpact>,
    pub largest_changes: Vec<LargestChange>,
}

const KEPT_FAILURES: usize = 20;
const BINS: usize = 20;

impl<'p> Accumulator<'p> {
    pub fn new(
        old: &'p Executable,
        new: &'p Executable,
        date: Option<NaiveDate>,
        top_n: usize,
    ) -> Accumulator<'p> {
        let outputs = new
            .outputs
            .iter()
            .filter_map(|&n| {
                let d = new.defs.get(n as usize)?;
                let o = old.output_index(&d.name)?;
                let od = old.defs.get(o as usize)?;
                (od.ty == d.ty).then(|| OutputAcc {
                    name: d.name.clone(),
                    ty: d.ty.clone(),
                    old: o,
                    new: n,
                    compared: 0,
                    changed: 0,
                    deltas: BTreeMap::new(),
                    total_old: Decimal::ZERO,
                    total_new: Decimal::ZERO,
                })
            })
            .collect();
        Accumulator {
            old,
            new,
            date,
            top_n,
            cases: 0,
            failed: 0,
            failures: Vec::new(),
            gained: 0,
            lost: 0,
            eligible_both: 0,
            outputs,
            top: Vec::new(),
        }
    }

    fn fail(&mut self, line: u64, message: String) {
        self.failed += 1;
        if self.failures.len() < KEPT_FAILURES {
            self.failures.push(CaseFailure { line, message });
        }
    }

    fn decide(p: &Executable, doc: &J, date: Option<NaiveDate>) -> Result<Decision, String> {
        let case = decode_case(p, doc, date).map_err(|es| {
            es.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        evaluate(p, &case, &Options { explain: false }).map_err(|e| e.to_string())
    }

    /// Runs one case (a record of inputs) through both versions.
    pub fn add(&mut self, line: u64, doc: &J) {
        self.cases += 1;
        let old = Self::decide(self.old, doc, self.date);
        let new = Self::decide(self.new, doc, self.date);
        let (old, new) = match (old, new) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) => return self.fail(line, format!("version {}: {e}", self.old.version)),
            (_, Err(e)) => return self.fail(line, format!("version {}: {e}", self.new.version)),
        };
        match (old.eligible, new.eligible) {
            (false, true) => self.gained += 1,
            (true, false) => self.lost += 1,
            (true, true) => self.eligible_both += 1,
            _ => {}
        }
        if !(old.eligible && new.eligible) {
            return;
        }
        let get = |d: &Decision, i: u32| {
            d.outputs
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, v)| v.clone())
        };
        for k in 0..self.outputs.len() {
            let Some(acc) = self.outputs.get_mut(k) else {
                continue;
            };
            let (Some(a), Some(b)) = (get(&old, acc.old), get(&new, acc.new)) else {
                continue;
            };
            acc.compared += 1;
            if !a.equals(&b) {
                acc.changed += 1;
            }
            if let (Some(x), Some(y)) = (a.as_decimal(), b.as_decimal()) {
                let delta = y - x;
                *acc.deltas.entry(delta.normalize()).or_insert(0) += 1;
                acc.total_old += x;
                acc.total_new += y;
                if !delta.is_zero() && self.top_n > 0 {
                    let cand = Candidate {
                        magnitude: delta.abs(),
                        line,
                        output: acc.name.clone(),
                        old: self.old.render(&a, &acc.ty),
                        new: self.new.render(&b, &acc.ty),
                        delta,
                        ty: if acc.ty == Type::Integer {
                            Type::Decimal
                        } else {
                            acc.ty.clone()
                        },
                        case: doc.clone(),
                    };
                    let worth = self.top.len() < self.top_n
                        || self
                            .top
                            .last()
                            .is_some_and(|l| cand.magnitude > l.magnitude);
                    if worth {
                        self.top.push(cand);
                        self.top.sort_by(|p, q| {
                            q.magnitude.cmp(&p.magnitude).then(p.line.cmp(&q.line))
                        });
                        self.top.truncate(self.top_n);
                    }
                }
            }
        }
    }

    /// Counts a case that could not even be read as a record.
    pub fn add_unreadable(&mut self, line: u64, message: String) {
        self.cases += 1;
        self.fail(line, message);
    }

    pub fn merge(&mut self, other: Accumulator<'p>) {
        self.cases += other.cases;
        self.failed += other.failed;
        for f in other.failures {
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(f);
            }
        }
        self.failures.sort_by_key(|f| f.line);
        self.gained += other.gained;
        self.lost += other.lost;
        self.eligible_both += other.eligible_both;
        for (a, b) in self.outputs.iter_mut().zip(other.outputs) {
            a.compared += b.compared;
            a.changed += b.changed;
            a.total_old += b.total_old;
            a.total_new += b.total_new;
            for (k, v) in b.deltas {
                *a.deltas.entry(k).or_insert(0) += v;
            }
        }
        self.top.extend(other.top);
        self.top
            .sort_by(|p, q| q.magnitude.cmp(&p.magnitude).then(p.line.cmp(&q.line)));
        self.top.truncate(self.top_n);
    }

    pub fn cases(&self) -> u64 {
        self.cases
    }

    pub fn finish(self) -> Impact {
        let (old_p, new_p) = (self.old, self.new);
        let outputs = self
            .outputs
            .iter()
            .map(|o| {
                let numeric = o.ty.is_numeric();
                let show = |d: Decimal| match o.ty {
                    Type::Integer => new_p.render(&Value::Num(d), &Type::Decimal),
                    _ => new_p.render(&Value::Num(d), &o.ty),
                };
                OutputImpact {
                    output: o.name.clone(),
                    ty: new_p.type_name(&o.ty),
                    compared: o.compared,
                    changed: o.changed,
                    change: (numeric && o.compared > 0).then(|| stats(&o.deltas, &show)),
                    total_old: numeric.then(|| show(o.total_old)),
                    total_new: numeric.then(|| show(o.total_new)),
                    histogram: if numeric {
                        histogram(&o.deltas, &show)
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        let largest_changes = self
            .top
            .iter()
            .map(|c| LargestChange {
                line: c.line,
                output: c.output.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
                change: format!(
                    "{}{}",
                    if c.delta > Decimal::ZERO { "+" } else { "" },
                    new_p.render(&Value::Num(c.delta), &c.ty)
                ),
                old_explanation: explain(old_p, &c.case, self.date, &c.output),
                new_explanation: explain(new_p, &c.case, self.date, &c.output),
            })
            .collect();
        Impact {
            cases: self.cases,
            failed: self.failed,
            failures: self.failures,
            gained_eligibility: self.gained,
            lost_eligibility: self.lost,
            eligible_in_both: self.eligible_both,
            outputs,
            largest_changes,
        }
    }
}

fn explain(p: &Executable, doc: &J, date: Option<NaiveDate>, output: &str) -> Vec<String> {
    let Ok(case) = decode_case(p, doc, date) else {
        return Vec::new();
    };
    match evaluate(p, &case, &Options { explain: true }) {
        Ok(d) => d
            .explanation
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.output == output)
            .map(|e| e.steps)
            .unwrap_or_default(),
        Err(e) => vec![e.to_string()],
    }
}

/// The value at a rank (nearest-rank method) in a counted set.
fn at_rank(deltas: &BTreeMap<Decimal, u64>, rank: u64) -> Decimal {
    let mut seen = 0;
    for (v, n) in deltas {
        seen += n;
        if seen >= rank {
            return *v;
        }
    }
    deltas.keys().next_back().copied().unwrap_or_default()
}

fn stats(deltas: &BTreeMap<Decimal, u64>, show: &dyn Fn(Decimal) -> String) -> Stats {
    let n: u64 = deltas.values().sum();
    let rank = |q: u64| (n * q).div_ceil(4).max(1);
    let total = deltas
        .iter()
        .fold(Decimal::ZERO, |acc, (v, c)| acc + *v * Decimal::from(*c));
    Stats {
        min: show(deltas.keys().next().copied().unwrap_or_default()),
        q1: show(at_rank(deltas, rank(1))),
        median: show(at_rank(deltas, rank(2))),
        q3: show(at_rank(deltas, rank(3))),
        max: show(deltas.keys().next_back().copied().unwrap_or_default()),
        total: show(total),
    }
}

fn histogram(deltas: &BTreeMap<Decimal, u64>, show: &dyn Fn(Decimal) -> String) -> Vec<Bin> {
    let (Some(&lo), Some(&hi)) = (deltas.keys().next(), deltas.keys().next_back()) else {
        return Vec::new();
    };
    if lo == hi {
        return vec![Bin {
            from: show(lo),
            to: show(hi),
            count: deltas.values().sum(),
        }];
    }
    let width = (hi - lo) / Decimal::from(BINS as u64);
    let mut counts = vec![0u64; BINS];
    for (v, n) in deltas {
        let i = ((*v - lo) / width)
            .floor()
            .to_string()
            .parse::<usize>()
            .unwrap_or(0)
            .min(BINS - 1);
        if let Some(c) = counts.get_mut(i) {
            *c += n;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bin {
            from: show(lo + width * Decimal::from(i as u64)),
            to: show(if i + 1 == BINS {
                hi
            } else {
                lo + width * Decimal::from(i as u64 + 1)
            }),
            count,
        })
        .collect()
}

// ---- rendering ----------------------------------------------------------

pub fn to_text(i: &Impact) -> String {
    let mut s = format!(
        "Impact on {} cases ({} could not be evaluated)\n  eligibility: {} gained, {} lost, {} eligible in both\n",
        i.cases, i.failed, i.gained_eligibility, i.lost_eligibility, i.eligible_in_both
    );
    for f in &i.failures {
        s.push_str(&format!("  line {}: {}\n", f.line, f.message));
    }
    for o in &i.outputs {
        s.push_str(&format!(
            "  {}: changed in {} of {} cases\n",
            o.output, o.changed, o.compared
        ));
        if let (Some(c), Some(a), Some(b)) = (&o.change, &o.total_old, &o.total_new) {
            s.push_str(&format!(
                "      change: min {}, q1 {}, median {}, q3 {}, max {}, total {}\n      total: {a} → {b}\n",
                c.min, c.q1, c.median, c.q3, c.max, c.total
            ));
        }
    }
    if !i.largest_changes.is_empty() {
        s.push_str("  largest changes:\n");
        for c in &i.largest_changes {
            s.push_str(&format!(
                "    line {}: {} {} → {} ({})\n",
                c.line, c.output, c.old, c.new, c.change
            ));
        }
    }
    s
}

pub fn to_markdown(i: &Impact) -> String {
    let mut s = format!(
        "## Impact\n\n{} cases, {} could not be evaluated. Eligibility: {} gained, {} lost, {} eligible in both.\n\n\
         | output | changed | min | q1 | median | q3 | max | total change | old total | new total |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        i.cases, i.failed, i.gained_eligibility, i.lost_eligibility, i.eligible_in_both
    );
    for o in &i.outputs {
        match (&o.change, &o.total_old, &o.total_new) {
            (Some(c), Some(a), Some(b)) => s.push_str(&format!(
                "| {} | {} of {} | {} | {} | {} | {} | {} | {} | {a} | {b} |\n",
                o.output, o.changed, o.compared, c.min, c.q1, c.median, c.q3, c.max, c.total
            )),
            _ => s.push_str(&format!(
                "| {} | {} of {} | | | | | | | | |\n",
                o.output, o.changed, o.compared
            )),
        }
    }
    if !i.largest_changes.is_empty() {
        s.push_str("\n### Largest changes\n\n");
        for c in &i.largest_changes {
            s.push_str(&format!(
                "- line {}: **{}** {} → {} ({})\n",
                c.line, c.output, c.old, c.new, c.change
            ));
        }
    }
    s
}

fn svg_histogram(bins: &[Bin]) -> String {
    let max = bins.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let (w, h, gap) = (32u64, 120u64, 4u64);
    let width = bins.len() as u64 * (w + gap) + gap;
    let mut s = format!(
        "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"histogram of the change\">",
        h + 40
    );
    for (k, b) in bins.iter().enumerate() {
        let bh = b.count * h / max;
        let x = gap + k as u64 * (w + gap);
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{bh}\" fill=\"#3b6ea5\"><title>{} to {}: {} cases</title></rect>",
            h - bh,
            crate::ops::diff::html_escape(&b.from),
            crate::ops::diff::html_escape(&b.to),
            b.count
        ));
    }
    if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
        s.push_str(&format!(
            "<text x=\"{gap}\" y=\"{}\" font-size=\"12\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            h + 20,
            crate::ops::diff::html_escape(&first.from),
            width - gap,
            h + 20,
            crate::ops::diff::html_escape(&last.to)
        ));
    }
    s.push_str("</svg>");
    s
}

pub fn to_html(i: &Impact) -> String {
    use crate::ops::diff::html_escape as e;
    let mut s = format!(
        "<section id=\"impact\"><h2>Impact</h2>\n<p class=\"summary\">{} cases, {} could not be evaluated. Eligibility: {} gained, {} lost, {} eligible in both.</p>\n",
        i.cases, i.failed, i.gained_eligibility, i.lost_eligibility, i.eligible_in_both
    );
    s.push_str("<table><tr><th>output</th><th>changed</th><th>min</th><th>q1</th><th>median</th><th>q3</th><th>max</th><th>total change</th><th>old total</th><th>new total</th></tr>\n");
    for o in &i.outputs {
        s.push_str(&format!(
            "<tr><td class=\"name\">{}</td><td class=\"num\">{} of {}</td>",
            e(&o.output),
            o.changed,
            o.compared
        ));
        match (&o.change, &o.total_old, &o.total_new) {
            (Some(c), Some(a), Some(b)) => {
                for v in [&c.min, &c.q1, &c.median, &c.q3, &c.max, &c.total, a, b] {
                    s.push_str(&format!("<td class=\"num\">{}</td>", e(v)));
                }
            }
            _ => s.push_str("<td colspan=\"8\"></td>"),
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    for o in i
        .outputs
        .iter()
        .filter(|o| o.ty == "money" && !o.histogram.is_empty())
    {
        s.push_str(&format!(
            "<h3>Change in {}</h3>\n{}\n",
            e(&o.output),
            svg_histogram(&o.histogram)
        ));
    }
    if !i.largest_changes.is_empty() {
        s.push_str("<h3>Largest changes</h3>\n");
        for c in &i.largest_changes {
            s.push_str(&format!(
                "<details><summary>line {}: {} {} → {} ({})</summary><p>Old version:</p><ul>{}</ul><p>New version:</p><ul>{}</ul></details>\n",
                c.line,
                e(&c.output),
                e(&c.old),
                e(&c.new),
                e(&c.change),
                c.old_explanation.iter().map(|x| format!("<li><code>{}</code></li>", e(x))).collect::<String>(),
                c.new_explanation.iter().map(|x| format!("<li><code>{}</code></li>", e(x))).collect::<String>()
            ));
        }
    }
    s.push_str("</section>\n");
    s
}
