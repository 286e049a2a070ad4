//! Impact analysis: a population of cases run through two versions.
//!
//! The accumulator sees one case at a time and keeps only counts, totals,
//! the distinct changes with their counts (for exact quartiles) and the few
//! largest changes, so memory does not grow with the number of cases. What
//! it keeps is a [`Summary`]: plain data that serializes, so that the
//! summaries of parallel workers, or of shards run on other machines, merge
//! into exactly the summary of one run.
//!
//! Totals add up: every case is in one group (eligible in both versions,
//! newly eligible, no longer eligible, eligible in neither), an output of a
//! version in which the case is not eligible counts as zero, and the change
//! of a total is the sum of the cases' changes.

use crate::cases::input::decode_case;
use crate::eval::{evaluate, Decision, Evaluator, Executable, Options};
use crate::ir::value::{Type, Value};
use crate::ir::Program;
use crate::semantics::decision::Case;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value as J;
use std::collections::{BTreeMap, BTreeSet};

pub mod render;
pub use render::{to_html, to_markdown, to_text};

/// The failures a summary keeps, the first by line.
const KEPT_FAILURES: usize = 20;
/// Distinct values a breakdown keeps rows for; the rest go to one row.
const MAX_BREAKDOWN_ROWS: usize = 1000;
/// The row of a breakdown for values beyond the first thousand.
pub const OTHER_VALUES: &str = "(other values)";
/// The row of a breakdown for cases without a value at the field.
pub const NO_VALUE: &str = "(no value)";

/// A breakdown field: an input path, and for amounts the width of a band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByField {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub band: Option<Decimal>,
}

impl ByField {
    /// Reads `PATH` or `PATH:WIDTH` against the two versions' inputs.
    pub fn parse(spec: &str, old: &Program, new: &Program) -> Result<ByField, String> {
        let (path, band) = match spec.rsplit_once(':') {
            Some((p, w)) => (p.trim(), Some(w.trim())),
            None => (spec.trim(), None),
        };
        let ty = new
            .input_type_at(path, false)
            .or_else(|| old.input_type_at(path, false))
            .ok_or_else(|| {
                format!("`{path}` is not an input path of either version (write it as input.field, such as household.size)")
            })?;
        let band = match band {
            None => None,
            Some(w) => {
                let width = crate::syntax::number::parse_exact(w.trim_end_matches('€').trim())
                    .filter(|d| *d > Decimal::ZERO)
                    .ok_or_else(|| {
                        format!("`{w}` is not a band width: write a positive number, such as {path}:500")
                    })?;
                if !ty.is_numeric() {
                    return Err(format!(
                        "`{path}` is {}, not a number or amount, so it has no bands: write --by {path} without a width",
                        new.type_name(&ty)
                    ));
                }
                Some(width)
            }
        };
        match ty {
            Type::List(_) | Type::Record(_) => Err(format!(
                "`{path}` is {}: break down by one of its fields, such as {path}.FIELD",
                new.type_name(&ty)
            )),
            _ => Ok(ByField {
                path: path.to_string(),
                band,
            }),
        }
    }

    fn label(&self) -> String {
        match self.band {
            Some(w) => format!("{}:{}", self.path, w.normalize()),
            None => self.path.clone(),
        }
    }
}

/// What to collect beyond counts and totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Settings {
    /// How many of the largest changes to keep.
    pub top: usize,
    pub by: Vec<ByField>,
    /// The output the breakdowns measure (default: the first money output).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub measure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFailure {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<J>,
    /// `invalid` (the case does not fit the inputs) or `evaluation`.
    pub kind: FailureKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    Invalid,
    Evaluation,
}

/// One output's sums and changes over the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OutputSummary {
    pub output: String,
    /// Cases eligible in both versions, where the output was compared.
    pub compared: u64,
    /// Of those, the cases where it changed.
    pub changed: u64,
    pub stayed_old: Decimal,
    pub stayed_new: Decimal,
    pub newly_new: Decimal,
    pub no_longer_old: Decimal,
    /// new − old for every case eligible in either version (the other
    /// side zero), with how many cases had it.
    pub changes: BTreeMap<Decimal, u64>,
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RowSummary {
    pub cases: u64,
    pub gained: u64,
    pub lost: u64,
    pub increased: u64,
    pub decreased: u64,
    pub unchanged: u64,
    pub changes: BTreeMap<Decimal, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BreakdownSummary {
    pub by: String,
    pub rows: BTreeMap<String, RowSummary>,
}

/// Eligibility changes a criterion caused.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Flips {
    pub gained: u64,
    pub lost: u64,
}

/// A candidate for the largest changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<J>,
    pub output: String,
    pub old: String,
    pub new: String,
    pub delta: Decimal,
    pub case: J,
}

/// Everything a run keeps; summaries merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub old_rulebook: String,
    pub old_version: String,
    pub new_rulebook: String,
    pub new_version: String,
    pub settings: Settings,
    /// `i/n` when the run was one shard of a population.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<String>,
    pub cases: u64,
    pub invalid: u64,
    pub undecidable: u64,
    pub failures: Vec<CaseFailure>,
    pub eligible_in_both: u64,
    pub newly_eligible: u64,
    pub no_longer_eligible: u64,
    pub eligible_in_neither: u64,
    pub outputs: Vec<OutputSummary>,
    /// Criterion (by name) → the eligibility changes it caused.
    pub criteria: BTreeMap<String, Flips>,
    /// Rule → the number of cases whose outcome it changed.
    pub rules: BTreeMap<String, u64>,
    pub breakdowns: Vec<BreakdownSummary>,
    pub largest: Vec<Candidate>,
}

