//! `rulebook verify`: every property of a version, searched for a
//! counterexample over cases chosen where rules change their behaviour.
//!
//! The search is not random sampling alone. Each input value is drawn from
//! a pool of the figures the rulebook itself mentions, of its type: table
//! cells and ranges, thresholds, parameter values at each date, the ends of
//! declared ranges, one cent (or one unit) either side of each, and amounts
//! the rulebook computes on the first cases (so that a price can meet the
//! voucher value it is compared with). Decision dates are the version's
//! first and last day and the days around each dated parameter change. The
//! examples are the starting cases: every input of every example is moved
//! through its pool one at a time, then cases are drawn at random from the
//! pools and the declared ranges. A failing case is shrunk, input by input,
//! to the simplest values that still fail, and given back as an example
//! that expects the property, ready to paste.
//!
//! What this finds is a counterexample; what it does not find is reported
//! as such, with the number of cases tried, never as a proof.

use crate::eval::property::{check_property, read, write, Verdict};
use crate::eval::{evaluate, Case, Executable, Options};
use crate::ir::value::{format_decimal, format_money, format_percent, Type, Value};
use crate::ir::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::sync::Arc;

/// How hard to look.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Cases to try per version, beyond the examples' own.
    pub cases: usize,
    /// Seeds the random part of the search, so that a run can be repeated.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            cases: 5_000,
            seed: 0x5eed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PropertyReport {
    pub property: String,
    /// 1-based line of the property in the version's text.
    pub line: usize,
    #[serde(skip)]
    pub span: crate::diagnostic::Span,
    /// Cases the property was checked on, and how many of them it applied
    /// to (an eligible case, for a property about outputs).
    pub tried: usize,
    pub applicable: usize,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A case where it fails, shrunk.
    Counterexample {
        why: String,
        decision_date: String,
        /// The case as an example block that expects the property.
        example: String,
        /// The explanation of each output the property names, at the case.
        explanation: Vec<String>,
    },
    /// No counterexample in `tried` cases, chosen as the module describes.
    NotFound { how: String },
    /// No case tried met the property's condition: it was never tested.
    NeverApplied,
}

impl PropertyReport {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Counterexample { .. })
    }
}

/// Searches every property of `p`. `text` is the version's text, for
/// line numbers.
pub fn verify(p: &Executable, text: &str, settings: Settings) -> Vec<PropertyReport> {
    if p.properties.is_empty() {
        return Vec::new();
    }
    let mut search = Search::new(p, settings.seed);
    let cases = search.cases(settings.cases);
    let index = crate::diagnostic::LineIndex::new(text);
    p.properties
        .iter()
        .map(|prop| {
            let line = index.position(text, prop.span.start).0 + 1;
            search.property(prop, &cases, line)
        })
        .collect()
}

/// Where in a pool of values `Search::value_at` takes a value.
#[derive(Clone, Copy)]
enum At {
    Middle,
    Top,
}

/// One input value to vary: an input, or a field of an input record.
struct Leaf {
    path: InputPath,
    bounds: Option<Bounds>,
}

struct Pools {
    money: Vec<Decimal>,
    decimal: Vec<Decimal>,
    percent: Vec<Decimal>,
    integer: Vec<i64>,
    dates: Vec<NaiveDate>,
}

struct Search<'p> {
    p: &'p Executable,
    leaves: Vec<Leaf>,
    pools: Pools,
    /// The version's period, for decision dates.
    first: NaiveDate,
    last: NaiveDate,
    decision_dates: Vec<NaiveDate>,
    rng: u64,
}

