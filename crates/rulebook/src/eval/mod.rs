//! The interpreter: evaluates a compiled rulebook for one case.
//!
//! Definitions are evaluated lazily, once per case, and cached by slot.
//! Nothing is looked up by name.

use crate::diagnostic::{Code, Span};
use crate::ir::value::{Duration, Type, Value};
use crate::ir::*;
use crate::plan::{NoPlan, Plan};

pub mod graph;
pub mod property;
mod used;
use crate::semantics::dates;
use crate::syntax::ast::{Aggregate, DurationUnit, HitPolicy, RoundMode, RoundTarget, ScaleKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::sync::{Arc, OnceLock};

use crate::semantics::arithmetic::{
    decimal_arith, in_force, integer_arith, ordering_holds, pick, round,
};
pub use crate::semantics::decision::{
    Case, CriterionExplanation, Decision, EvalError, FailedCriterion, OutputExplanation,
};
use crate::semantics::rows::find_rows;
use crate::semantics::scales::{bracket_of, marginal_total};

/// Evaluation errors travel boxed, so that the `Result` every evaluation
/// step returns stays the size of a value.
type Failure = Box<EvalError>;

fn fail(code: Code, span: Span, message: impl Into<String>) -> Failure {
    Box::new(EvalError {
        code,
        message: message.into(),
        rule: String::new(),
        span,
        help: None,
    })
}

type R<T> = Result<T, Failure>;

trait WithHelp {
    fn with_help(self, help: String) -> Self;
}

impl WithHelp for Failure {
    fn with_help(mut self, help: String) -> Failure {
        self.help = Some(help);
        self
    }
}

pub struct Options {
    pub explain: bool,
}

/// A checked program ready to decide cases: the program, and its
/// evaluation plan, compiled when it first decides a case. The plan is a
/// cache of the evaluator's, kept here rather than in the program so that
/// the IR depends on nothing built from it.
pub struct Executable {
    program: Program,
    plan: OnceLock<Result<Arc<Plan>, NoPlan>>,
}

impl Executable {
    pub fn new(program: Program) -> Executable {
        Executable {
            program,
            plan: OnceLock::new(),
        }
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn into_program(self) -> Program {
        self.program
    }

    /// The program's evaluation plan, if it has one (see `plan`).
    pub fn plan(&self) -> Option<&Plan> {
        self.compiled_plan().ok()
    }

    /// The program's evaluation plan, or why it has none.
    pub fn compiled_plan(&self) -> Result<&Plan, &NoPlan> {
        self.plan
            .get_or_init(|| Plan::compile(&self.program).map(Arc::new))
            .as_ref()
            .map(|p| &**p)
    }
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executable")
            .field("id", &self.program.id)
            .field("version", &self.program.version)
            .finish_non_exhaustive()
    }
}

impl From<Program> for Executable {
    fn from(program: Program) -> Executable {
        Executable::new(program)
    }
}

impl Clone for Executable {
    /// A copy shares the plan once it has been compiled.
    fn clone(&self) -> Executable {
        let plan = OnceLock::new();
        if let Some(p) = self.plan.get() {
            let _ = plan.set(p.clone());
        }
        Executable {
            program: self.program.clone(),
            plan,
        }
    }
}

impl std::ops::Deref for Executable {
    type Target = Program;
    fn deref(&self) -> &Program {
        &self.program
    }
}

/// Evaluates one case.
pub fn evaluate(p: &Executable, case: &Case, options: &Options) -> Result<Decision, EvalError> {
    evaluate_with(p, case, options, &mut Scratch::default())
}

/// The evaluator's working memory, kept from one case to the next so that a
/// batch allocates per case only for the decision it returns.
#[derive(Default)]
pub struct Scratch {
    cache: Vec<Option<Value>>,
    stack: Vec<Slot<'static>>,
    matched: Vec<usize>,
    candidates: Vec<u32>,
    calls: Vec<Vec<(usize, Value)>>,
    calls_used: Vec<usize>,
    plan: crate::plan::Registers,
}

/// An empty vector of locals for another lifetime, keeping its memory: an
/// in-place collect of no elements.
#[allow(clippy::unnecessary_filter_map)] // the point is the element type
fn relabel<'a, 'b>(v: Vec<Slot<'a>>) -> Vec<Slot<'b>> {
    let mut v = v;
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Evaluates one case, reusing `scratch` from earlier cases (of any
/// program); the result is the same as [`evaluate`]'s. A case without an
/// explanation is decided by the program's evaluation plan where it has
/// one (see `plan`), by the interpreter otherwise and whenever the plan
/// gives up.
pub fn evaluate_with(
    p: &Executable,
    case: &Case,
    options: &Options,
    scratch: &mut Scratch,
) -> Result<Decision, EvalError> {
    if !options.explain {
        if let Some(plan) = p.plan() {
            if let Some(d) = plan.decide(p, case, &mut scratch.plan) {
                return Ok(d);
            }
        }
    }
    interpret(p, case, options, scratch)
}

/// Evaluates one case with the interpreter alone: the reference the
/// evaluation plans are held to.
/// What the examples of a version reached, recorded by the interpreter
/// (`interpret_for_coverage`); `ops::coverage` turns it into a report.
/// Places are the byte offsets of what was reached in the version's text.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    /// Criteria by position, with each outcome seen.
    pub criteria: std::collections::HashSet<(usize, bool)>,
    /// `if`s by offset, with each branch taken.
    pub ifs: std::collections::HashSet<(usize, bool)>,
    /// Table rows matched: table and row positions.
    pub rows: std::collections::HashSet<(u32, usize)>,
    pub tables: std::collections::HashSet<u32>,
    /// Scale brackets reached: scale and bracket positions.
    pub brackets: std::collections::HashSet<(u32, usize)>,
    /// Rules with `unless` by the offset of their name: which override won
    /// (`None`: none did, and the rule's own formula was used).
    pub overrides: std::collections::HashSet<(usize, Option<usize>)>,
    /// Dated parameters by the offset of their name, and the value used.
    pub dated: std::collections::HashSet<(usize, usize)>,
    /// Definitions evaluated, by the offset of their name.
    pub defs: std::collections::HashSet<usize>,
    pub functions: std::collections::HashSet<u32>,
}

/// Decides a case with the interpreter, recording into `coverage` what it
/// reached. Slower than `evaluate`; for `rulebook test --coverage`.
pub fn interpret_for_coverage(
    p: &Program,
    case: &Case,
    coverage: &mut Coverage,
) -> Result<Decision, EvalError> {
    let mut ev = Evaluator::for_case(p, case);
    ev.coverage = Some(Box::new(std::mem::take(coverage)));
    let result = evaluate_in(&mut ev, &Options { explain: false }).map_err(|e| *e);
    if let Some(c) = ev.coverage.take() {
        *coverage = *c;
    }
    result
}

impl<'p> Evaluator<'p> {
    /// An evaluator for one case with its own caches, for evaluating parts
    /// of a program (properties) rather than a whole decision.
    fn for_case(p: &'p Program, case: &'p Case) -> Evaluator<'p> {
        Evaluator::new(p, &case.inputs, case.decision_date)
    }
}

pub fn interpret(
    p: &Program,
    case: &Case,
    options: &Options,
    scratch: &mut Scratch,
) -> Result<Decision, EvalError> {
    let mut cache = std::mem::take(&mut scratch.cache);
    cache.clear();
    cache.resize(p.defs.len(), None);
    let stack = relabel(std::mem::take(&mut scratch.stack));
    let mut ev = Evaluator {
        p,
        inputs: &case.inputs,
        date: case.decision_date,
        date_value: Value::Date(case.decision_date),
        cache,
        stack,
        base: 0,
        matched: std::mem::take(&mut scratch.matched),
        candidates: std::mem::take(&mut scratch.candidates),
        calls: std::mem::take(&mut scratch.calls),
        calls_used: std::mem::take(&mut scratch.calls_used),
        coverage: None,
    };
    let result = evaluate_in(&mut ev, options).map_err(|e| *e);
    scratch.cache = ev.cache;
    scratch.stack = relabel(ev.stack);
    scratch.matched = ev.matched;
    scratch.candidates = ev.candidates;
    // The remembered calls hold addresses within this case's inputs.
    for &f in &ev.calls_used {
        if let Some(known) = ev.calls.get_mut(f) {
            known.clear();
        }
    }
    ev.calls_used.clear();
    scratch.calls = ev.calls;
    scratch.calls_used = ev.calls_used;
    result
}

fn evaluate_in(ev: &mut Evaluator<'_>, options: &Options) -> R<Decision> {
    let p = ev.p;
    let mut failed = Vec::new();
    for (k, c) in p.criteria.iter().enumerate() {
        let ok = ev.holds(&c.condition).map_err(|e| named(e, &c.name))?;
        if let Some(cov) = ev.coverage.as_mut() {
            cov.criteria.insert((k, ok));
        }
        if !ok {
            failed.push(FailedCriterion {
                criterion: c.name.clone(),
                section: c.citation.section.clone(),
                reason: c.reason.clone(),
            });
        }
    }
    let eligible = failed.is_empty();
    let mut outputs = Vec::with_capacity(if eligible { p.outputs.len() } else { 0 });
    if eligible {
        for &o in &p.outputs {
            outputs.push((o, ev.def(o)?));
        }
    }
    let explanation = if options.explain && eligible {
        Some(
            p.outputs
                .iter()
                .map(|&o| ev.explain_output(o))
                .collect::<R<Vec<_>>>()?,
        )
    } else {
        None
    };
    let criteria_explanation = (options.explain && !eligible).then(|| {
        p.criteria
            .iter()
            .filter(|c| failed.iter().any(|f| f.criterion == c.name))
            .map(|c| ev.explain_criterion(c))
            .collect()
    });
    let graph = options.explain.then(|| {
        let roots: &[u32] = if eligible { &p.outputs } else { &[] };
        let failed_infos: Vec<&crate::ir::CriterionInfo> = p
            .criteria
            .iter()
            .filter(|c| failed.iter().any(|f| f.criterion == c.name))
            .collect();
        ev.explanation_graph(roots, &failed_infos)
    });
    Ok(Decision {
        eligible,
        failed_criteria: failed,
        outputs,
        explanation,
        criteria_explanation,
        graph,
    })
}

/// Evaluation recurses through definitions, functions and tables, and a
/// long chain of them is a valid rulebook. So that no chain can exhaust the
/// stack of whatever thread evaluates, each step into one checks the stack
/// left and, below `STACK_RED_ZONE` (more than one expression at the
/// nesting limit needs), goes on in a new `STACK_SEGMENT`.
const STACK_RED_ZONE: usize = 1 << 20;
const STACK_SEGMENT: usize = 32 << 20;

fn with_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, f)
}