impl Summary {
    /// Adds another run's summary (of other cases) to this one. Both must
    /// be of the same versions and settings.
    pub fn merge(&mut self, other: Summary) -> Result<(), String> {
        if (
            &self.old_rulebook,
            &self.old_version,
            &self.new_rulebook,
            &self.new_version,
        ) != (
            &other.old_rulebook,
            &other.old_version,
            &other.new_rulebook,
            &other.new_version,
        ) {
            return Err(format!(
                "the summaries are of different versions ({} {} → {} {} and {} {} → {} {})",
                self.old_rulebook,
                self.old_version,
                self.new_rulebook,
                self.new_version,
                other.old_rulebook,
                other.old_version,
                other.new_rulebook,
                other.new_version
            ));
        }
        if self.settings != other.settings {
            return Err("the summaries were made with different --by, --measure or --top".into());
        }
        self.cases += other.cases;
        self.invalid += other.invalid;
        self.undecidable += other.undecidable;
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|f| f.line);
        self.failures.truncate(KEPT_FAILURES);
        self.eligible_in_both += other.eligible_in_both;
        self.newly_eligible += other.newly_eligible;
        self.no_longer_eligible += other.no_longer_eligible;
        self.eligible_in_neither += other.eligible_in_neither;
        if self.outputs.len() != other.outputs.len() {
            return Err("the summaries compare different outputs".into());
        }
        for (a, b) in self.outputs.iter_mut().zip(other.outputs) {
            if a.output != b.output {
                return Err("the summaries compare different outputs".into());
            }
            a.compared += b.compared;
            a.changed += b.changed;
            a.stayed_old += b.stayed_old;
            a.stayed_new += b.stayed_new;
            a.newly_new += b.newly_new;
            a.no_longer_old += b.no_longer_old;
            add_counts(&mut a.changes, b.changes);
        }
        for (k, f) in other.criteria {
            let e = self.criteria.entry(k).or_default();
            e.gained += f.gained;
            e.lost += f.lost;
        }
        for (k, n) in other.rules {
            *self.rules.entry(k).or_insert(0) += n;
        }
        for (a, b) in self.breakdowns.iter_mut().zip(other.breakdowns) {
            for (key, row) in b.rows {
                let kept = a.rows.len();
                let key = if a.rows.contains_key(&key) || kept < MAX_BREAKDOWN_ROWS {
                    key
                } else {
                    OTHER_VALUES.to_string()
                };
                let r = a.rows.entry(key).or_default();
                r.cases += row.cases;
                r.gained += row.gained;
                r.lost += row.lost;
                r.increased += row.increased;
                r.decreased += row.decreased;
                r.unchanged += row.unchanged;
                add_counts(&mut r.changes, row.changes);
            }
        }
        self.largest.extend(other.largest);
        sort_largest(&mut self.largest);
        self.largest.truncate(self.settings.top);
        self.shard = None;
        Ok(())
    }

    /// Cases that could not be decided by one of the versions.
    pub fn failed(&self) -> u64 {
        self.invalid + self.undecidable
    }
}

fn add_counts(a: &mut BTreeMap<Decimal, u64>, b: BTreeMap<Decimal, u64>) {
    for (k, n) in b {
        *a.entry(k).or_insert(0) += n;
    }
}

fn sort_largest(v: &mut [Candidate]) {
    v.sort_by(|p, q| {
        q.delta
            .abs()
            .cmp(&p.delta.abs())
            .then(p.line.cmp(&q.line))
            .then(p.output.cmp(&q.output))
    });
}

/// An output both versions have, by its slot in each.
#[derive(Debug, Clone)]
struct Compared {
    name: String,
    ty: Type,
    old: u32,
    new: u32,
}

/// A case whose outcome changed, for the changes file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseChange {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<J>,
    /// The case's inputs as given (without its id).
    pub case: J,
    pub old: SideOutcome,
    pub new: SideOutcome,
    /// The criteria and rules whose change changed this case.
    pub because: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideOutcome {
    pub eligible: bool,
    pub outputs: serde_json::Map<String, J>,
}

/// Runs cases through two versions into a [`Summary`].
pub struct Accumulator<'p> {
    old: &'p Executable,
    new: &'p Executable,
    date: Option<NaiveDate>,
    compared: Vec<Compared>,
    /// The compared output the breakdowns measure.
    measure: Option<usize>,
    /// For each definition of the new version, the one of the same name in
    /// the old version.
    old_of_new: Vec<Option<u32>>,
    id_passthrough: bool,
    /// Whether to build a [`CaseChange`] for each changed case.
    changes: bool,
    /// Tables, scales and functions whose meaning changed, by name: a rule
    /// where a change begins is named with the ones it calls.
    changed_items: BTreeSet<String>,
    summary: Summary,
}