impl<'p> Search<'p> {
    fn new(p: &'p Executable, seed: u64) -> Search<'p> {
        let first = p.in_force_from;
        let last = p.in_force_to.unwrap_or_else(|| {
            first
                .checked_add_days(chrono::Days::new(365))
                .unwrap_or(first)
        });
        let mut leaves = Vec::new();
        for (i, input) in p.inputs.iter().enumerate() {
            leaves_of(
                p,
                InputPath {
                    input: i as u32,
                    fields: Vec::new(),
                    ty: input.ty.clone(),
                    text: input.name.clone(),
                },
                input.bounds.clone(),
                &mut leaves,
            );
        }
        let mut s = Search {
            p,
            leaves,
            pools: collect_pools(p),
            first,
            last,
            decision_dates: Vec::new(),
            rng: seed | 1,
        };
        s.decision_dates = s.decision_dates();
        s
    }

    fn next(&mut self) -> u64 {
        // xorshift64*: fast, and repeatable from the seed.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn decision_dates(&self) -> Vec<NaiveDate> {
        let mut out = vec![self.first, self.last];
        if let Some(mid) = self.first.checked_add_days(chrono::Days::new(
            ((self.last - self.first).num_days() / 2).max(0) as u64,
        )) {
            out.push(mid);
        }
        for d in &self.pools.dates {
            for day in [Some(*d), d.pred_opt()].into_iter().flatten() {
                if day >= self.first && day <= self.last {
                    out.push(day);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The cases to check properties on: the examples, each input of each
    /// moved through its pool, amounts the rulebook computes added to the
    /// pools, then random cases up to `budget`.
    fn cases(&mut self, budget: usize) -> Vec<Case> {
        let mut bases: Vec<Case> = self
            .p
            .examples
            .iter()
            .filter(|e| e.date >= self.first && e.date <= self.last)
            .map(|e| Case {
                decision_date: e.date,
                inputs: e.inputs.clone(),
            })
            .collect();
        if bases.is_empty() {
            let typical = self.typical();
            bases.push(typical);
        }
        let mut out = bases.clone();
        // One input at a time, and each decision date.
        for base in &bases {
            for k in 0..self.leaves.len() {
                for v in self.candidates(k) {
                    if out.len() >= budget {
                        break;
                    }
                    if let Some(inputs) = self
                        .leaves
                        .get(k)
                        .and_then(|l| write(&base.inputs, &l.path, v))
                    {
                        out.push(Case {
                            decision_date: base.decision_date,
                            inputs,
                        });
                    }
                }
            }
            for &d in &self.decision_dates {
                out.push(Case {
                    decision_date: d,
                    inputs: base.inputs.clone(),
                });
            }
        }
        self.harvest(&out);
        // Random cases from the pools and the ranges.
        while out.len() < budget.max(bases.len()) {
            let base = bases[self.below(bases.len())].clone();
            let mut inputs = base.inputs;
            // Mostly a few inputs moved from an example (which keeps most
            // cases eligible), sometimes all of them.
            let leaves = self.leaves.len();
            let moved: Vec<usize> = if self.below(10) < 7 {
                (0..1 + self.below(3)).map(|_| self.below(leaves)).collect()
            } else {
                (0..leaves).collect()
            };
            for k in moved {
                let v = match self.below(10) {
                    0..=5 => {
                        let c = self.candidates(k);
                        if c.is_empty() {
                            continue;
                        }
                        c[self.below(c.len())].clone()
                    }
                    6..=8 => match self.random_value(k) {
                        Some(v) => v,
                        None => continue,
                    },
                    _ => continue,
                };
                if let Some(next) = self.leaves.get(k).and_then(|l| write(&inputs, &l.path, v)) {
                    inputs = next;
                }
            }
            let decision_date = if self.below(2) == 0 {
                let k = self.below(self.decision_dates.len());
                self.decision_dates[k]
            } else {
                let span = (self.last - self.first).num_days().max(0) as usize;
                self.first
                    .checked_add_days(chrono::Days::new(self.below(span + 1) as u64))
                    .unwrap_or(self.first)
            };
            out.push(Case {
                decision_date,
                inputs,
            });
        }
        out
    }

    /// A case of middling values, when there is no example to start from.
    fn typical(&mut self) -> Case {
        let inputs = self
            .p
            .inputs
            .iter()
            .map(|i| self.value_at(&i.ty, i.bounds.as_ref(), At::Middle))
            .collect();
        Case {
            decision_date: self.first,
            inputs,
        }
    }

    /// A value of `ty` with every part taken from its pool within its
    /// range, at `at`: the middle of the pool, or its top.
    fn value_at(&self, ty: &Type, bounds: Option<&Bounds>, at: At) -> Value {
        match ty {
            Type::Record(r) => {
                let fields = self
                    .p
                    .records
                    .get(*r as usize)
                    .map(|r| {
                        r.fields
                            .iter()
                            .map(|f| self.value_at(&f.ty, f.bounds.as_ref(), at))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                Value::Record(Arc::from(fields))
            }
            Type::List(_) => Value::List(Arc::from(Vec::new())),
            _ => {
                let c = self.pool(ty, bounds);
                let picked = match at {
                    At::Middle => c.get(c.len() / 2),
                    At::Top => c.last(),
                };
                picked.cloned().unwrap_or_else(|| zero_of(ty, self.first))
            }
        }
    }

    /// Values for leaf `k`: its pool within its range.
    fn candidates(&self, k: usize) -> Vec<Value> {
        let Some(leaf) = self.leaves.get(k) else {
            return Vec::new();
        };
        match &leaf.path.ty {
            Type::List(elem) => {
                // Lists: empty, one, three and ten typical items, and one
                // item at the far end of each of its pools.
                let item = self.value_at(elem, None, At::Middle);
                let far = self.value_at(elem, None, At::Top);
                vec![
                    Value::List(Arc::from(Vec::new())),
                    Value::List(Arc::from(vec![item.clone()])),
                    Value::List(Arc::from(vec![item.clone(), item.clone(), item.clone()])),
                    Value::List(Arc::from(vec![item; 10])),
                    Value::List(Arc::from(vec![far])),
                ]
            }
            ty => self.pool(ty, leaf.bounds.as_ref()),
        }
    }

    fn pool(&self, ty: &Type, bounds: Option<&Bounds>) -> Vec<Value> {
        // A value that may be absent is tried absent and as each value.
        if let Type::Optional(inner) = ty {
            let mut values = vec![Value::Absent];
            values.extend(self.pool(inner, bounds));
            return values;
        }
        let values: Vec<Value> = match ty {
            Type::Money => self.pools.money.iter().map(|d| Value::Num(*d)).collect(),
            Type::Decimal => self.pools.decimal.iter().map(|d| Value::Num(*d)).collect(),
            Type::Percent => self.pools.percent.iter().map(|d| Value::Num(*d)).collect(),
            Type::Integer => self.pools.integer.iter().map(|i| Value::Int(*i)).collect(),
            Type::Date => self.pools.dates.iter().map(|d| Value::Date(*d)).collect(),
            Type::Bool => vec![Value::Bool(false), Value::Bool(true)],
            Type::Enum(e) => (0..self
                .p
                .enums
                .get(*e as usize)
                .map_or(0, |e| e.variants.len()))
                .map(|i| Value::Enum(i as u32))
                .collect(),
            Type::Text => vec![Value::Text(Arc::from("")), Value::Text(Arc::from("x"))],
            _ => Vec::new(),
        };
        values
            .into_iter()
            .filter(|v| bounds.is_none_or(|b| b.contains(v)))
            .collect()
    }

    /// A value of leaf `k` drawn from its declared range (or a wide one).
    fn random_value(&mut self, k: usize) -> Option<Value> {
        let (ty, bounds) = {
            let leaf = self.leaves.get(k)?;
            (leaf.path.ty.clone(), leaf.bounds.clone())
        };
        let low = bounds
            .as_ref()
            .and_then(|b| b.low.as_ref())
            .and_then(|(v, _)| v.as_decimal())
            .unwrap_or(Decimal::ZERO);
        let high = bounds
            .as_ref()
            .and_then(|b| b.high.as_ref())
            .and_then(|(v, _)| v.as_decimal())
            .unwrap_or(low + Decimal::from(10_000));
        let width = (high - low).max(Decimal::ZERO);
        let fraction = Decimal::from(self.below(1_000_001) as u64) / Decimal::from(1_000_000);
        let x = low + width * fraction;
        let v = match ty {
            Type::Money => Value::Num(x.round_dp(2)),
            Type::Decimal => Value::Num(x.round_dp(1)),
            Type::Percent => Value::Num(x.round_dp(4)),
            Type::Integer => Value::Int(x.round().try_into().ok()?),
            _ => return None,
        };
        bounds.as_ref().is_none_or(|b| b.contains(&v)).then_some(v)
    }

    /// Adds the amounts the rulebook computes on the first cases to the
    /// money pool: a price equal to the voucher value it is compared with
    /// is where a formula changes sign.
    fn harvest(&mut self, cases: &[Case]) {
        let money: Vec<u32> = self
            .p
            .defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.ty == Type::Money)
            .map(|(i, _)| i as u32)
            .collect();
        if money.is_empty() {
            return;
        }
        let mut found = Vec::new();
        for case in cases.iter().take(200) {
            if let Ok(d) = evaluate(self.p, case, &Options { explain: false }) {
                for (o, v) in &d.outputs {
                    if money.contains(o) {
                        if let Some(x) = v.as_decimal() {
                            found.push(x);
                        }
                    }
                }
            }
        }
        self.pools.money.extend(found);
        tidy(&mut self.pools.money);
    }

    fn property(&mut self, prop: &PropertyInfo, cases: &[Case], line: usize) -> PropertyReport {
        let mut tried = 0;
        let mut applicable = 0;
        let mut failure = None;
        'cases: for case in cases {
            for step in self.steps(prop, case) {
                tried += 1;
                match self.verdict(prop, case, step.as_ref()) {
                    Some(Verdict::Holds) => applicable += 1,
                    Some(Verdict::NotApplicable(_)) => {}
                    Some(Verdict::Fails(_)) | None => {
                        applicable += 1;
                        failure = Some((case.clone(), step));
                        break 'cases;
                    }
                }
            }
        }
        let outcome = match failure {
            Some((case, step)) => self.counterexample(prop, case, step),
            None if applicable == 0 => Outcome::NeverApplied,
            None => Outcome::NotFound {
                how: format!(
                    "no counterexample in {tried} checks over {} cases: the examples, each input moved through the figures the rulebook mentions and the ends of its range, {} decision dates, then cases drawn from those figures and the declared ranges; this is a search, not a proof",
                    cases.len(),
                    self.decision_dates.len()
                ),
            },
        };
        PropertyReport {
            property: prop.name.clone(),
            line,
            span: prop.span,
            tried,
            applicable,
            outcome,
        }
    }

    /// `None` when evaluating failed, which counts as a failure: the
    /// rulebook cannot decide that case.
    fn verdict(&self, prop: &PropertyInfo, case: &Case, step: Option<&Value>) -> Option<Verdict> {
        check_property(self.p, prop, case, step).ok()
    }

    /// How far a relation moves its input at a case: small steps, and
    /// jumps to each figure above the current value (across a threshold).
    fn steps(&mut self, prop: &PropertyInfo, case: &Case) -> Vec<Option<Value>> {
        let PropertyKind::Monotone { input, .. } = &prop.kind else {
            return vec![None];
        };
        let small: Vec<Value> = match input.ty {
            Type::Integer => vec![Value::Int(1), Value::Int(2)],
            Type::Percent => vec![
                Value::Num(Decimal::new(1, 2)),
                Value::Num(Decimal::new(1, 1)),
            ],
            _ => vec![
                Value::Num(Decimal::new(1, 2)),
                Value::Num(Decimal::ONE),
                Value::Num(Decimal::from(100)),
            ],
        };
        let mut out: Vec<Option<Value>> = small.into_iter().map(Some).collect();
        if let Some(now) = read(&case.inputs, input).and_then(|v| v.as_decimal()) {
            let above: Vec<Decimal> = self
                .pool(&input.ty, None)
                .iter()
                .filter_map(|v| v.as_decimal())
                .filter(|x| *x > now)
                .collect();
            if !above.is_empty() {
                let pick = above[self.below(above.len())] - now;
                out.push(Some(match input.ty {
                    Type::Integer => Value::Int(pick.try_into().unwrap_or(1)),
                    _ => Value::Num(pick),
                }));
            }
        }
        out
    }

    fn counterexample(&self, prop: &PropertyInfo, case: Case, step: Option<Value>) -> Outcome {
        let (case, step) = self.shrink(prop, case, step);
        let why = match check_property(self.p, prop, &case, step.as_ref()) {
            Ok(Verdict::Fails(why)) => why,
            Ok(_) => "it fails".into(),
            Err(e) => format!("the rulebook cannot decide this case: {e}"),
        };
        let explanation = explain(self.p, prop, &case);
        Outcome::Counterexample {
            why,
            decision_date: case.decision_date.to_string(),
            example: example_text(self.p, prop, &case, step.as_ref()),
            explanation,
        }
    }

    /// The simplest case near `case` that still fails: each input in turn
    /// set to simpler values (zero, one, round figures, the pool's), and
    /// list items removed, until nothing simpler fails.
    fn shrink(
        &self,
        prop: &PropertyInfo,
        mut case: Case,
        step: Option<Value>,
    ) -> (Case, Option<Value>) {
        let fails = |c: &Case| {
            !matches!(
                check_property(self.p, prop, c, step.as_ref()),
                Ok(Verdict::Holds) | Ok(Verdict::NotApplicable(_))
            )
        };
        let mut budget = 2_000usize;
        let mut changed = true;
        while changed && budget > 0 {
            changed = false;
            if case.decision_date != self.first {
                let c = Case {
                    decision_date: self.first,
                    inputs: case.inputs.clone(),
                };
                budget = budget.saturating_sub(1);
                if fails(&c) {
                    case = c;
                    changed = true;
                }
            }
            for leaf in &self.leaves {
                let Some(now) = read(&case.inputs, &leaf.path) else {
                    continue;
                };
                for simpler in self.simpler(&leaf.path.ty, leaf.bounds.as_ref(), &now) {
                    if budget == 0 {
                        break;
                    }
                    budget -= 1;
                    let Some(inputs) = write(&case.inputs, &leaf.path, simpler) else {
                        continue;
                    };
                    let c = Case {
                        decision_date: case.decision_date,
                        inputs,
                    };
                    if fails(&c) {
                        case = c;
                        changed = true;
                        break;
                    }
                }
            }
        }
        (case, step)
    }

    /// Values simpler than `now`, simplest first.
    fn simpler(&self, ty: &Type, bounds: Option<&Bounds>, now: &Value) -> Vec<Value> {
        let mut out: Vec<Value> = match (ty, now) {
            (Type::List(_), Value::List(items)) => (0..items.len())
                .map(|k| {
                    let mut fewer = items.to_vec();
                    fewer.remove(k);
                    Value::List(Arc::from(fewer))
                })
                .collect(),
            (Type::Bool, Value::Bool(true)) => vec![Value::Bool(false)],
            (Type::Enum(_), Value::Enum(i)) => (0..*i).map(Value::Enum).collect(),
            (_, Value::Int(i)) => {
                let mut c = vec![0, 1, i / 2, i - i.signum()];
                c.extend(self.pools.integer.iter().copied());
                c.retain(|x| x.abs() < i.abs());
                c.into_iter().map(Value::Int).collect()
            }
            (_, Value::Num(d)) => {
                let mut c = vec![
                    Decimal::ZERO,
                    Decimal::ONE,
                    d.round(),
                    (d / Decimal::TEN).round() * Decimal::TEN,
                    (d / Decimal::ONE_HUNDRED).round() * Decimal::ONE_HUNDRED,
                    (d / Decimal::ONE_THOUSAND).round() * Decimal::ONE_THOUSAND,
                ];
                let pool = match ty {
                    Type::Money => &self.pools.money,
                    Type::Percent => &self.pools.percent,
                    _ => &self.pools.decimal,
                };
                c.extend(pool.iter().copied());
                c.retain(|x| simplicity(*x) < simplicity(*d));
                c.sort_by_key(|x| simplicity(*x));
                c.dedup();
                c.into_iter().map(Value::Num).collect()
            }
            _ => Vec::new(),
        };
        out.retain(|v| bounds.is_none_or(|b| b.contains(v)));
        out
    }
}

/// How simple an amount looks: fewer decimals first, then smaller.
fn simplicity(d: Decimal) -> (u32, Decimal) {
    (d.normalize().scale(), d.abs())
}

fn zero_of(ty: &Type, date: NaiveDate) -> Value {
    match ty {
        Type::Integer => Value::Int(0),
        Type::Bool => Value::Bool(false),
        Type::Date => Value::Date(date),
        Type::Enum(_) => Value::Enum(0),
        Type::Text => Value::Text(Arc::from("")),
        _ => Value::Num(Decimal::ZERO),
    }
}

fn leaves_of(p: &Program, path: InputPath, bounds: Option<Bounds>, out: &mut Vec<Leaf>) {
    if let Type::Record(r) = &path.ty {
        if let Some(record) = p.records.get(*r as usize) {
            for (k, f) in record.fields.iter().enumerate() {
                let mut fields = path.fields.clone();
                fields.push(k as u32);
                leaves_of(
                    p,
                    InputPath {
                        input: path.input,
                        fields,
                        ty: f.ty.clone(),
                        text: format!("{}.{}", path.text, f.name),
                    },
                    f.bounds.clone(),
                    out,
                );
            }
        }
        return;
    }
    out.push(Leaf { path, bounds });
}

/// The figures a rulebook mentions, by type, with their neighbours.
fn collect_pools(p: &Program) -> Pools {
    let mut pools = Pools {
        // Small, round and very large values besides the rulebook's own:
        // an amount without an upper bound must be tried far out.
        money: [0, 1, 100, 1000, 1_000_000].map(Decimal::from).to_vec(),
        decimal: [0, 1, 10, 1000, 1_000_000].map(Decimal::from).to_vec(),
        percent: vec![Decimal::ZERO, Decimal::new(5, 1), Decimal::ONE],
        integer: vec![0, 1, 2, 3, 10, 100, 1000, 1_000_000],
        dates: Vec::new(),
    };
    let add = |pools: &mut Pools, v: &Value, ty: &Type| match (v, ty) {
        (Value::Num(d), Type::Money) => pools.money.push(*d),
        (Value::Int(i), Type::Money) => pools.money.push(Decimal::from(*i)),
        (Value::Num(d), Type::Percent) => pools.percent.push(*d),
        (Value::Num(d), _) => {
            pools.decimal.push(*d);
            if d.fract().is_zero() {
                if let Ok(i) = i64::try_from(*d) {
                    pools.integer.push(i);
                }
            }
        }
        (Value::Int(i), _) => {
            pools.integer.push(*i);
            pools.decimal.push(Decimal::from(*i));
        }
        (Value::Date(d), _) => pools.dates.push(*d),
        _ => {}
    };
    for d in &p.defs {
        if let DefBody::Dated(values) = &d.body {
            for (from, v) in values {
                add(&mut pools, v, &d.ty);
                if let Some(f) = from {
                    pools.dates.push(*f);
                }
            }
        }
    }
    for t in &p.tables {
        for row in &t.rows {
            for (test, (_, ty, _)) in row.tests.iter().zip(&t.params) {
                let alternatives: Vec<&CellTest> = match test {
                    CellTest::AnyOf(tests) => tests.iter().collect(),
                    t => vec![t],
                };
                for test in alternatives {
                    match test {
                        CellTest::Any | CellTest::AnyOf(_) => {}
                        CellTest::Range { low, high } => {
                            for (v, _) in low.iter().chain(high.iter()) {
                                add(&mut pools, v, ty);
                            }
                        }
                        CellTest::OneOf(values) => {
                            for v in values {
                                add(&mut pools, v, ty);
                            }
                        }
                    }
                }
            }
        }
    }
    for s in &p.scales {
        for (threshold, value) in &s.brackets {
            add(&mut pools, threshold, &s.param.1);
            add(&mut pools, value, &s.ret);
        }
    }
    let mut todo = p.rule_exprs();
    while let Some(e) = todo.pop() {
        if let ExprKind::Const(v) = &e.kind {
            add(&mut pools, v, &e.ty);
        }
        each_child(e, &mut |c| todo.push(c));
    }
    // Declared ranges: their ends.
    let mut ranges: Vec<(&Bounds, &Type)> = p
        .inputs
        .iter()
        .filter_map(|i| i.bounds.as_ref().map(|b| (b, &i.ty)))
        .collect();
    for r in &p.records {
        ranges.extend(
            r.fields
                .iter()
                .filter_map(|f| f.bounds.as_ref().map(|b| (b, &f.ty))),
        );
    }
    for (b, ty) in ranges {
        for (v, _) in b.low.iter().chain(b.high.iter()) {
            add(&mut pools, v, ty);
        }
    }
    // Each figure's neighbours: a cent, a unit, a percentage point.
    let cent = Decimal::new(1, 2);
    let money: Vec<Decimal> = pools.money.clone();
    for m in money {
        pools.money.extend([m - cent, m + cent]);
    }
    let decimals: Vec<Decimal> = pools.decimal.clone();
    for d in decimals {
        pools.decimal.extend([
            d - Decimal::ONE,
            d + Decimal::ONE,
            d - Decimal::new(1, 1),
            d + Decimal::new(1, 1),
        ]);
    }
    let integers: Vec<i64> = pools.integer.clone();
    for i in integers {
        pools
            .integer
            .extend([i.saturating_sub(1), i.saturating_add(1)]);
    }
    let percents: Vec<Decimal> = pools.percent.clone();
    for x in percents {
        pools.percent.extend([x - cent, x + cent]);
    }
    let dates: Vec<NaiveDate> = pools.dates.clone();
    for d in dates {
        pools.dates.extend(d.pred_opt());
        pools.dates.extend(d.succ_opt());
    }
    // The period's ends and beyond (a birth date after the decision date),
    // and dates a whole number of years before its start (ages).
    let last = p.in_force_to.unwrap_or(p.in_force_from);
    pools.dates.extend([p.in_force_from, last]);
    pools.dates.extend(p.in_force_from.pred_opt());
    pools.dates.extend(last.succ_opt());
    pools
        .dates
        .extend(last.checked_add_months(chrono::Months::new(12)));
    let years: Vec<i64> = pools
        .integer
        .iter()
        .copied()
        .filter(|y| (1..=120).contains(y))
        .collect();
    for y in years {
        if let Some(d) = p
            .in_force_from
            .checked_sub_months(chrono::Months::new(12 * y as u32))
        {
            pools
                .dates
                .extend([Some(d), d.pred_opt(), d.succ_opt()].into_iter().flatten());
        }
    }
    tidy(&mut pools.money);
    tidy(&mut pools.decimal);
    tidy(&mut pools.percent);
    pools.integer.sort_unstable();
    pools.integer.dedup();
    pools.dates.sort();
    pools.dates.dedup();
    pools
}

fn tidy(v: &mut Vec<Decimal>) {
    v.sort();
    v.dedup_by(|a, b| a == b);
}

/// The explanation of each output the property names, at the case.
fn explain(p: &Executable, prop: &PropertyInfo, case: &Case) -> Vec<String> {
    let mut named = Vec::new();
    let mut todo: Vec<&Expr> = match &prop.kind {
        PropertyKind::Bound { holds, when } => {
            let mut v = vec![holds];
            if let Some(PropertyCondition::Holds(c)) = when {
                v.push(c);
            }
            v
        }
        PropertyKind::Monotone { value, .. } => vec![value],
        PropertyKind::Marginal { value, .. } => vec![value],
    };
    while let Some(e) = todo.pop() {
        if let ExprKind::Def(i) = &e.kind {
            if p.outputs.contains(i) && !named.contains(i) {
                named.push(*i);
            }
        }
        each_child(e, &mut |c| todo.push(c));
    }
    let Ok(d) = evaluate(p, case, &Options { explain: true }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for x in d.explanation.unwrap_or_default() {
        if named
            .iter()
            .any(|i| p.defs.get(*i as usize).is_some_and(|d| d.name == x.output))
        {
            out.push(format!("{} = {}", x.output, x.value));
            out.extend(x.steps.into_iter().map(|s| format!("  {s}")));
        }
    }
    out
}

/// The case as an example block that expects the property.
pub fn example_text(p: &Program, prop: &PropertyInfo, case: &Case, step: Option<&Value>) -> String {
    let mut out = format!(
        "example \"counterexample to {}\"\n  on {}\n",
        prop.name, case.decision_date
    );
    for (input, v) in p.inputs.iter().zip(&case.inputs) {
        out.push_str(&format!(
            "  given {} {}\n",
            input.name,
            literal(p, v, &input.ty)
        ));
    }
    match (step, &prop.kind) {
        (Some(s), PropertyKind::Monotone { input, .. } | PropertyKind::Marginal { input, .. }) => {
            out.push_str(&format!(
                "  expect property {} by {}\n",
                prop.name,
                literal(p, s, &input.ty)
            ));
        }
        _ => out.push_str(&format!("  expect property {}\n", prop.name)),
    }
    out
}

/// A value as it is written in an example.
pub(crate) fn literal(p: &Program, v: &Value, ty: &Type) -> String {
    match (v, ty) {
        (Value::Num(d), Type::Money) => format!("{} €", format_money(*d)),
        (Value::Int(i), Type::Money) => format!("{} €", format_money(Decimal::from(*i))),
        (Value::Num(d), Type::Percent) => format_percent(*d),
        (Value::Num(d), _) => format_decimal(*d),
        (Value::Int(i), _) => i.to_string(),
        (Value::Bool(b), _) => b.to_string(),
        (Value::Text(t), _) => format!("{t:?}"),
        (Value::Date(d), _) => d.format("%Y-%m-%d").to_string(),
        (Value::Enum(i), Type::Enum(e)) => p
            .enums
            .get(*e as usize)
            .and_then(|e| e.variants.get(*i as usize))
            .cloned()
            .unwrap_or_default(),
        (Value::Record(fields), Type::Record(r)) => {
            let Some(record) = p.records.get(*r as usize) else {
                return String::new();
            };
            let parts: Vec<String> = record
                .fields
                .iter()
                .zip(fields.iter())
                .map(|(f, v)| format!("{}: {}", f.name, literal(p, v, &f.ty)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        (Value::List(items), Type::List(elem)) => {
            let parts: Vec<String> = items.iter().map(|v| literal(p, v, elem)).collect();
            format!("[{}]", parts.join(", "))
        }
        _ => p.render(v, ty),
    }
}