fn named(mut e: Failure, rule: &str) -> Failure {
    if e.rule.is_empty() {
        e.rule = rule.to_string();
    }
    e
}

pub struct Evaluator<'p> {
    p: &'p Program,
    inputs: &'p [Value],
    date: NaiveDate,
    /// `date` as a value, so that `decision date` can be read in place.
    date_value: Value,
    cache: Vec<Option<Value>>,
    stack: Vec<Slot<'p>>,
    base: usize,
    /// The rows of a table that match, kept from one table to the next.
    matched: Vec<usize>,
    /// The rows of a large table that can match, from its index.
    candidates: Vec<u32>,
    /// Values of one-argument functions already computed for a part of the
    /// inputs, by function and the part's address; `calls_used` lists the
    /// functions with any, so that a case clears only those.
    calls: Vec<Vec<(usize, Value)>>,
    calls_used: Vec<usize>,
    /// What the examples reached, when measuring coverage (`None` on the
    /// decision path, where it costs one test per branch).
    coverage: Option<Box<Coverage>>,
}

/// A local value: computed, or a part of the case's inputs used in place.
/// Members of an input list and records passed on to functions are nearly
/// all of a case's locals; borrowing them spares a reference count on each.
#[derive(Clone)]
enum Slot<'p> {
    Owned(Value),
    Input(&'p Value),
}

impl Slot<'_> {
    fn value(&self) -> &Value {
        match self {
            Slot::Owned(v) => v,
            Slot::Input(v) => v,
        }
    }
}

fn zero_of(ty: &Type) -> Value {
    match ty {
        Type::Integer => Value::Int(0),
        _ => Value::Num(Decimal::ZERO),
    }
}

fn too_large(span: Span) -> Failure {
    fail(
        Code::Overflow,
        span,
        "the result is too large to compute exactly",
    )
    .with_help("check the inputs for an amount or number far larger than intended".into())
}