impl<'p> Accumulator<'p> {
    pub fn new(
        old: &'p Executable,
        new: &'p Executable,
        date: Option<NaiveDate>,
        settings: Settings,
    ) -> Result<Accumulator<'p>, String> {
        let compared: Vec<Compared> = new
            .outputs
            .iter()
            .filter_map(|&n| {
                let d = new.defs.get(n as usize)?;
                let o = old.output_index(&d.name)?;
                let od = old.defs.get(o as usize)?;
                (od.ty == d.ty).then(|| Compared {
                    name: d.name.clone(),
                    ty: d.ty.clone(),
                    old: o,
                    new: n,
                })
            })
            .collect();
        let measure = match &settings.measure {
            Some(name) => Some(
                compared
                    .iter()
                    .position(|c| &c.name == name && c.ty.is_numeric())
                    .ok_or_else(|| {
                        format!(
                            "`{name}` is not a number or amount output of both versions; --measure takes one of: {}",
                            compared
                                .iter()
                                .filter(|c| c.ty.is_numeric())
                                .map(|c| c.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?,
            ),
            None => compared
                .iter()
                .position(|c| c.ty == Type::Money)
                .or_else(|| compared.iter().position(|c| c.ty.is_numeric())),
        };
        if !settings.by.is_empty() && measure.is_none() {
            return Err(
                "a breakdown needs an output that is a number or amount in both versions, and there is none"
                    .into(),
            );
        }
        let by_name: BTreeMap<&str, u32> = old
            .defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.as_str(), i as u32))
            .collect();
        let old_of_new = new
            .defs
            .iter()
            .map(|d| by_name.get(d.name.as_str()).copied())
            .collect();
        let id_passthrough = ![old, new]
            .iter()
            .any(|p| p.inputs.iter().any(|i| i.name == "id"));
        let summary = Summary {
            old_rulebook: old.id.clone(),
            old_version: old.version.clone(),
            new_rulebook: new.id.clone(),
            new_version: new.version.clone(),
            shard: None,
            cases: 0,
            invalid: 0,
            undecidable: 0,
            failures: Vec::new(),
            eligible_in_both: 0,
            newly_eligible: 0,
            no_longer_eligible: 0,
            eligible_in_neither: 0,
            outputs: compared
                .iter()
                .map(|c| OutputSummary {
                    output: c.name.clone(),
                    ..OutputSummary::default()
                })
                .collect(),
            criteria: BTreeMap::new(),
            rules: BTreeMap::new(),
            breakdowns: settings
                .by
                .iter()
                .map(|b| BreakdownSummary {
                    by: b.label(),
                    rows: BTreeMap::new(),
                })
                .collect(),
            largest: Vec::new(),
            settings,
        };
        Ok(Accumulator {
            old,
            new,
            date,
            compared,
            measure,
            old_of_new,
            id_passthrough,
            changes: false,
            changed_items: BTreeSet::new(),
            summary,
        })
    }

    /// Builds a [`CaseChange`] for every changed case (for `--changes`).
    pub fn with_changes(mut self, on: bool) -> Accumulator<'p> {
        self.changes = on;
        self
    }