impl<'p> Evaluator<'p> {
    pub fn new(p: &'p Program, inputs: &'p [Value], date: NaiveDate) -> Evaluator<'p> {
        Evaluator {
            p,
            inputs,
            date,
            date_value: Value::Date(date),
            cache: vec![None; p.defs.len()],
            stack: Vec::new(),
            base: 0,
            matched: Vec::new(),
            candidates: Vec::new(),
            calls: Vec::new(),
            calls_used: Vec::new(),
            coverage: None,
        }
    }

    /// The value of a definition (let, output or parameter).
    pub fn def(&mut self, i: u32) -> R<Value> {
        if let Some(Some(v)) = self.cache.get(i as usize) {
            return Ok(v.clone());
        }
        let p = self.p;
        let Some(d) = p.defs.get(i as usize) else {
            return Err(fail(Code::Internal, Span::default(), "unknown definition"));
        };
        let saved_base = self.base;
        self.base = self.stack.len();
        let result = with_stack(|| self.def_body(d));
        self.stack.truncate(self.base);
        self.base = saved_base;
        let v = result.map_err(|e| named(e, &d.name))?;
        if let Some(slot) = self.cache.get_mut(i as usize) {
            *slot = Some(v.clone());
        }
        Ok(v)
    }

    fn def_body(&mut self, d: &DefInfo) -> R<Value> {
        if let Some(cov) = self.coverage.as_mut() {
            cov.defs.insert(d.name_span.start);
        }
        match &d.body {
            DefBody::Dated(values) => {
                if let Some(cov) = self.coverage.as_mut() {
                    let date = self.date;
                    if let Some(k) = values
                        .iter()
                        .rposition(|(f, _)| f.is_none_or(|f| f <= date))
                    {
                        cov.dated.insert((d.name_span.start, k));
                    }
                }
                self.dated(d, values)
            }
            DefBody::Rule { base, overrides } => {
                if overrides.is_empty() {
                    return self.eval(base);
                }
                let winner = self.winning_override(overrides)?;
                if let Some(cov) = self.coverage.as_mut() {
                    let k = winner.and_then(|w| overrides.iter().position(|o| std::ptr::eq(o, w)));
                    cov.overrides.insert((d.name_span.start, k));
                }
                match winner {
                    Some(o) => self.eval(&o.value),
                    None => self.eval(base),
                }
            }
        }
    }

    fn dated(&self, d: &DefInfo, values: &[(Option<NaiveDate>, Value)]) -> R<Value> {
        in_force(values, self.date).cloned().ok_or_else(|| {
            let dates: Vec<String> = values
                .iter()
                .filter_map(|(f, _)| f.map(|f| f.to_string()))
                .collect();
            fail(
                Code::NoValueInForce,
                d.name_span,
                format!(
                    "the parameter `{}` has no value in force on {}",
                    d.name, self.date
                ),
            )
            .with_help(format!(
                "`{}` has values from {}; give it a value in force on {}",
                d.name,
                dates.join(", "),
                self.date
            ))
        })
    }

    /// The override that applies: the highest rank among those whose
    /// condition holds. Two that hold at that highest rank are an error; a
    /// tie below it does not matter, since neither would be used.
    fn winning_override<'o>(
        &mut self,
        overrides: &'o [OverrideInfo],
    ) -> R<Option<&'o OverrideInfo>> {
        let beats = |a: usize, b: usize| {
            overrides
                .get(a)
                .is_some_and(|o| o.beats.contains(&(b as u32)))
        };
        let holds = |k: usize| match overrides.get(k) {
            Some(o) => self.holds(&o.condition),
            None => Ok(false),
        };
        match crate::semantics::exceptions::winner_of(overrides.len(), holds, beats)? {
            Ok(k) => Ok(k.and_then(|k| overrides.get(k))),
            Err((a, b)) => {
                let (Some(a), Some(b)) = (overrides.get(a), overrides.get(b)) else {
                    return Err(fail(Code::Internal, Span::default(), "exception missing"));
                };
                let help = if a.rank == b.rank && a.name.is_none() && b.name.is_none() {
                    "give one of the exceptions a higher rank (`rank 2`) to say which wins, or make their conditions exclusive"
                } else {
                    "say which is the exception to the other (`as NAME` on one, `over NAME` on the other), or make their conditions exclusive"
                };
                Err(fail(
                    Code::ConflictingOverrides,
                    b.span,
                    format!(
                        "two exceptions apply at once and neither is an exception to the other: `unless {}` and `unless {}`",
                        a.text, b.text
                    ),
                )
                .with_help(help.into()))
            }
        }
    }

    /// `fold(acc from init for x in list: body)`: the value carried through
    /// the items kept by the filter, each step computing the next from the
    /// last and the item.
    #[inline(never)]
    fn fold(
        &mut self,
        slot: u32,
        position: bool,
        init: &Expr,
        list: &Expr,
        filter: Option<&Expr>,
        body: &Expr,
    ) -> R<Value> {
        let mut acc = self.eval(init)?;
        let Value::List(items) = self.eval(list)? else {
            return Err(fail(Code::Internal, list.span, "not a list"));
        };
        let at = self.base + slot as usize;
        let waiting = if self.stack.len() > at {
            self.stack.split_off(at)
        } else {
            Vec::new()
        };
        let mut result = Ok(());
        for (k, item) in items.iter().enumerate() {
            self.stack.truncate(at);
            while self.stack.len() < at {
                self.stack.push(Slot::Owned(Value::Bool(false)));
            }
            self.stack.push(Slot::Owned(acc.clone()));
            self.stack.push(Slot::Owned(item.clone()));
            if position {
                self.stack.push(Slot::Owned(Value::Int(k as i64 + 1)));
            }
            if let Some(f) = filter {
                match self.holds(f) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            match self.eval(body) {
                Ok(v) => acc = v,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.stack.truncate(at);
        self.stack.extend(waiting);
        result.map(|()| acc)
    }

    /// `sorted(x in list by key)`: the items in the order of their keys;
    /// equal keys keep the list's order.
    fn sorted(
        &mut self,
        slot: u32,
        list: &Expr,
        key: &Expr,
        descending: bool,
        e: &Expr,
    ) -> R<Value> {
        let Value::List(items) = self.eval(list)? else {
            return Err(fail(Code::Internal, e.span, "not a list"));
        };
        let at = self.base + slot as usize;
        let waiting = if self.stack.len() > at {
            self.stack.split_off(at)
        } else {
            Vec::new()
        };
        let mut keyed: Vec<(Value, Value)> = Vec::with_capacity(items.len());
        let mut failed = None;
        for item in items.iter() {
            self.stack.truncate(at);
            self.stack.push(Slot::Owned(item.clone()));
            match self.eval(key) {
                Ok(k) => keyed.push((k, item.clone())),
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        self.stack.truncate(at);
        self.stack.extend(waiting);
        if let Some(err) = failed {
            return Err(err);
        }
        keyed.sort_by(|(a, _), (b, _)| {
            let o = a.compare(b).unwrap_or(std::cmp::Ordering::Equal);
            if descending {
                o.reverse()
            } else {
                o
            }
        });
        Ok(Value::List(keyed.into_iter().map(|(_, v)| v).collect()))
    }

    /// A function's value in the current frame: its body, or the exception
    /// that applies.
    fn function_body(&mut self, func: &crate::ir::FunctionInfo) -> R<Value> {
        if func.overrides.is_empty() {
            return self.eval(&func.body);
        }
        let winner = self.winning_override(&func.overrides)?;
        if let Some(cov) = self.coverage.as_mut() {
            let k = winner.and_then(|w| func.overrides.iter().position(|o| std::ptr::eq(o, w)));
            cov.overrides.insert((func.span.start, k));
        }
        match winner {
            Some(o) => self.eval(&o.value),
            None => self.eval(&func.body),
        }
    }

    fn local(&self, slot: u32, span: Span) -> R<Value> {
        self.stack
            .get(self.base + slot as usize)
            .map(|s| s.value().clone())
            .ok_or_else(|| fail(Code::Internal, span, "a local value is missing"))
    }

    /// The value an input, a local or a field of one of them holds, by
    /// reference; `None` for anything that must be computed.
    fn place(&self, e: &Expr) -> Option<&Value> {
        match &e.kind {
            ExprKind::Input(i) => self.inputs.get(*i as usize),
            ExprKind::Local(s) => self.stack.get(self.base + *s as usize).map(Slot::value),
            ExprKind::Field(base, i) => match self.place(base)? {
                Value::Record(fields) => fields.get(*i as usize),
                _ => None,
            },
            _ => None,
        }
    }

    /// Like `place`, for values that are part of the case's inputs and so
    /// outlive the evaluation.
    fn input_place(&self, e: &Expr) -> Option<&'p Value> {
        match &e.kind {
            ExprKind::Input(i) => self.inputs.get(*i as usize),
            ExprKind::Local(s) => match self.stack.get(self.base + *s as usize)? {
                Slot::Input(v) => Some(*v),
                Slot::Owned(_) => None,
            },
            ExprKind::Field(base, i) => match self.input_place(base)? {
                Value::Record(fields) => fields.get(*i as usize),
                _ => None,
            },
            _ => None,
        }
    }

    fn field_of(&mut self, base: &Expr, i: u32, span: Span) -> R<Value> {
        match self.eval(base)? {
            // A field of something absent (a variant's data when the value
            // is another variant) is absent.
            Value::Absent => Ok(Value::Absent),
            Value::Record(fields) => fields
                .get(i as usize)
                .cloned()
                .ok_or_else(|| fail(Code::Internal, span, "a field is missing")),
            _ => Err(fail(Code::Internal, span, "not a record")),
        }
    }

    /// The value of an expression that is already at hand (a constant, an
    /// input or a part of one, a local, the decision date or a definition
    /// already computed), by reference; `None` for anything to compute.
    fn peek<'a>(&'a self, e: &'a Expr) -> Option<&'a Value> {
        match &e.kind {
            ExprKind::Const(v) => Some(v),
            ExprKind::Def(i) => self.cache.get(*i as usize)?.as_ref(),
            ExprKind::DecisionDate => Some(&self.date_value),
            _ => self.place(e),
        }
    }

    /// Evaluates two operands, left first, and applies `f` to them. Operands
    /// at hand are read in place rather than copied out.
    fn with_operands<T>(
        &mut self,
        a: &Expr,
        b: &Expr,
        f: impl FnOnce(&Value, &Value) -> R<T>,
    ) -> R<T> {
        let x = match self.peek(a) {
            Some(_) => None,
            None => Some(self.eval(a)?),
        };
        let y = match self.peek(b) {
            Some(_) => None,
            None => Some(self.eval(b)?),
        };
        // Computing `b` only fills the cache, so what `a` read is still there.
        match (
            x.as_ref().or_else(|| self.peek(a)),
            y.as_ref().or_else(|| self.peek(b)),
        ) {
            (Some(x), Some(y)) => f(x, y),
            _ => Err(fail(
                Code::Internal,
                a.span.join(b.span),
                "an operand is missing",
            )),
        }
    }

    /// Whether a condition holds: it is `true` (anything else counts as not
    /// holding). Conditions are decided without building a value for each
    /// step of them.
    fn holds(&mut self, e: &Expr) -> R<bool> {
        match &e.kind {
            ExprKind::Not(x) => Ok(!self.holds(x)?),
            ExprKind::And(a, b) => Ok(self.holds(a)? && self.holds(b)?),
            ExprKind::Or(a, b) => Ok(self.holds(a)? || self.holds(b)?),
            ExprKind::Cmp(op, a, b) => {
                self.with_operands(a, b, |x, y| {
                    Ok(match op {
                        CmpOp::Eq => x.equals(y),
                        CmpOp::Ne => !x.equals(y),
                        _ => {
                            let ord = x.compare(y).ok_or_else(|| {
                            fail(Code::Incomparable, e.span, "these two values cannot be ordered")
                                .with_help(
                                "compare durations of one kind: days with days, months with months"
                                    .into(),
                            )
                        })?;
                            ordering_holds(*op, ord)
                        }
                    })
                })
            }
            _ => match self.peek(e) {
                Some(v) => Ok(*v == Value::Bool(true)),
                None => Ok(self.eval(e)? == Value::Bool(true)),
            },
        }
    }

    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::Input(i) => self
                .inputs
                .get(*i as usize)
                .cloned()
                .ok_or_else(|| fail(Code::MissingInput, e.span, "an input is missing")),
            ExprKind::Def(i) => self.def(*i),
            ExprKind::Local(s) => self.local(*s, e.span),
            ExprKind::Presence(x, present) => {
                let absent = matches!(self.eval(x)?, Value::Absent);
                Ok(Value::Bool(absent != *present))
            }
            ExprKind::OrElse(x, d) => match self.eval(x)? {
                Value::Absent => self.eval(d),
                v => Ok(v),
            },
            ExprKind::DecisionDate => Ok(Value::Date(self.date)),
            ExprKind::Field(base, i) => {
                // A field of an input or a local is read in place, without
                // taking a reference to the whole record first.
                if let Some(v) = self.place(e) {
                    return Ok(v.clone());
                }
                self.field_of(base, *i, e.span)
            }
            ExprKind::Neg(x) => match self.eval(x)? {
                Value::Int(i) => i
                    .checked_neg()
                    .map(Value::Int)
                    .ok_or_else(|| too_large(e.span)),
                Value::Num(d) => Ok(Value::Num(-d)),
                Value::Duration(d) => Ok(Value::Duration(Duration {
                    months: -d.months,
                    days: -d.days,
                })),
                _ => Err(fail(Code::Internal, e.span, "not a number")),
            },
            ExprKind::Not(_) | ExprKind::And(..) | ExprKind::Or(..) | ExprKind::Cmp(..) => {
                self.holds(e).map(Value::Bool)
            }
            ExprKind::Arith(op, a, b) => {
                self.with_operands(a, b, |x, y| arith(*op, x, y, e.span, b.span))
            }
            ExprKind::In(v, options, negated) => {
                let x = self.eval(v)?;
                let mut found = false;
                for o in options {
                    if self.eval(o)?.equals(&x) {
                        found = true;
                        break;
                    }
                }
                Ok(Value::Bool(found != *negated))
            }
            ExprKind::If(c, t, f) => {
                let taken = self.holds(c)?;
                if let Some(cov) = self.coverage.as_mut() {
                    cov.ifs.insert((e.span.start, taken));
                }
                if taken {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            // Calls are worked out in functions of their own: their locals
            // would otherwise widen this frame, which every level of a
            // nested expression pays for.
            ExprKind::Call(f, args) => self.call_function(*f, args, e.span),
            ExprKind::Table(t, args) => self.call_table(*t, args, e.span),
            ExprKind::Scale(sc, arg) => self.call_scale(*sc, arg, e.span),
            ExprKind::Builtin(b, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a)?);
                }
                builtin(*b, &vals, e.span)
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i)?);
                }
                Ok(Value::List(Arc::from(out)))
            }
            ExprKind::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    out.push(self.eval(f)?);
                }
                Ok(Value::Record(Arc::from(out)))
            }
            ExprKind::Between(unit, a, b) => self.with_operands(a, b, |x, y| {
                let (Value::Date(x), Value::Date(y)) = (x, y) else {
                    return Err(fail(Code::Internal, e.span, "not a date"));
                };
                let (x, y) = (*x, *y);
                Ok(Value::Int(match unit {
                    DurationUnit::Years => dates::years_between(x, y),
                    DurationUnit::Months => dates::months_between(x, y),
                    DurationUnit::Days | DurationUnit::Weeks => dates::days_between(x, y),
                }))
            }),
            ExprKind::Sorted {
                slot,
                list,
                key,
                descending,
            } => self.sorted(*slot, list, key, *descending, e),
            ExprKind::Used { used, item, args } => self.used(*used, item, args, e.span),
            ExprKind::VariantData(x, variant) => Ok(match self.eval(x)? {
                Value::Tagged(v, fields) if v == *variant => Value::Record(fields),
                _ => Value::Absent,
            }),
            ExprKind::Fold {
                slot,
                position,
                init,
                list,
                filter,
                body,
            } => self.fold(*slot, *position, init, list, filter.as_deref(), body),
            ExprKind::Aggregate {
                kind,
                slot,
                list,
                projection,
                filter,
                if_empty,
                ..
            } => self.aggregate(
                *kind,
                *slot,
                list,
                projection.as_deref(),
                filter.as_deref(),
                if_empty.as_deref(),
                e,
            ),
            ExprKind::Round(x, target, mode) => match self.eval(x)? {
                Value::Num(d) => round(d, *target, *mode)
                    .map(Value::Num)
                    .ok_or_else(|| too_large(e.span)),
                Value::Int(i) => Ok(Value::Num(
                    round(Decimal::from(i), *target, *mode).ok_or_else(|| too_large(e.span))?,
                )),
                other => Ok(other),
            },
        }
    }

    fn remember_call(&mut self, f: u32, key: usize, v: &Value) {
        let f = f as usize;
        if self.calls.len() <= f {
            self.calls.resize_with(f + 1, Vec::new);
        }
        if let Some(known) = self.calls.get_mut(f) {
            if known.is_empty() {
                self.calls_used.push(f);
            }
            known.push((key, v.clone()));
        }
    }

    #[inline(never)]
    fn call_function(&mut self, f: u32, args: &[Expr], span: Span) -> R<Value> {
        let p = self.p;
        let Some(func) = p.functions.get(f as usize) else {
            return Err(fail(Code::Internal, span, "unknown function"));
        };
        if let Some(cov) = self.coverage.as_mut() {
            cov.functions.insert(f);
        }
        // A function of one part of the inputs (`age_of(p)` for a
        // member) is computed once per case and that part.
        let key = match args {
            [arg] => self.input_place(arg).map(|v| v as *const Value as usize),
            _ => None,
        };
        if let Some(key) = key {
            if let Some((_, v)) = self
                .calls
                .get(f as usize)
                .and_then(|known| known.iter().find(|(k, _)| *k == key))
            {
                return Ok(v.clone());
            }
        }
        let frame = self.frame(args)?;
        let saved = std::mem::replace(&mut self.base, frame);
        let r = with_stack(|| self.function_body(func));
        self.stack.truncate(frame);
        self.base = saved;
        let v = r.map_err(|err| named(err, &func.name))?;
        if let Some(key) = key {
            self.remember_call(f, key, &v);
        }
        Ok(v)
    }

    #[inline(never)]
    fn call_table(&mut self, t: u32, args: &[Expr], span: Span) -> R<Value> {
        let p = self.p;
        let Some(table) = p.tables.get(t as usize) else {
            return Err(fail(Code::Internal, span, "unknown table"));
        };
        let frame = self.frame(args)?;
        let saved = std::mem::replace(&mut self.base, frame);
        let mut rows = std::mem::take(&mut self.matched);
        rows.clear();
        let r = with_stack(|| self.table(table, span, &mut rows));
        if let Some(cov) = self.coverage.as_mut() {
            cov.tables.insert(t);
            cov.rows.extend(rows.iter().map(|&r| (t, r)));
        }
        self.matched = rows;
        self.stack.truncate(frame);
        self.base = saved;
        r.map_err(|err| named(err, &table.name))
    }

    #[inline(never)]
    fn call_scale(&mut self, s: u32, arg: &Expr, span: Span) -> R<Value> {
        let p = self.p;
        let Some(scale) = p.scales.get(s as usize) else {
            return Err(fail(Code::Internal, span, "unknown scale"));
        };
        if self.coverage.is_some() {
            let x = self.eval(arg)?;
            if let (Some(base), Some(cov)) = (x.as_decimal(), self.coverage.as_mut()) {
                if let Some(k) = bracket_of(scale, base) {
                    cov.brackets.insert((s, k));
                }
            }
        }
        let r = match self.peek(arg) {
            Some(x) => scale_value(scale, x, span),
            None => {
                let x = self.eval(arg)?;
                scale_value(scale, &x, span)
            }
        };
        r.map_err(|err| named(err, &scale.name))
    }

    /// Evaluates arguments and pushes them as a new frame; returns its base.
    #[inline(never)]
    fn frame(&mut self, args: &[Expr]) -> R<usize> {
        // Each argument goes straight onto the stack: evaluating the next
        // one only uses the stack above it and leaves it as it was.
        let frame = self.stack.len();
        for a in args {
            if let Some(v) = self.input_place(a) {
                self.stack.push(Slot::Input(v));
                continue;
            }
            match self.eval(a) {
                Ok(v) => self.stack.push(Slot::Owned(v)),
                Err(e) => {
                    self.stack.truncate(frame);
                    return Err(e);
                }
            }
        }
        Ok(frame)
    }

    /// Evaluates a table in the current frame; puts the rows (0-based) that
    /// matched in `matched` (for a unique table, at most the two that show
    /// an overlap).
    #[inline(never)]
    fn table(&mut self, t: &TableInfo, span: Span, matched: &mut Vec<usize>) -> R<Value> {
        let base = self.base;
        {
            let args = self.stack.get(base..).unwrap_or(&[]);
            find_rows(t, args, Slot::value, matched, &mut self.candidates);
        }
        let describe = |ev: &Self| -> String {
            t.params
                .iter()
                .zip(ev.stack.get(base..).unwrap_or(&[]))
                .map(|((n, ty, _), v)| format!("{n} = {}", ev.p.render(v.value(), ty)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let row_result = |ev: &mut Self, i: usize| -> R<Value> {
            match t.rows.get(i) {
                Some(r) => ev.eval(&r.result),
                None => Err(fail(Code::Internal, span, "row missing")),
            }
        };
        match t.hit {
            HitPolicy::Unique | HitPolicy::First => match matched.as_slice() {
                [] => Err(fail(
                    Code::NoRowMatched,
                    span,
                    format!("no row of table `{}` matches {}", t.name, describe(self)),
                )
                .with_help(format!(
                    "add a row to `{}` for these values, or check the inputs",
                    t.name
                ))),
                [one] => row_result(self, *one),
                [a, b, ..] => Err(fail(
                    Code::RowsOverlap,
                    span,
                    format!(
                        "rows {} and {} of unique table `{}` both match {}",
                        a + 1,
                        b + 1,
                        t.name,
                        describe(self)
                    ),
                )
                .with_help("make the rows exclusive, or use `hit first`".into())),
            },
            HitPolicy::CollectCount => Ok(Value::Int(matched.len() as i64)),
            HitPolicy::Priority | HitPolicy::OutputOrder => {
                let mut out = Vec::with_capacity(matched.len());
                for &i in matched.iter() {
                    out.push(row_result(self, i)?);
                }
                // Stable: equal results keep their rows' order.
                out.sort_by_key(|v| match v {
                    Value::Enum(k) => *k,
                    _ => u32::MAX,
                });
                if t.hit == HitPolicy::OutputOrder {
                    return Ok(Value::List(out.into()));
                }
                out.into_iter().next().ok_or_else(|| {
                    fail(
                        Code::NoRowMatched,
                        span,
                        format!("no row of table `{}` matches {}", t.name, describe(self)),
                    )
                    .with_help(format!("add a row to `{}` for these values", t.name))
                })
            }
            HitPolicy::CollectList => {
                let mut out = Vec::with_capacity(matched.len());
                for &i in matched.iter() {
                    out.push(row_result(self, i)?);
                }
                Ok(Value::List(out.into()))
            }
            HitPolicy::CollectSum => {
                let mut acc = zero_of(&t.ret);
                for &i in matched.iter() {
                    let v = row_result(self, i)?;
                    acc = arith(ArithOp::Add, &acc, &v, span, span)?;
                }
                Ok(acc)
            }
            HitPolicy::CollectMin | HitPolicy::CollectMax => {
                let mut best: Option<Value> = None;
                for &i in matched.iter() {
                    let v = row_result(self, i)?;
                    best = Some(match best {
                        None => v,
                        Some(b) => pick(b, v, t.hit == HitPolicy::CollectMin),
                    });
                }
                best.ok_or_else(|| {
                    fail(
                        Code::NoRowMatched,
                        span,
                        format!("no row of table `{}` matches {}", t.name, describe(self)),
                    )
                    .with_help(format!("add a row to `{}` for these values", t.name))
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(never)] // keeps `eval`'s own frame small: it recurses on every node
    fn aggregate(
        &mut self,
        kind: Aggregate,
        slot: u32,
        list: &Expr,
        projection: Option<&Expr>,
        filter: Option<&Expr>,
        if_empty: Option<&Expr>,
        e: &Expr,
    ) -> R<Value> {
        let at = self.base + slot as usize;
        if self.stack.len() <= at {
            return self.aggregate_here(kind, slot, list, projection, filter, if_empty, e);
        }
        // Above this frame's locals lie the arguments already computed for
        // a call whose later argument is this aggregate (`f(a, sum(...))`).
        // The element takes the slot where they are, so they wait aside.
        let waiting = self.stack.split_off(at);
        let r = self.aggregate_here(kind, slot, list, projection, filter, if_empty, e);
        self.stack.truncate(at);
        self.stack.extend(waiting);
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate_here(
        &mut self,
        kind: Aggregate,
        slot: u32,
        list: &Expr,
        projection: Option<&Expr>,
        filter: Option<&Expr>,
        if_empty: Option<&Expr>,
        e: &Expr,
    ) -> R<Value> {
        // A list of the inputs is walked in place; a computed one is held
        // here while its elements take the slot in turn.
        let input_items: Option<&'p [Value]> = match self.input_place(list) {
            Some(Value::List(items)) => Some(items),
            _ => None,
        };
        let owned: Option<Arc<[Value]>> = match input_items {
            Some(_) => None,
            None => match self.eval(list)? {
                Value::List(items) => Some(items),
                _ => return Err(fail(Code::Internal, e.span, "not a list")),
            },
        };
        let len =
            input_items.map_or(0, <[Value]>::len) + owned.as_deref().map_or(0, <[Value]>::len);
        let at = self.base + slot as usize;
        let with_position = matches!(&e.kind, ExprKind::Aggregate { position: true, .. });
        let mut acc: Option<Value> = None;
        let mut count: i64 = 0;
        let mut collected: Vec<Value> = Vec::new();
        for k in 0..len {
            let element = match (input_items, &owned) {
                (Some(items), _) => items.get(k).map(Slot::Input),
                (None, Some(items)) => items.get(k).cloned().map(Slot::Owned),
                (None, None) => None,
            };
            let Some(element) = element else { break };
            self.stack.truncate(at);
            self.stack.push(element);
            if with_position {
                self.stack.push(Slot::Owned(Value::Int(
                    i64::try_from(k).unwrap_or(i64::MAX).saturating_add(1),
                )));
            }
            let keep = match (kind, filter) {
                (Aggregate::Any | Aggregate::All, _) => true,
                (_, Some(f)) => self.holds(f)?,
                (_, None) => true,
            };
            if !keep {
                continue;
            }
            match kind {
                Aggregate::Any | Aggregate::All => {
                    let holds = match filter {
                        Some(f) => self.holds(f)?,
                        None => true,
                    };
                    if kind == Aggregate::Any && holds {
                        self.stack.truncate(at);
                        return Ok(Value::Bool(true));
                    }
                    if kind == Aggregate::All && !holds {
                        self.stack.truncate(at);
                        return Ok(Value::Bool(false));
                    }
                }
                Aggregate::Count => count += 1,
                Aggregate::Collect => collected.push(match projection {
                    Some(p) => self.eval(p)?,
                    None => self.local(slot, e.span)?,
                }),
                Aggregate::Sum | Aggregate::Min | Aggregate::Max => {
                    let v = match projection {
                        Some(p) => self.eval(p)?,
                        None => self.local(slot, e.span)?,
                    };
                    acc = Some(match (acc, kind) {
                        (None, _) => v,
                        (Some(a), Aggregate::Sum) => arith(ArithOp::Add, &a, &v, e.span, e.span)?,
                        (Some(a), k) => pick(a, v, k == Aggregate::Min),
                    });
                }
            }
        }
        self.stack.truncate(at);
        match kind {
            Aggregate::Any => Ok(Value::Bool(false)),
            Aggregate::All => Ok(Value::Bool(true)),
            Aggregate::Count => Ok(Value::Int(count)),
            Aggregate::Collect => Ok(Value::List(collected.into())),
            Aggregate::Sum => Ok(acc.unwrap_or_else(|| zero_of(&e.ty))),
            Aggregate::Min | Aggregate::Max => match acc {
                Some(v) => Ok(v),
                None => match if_empty {
                    Some(x) => self.eval(x),
                    None => Err(fail(
                        Code::EmptyList,
                        e.span,
                        format!(
                            "`{}` of an empty list has no value",
                            if kind == Aggregate::Min { "min" } else { "max" }
                        ),
                    )
                    .with_help("add a value for the empty case: `... if empty 0 €`".into())),
                },
            },
        }
    }

    // ---- explanations -----------------------------------------------------

    /// An output's explanation. The output was computed before, so its
    /// value is known; an unknown output is a broken invariant, reported as
    /// such rather than explained with an empty name and value.
    fn explain_output(&mut self, o: u32) -> R<OutputExplanation> {
        let p = self.p;
        let Some(d) = p.defs.get(o as usize) else {
            return Err(fail(
                Code::Internal,
                Span::default(),
                "an output that does not exist",
            ));
        };
        let value = p.render(&self.def(o)?, &d.ty);
        let mut steps = Vec::new();
        let mut seen = vec![false; p.defs.len()];
        self.explain_def(o, &mut steps, &mut seen);
        let citation = self.citation_in_effect(d);
        Ok(OutputExplanation {
            output: d.name.clone(),
            section: citation.section.clone(),
            source: citation.source.clone(),
            value,
            steps,
        })
    }

    /// Why a criterion failed: its condition with the case's values
    /// substituted, then how each value it used was reached.
    fn explain_criterion(&mut self, c: &crate::ir::CriterionInfo) -> CriterionExplanation {
        let mut steps = vec![format!(
            "{}: {} is false",
            c.name,
            self.substitute_condition(&c.condition)
        )];
        // The facts of the case the condition reads directly, each once.
        let mut facts: Vec<String> = Vec::new();
        let mut pending = vec![&c.condition];
        while let Some(e) = pending.pop() {
            if let Some(path) = self.p.input_path(e) {
                if let Ok(v) = self.eval(e) {
                    let fact = format!("{path} = {}", self.p.render(&v, &e.ty));
                    if !facts.contains(&fact) {
                        facts.push(fact);
                    }
                }
                continue;
            }
            crate::ir::each_child(e, &mut |x| pending.push(x));
        }
        facts.sort();
        steps.extend(facts.into_iter().map(|f| format!("{f} (from the case)")));
        let mut seen = vec![false; self.p.defs.len()];
        self.explain_uses(&c.condition, &mut steps, &mut seen);
        CriterionExplanation {
            criterion: c.name.clone(),
            section: c.citation.section.clone(),
            source: c.citation.source.clone(),
            reason: c.reason.clone(),
            steps,
        }
    }

    /// The citation of what decided a definition: the exception that
    /// applied, if it has a citation of its own, or the definition's.
    fn citation_in_effect<'d>(&mut self, d: &'d DefInfo) -> &'d Citation {
        cited(d, self.applied_override(d))
    }

    /// The exception that decided a definition, if one did.
    fn applied_override<'d>(&mut self, d: &'d DefInfo) -> Option<&'d OverrideInfo> {
        match &d.body {
            DefBody::Rule { overrides, .. } if !overrides.is_empty() => {
                self.winning_override(overrides).ok().flatten()
            }
            _ => None,
        }
    }

    fn explain_def(&mut self, i: u32, steps: &mut Vec<String>, seen: &mut [bool]) {
        match seen.get_mut(i as usize) {
            Some(s) if !*s => *s = true,
            _ => return,
        }
        let p = self.p;
        let Some(d) = p.defs.get(i as usize) else {
            return;
        };
        let Ok(v) = self.def(i) else { return };
        // Decided once: the citation and the steps follow the same exception.
        let applied = self.applied_override(d);
        let cite = cite(cited(d, applied));
        let shown = p.render(&v, &d.ty);
        match &d.body {
            DefBody::Dated(values) => {
                let since = values
                    .iter()
                    .rev()
                    .find(|(f, _)| f.is_none_or(|f| f <= self.date))
                    .and_then(|(f, _)| *f)
                    .map(|f| format!(", in force from {f}"))
                    .unwrap_or_default();
                steps.push(format!("{} = {shown}{cite}{since}", d.name));
            }
            DefBody::Rule { base, .. } => {
                let (expr, note) = match applied {
                    Some(o) => (&o.value, format!(" (override applies: unless {})", o.text)),
                    None => (base, String::new()),
                };
                let formula = if applied.is_some() {
                    String::new()
                } else {
                    format!(" = {}", d.formula)
                };
                let substituted = self.substitute(expr, 0);
                let middle = if substituted == shown {
                    String::new()
                } else {
                    format!(" = {substituted}")
                };
                steps.push(format!("{}{formula}{middle} = {shown}{note}{cite}", d.name));
                self.explain_uses(expr, steps, seen);
            }
        }
    }

    /// Explains what an expression uses: each definition once, each table
    /// row and scale bracket it read.
    fn explain_uses(&mut self, expr: &Expr, steps: &mut Vec<String>, seen: &mut [bool]) {
        let p = self.p;
        let mut refs = Vec::new();
        collect_refs(expr, &mut refs);
        for r in refs {
            match r {
                Ref::Def(j) => with_stack(|| self.explain_def(j, steps, seen)),
                Ref::Table(t, args) => self.explain_table(t, args, steps),
                Ref::Scale(s, arg) => {
                    if let (Some(sc), Ok(x)) = (p.scales.get(s as usize), self.eval(arg)) {
                        let r = scale_value(sc, &x, arg.span)
                            .map(|v| p.render(&v, &sc.ret))
                            .unwrap_or_default();
                        steps.push(format!(
                            "{}({}) = {r} ({} scale{})",
                            sc.name,
                            p.render(&x, &sc.param.1),
                            if sc.kind == ScaleKind::Marginal {
                                "marginal"
                            } else {
                                "single-amount"
                            },
                            cite_inline(&sc.citation)
                        ));
                    }
                }
            }
        }
    }

    fn explain_table(&mut self, t: u32, args: &[Expr], steps: &mut Vec<String>) {
        let p = self.p;
        let Some(table) = p.tables.get(t as usize) else {
            return;
        };
        let Ok(frame) = self.frame(args) else { return };
        let saved = std::mem::replace(&mut self.base, frame);
        let mut rows = Vec::new();
        let result = self.table(table, Span::default(), &mut rows);
        let shown_args: Vec<String> = table
            .params
            .iter()
            .zip(self.stack.get(frame..).unwrap_or(&[]))
            .map(|((_, ty, _), v)| p.render(v.value(), ty))
            .collect();
        self.stack.truncate(frame);
        self.base = saved;
        if let Ok(v) = result {
            let rows: Vec<String> = rows.iter().map(|r| (r + 1).to_string()).collect();
            steps.push(format!(
                "{}({}) = {} (row {} of the table{})",
                table.name,
                shown_args.join(", "),
                p.render(&v, &table.ret),
                rows.join(", "),
                cite_inline(&table.citation)
            ));
        }
    }

    /// A condition with the values it compares: `17 >= 18`, not `false`;
    /// `and`, `or` and `not` show each part.
    fn substitute_condition(&mut self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Cmp(op, a, b) => {
                let sym = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "≠",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "≤",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => "≥",
                };
                format!("{} {sym} {}", self.substitute(a, 0), self.substitute(b, 0))
            }
            ExprKind::And(a, b) => format!(
                "({}) and ({})",
                self.substitute_condition(a),
                self.substitute_condition(b)
            ),
            ExprKind::Or(a, b) => format!(
                "({}) or ({})",
                self.substitute_condition(a),
                self.substitute_condition(b)
            ),
            ExprKind::Not(x) => format!("not ({})", self.substitute_condition(x)),
            ExprKind::In(v, options, negated) => {
                let shown: Vec<String> = options.iter().map(|o| self.substitute(o, 0)).collect();
                format!(
                    "{} {}in [{}]",
                    self.substitute(v, 0),
                    if *negated { "not " } else { "" },
                    shown.join(", ")
                )
            }
            _ => self.substitute(e, 0),
        }
    }

    /// The expression with every name replaced by its value.
    fn substitute(&mut self, e: &Expr, parent_prec: u8) -> String {
        let p = self.p;
        match &e.kind {
            ExprKind::Arith(op, a, b) => {
                let (prec, sym) = match op {
                    ArithOp::Add => (1, "+"),
                    ArithOp::Sub => (1, "−"),
                    ArithOp::Mul => (2, "×"),
                    ArithOp::Div => (2, "/"),
                };
                let s = format!(
                    "{} {sym} {}",
                    self.substitute(a, prec),
                    self.substitute(b, prec + 1)
                );
                if prec < parent_prec {
                    format!("({s})")
                } else {
                    s
                }
            }
            ExprKind::Round(x, target, mode) => {
                let t = match target {
                    RoundTarget::Cents(1) => "cents".to_string(),
                    RoundTarget::Cents(100) => "whole euros".to_string(),
                    RoundTarget::Cents(n) => format!("{n} cents"),
                    RoundTarget::Decimals(n) => format!("{n} decimals"),
                };
                let m = match mode {
                    RoundMode::HalfUp => "",
                    RoundMode::HalfEven => " half even",
                    RoundMode::Down => " down",
                    RoundMode::Up => " up",
                };
                let inner = self.substitute(x, 0);
                let s = format!("{inner} rounded to {t}{m}");
                if parent_prec > 0 {
                    format!("({s})")
                } else {
                    s
                }
            }
            // The smallest or largest of several values shows them all.
            ExprKind::Builtin(b @ (Builtin::Min | Builtin::Max), args) => {
                let name = if *b == Builtin::Min { "min" } else { "max" };
                let shown: Vec<String> = args.iter().map(|a| self.substitute(a, 0)).collect();
                format!("{name}({})", shown.join(", "))
            }
            _ => match self.eval(e) {
                Ok(v) => p.render(&v, &e.ty),
                Err(_) => "?".into(),
            },
        }
    }
}

enum Ref<'e> {
    Def(u32),
    Table(u32, &'e [Expr]),
    Scale(u32, &'e Expr),
}

fn collect_refs<'e>(e: &'e Expr, out: &mut Vec<Ref<'e>>) {
    each_child(e, &mut |c| collect_refs(c, out));
    match &e.kind {
        ExprKind::Def(i) => out.push(Ref::Def(*i)),
        ExprKind::Table(t, args) => out.push(Ref::Table(*t, args)),
        ExprKind::Scale(s, arg) => out.push(Ref::Scale(*s, arg)),
        _ => {}
    }
}

/// The citation of a definition as decided: the exception's own, when the
/// exception that applied has one, else the definition's.
fn cited<'d>(d: &'d DefInfo, applied: Option<&'d OverrideInfo>) -> &'d Citation {
    match applied {
        Some(o) if o.citation.section.is_some() || o.citation.source.is_some() => &o.citation,
        _ => &d.citation,
    }
}

fn cite(c: &Citation) -> String {
    match (&c.section, &c.source) {
        (Some(s), Some(src)) => format!(" (§ {s}, {src})"),
        (Some(s), None) => format!(" (§ {s})"),
        (None, Some(src)) => format!(" ({src})"),
        (None, None) => String::new(),
    }
}