    /// Names the tables, scales and functions that changed (from the
    /// semantic diff), so that attribution can name them.
    pub fn with_changed_items(mut self, diff: &crate::ops::diff::Diff) -> Accumulator<'p> {
        use crate::ops::diff::Group;
        self.changed_items = diff
            .changes
            .iter()
            .filter(|c| matches!(c.group, Group::Tables | Group::Scales | Group::Functions))
            .filter(|c| !c.summary.starts_with("citation:"))
            .map(|c| c.name.clone())
            .collect();
        self
    }

    /// An empty accumulator of the same versions and settings, for a
    /// worker whose summary is merged back.
    pub fn fork(&self) -> Accumulator<'p> {
        let mut summary = self.summary.clone();
        summary.cases = 0;
        summary.invalid = 0;
        summary.undecidable = 0;
        summary.failures.clear();
        summary.eligible_in_both = 0;
        summary.newly_eligible = 0;
        summary.no_longer_eligible = 0;
        summary.eligible_in_neither = 0;
        for o in &mut summary.outputs {
            *o = OutputSummary {
                output: o.output.clone(),
                ..OutputSummary::default()
            };
        }
        summary.criteria.clear();
        summary.rules.clear();
        for b in &mut summary.breakdowns {
            b.rows.clear();
        }
        summary.largest.clear();
        Accumulator {
            old: self.old,
            new: self.new,
            date: self.date,
            compared: self.compared.clone(),
            measure: self.measure,
            old_of_new: self.old_of_new.clone(),
            id_passthrough: self.id_passthrough,
            changes: self.changes,
            changed_items: self.changed_items.clone(),
            summary,
        }
    }

    fn fail(&mut self, line: u64, id: Option<J>, kind: FailureKind, message: String) {
        match kind {
            FailureKind::Invalid => self.summary.invalid += 1,
            FailureKind::Evaluation => self.summary.undecidable += 1,
        }
        // Keep the first by line whatever order cases come in, so that
        // shards merge into what one run keeps.
        let f = &mut self.summary.failures;
        if f.len() < KEPT_FAILURES || f.last().is_some_and(|l| l.line > line) {
            f.push(CaseFailure {
                line,
                id,
                kind,
                message,
            });
            f.sort_by_key(|f| f.line);
            f.truncate(KEPT_FAILURES);
        }
    }

    fn decode(&self, p: &Executable, doc: &J) -> Result<Case, String> {
        decode_case(p, doc, self.date).map_err(|es| {
            es.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Runs one case (a record of inputs, with an optional `id`) through
    /// both versions. Returns the change, when asked for and there is one.
    pub fn add(&mut self, line: u64, mut doc: J) -> Option<CaseChange> {
        self.summary.cases += 1;
        let id = match (&mut doc, self.id_passthrough) {
            (J::Object(map), true) => map.shift_remove("id"),
            _ => None,
        };
        let (old, new) = (self.old, self.new);
        let cases = (self.decode(old, &doc), self.decode(new, &doc));
        let (old_case, new_case) = match both(cases, old, new) {
            Ok(pair) => pair,
            Err(message) => {
                self.fail(line, id, FailureKind::Invalid, message);
                return None;
            }
        };
        let quiet = Options { explain: false };
        let decisions = (
            evaluate(old, &old_case, &quiet),
            evaluate(new, &new_case, &quiet),
        );
        let (od, nd) = match both(decisions, old, new) {
            Ok(pair) => pair,
            Err(message) => {
                self.fail(line, id, FailureKind::Evaluation, message);
                return None;
            }
        };
        let s = &mut self.summary;
        match (od.eligible, nd.eligible) {
            (true, true) => s.eligible_in_both += 1,
            (false, true) => s.newly_eligible += 1,
            (true, false) => s.no_longer_eligible += 1,
            (false, false) => s.eligible_in_neither += 1,
        }
        let mut because: BTreeSet<String> = BTreeSet::new();
        // The criteria that failed in one version and not the other.
        if od.eligible != nd.eligible {
            let names = |d: &Decision| -> BTreeSet<String> {
                d.failed_criteria
                    .iter()
                    .map(|c| c.criterion.clone())
                    .collect()
            };
            let (was, now) = (names(&od), names(&nd));
            let flipped: Vec<&String> = was.symmetric_difference(&now).collect();
            if flipped.is_empty() {
                because.insert("eligibility".into());
            }
            for c in flipped {
                let f = s.criteria.entry(c.clone()).or_default();
                if nd.eligible {
                    f.gained += 1;
                } else {
                    f.lost += 1;
                }
                because.insert(format!("criterion {c}"));
            }
        }
        fn get(d: &Decision, i: u32) -> Option<&Value> {
            d.outputs.iter().find(|(j, _)| *j == i).map(|(_, v)| v)
        }
        let mut changed_outputs: Vec<usize> = Vec::new();
        let mut measured: Option<Decimal> = None;
        for (k, c) in self.compared.iter().enumerate() {
            let (a, b) = (get(&od, c.old), get(&nd, c.new));
            let Some(acc) = s.outputs.get_mut(k) else {
                continue;
            };
            if let (Some(a), Some(b)) = (a, b) {
                acc.compared += 1;
                if !a.equals(b) {
                    acc.changed += 1;
                    changed_outputs.push(k);
                }
            }
            if !c.ty.is_numeric() || !(od.eligible || nd.eligible) {
                continue;
            }
            let x = a.and_then(Value::as_decimal).unwrap_or(Decimal::ZERO);
            let y = b.and_then(Value::as_decimal).unwrap_or(Decimal::ZERO);
            match (od.eligible, nd.eligible) {
                (true, true) => {
                    acc.stayed_old += x;
                    acc.stayed_new += y;
                }
                (false, true) => acc.newly_new += y,
                _ => acc.no_longer_old += x,
            }
            let delta = (y - x).normalize();
            *acc.changes.entry(delta).or_insert(0) += 1;
            if self.measure == Some(k) {
                measured = Some(delta);
            }
            if !delta.is_zero() && s.settings.top > 0 {
                let worth = s.largest.len() < s.settings.top
                    || s.largest.last().is_some_and(|l| {
                        delta.abs() > l.delta.abs() || delta.abs() == l.delta.abs() && line < l.line
                    });
                if worth {
                    let show = |d: &Decision, v: Option<&Value>, p: &Executable| match v {
                        Some(v) if d.eligible => match p.to_json(v, &c.ty) {
                            J::String(s) => s,
                            other => other.to_string(),
                        },
                        _ => "not eligible".to_string(),
                    };
                    s.largest.push(Candidate {
                        line,
                        id: id.clone(),
                        output: c.name.clone(),
                        old: show(&od, a, old),
                        new: show(&nd, b, new),
                        delta,
                        case: doc.clone(),
                    });
                    sort_largest(&mut s.largest);
                    s.largest.truncate(s.settings.top);
                }
            }
        }
        if od.eligible && nd.eligible && !changed_outputs.is_empty() {
            let roots: Vec<u32> = changed_outputs
                .iter()
                .filter_map(|&k| self.compared.get(k).map(|c| c.new))
                .collect();
            for r in self.origins(&old_case, &new_case, &roots) {
                because.insert(r);
            }
        }
        for r in &because {
            *self.summary.rules.entry(r.clone()).or_insert(0) += 1;
        }
        if !self.summary.breakdowns.is_empty() {
            self.break_down(&new_case, &old_case, &od, &nd, measured);
        }
        let changed = od.eligible != nd.eligible || !changed_outputs.is_empty();
        (self.changes && changed).then(|| CaseChange {
            line,
            id,
            case: doc,
            old: side(old, &od),
            new: side(new, &nd),
            because: because.into_iter().collect(),
        })
    }

    fn break_down(
        &mut self,
        new_case: &Case,
        old_case: &Case,
        od: &Decision,
        nd: &Decision,
        measured: Option<Decimal>,
    ) {
        let (old, new) = (self.old, self.new);
        for (b, field) in self
            .summary
            .breakdowns
            .iter_mut()
            .zip(&self.summary.settings.by)
        {
            let value = value_at(new, new_case, &field.path)
                .or_else(|| value_at(old, old_case, &field.path));
            let key = match value {
                None => NO_VALUE.to_string(),
                Some((v, ty)) => match (field.band, v.as_decimal()) {
                    (Some(w), Some(x)) => ((x / w).floor() * w).normalize().to_string(),
                    _ => new.render(&v, &ty),
                },
            };
            let key = if b.rows.contains_key(&key) || b.rows.len() < MAX_BREAKDOWN_ROWS {
                key
            } else {
                OTHER_VALUES.to_string()
            };
            let row = b.rows.entry(key).or_default();
            row.cases += 1;
            match (od.eligible, nd.eligible) {
                (false, true) => row.gained += 1,
                (true, false) => row.lost += 1,
                _ => {}
            }
            if let Some(d) = measured {
                if d > Decimal::ZERO {
                    row.increased += 1;
                } else if d < Decimal::ZERO {
                    row.decreased += 1;
                } else {
                    row.unchanged += 1;
                }
                *row.changes.entry(d).or_insert(0) += 1;
            }
        }
    }

    /// The rules where a change of outputs `roots` (slots of the new
    /// version) begins for this case: definitions whose value differs
    /// between the versions although every definition they use has the
    /// same value in both (or they are new).
    fn origins(&self, old_case: &Case, new_case: &Case, roots: &[u32]) -> Vec<String> {
        let (old, new): (&Program, &Program) = (self.old, self.new);
        let mut ev_old = Evaluator::new(old, &old_case.inputs, old_case.decision_date);
        let mut ev_new = Evaluator::new(new, &new_case.inputs, new_case.decision_date);
        let mut known: Vec<Option<bool>> = vec![None; new.defs.len()];
        let mut changed = |i: u32| -> bool {
            if let Some(Some(c)) = known.get(i as usize) {
                return *c;
            }
            let now = ev_new.def(i).ok();
            let was = self
                .old_of_new
                .get(i as usize)
                .copied()
                .flatten()
                .map(|o| ev_old.def(o).ok());
            let c = match (was, now) {
                (None, _) => true,
                (Some(Some(a)), Some(b)) => !a.equals(&b),
                (Some(None), None) => false,
                _ => true,
            };
            if let Some(slot) = known.get_mut(i as usize) {
                *slot = Some(c);
            }
            c
        };
        let mut out = BTreeSet::new();
        let mut seen = vec![false; new.defs.len()];
        let mut todo: Vec<u32> = roots.to_vec();
        while let Some(d) = todo.pop() {
            match seen.get_mut(d as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            if !changed(d) {
                continue;
            }
            let uses: Vec<u32> = new
                .def_uses(d)
                .into_iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let moved: Vec<u32> = uses.into_iter().filter(|&u| changed(u)).collect();
            if moved.is_empty() {
                if let Some(def) = new.defs.get(d as usize) {
                    out.insert(self.origin_label(def));
                }
            }
            todo.extend(moved);
        }
        out.into_iter().collect()
    }

    /// A rule's name, with the changed tables, scales and functions it calls
    /// (`excess_income (table income_limit)`).
    fn origin_label(&self, def: &crate::ir::DefInfo) -> String {
        use crate::ir::{DefBody, ExprKind};
        let p: &Program = self.new;
        let mut called = BTreeSet::new();
        if !self.changed_items.is_empty() {
            let mut todo: Vec<&crate::ir::Expr> = match &def.body {
                DefBody::Rule { base, overrides } => std::iter::once(base)
                    .chain(overrides.iter().flat_map(|o| [&o.condition, &o.value]))
                    .collect(),
                DefBody::Dated(_) => Vec::new(),
            };
            let mut budget = 10_000;
            while let Some(e) = todo.pop() {
                budget -= 1;
                if budget == 0 {
                    break;
                }
                let item = match &e.kind {
                    ExprKind::Table(t, _) => p.tables.get(*t as usize).map(|x| ("table", &x.name)),
                    ExprKind::Scale(t, _) => p.scales.get(*t as usize).map(|x| ("scale", &x.name)),
                    ExprKind::Call(f, _) => {
                        p.functions.get(*f as usize).map(|x| ("function", &x.name))
                    }
                    _ => None,
                };
                if let Some((kind, name)) = item {
                    if self.changed_items.contains(name) {
                        called.insert(format!("{kind} {name}"));
                    }
                }
                crate::ir::each_child(e, &mut |c| todo.push(c));
            }
        }
        if called.is_empty() {
            def.name.clone()
        } else {
            format!(
                "{} ({})",
                def.name,
                called.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    }

    /// Counts a case that could not even be read as a record.
    pub fn add_unreadable(&mut self, line: u64, message: String) {
        self.summary.cases += 1;
        self.fail(line, None, FailureKind::Invalid, message);
    }

    /// Adds a worker's cases.
    pub fn merge(&mut self, other: Accumulator<'p>) {
        // Same versions and settings by construction (`fork`).
        let _ = self.summary.merge(other.summary);
    }

    pub fn cases(&self) -> u64 {
        self.summary.cases
    }

    pub fn into_summary(self) -> Summary {
        self.summary
    }
}

/// Both versions' results, or the first failure named by its version.
fn both<T, E: std::fmt::Display>(
    results: (Result<T, E>, Result<T, E>),
    old: &Executable,
    new: &Executable,
) -> Result<(T, T), String> {
    match results {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), _) => Err(format!("version {}: {e}", old.version)),
        (_, Err(e)) => Err(format!("version {}: {e}", new.version)),
    }
}

fn side(p: &Executable, d: &Decision) -> SideOutcome {
    let mut outputs = serde_json::Map::new();
    for (i, v) in &d.outputs {
        if let Some(def) = p.defs.get(*i as usize) {
            outputs.insert(def.name.clone(), p.to_json(v, &def.ty));
        }
    }
    SideOutcome {
        eligible: d.eligible,
        outputs,
    }
}

/// The value of a case at a dotted input path (through records, not lists).
fn value_at(p: &Program, case: &Case, path: &str) -> Option<(Value, Type)> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let i = p.inputs.iter().position(|x| x.name == first)?;
    let mut ty = p.inputs.get(i)?.ty.clone();
    let mut v = case.inputs.get(i)?.clone();
    for part in parts {
        let (Type::Record(r), Value::Record(fields)) = (&ty, &v) else {
            return None;
        };
        let rec = p.records.get(*r as usize)?;
        let k = rec.fields.iter().position(|f| f.name == part)?;
        let next_ty = rec.fields.get(k)?.ty.clone();
        let next_v = fields.get(k)?.clone();
        ty = next_ty;
        v = next_v;
    }
    Some((v, ty))
}

// ---- the report ---------------------------------------------------------

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

/// Old and new sum of an output over a group of cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTotal {
    pub cases: u64,
    pub old: String,
    pub new: String,
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// Every case eligible in either version.
    pub all: GroupTotal,
    pub eligible_in_both: GroupTotal,
    /// The old version's side is zero.
    pub newly_eligible: GroupTotal,
    /// The new version's side is zero.
    pub no_longer_eligible: GroupTotal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputImpact {
    pub output: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// Cases eligible in both versions, where the output was compared.
    pub compared: u64,
    pub changed: u64,
    /// Numbers and amounts: the totals by group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    /// Numbers and amounts: the distribution of new − old over the cases
    /// eligible in either version (the other side zero).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Stats>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bin>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionImpact {
    pub criterion: String,
    pub gained: u64,
    pub lost: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleImpact {
    /// A rule's name, or `criterion NAME`.
    pub rule: String,
    pub cases: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownRow {
    pub value: String,
    pub cases: u64,
    pub gained_eligibility: u64,
    pub lost_eligibility: u64,
    pub increased: u64,
    pub decreased: u64,
    pub unchanged: u64,
    pub total_change: String,
    pub median_change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    pub by: String,
    /// The output whose change the rows count and sum.
    pub measure: String,
    #[serde(rename = "measure_type")]
    pub measure_ty: String,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LargestChange {
    /// The case's line in the input (1-based; the header is line 1 in CSV).
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<J>,
    pub output: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub old: String,
    pub new: String,
    pub change: String,
    /// The case's inputs.
    pub case: J,
    pub old_explanation: Vec<String>,
    pub new_explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    pub cases: u64,
    /// Cases one of the versions could not read or evaluate.
    pub failed: u64,
    pub invalid: u64,
    pub undecidable: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<CaseFailure>,
    pub eligible_in_both: u64,
    pub newly_eligible: u64,
    pub no_longer_eligible: u64,
    pub eligible_in_neither: u64,
    pub outputs: Vec<OutputImpact>,
    /// The criteria whose change made cases eligible or not.
    pub criteria: Vec<CriterionImpact>,
    /// Each criterion and rule where a change began, with the number of
    /// cases whose outcome it changed, most first.
    pub rules: Vec<RuleImpact>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub breakdowns: Vec<Breakdown>,
    pub largest_changes: Vec<LargestChange>,
}

const BINS: u64 = 20;

/// The report of a summary (of one run or of merged shards).
pub fn finish(s: &Summary, old: &Executable, new: &Executable, date: Option<NaiveDate>) -> Impact {
    let out_ty = |name: &str| -> Type {
        new.output_index(name)
            .and_then(|i| new.defs.get(i as usize))
            .map(|d| d.ty.clone())
            .unwrap_or(Type::Decimal)
    };
    let shower = |ty: &Type| {
        let ty = if *ty == Type::Integer {
            Type::Decimal
        } else {
            ty.clone()
        };
        // As `eval` writes values in JSON: amounts without a currency; the
        // text, Markdown and HTML renderings add it.
        move |d: Decimal| match new.to_json(&Value::Num(d), &ty) {
            J::String(s) => s,
            other => other.to_string(),
        }
    };
    let signed = |text: String, d: Decimal| {
        if d > Decimal::ZERO {
            format!("+{text}")
        } else {
            text
        }
    };
    let outputs = s
        .outputs
        .iter()
        .map(|o| {
            let ty = out_ty(&o.output);
            let show = shower(&ty);
            let numeric = ty.is_numeric();
            let group = |cases: u64, a: Decimal, b: Decimal| GroupTotal {
                cases,
                old: show(a),
                new: show(b),
                change: signed(show(b - a), b - a),
            };
            let totals = numeric.then(|| Totals {
                all: group(
                    s.eligible_in_both + s.newly_eligible + s.no_longer_eligible,
                    o.stayed_old + o.no_longer_old,
                    o.stayed_new + o.newly_new,
                ),
                eligible_in_both: group(s.eligible_in_both, o.stayed_old, o.stayed_new),
                newly_eligible: group(s.newly_eligible, Decimal::ZERO, o.newly_new),
                no_longer_eligible: group(s.no_longer_eligible, o.no_longer_old, Decimal::ZERO),
            });
            let any = !o.changes.is_empty();
            OutputImpact {
                output: o.output.clone(),
                ty: new.type_name(&ty),
                compared: o.compared,
                changed: o.changed,
                totals,
                change: (numeric && any).then(|| stats(&o.changes, &show)),
                histogram: if numeric {
                    histogram(&o.changes, &show, ty == Type::Money)
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let mut rules: Vec<RuleImpact> = s
        .rules
        .iter()
        .map(|(r, n)| RuleImpact {
            rule: r.clone(),
            cases: *n,
        })
        .collect();
    rules.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.rule.cmp(&b.rule)));
    let measure = s
        .settings
        .measure
        .clone()
        .or_else(|| {
            s.outputs
                .iter()
                .find(|o| out_ty(&o.output) == Type::Money)
                .or_else(|| s.outputs.iter().find(|o| out_ty(&o.output).is_numeric()))
                .map(|o| o.output.clone())
        })
        .unwrap_or_default();
    let measure_show = shower(&out_ty(&measure));
    let breakdowns = s
        .breakdowns
        .iter()
        .zip(&s.settings.by)
        .map(|(b, field)| {
            let mut rows: Vec<(&String, &RowSummary)> = b.rows.iter().collect();
            // Bands and numbers in numeric order, the special rows last.
            rows.sort_by(
                |(x, _), (y, _)| match (x.parse::<Decimal>(), y.parse::<Decimal>()) {
                    (Ok(a), Ok(b)) => a.cmp(&b),
                    (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                    (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                    _ => x.starts_with('(').cmp(&y.starts_with('(')).then(x.cmp(y)),
                },
            );
            Breakdown {
                by: b.by.clone(),
                measure: measure.clone(),
                measure_ty: new.type_name(&out_ty(&measure)),
                rows: rows
                    .into_iter()
                    .map(|(key, r)| {
                        let value = match (field.band, key.parse::<Decimal>()) {
                            (Some(w), Ok(lo)) => format!("{lo} – {}", (lo + w).normalize()),
                            _ => key.clone(),
                        };
                        let total = total_of(&r.changes);
                        let n: u64 = r.changes.values().sum();
                        BreakdownRow {
                            value,
                            cases: r.cases,
                            gained_eligibility: r.gained,
                            lost_eligibility: r.lost,
                            increased: r.increased,
                            decreased: r.decreased,
                            unchanged: r.unchanged,
                            total_change: signed(measure_show(total), total),
                            median_change: if n == 0 {
                                String::new()
                            } else {
                                let m = at_rank(&r.changes, n.div_ceil(2).max(1));
                                signed(measure_show(m), m)
                            },
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let largest_changes = s
        .largest
        .iter()
        .map(|c| {
            let show = shower(&out_ty(&c.output));
            LargestChange {
                line: c.line,
                id: c.id.clone(),
                output: c.output.clone(),
                ty: new.type_name(&out_ty(&c.output)),
                old: c.old.clone(),
                new: c.new.clone(),
                change: signed(show(c.delta), c.delta),
                case: c.case.clone(),
                old_explanation: explain(old, &c.case, date, &c.output),
                new_explanation: explain(new, &c.case, date, &c.output),
            }
        })
        .collect();
    Impact {
        cases: s.cases,
        failed: s.failed(),
        invalid: s.invalid,
        undecidable: s.undecidable,
        failures: s.failures.clone(),
        eligible_in_both: s.eligible_in_both,
        newly_eligible: s.newly_eligible,
        no_longer_eligible: s.no_longer_eligible,
        eligible_in_neither: s.eligible_in_neither,
        outputs,
        criteria: s
            .criteria
            .iter()
            .map(|(c, f)| CriterionImpact {
                criterion: c.clone(),
                gained: f.gained,
                lost: f.lost,
            })
            .collect(),
        rules,
        breakdowns,
        largest_changes,
    }
}

fn explain(p: &Executable, doc: &J, date: Option<NaiveDate>, output: &str) -> Vec<String> {
    let Ok(case) = decode_case(p, doc, date) else {
        return Vec::new();
    };
    match evaluate(p, &case, &Options { explain: true }) {
        Ok(d) if !d.eligible => d
            .failed_criteria
            .iter()
            .map(|c| format!("not eligible: {} ({})", c.reason, c.criterion))
            .collect(),
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

fn total_of(counts: &BTreeMap<Decimal, u64>) -> Decimal {
    counts
        .iter()
        .fold(Decimal::ZERO, |acc, (v, c)| acc + *v * Decimal::from(*c))
}

/// The value at a rank (nearest-rank method) in a counted set.
fn at_rank(counts: &BTreeMap<Decimal, u64>, rank: u64) -> Decimal {
    let mut seen = 0;
    for (v, n) in counts {
        seen += n;
        if seen >= rank {
            return *v;
        }
    }
    counts.keys().next_back().copied().unwrap_or_default()
}

fn stats(counts: &BTreeMap<Decimal, u64>, show: &dyn Fn(Decimal) -> String) -> Stats {
    let n: u64 = counts.values().sum();
    let rank = |q: u64| (n * q).div_ceil(4).max(1);
    Stats {
        min: show(counts.keys().next().copied().unwrap_or_default()),
        q1: show(at_rank(counts, rank(1))),
        median: show(at_rank(counts, rank(2))),
        q3: show(at_rank(counts, rank(3))),
        max: show(counts.keys().next_back().copied().unwrap_or_default()),
        total: show(total_of(counts)),
    }
}

/// Twenty bins of equal width over the changes; for money the width is a
/// whole number of cents, so that no bin ends at a fraction of a cent.
fn histogram(
    counts: &BTreeMap<Decimal, u64>,
    show: &dyn Fn(Decimal) -> String,
    money: bool,
) -> Vec<Bin> {
    let (Some(&lo), Some(&hi)) = (counts.keys().next(), counts.keys().next_back()) else {
        return Vec::new();
    };
    if lo == hi {
        return vec![Bin {
            from: show(lo),
            to: show(hi),
            count: counts.values().sum(),
        }];
    }
    let mut width = (hi - lo) / Decimal::from(BINS);
    if money {
        width = (width * Decimal::from(100)).ceil() / Decimal::from(100);
        width = width.max(Decimal::new(1, 2));
    }
    let mut bins = vec![0u64; BINS as usize];
    for (v, n) in counts {
        let i = ((*v - lo) / width)
            .floor()
            .to_string()
            .parse::<usize>()
            .unwrap_or(0)
            .min(BINS as usize - 1);
        if let Some(c) = bins.get_mut(i) {
            *c += n;
        }
    }
    // With cent-wide bins the range may end before the twentieth bin.
    let used = bins.iter().rposition(|&c| c > 0).map_or(0, |k| k + 1);
    bins.into_iter()
        .take(used)
        .enumerate()
        .map(|(i, count)| {
            let from = lo + width * Decimal::from(i as u64);
            let to = if i + 1 == used {
                hi
            } else {
                lo + width * Decimal::from(i as u64 + 1)
            };
            Bin {
                from: show(from),
                to: show(to),
                count,
            }
        })
        .collect()
}

// ---- the changes file ---------------------------------------------------

/// The columns of the changes file in CSV: the case's line and id, its
/// inputs (one column per input path; a list as compact JSON), eligibility
/// and each output in both versions, and what changed it.
pub struct ChangeColumns {
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl ChangeColumns {
    pub fn new(old: &Program, new: &Program) -> ChangeColumns {
        let mut inputs = Vec::new();
        for p in [new, old] {
            for i in &p.inputs {
                leaf_paths(p, &i.name, &i.ty, 0, &mut inputs);
            }
        }
        let mut outputs: Vec<String> = Vec::new();
        for p in [new, old] {
            for &o in &p.outputs {
                if let Some(d) = p.defs.get(o as usize) {
                    if !outputs.contains(&d.name) {
                        outputs.push(d.name.clone());
                    }
                }
            }
        }
        ChangeColumns { inputs, outputs }
    }

    pub fn header(&self) -> Vec<String> {
        let mut h = vec!["line".to_string(), "id".to_string()];
        h.extend(self.inputs.iter().cloned());
        h.extend(["old.eligible".to_string(), "new.eligible".to_string()]);
        for o in &self.outputs {
            h.push(format!("old.{o}"));
            h.push(format!("new.{o}"));
        }
        h.push("because".to_string());
        h
    }

    pub fn row(&self, c: &CaseChange) -> Vec<String> {
        let mut row = vec![
            c.line.to_string(),
            c.id.as_ref().map(cell).unwrap_or_default(),
        ];
        for path in &self.inputs {
            let mut v = Some(&c.case);
            for part in path.split('.') {
                v = v.and_then(|x| x.get(part));
            }
            row.push(v.map(cell).unwrap_or_default());
        }
        row.push(c.old.eligible.to_string());
        row.push(c.new.eligible.to_string());
        for o in &self.outputs {
            row.push(c.old.outputs.get(o).map(cell).unwrap_or_default());
            row.push(c.new.outputs.get(o).map(cell).unwrap_or_default());
        }
        row.push(c.because.join("; "));
        row
    }
}

fn leaf_paths(p: &Program, path: &str, ty: &Type, depth: usize, out: &mut Vec<String>) {
    match ty {
        Type::Record(r) if depth < 16 => {
            if let Some(rec) = p.records.get(*r as usize) {
                for f in &rec.fields {
                    leaf_paths(p, &format!("{path}.{}", f.name), &f.ty, depth + 1, out);
                }
            }
        }
        _ => {
            if !out.iter().any(|x| x == path) {
                out.push(path.to_string());
            }
        }
    }
}

fn cell(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}