fn cite_inline(c: &Citation) -> String {
    match (&c.section, &c.source) {
        (Some(s), _) => format!(", § {s}"),
        (None, Some(src)) => format!(", {src}"),
        (None, None) => String::new(),
    }
}

fn arith(op: ArithOp, x: &Value, y: &Value, span: Span, rhs_span: Span) -> R<Value> {
    match (x, y) {
        (Value::Int(a), Value::Int(b)) if op != ArithOp::Div => integer_arith(op, *a, *b)
            .map(Value::Int)
            .ok_or_else(|| too_large(span)),
        (Value::Date(d), Value::Duration(dur)) => {
            let r = if op == ArithOp::Sub {
                dates::sub_duration(*d, *dur)
            } else {
                dates::add_duration(*d, *dur)
            };
            r.map(Value::Date).ok_or_else(|| {
                fail(
                    Code::DateOutOfRange,
                    span,
                    "the resulting date is outside the calendar",
                )
            })
        }
        (Value::Duration(dur), Value::Date(d)) => dates::add_duration(*d, *dur)
            .map(Value::Date)
            .ok_or_else(|| {
                fail(
                    Code::DateOutOfRange,
                    span,
                    "the resulting date is outside the calendar",
                )
            }),
        (Value::Duration(a), Value::Duration(b)) => {
            let (m, d) = if op == ArithOp::Sub {
                (a.months.checked_sub(b.months), a.days.checked_sub(b.days))
            } else {
                (a.months.checked_add(b.months), a.days.checked_add(b.days))
            };
            match (m, d) {
                (Some(months), Some(days)) => Ok(Value::Duration(Duration { months, days })),
                _ => Err(too_large(span)),
            }
        }
        _ => {
            let (Some(a), Some(b)) = (x.as_decimal(), y.as_decimal()) else {
                return Err(fail(Code::Internal, span, "not numbers"));
            };
            if op == ArithOp::Div && b.is_zero() {
                return Err(
                    fail(Code::DivisionByZero, rhs_span, "division by zero").with_help(
                        "guard the division, for example `if x = 0 then ... else a / x`".into(),
                    ),
                );
            }
            decimal_arith(op, a, b)
                .map(Value::Num)
                .ok_or_else(|| too_large(span))
        }
    }
}

fn builtin(b: Builtin, vals: &[Value], span: Span) -> R<Value> {
    let first = vals
        .first()
        .cloned()
        .ok_or_else(|| fail(Code::Internal, span, "missing argument"))?;
    let date = |v: &Value| match v {
        Value::Date(d) => Ok(*d),
        _ => Err(fail(Code::Internal, span, "not a date")),
    };
    let int = |v: &Value| match v {
        Value::Int(i) => Ok(*i),
        _ => Err(fail(Code::Internal, span, "not an integer")),
    };
    Ok(match b {
        Builtin::Min | Builtin::Max => vals
            .iter()
            .skip(1)
            .cloned()
            .fold(first, |a, v| pick(a, v, b == Builtin::Min)),
        Builtin::Abs => match first {
            Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(|| too_large(span))?),
            Value::Num(d) => Value::Num(d.abs()),
            other => other,
        },
        Builtin::FirstDayOfMonth => Value::Date(dates::first_day_of_month(date(&first)?)),
        Builtin::LastDayOfMonth => Value::Date(dates::last_day_of_month(date(&first)?)),
        Builtin::FirstDayOfYear => Value::Date(dates::first_day_of_year(date(&first)?)),
        Builtin::LastDayOfYear => Value::Date(dates::last_day_of_year(date(&first)?)),
        Builtin::Years => Value::Duration(Duration {
            months: int(&first)?
                .checked_mul(12)
                .ok_or_else(|| too_large(span))?,
            days: 0,
        }),
        Builtin::Months => Value::Duration(Duration {
            months: int(&first)?,
            days: 0,
        }),
        Builtin::Days => Value::Duration(Duration {
            months: 0,
            days: int(&first)?,
        }),
    })
}

/// The value of a scale for a base amount. See `docs/language.md#scales`.
pub fn scale_value(s: &ScaleInfo, x: &Value, span: Span) -> R<Value> {
    let base = x
        .as_decimal()
        .ok_or_else(|| fail(Code::Internal, span, "not a number"))?;
    match s.kind {
        ScaleKind::Marginal => marginal_total(s, base)
            .map(Value::Num)
            .ok_or_else(|| too_large(span)),
        ScaleKind::SingleAmount => {
            let Some(chosen) = bracket_of(s, base) else {
                let first = s.thresholds.first();
                return Err(fail(
                    Code::BelowScale,
                    span,
                    format!("{base} is below the first bracket of `{}`", s.name),
                )
                .with_help(format!(
                    "the scale `{}` starts at {}",
                    s.name,
                    first.map(|f| f.to_string()).unwrap_or_default()
                )));
            };
            s.brackets
                .get(chosen)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| fail(Code::Internal, span, "empty scale"))
        }
    }
}

/// A decision as services receive it; the schema is in `docs/cli.md`.
pub fn decision_json(p: &Program, case: &Case, d: &Decision) -> serde_json::Value {
    let mut outputs = serde_json::Map::new();
    for (i, v) in &d.outputs {
        if let Some(def) = p.defs.get(*i as usize) {
            outputs.insert(def.name.clone(), p.to_json(v, &def.ty));
        }
    }
    let mut out = serde_json::json!({
        "rulebook": p.id,
        "version": p.version,
        "decision_date": case.decision_date.to_string(),
        "eligible": d.eligible,
        "failed_criteria": d.failed_criteria,
        "outputs": outputs,
    });
    if let (Some(e), Some(map)) = (&d.explanation, out.as_object_mut()) {
        map.insert("explanation".into(), serde_json::json!(e));
    }
    if let (Some(e), Some(map)) = (&d.criteria_explanation, out.as_object_mut()) {
        map.insert("criteria_explanation".into(), serde_json::json!(e));
    }
    if let (Some(g), Some(map)) = (&d.graph, out.as_object_mut()) {
        map.insert("explanation_graph".into(), serde_json::json!(g));
    }
    out
}
