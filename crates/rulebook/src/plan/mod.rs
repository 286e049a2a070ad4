//! Evaluation plans: a checked rulebook compiled once more, for speed, into
//! a flat list of typed steps over numbered registers.
//!
//! The interpreter (`eval`) walks the expression tree and, at every step,
//! moves `Value`s in and out of its definition cache and frames. A plan
//! decides the same cases doing less per step: amounts, integers, dates and
//! truth values live in registers of their own type; every definition is
//! computed once, in dependency order, without a cache; a function is
//! expanded where it is called, and a call repeated with the same arguments
//! (`age_of(p)` in several rules about one member) is computed once; parts
//! of the inputs are read in place. What depends on nothing but the
//! decision date (constants, parameters in force, a table row chosen by
//! the date, a comparison of the date) goes to a prelude, which runs for
//! the first case of a date and is kept for the next ones.
//!
//! A plan speeds the interpreter up and never overrules it. A rulebook that
//! uses what plans do not cover (text, durations, lists built by a rule)
//! has no plan, and any failure while a plan runs (an overflow, a division
//! by zero, a table with no row or two rows for a case, a parameter with no
//! value in force) gives the case to the interpreter, which decides it and
//! words the error. Because a plan computes definitions before they are
//! asked for, it can fail where the interpreter, asking lazily, would not;
//! such a case is decided by the interpreter too. Every arithmetic step is
//! the interpreter's own (`checked_*`, `round`, `scale_value`, the same
//! row tests, the same order of operands), so both give the same values to
//! the last decimal place: `tests/plan.rs` holds them to that.

use crate::ir::value::{compare_amounts, Duration, Type, Value};
use crate::ir::*;
use crate::semantics::arithmetic::{decimal_arith, in_force, integer_arith, ordering_holds, round};
use crate::semantics::dates;
use crate::semantics::decision::{Case, Decision, FailedCriterion};
use crate::semantics::rows::find_rows;
use crate::semantics::scales::{bracket_of, marginal_total};
use crate::syntax::ast::{Aggregate, DurationUnit, HitPolicy, RoundMode, RoundTarget, ScaleKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::HashMap;

/// A register: its file and its number there. Integers, truth values and
/// enum variants share one file of `i64`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reg {
    Num(u32),
    Int(u32),
    Bool(u32),
    Enum(u32),
    Date(u32),
    /// A part of the inputs (a record or a list), read in place.
    Place(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Num,
    Int,
    Bool,
    Enum,
    Date,
    Place,
}

fn class_of(ty: &Type) -> Option<Class> {
    Some(match ty {
        Type::Money | Type::Decimal | Type::Percent => Class::Num,
        Type::Integer => Class::Int,
        Type::Bool => Class::Bool,
        Type::Enum(_) => Class::Enum,
        Type::Date => Class::Date,
        Type::Record(_) | Type::List(_) => Class::Place,
        Type::Text | Type::Duration | Type::Optional(_) | Type::Error => return None,
    })
}

impl Reg {
    fn class(self) -> Class {
        match self {
            Reg::Num(_) => Class::Num,
            Reg::Int(_) => Class::Int,
            Reg::Bool(_) => Class::Bool,
            Reg::Enum(_) => Class::Enum,
            Reg::Date(_) => Class::Date,
            Reg::Place(_) => Class::Place,
        }
    }
}

/// One step. Registers are numbers within their file; jump targets are
/// positions in the plan's steps.
#[derive(Debug, Clone)]
enum Op {
    Num(u32, Decimal),
    Int(u32, i64),
    Date(u32, NaiveDate),
    Move(Reg, Reg),
    IntToNum(u32, u32),
    /// A date moved forward (or back) by a duration.
    Shift(u32, u32, Duration, bool),
    /// The value in force of a parameter (a definition).
    Param(u32, Reg),
    Input(u32, Reg),
    /// A field of the record at a place.
    Field(u32, u32, Reg),
    /// The value at a place (an element of a list of numbers, say).
    Load(u32, Reg),
    Arith(ArithOp, u32, u32, u32),
    ArithInt(ArithOp, u32, u32, u32),
    NegNum(u32, u32),
    NegInt(u32, u32),
    CmpNum(CmpOp, u32, u32, u32),
    CmpInt(CmpOp, u32, u32, u32),
    CmpDate(CmpOp, u32, u32, u32),
    Not(u32, u32),
    Inc(u32),
    Jump(u32),
    JumpIfZero(u32, u32),
    JumpIfNonZero(u32, u32),
    /// A comparison and the jump that tests it, in one step: `d = a op b`,
    /// then a jump to `target` when `d` is `when`.
    CmpJump {
        kind: Compared,
        op: CmpOp,
        d: u32,
        a: u32,
        b: u32,
        when: bool,
        target: u32,
    },
    Between(DurationUnit, u32, u32, u32),
    Round(u32, Reg, RoundTarget, RoundMode),
    Scale(u32, Reg, Reg),
    DateOf(Builtin, u32, u32),
    Abs(Reg, Reg),
    /// `dst = pick(dst, src)`: the smaller (or larger) of the two, the
    /// first on a tie, as the interpreter's `min`, `max` and aggregates.
    Pick(bool, Reg, Reg),
    IterStart(u32),
    IterNext {
        counter: u32,
        list: u32,
        elem: u32,
        exit: u32,
    },
    /// The first value kept, or the sum (minimum, maximum) so far with it.
    Accumulate {
        kind: Aggregate,
        acc: Reg,
        has: u32,
        v: Reg,
    },
    /// The one row of a unique or first-hit table that matches. An
    /// argument no row tests (its column all `-`) is left out.
    Row {
        table: u32,
        args: Box<[Option<Reg>]>,
        dst: u32,
    },
    /// Whether one row of a collecting table matches; an argument the row
    /// does not test is left out.
    RowMatches {
        table: u32,
        row: u32,
        args: Box<[Option<Reg>]>,
        dst: u32,
    },
    Switch(u32, Box<[u32]>),
    /// The override that wins (its position plus one), or 0 for none.
    Overrides(Box<[(u32, Box<[u32]>)]>, u32),
    FailIfZero(u32),
    Fail,
}

/// What a fused comparison compares.
#[derive(Debug, Clone, Copy)]
enum Compared {
    Amounts,
    Integers,
    Dates,
}

/// A register's place in the files: integers, truth values and enum
/// variants share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Num(u32),
    Int(u32),
    Date(u32),
    Place(u32),
}

impl Reg {
    fn slot(self) -> Slot {
        match self {
            Reg::Num(r) => Slot::Num(r),
            Reg::Int(r) | Reg::Bool(r) | Reg::Enum(r) => Slot::Int(r),
            Reg::Date(r) => Slot::Date(r),
            Reg::Place(r) => Slot::Place(r),
        }
    }
}

impl Op {
    /// For a step that computes a value from registers, and only from
    /// them: the register it writes and those it reads. `None` for every
    /// other step (reading the inputs, jumps, accumulating).
    fn computes(&self) -> Option<(Slot, Vec<Slot>)> {
        let (n, i, d) = (Slot::Num, Slot::Int, Slot::Date);
        Some(match self {
            Op::Num(x, _) => (n(*x), vec![]),
            Op::Int(x, _) => (i(*x), vec![]),
            Op::Date(x, _) => (d(*x), vec![]),
            Op::IntToNum(x, a) => (n(*x), vec![i(*a)]),
            Op::Shift(x, a, _, _) => (d(*x), vec![d(*a)]),
            Op::Param(_, x) => (x.slot(), vec![d(0)]),
            Op::Arith(_, x, a, b) => (n(*x), vec![n(*a), n(*b)]),
            Op::ArithInt(_, x, a, b) => (i(*x), vec![i(*a), i(*b)]),
            Op::NegNum(x, a) => (n(*x), vec![n(*a)]),
            Op::NegInt(x, a) | Op::Not(x, a) => (i(*x), vec![i(*a)]),
            Op::CmpNum(_, x, a, b) => (i(*x), vec![n(*a), n(*b)]),
            Op::CmpInt(_, x, a, b) => (i(*x), vec![i(*a), i(*b)]),
            Op::CmpDate(_, x, a, b) | Op::Between(_, x, a, b) => (i(*x), vec![d(*a), d(*b)]),
            Op::Round(x, a, _, _) => (n(*x), vec![a.slot()]),
            Op::Scale(_, x, a) | Op::Abs(x, a) => (x.slot(), vec![a.slot()]),
            Op::DateOf(_, x, a) => (d(*x), vec![d(*a)]),
            Op::Row { args, dst, .. } | Op::RowMatches { args, dst, .. } => {
                (i(*dst), args.iter().flatten().map(|r| r.slot()).collect())
            }
            _ => return None,
        })
    }

    /// Makes a step that computes `from` (and is the only one to write
    /// it) write `to` instead; false when it is not such a step.
    fn retarget(&mut self, from: Reg, to: Reg) -> bool {
        if from.class() != to.class() {
            return false;
        }
        let (Slot::Num(index) | Slot::Int(index) | Slot::Date(index) | Slot::Place(index)) =
            to.slot();
        let writes_from = self.computes().is_some_and(|(w, _)| w == from.slot());
        match self {
            Op::IntToNum(x, _)
            | Op::Shift(x, ..)
            | Op::Arith(_, x, ..)
            | Op::ArithInt(_, x, ..)
            | Op::NegNum(x, _)
            | Op::NegInt(x, _)
            | Op::Not(x, _)
            | Op::CmpNum(_, x, ..)
            | Op::CmpInt(_, x, ..)
            | Op::CmpDate(_, x, ..)
            | Op::Between(_, x, ..)
            | Op::Round(x, ..)
            | Op::DateOf(_, x, _)
                if writes_from =>
            {
                *x = index;
                true
            }
            Op::Input(_, x)
            | Op::Field(_, _, x)
            | Op::Load(_, x)
            | Op::Scale(_, x, _)
            | Op::Abs(x, _)
                if *x == from =>
            {
                *x = to;
                true
            }
            _ => false,
        }
    }
}

/// A compiled plan for one program. See the module's documentation.
#[derive(Debug)]
pub struct Plan {
    /// Tells this plan's registers from another's in a `Registers`.
    id: u64,
    /// The steps whose values depend on nothing but the decision date:
    /// run for the first case of a date, and kept for the next cases.
    prelude: Vec<Op>,
    code: Vec<Op>,
    criteria_end: usize,
    criteria: Vec<u32>,
    outputs: Vec<(u32, Reg)>,
    nums: usize,
    ints: usize,
    dates: usize,
    places: usize,
}

/// A plan's working memory, kept from one case to the next.
#[derive(Default)]
pub struct Registers {
    num: Vec<Decimal>,
    int: Vec<i64>,
    date: Vec<NaiveDate>,
    places: Vec<&'static Value>,
    args: Vec<Value>,
    matched: Vec<usize>,
    candidates: Vec<u32>,
    /// The plan and decision date whose prelude the registers hold.
    prelude_for: Option<(u64, NaiveDate)>,
}

/// Numbers the plans, so that registers know whose prelude they hold.
static PLANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Where places point before anything is read: never read, since every
/// register is written before it is used.
static NOTHING: Value = Value::Bool(false);

/// An empty vector of places for another lifetime, keeping its memory.
#[allow(clippy::unnecessary_filter_map)] // the point is the element type
fn relabel<'b>(v: Vec<&Value>) -> Vec<&'b Value> {
    let mut v = v;
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Steps beyond which a plan is not worth its memory (a rulebook whose
/// functions expand into each other many times over).
const MAX_STEPS: usize = 1 << 20;
/// Functions expanded within each other beyond which there is no plan.
const MAX_DEPTH: u32 = 64;

impl Plan {
    /// The plan of a program, or why it has none (it uses something plans
    /// do not cover).
    pub fn compile(p: &Program) -> Result<Plan, NoPlan> {
        let mut c = Compiler::new(p);
        match c.compile() {
            Some(plan) => Ok(plan),
            None => Err(c.refused.take().unwrap_or_else(|| {
                NoPlan::at(
                    crate::diagnostic::Span::default(),
                    "the rulebook uses a construct plans do not cover",
                )
            })),
        }
    }

    /// The plan's steps, one per line, for reading when a plan and the
    /// interpreter disagree: the prelude, the criteria's steps, the outputs'
    /// steps, and which register holds each criterion and output.
    pub fn listing(&self, p: &Program) -> String {
        use std::fmt::Write;
        let name = |i: u32| p.defs.get(i as usize).map_or("?", |d| d.name.as_str());
        let mut out = format!(
            "plan {}: {} num, {} int, {} date, {} place registers\n",
            self.id, self.nums, self.ints, self.dates, self.places
        );
        let mut part = |title: &str, ops: &[Op], from: usize| {
            let _ = writeln!(out, "{title}:");
            for (k, op) in ops.iter().enumerate() {
                let _ = writeln!(out, "  {:>5}  {op:?}", from + k);
            }
        };
        part("prelude", &self.prelude, 0);
        let (criteria, outputs) = self.code.split_at(self.criteria_end.min(self.code.len()));
        part("criteria", criteria, 0);
        part("outputs", outputs, self.criteria_end);
        for (k, &c) in self.criteria.iter().enumerate() {
            let crit = p.criteria.get(k).map_or("?", |c| c.name.as_str());
            let _ = writeln!(out, "criterion {crit} in Bool({c})");
        }
        for &(o, r) in &self.outputs {
            let _ = writeln!(out, "output {} in {r:?}", name(o));
        }
        out
    }

    /// Decides a case, or `None` when the interpreter has to (see the
    /// module's documentation). `p` is the program the plan was compiled
    /// from.
    pub fn decide(&self, p: &Program, case: &Case, regs: &mut Registers) -> Option<Decision> {
        let places = relabel(std::mem::take(&mut regs.places));
        let mut m = Machine {
            p,
            inputs: &case.inputs,
            num: &mut regs.num,
            int: &mut regs.int,
            date: &mut regs.date,
            places,
            args: &mut regs.args,
            matched: &mut regs.matched,
            candidates: &mut regs.candidates,
        };
        // Registers are written before they are read, so what an earlier
        // case left in them does not matter; only their number does.
        if m.num.len() < self.nums {
            m.num.resize(self.nums, Decimal::ZERO);
        }
        if m.int.len() < self.ints {
            m.int.resize(self.ints, 0);
        }
        if m.date.len() < self.dates {
            m.date.resize(self.dates, case.decision_date);
        }
        m.set_d(0, case.decision_date)?;
        m.places.resize(self.places, &NOTHING);
        // Only the prelude writes its registers, so they keep their values
        // from one case to the next on the same date. A prelude that fails
        // gives the case to the interpreter, as any failure does.
        let key = (self.id, case.decision_date);
        let ready = regs.prelude_for == Some(key) || m.exec(&self.prelude, 0).is_some();
        let decision = if ready { self.run(p, &mut m) } else { None };
        regs.places = relabel(m.places);
        regs.prelude_for = ready.then_some(key);
        decision
    }

    fn run<'a>(&self, p: &'a Program, m: &mut Machine<'a, '_>) -> Option<Decision> {
        // The criteria's steps come first; the outputs' steps run only for
        // an eligible case, as the interpreter computes outputs only then.
        m.exec(self.code.get(..self.criteria_end)?, 0)?;
        let mut failed = Vec::new();
        for (c, &r) in p.criteria.iter().zip(&self.criteria) {
            if *m.int.get(r as usize)? == 0 {
                failed.push(FailedCriterion {
                    criterion: c.name.clone(),
                    section: c.citation.section.clone(),
                    reason: c.reason.clone(),
                });
            }
        }
        let eligible = failed.is_empty();
        let mut outputs = Vec::new();
        if eligible {
            m.exec(&self.code, self.criteria_end)?;
            // Amounts are written into values made ahead: moving a `Value`
            // built apart into the vector costs more than computing it.
            outputs.resize(self.outputs.len(), (0, Value::Num(Decimal::ZERO)));
            for (slot, &(o, r)) in outputs.iter_mut().zip(&self.outputs) {
                slot.0 = o;
                match (r, &mut slot.1) {
                    (Reg::Num(x), Value::Num(d)) => *d = m.n(x)?,
                    (_, v) => *v = m.value(r)?,
                }
            }
        }
        Some(Decision {
            eligible,
            failed_criteria: failed,
            outputs,
            explanation: None,
            criteria_explanation: None,
            graph: None,
        })
    }
}

// ---- compiling --------------------------------------------------------------

/// What a register already holds, so that it is not computed again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Known {
    Input(u32),
    Field(u32, u32),
    Call(u32, Vec<Reg>),
}

struct Compiler<'p> {
    p: &'p Program,
    /// See `Plan::prelude`.
    prelude: Vec<Op>,
    code: Vec<Op>,
    /// The registers the prelude computes.
    invariant: std::collections::HashSet<Slot>,
    /// The prelude's register for each constant.
    constants: HashMap<Constant, Reg>,
    nums: u32,
    ints: u32,
    dates: u32,
    places: u32,
    defs: Vec<Option<Reg>>,
    in_progress: Vec<bool>,
    /// What is known, by scope: a branch or a loop's body opens a scope,
    /// and what it computed is forgotten when it closes, since it may not
    /// have run.
    memo: Vec<HashMap<Known, Reg>>,
    /// The last position a jump lands at.
    landing: Option<u32>,
    depth: u32,
    /// The definitions the part being compiled (the criteria, then the
    /// outputs) needs, directly or not: those that may join a pass.
    wanted: Vec<bool>,
    /// Why compiling stopped: the innermost expression plans do not cover,
    /// recorded as compilation unwinds from it.
    refused: Option<NoPlan>,
}

impl<'p> Compiler<'p> {
    fn new(p: &'p Program) -> Compiler<'p> {
        Compiler {
            p,
            prelude: Vec::new(),
            code: Vec::new(),
            invariant: std::iter::once(Slot::Date(0)).collect(),
            constants: HashMap::new(),
            nums: 0,
            ints: 0,
            dates: 1, // date register 0 holds the decision date
            places: 0,
            defs: vec![None; p.defs.len()],
            in_progress: vec![false; p.defs.len()],
            memo: vec![HashMap::new()],
            landing: None,
            depth: 0,
            wanted: Vec::new(),
            refused: None,
        }
    }

    fn compile(&mut self) -> Option<Plan> {
        let c = self;
        let p = c.p;
        let mut roots = Vec::new();
        for crit in &p.criteria {
            roots.extend(c.def_refs(&crit.condition));
        }
        c.wanted = c.uses_closure(roots);
        let mut criteria = Vec::new();
        for crit in &p.criteria {
            for d in c.def_refs(&crit.condition) {
                c.ensure_def(d)?;
            }
            let r = c.expr(&crit.condition, &mut Vec::new())?;
            let Reg::Bool(r) = r else { return None };
            criteria.push(r);
        }
        let criteria_end = c.code.len();
        // The outputs' steps run apart from the criteria's: no step may
        // span the two (the compiler's order keeps it from happening; this
        // keeps it so).
        c.landing = Some(c.here());
        c.wanted = c.uses_closure(p.outputs.iter().copied());
        let mut outputs = Vec::new();
        for &o in &p.outputs {
            let r = c.ensure_def(o)?;
            // An output's register is of its type, so that its value is
            // built as the interpreter builds it.
            let fits = matches!(
                (r, &p.defs.get(o as usize)?.ty),
                (Reg::Int(_), Type::Integer)
                    | (Reg::Num(_), Type::Money | Type::Decimal | Type::Percent)
                    | (Reg::Bool(_), Type::Bool)
                    | (Reg::Enum(_), Type::Enum(_))
                    | (Reg::Date(_), Type::Date)
                    | (Reg::Place(_), Type::Record(_) | Type::List(_))
            );
            if !fits {
                let name = p.defs.get(o as usize).map_or("", |d| d.name.as_str());
                return c.refuse(
                    crate::diagnostic::Span::default(),
                    format!("the output `{name}` is computed in a register of another type"),
                );
            }
            outputs.push((o, r));
        }
        if c.code.len() + c.prelude.len() > MAX_STEPS {
            return c.refuse(
                crate::diagnostic::Span::default(),
                format!("the plan would take more than {MAX_STEPS} steps"),
            );
        }
        Some(Plan {
            id: PLANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            prelude: std::mem::take(&mut c.prelude),
            code: std::mem::take(&mut c.code),
            criteria_end,
            criteria,
            outputs,
            nums: c.nums as usize,
            ints: c.ints as usize,
            dates: c.dates as usize,
            places: c.places as usize,
        })
    }
}

/// Why a program has no plan: what plans do not cover, and where. Such a
/// program is decided by the interpreter alone, which is correct but slower;
/// the tests and the `check` fuzz target show this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoPlan {
    pub span: crate::diagnostic::Span,
    pub reason: String,
}

impl std::fmt::Display for NoPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for NoPlan {}

impl NoPlan {
    fn at(span: crate::diagnostic::Span, reason: impl Into<String>) -> NoPlan {
        NoPlan {
            span,
            reason: reason.into(),
        }
    }
}

/// A type's name for a `NoPlan` reason.
fn kind_of(ty: &Type) -> &'static str {
    match ty {
        Type::Text => "text",
        Type::Duration => "a duration",
        _ => "a value of a type",
    }
}

/// A construct's name for a `NoPlan` reason.
fn construct(e: &ExprKind) -> String {
    let what = match e {
        ExprKind::Const(_) => "a constant",
        ExprKind::Input(_) => "an input",
        ExprKind::Def(_) => "a definition",
        ExprKind::Local(_) => "a local name",
        ExprKind::DecisionDate => "the decision date",
        ExprKind::Field(..) => "a field",
        ExprKind::Neg(_) => "a negation",
        ExprKind::Not(_) => "`not`",
        ExprKind::Arith(..) => "arithmetic",
        ExprKind::Cmp(..) => "a comparison",
        ExprKind::And(..) => "`and`",
        ExprKind::Or(..) => "`or`",
        ExprKind::In(..) => "`in`",
        ExprKind::If(..) => "`if`",
        ExprKind::Call(..) => "a function call",
        ExprKind::Table(..) => "a table",
        ExprKind::Scale(..) => "a scale",
        ExprKind::Builtin(b, _) => return format!("the built-in {b:?}").to_lowercase(),
        ExprKind::List(_) => "a list written in a rule",
        ExprKind::Between(..) => "a duration between dates",
        ExprKind::Aggregate { .. } => "an aggregate",
        ExprKind::Round(..) => "rounding",
        #[allow(unreachable_patterns)]
        _ => "this expression",
    };
    what.to_string()
}

/// A constant as a key: an amount with its scale, so that `1` and `1.00`
/// stay apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Constant {
    Num([u8; 16]),
    Int(i64),
    Bool(i64),
    Enum(i64),
    Date(NaiveDate),
}

/// The registers of a frame's locals (parameters, table columns, list
/// elements), by slot.
type Frame = Vec<Option<Reg>>;

impl Compiler<'_> {
    fn fresh(&mut self, class: Class) -> Reg {
        let next = |n: &mut u32| {
            *n += 1;
            *n - 1
        };
        match class {
            Class::Num => Reg::Num(next(&mut self.nums)),
            Class::Int => Reg::Int(next(&mut self.ints)),
            Class::Bool => Reg::Bool(next(&mut self.ints)),
            Class::Enum => Reg::Enum(next(&mut self.ints)),
            Class::Date => Reg::Date(next(&mut self.dates)),
            Class::Place => Reg::Place(next(&mut self.places)),
        }
    }

    fn emit(&mut self, op: Op) -> u32 {
        self.code.push(op);
        self.code.len() as u32 - 1
    }

    /// Emits a step that computes a value (see `Op::computes`): into the
    /// prelude when what it reads is the prelude's.
    fn emit_value(&mut self, op: Op) {
        match op.computes() {
            Some((dst, reads)) if reads.iter().all(|r| self.invariant.contains(r)) => {
                self.invariant.insert(dst);
                self.prelude.push(op);
            }
            _ => self.code.push(op),
        }
    }

    /// The register holding a constant, computed once in the prelude.
    fn constant(&mut self, c: Constant) -> Option<Reg> {
        if let Some(r) = self.constants.get(&c) {
            return Some(*r);
        }
        let class = match c {
            Constant::Num(_) => Class::Num,
            Constant::Int(_) => Class::Int,
            Constant::Bool(_) => Class::Bool,
            Constant::Enum(_) => Class::Enum,
            Constant::Date(_) => Class::Date,
        };
        let r = self.fresh(class);
        let op = match (c, r) {
            (Constant::Num(bytes), Reg::Num(n)) => Op::Num(n, Decimal::deserialize(bytes)),
            (Constant::Int(v) | Constant::Bool(v) | Constant::Enum(v), _) => {
                Op::Int(Self::int_of(r)?, v)
            }
            (Constant::Date(d), Reg::Date(n)) => Op::Date(n, d),
            _ => return None,
        };
        self.emit_value(op);
        self.constants.insert(c, r);
        Some(r)
    }

    fn is_invariant(&self, r: Reg) -> bool {
        self.invariant.contains(&r.slot())
    }

    /// A branch (of an `if`, `and`, `or` or switch) in a scope of its own,
    /// its value put into the joining register `dst`. When the branch's
    /// last step computed the value, that step writes `dst` instead: the
    /// value's register is then the branch's own, known only in its scope,
    /// which closes here.
    fn branch(&mut self, dst: Reg, block: impl FnOnce(&mut Self) -> Option<Reg>) -> Option<()> {
        let start = self.here();
        self.scoped(|c| {
            let r = block(c)?;
            let r = c.convert(r, dst.class())?;
            let last = c.here().checked_sub(1).filter(|l| *l >= start);
            if let Some(op) = last.and_then(|l| c.code.get_mut(l as usize)) {
                if op.retarget(r, dst) {
                    return Some(());
                }
            }
            c.emit(Op::Move(dst, r));
            Some(())
        })
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    /// A jump, to be landed later, taken when `c` is non-zero (`when`) or
    /// zero. When the last step compared into `c`, it takes the jump
    /// itself, unless another jump lands between the two.
    fn jump_if(&mut self, when: bool, c: u32) -> u32 {
        let here = self.here();
        if self.landing != Some(here) {
            if let Some(last) = self.code.last_mut() {
                let fused = match *last {
                    Op::CmpNum(op, d, a, b) => Some((Compared::Amounts, op, d, a, b)),
                    Op::CmpInt(op, d, a, b) => Some((Compared::Integers, op, d, a, b)),
                    Op::CmpDate(op, d, a, b) => Some((Compared::Dates, op, d, a, b)),
                    _ => None,
                };
                if let Some((kind, op, d, a, b)) = fused.filter(|f| f.2 == c) {
                    *last = Op::CmpJump {
                        kind,
                        op,
                        d,
                        a,
                        b,
                        when,
                        target: u32::MAX,
                    };
                    return here - 1;
                }
            }
        }
        self.emit(if when {
            Op::JumpIfNonZero(c, u32::MAX)
        } else {
            Op::JumpIfZero(c, u32::MAX)
        })
    }

    /// Points the jump at `at` to the current position.
    fn land(&mut self, at: u32) {
        let here = self.here();
        self.landing = Some(here);
        match self.code.get_mut(at as usize) {
            Some(
                Op::Jump(t)
                | Op::JumpIfZero(_, t)
                | Op::JumpIfNonZero(_, t)
                | Op::CmpJump { target: t, .. },
            ) => *t = here,
            Some(Op::IterNext { exit, .. }) => *exit = here,
            _ => {}
        }
    }

    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.memo.push(HashMap::new());
        let r = f(self);
        self.memo.pop();
        r
    }

    fn recall(&self, k: &Known) -> Option<Reg> {
        self.memo.iter().rev().find_map(|m| m.get(k).copied())
    }

    fn remember(&mut self, k: Known, r: Reg) {
        // What the prelude computes is known everywhere after it.
        let everywhere = self.is_invariant(r)
            && match &k {
                Known::Call(_, args) => args.iter().all(|a| self.is_invariant(*a)),
                Known::Input(_) | Known::Field(..) => false,
            };
        let scope = if everywhere {
            self.memo.first_mut()
        } else {
            self.memo.last_mut()
        };
        if let Some(m) = scope {
            m.insert(k, r);
        }
    }

    fn int_of(r: Reg) -> Option<u32> {
        match r {
            Reg::Int(i) | Reg::Bool(i) | Reg::Enum(i) => Some(i),
            _ => None,
        }
    }

    /// `r` as a register of `class`: integers become amounts where an
    /// amount is expected, exactly as the interpreter's arithmetic does.
    fn convert(&mut self, r: Reg, class: Class) -> Option<Reg> {
        if r.class() == class {
            return Some(r);
        }
        match (r, class) {
            (Reg::Int(i), Class::Num) => {
                let Reg::Num(n) = self.fresh(Class::Num) else {
                    return None;
                };
                self.emit_value(Op::IntToNum(n, i));
                Some(Reg::Num(n))
            }
            _ => None,
        }
    }

    fn int_reg(&mut self) -> u32 {
        self.ints += 1;
        self.ints - 1
    }

    /// Computes a definition at the top of the plan (after those it uses),
    /// once; its register.
    fn ensure_def(&mut self, i: u32) -> Option<Reg> {
        if let Some(r) = self.defs.get(i as usize).copied().flatten() {
            return Some(r);
        }
        if std::mem::replace(self.in_progress.get_mut(i as usize)?, true) {
            return None;
        }
        let p = self.p;
        let d = p.defs.get(i as usize)?;
        let Some(class) = class_of(&d.ty) else {
            return self.refuse(
                d.span,
                format!(
                    "`{}` is {}, which plans do not hold",
                    d.name,
                    kind_of(&d.ty)
                ),
            );
        };
        let r = match &d.body {
            DefBody::Dated(_) => {
                let dst = self.fresh(class);
                self.emit_value(Op::Param(i, dst));
                dst
            }
            DefBody::Rule { base, overrides } => {
                if overrides.is_empty() {
                    if let Some(r) = self.pass(i, base) {
                        return r;
                    }
                }
                for u in self.def_uses(i) {
                    self.ensure_def(u)?;
                }
                if overrides.is_empty() {
                    self.expr(base, &mut Vec::new())?
                } else {
                    self.overrides(base, overrides, class, &mut Vec::new())?
                }
            }
        };
        let r = self.convert(r, class)?;
        *self.defs.get_mut(i as usize)? = Some(r);
        Some(r)
    }

    fn def_uses(&self, i: u32) -> Vec<u32> {
        self.p.def_uses(i)
    }

    /// The definitions `roots` use, directly or not, themselves included.
    fn uses_closure(&self, roots: impl IntoIterator<Item = u32>) -> Vec<bool> {
        let mut seen = vec![false; self.p.defs.len()];
        let mut todo: Vec<u32> = roots.into_iter().collect();
        while let Some(d) = todo.pop() {
            match seen.get_mut(d as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            todo.extend(self.def_uses(d));
        }
        seen
    }

    /// Rules that are each one aggregate over the same part of the inputs
    /// (`sum(income_tax_of(p) for p in household.members)`, `max(age_of(p)
    /// for p in household.members)`, ...) computed in one pass over it, so
    /// that what they share per element (`age_of(p)`) is computed once.
    /// `None` when rule `i` is not such a rule; otherwise the result of
    /// computing it (and the others of its pass).
    fn pass(&mut self, i: u32, base: &Expr) -> Option<Option<Reg>> {
        let p = self.p;
        let (_, list) = member(base)?;
        let path = input_path(list)?;
        let alike = |j: usize, d: &DefInfo| -> bool {
            let DefBody::Rule { base, overrides } = &d.body else {
                return false;
            };
            overrides.is_empty()
                && (j == i as usize
                    || self.wanted.get(j) == Some(&true)
                        && self.defs.get(j) == Some(&None)
                        && self.in_progress.get(j) == Some(&false))
                && member(base).and_then(|(_, l)| input_path(l)).as_ref() == Some(&path)
        };
        let candidates: Vec<u32> = p
            .defs
            .iter()
            .enumerate()
            .filter(|(j, d)| alike(*j, d))
            .map(|(j, _)| j as u32)
            .collect();
        if candidates.len() < 2 {
            return None;
        }
        // A rule that uses another of the candidates, or is used by one,
        // cannot be computed in the same pass: leave both out.
        let deps: Vec<Vec<bool>> = candidates
            .iter()
            .map(|&j| self.uses_closure(self.def_uses(j)))
            .collect();
        let uses = |a: usize, b: u32| deps.get(a).and_then(|d| d.get(b as usize)) == Some(&true);
        let group: Vec<u32> = candidates
            .iter()
            .enumerate()
            .filter(|&(a, &j)| {
                j == i
                    || candidates
                        .iter()
                        .enumerate()
                        .all(|(b, &k)| k == j || (!uses(a, k) && !uses(b, j)))
            })
            .map(|(_, &j)| j)
            .collect();
        if group.len() < 2 {
            return None;
        }
        Some(
            self.compute_pass(&group)
                .and_then(|()| self.defs.get(i as usize).copied().flatten()),
        )
    }

    fn compute_pass(&mut self, group: &[u32]) -> Option<()> {
        let p = self.p;
        for &j in group {
            *self.in_progress.get_mut(j as usize)? = true;
        }
        for &j in group {
            for u in self.def_uses(j) {
                self.ensure_def(u)?;
            }
        }
        let mut members = Vec::with_capacity(group.len());
        let mut list = None;
        for &j in group {
            let DefBody::Rule { base, .. } = &p.defs.get(j as usize)?.body else {
                return None;
            };
            let (m, l) = member(base)?;
            list.get_or_insert(l);
            members.push(m);
        }
        let mut frames: Vec<Frame> = vec![Vec::new(); group.len()];
        let mut envs: Vec<&mut Frame> = frames.iter_mut().collect();
        let regs = self.aggregates(list?, &members, &mut envs)?;
        for (&j, r) in group.iter().zip(regs) {
            let class = class_of(&p.defs.get(j as usize)?.ty)?;
            let r = self.convert(r, class)?;
            *self.defs.get_mut(j as usize)? = Some(r);
        }
        Some(())
    }

    /// A rule with overrides: every condition in turn, as the interpreter
    /// asks them, then the winner's value.
    /// A rule's or a function's exceptions, in the frame `env` (empty for a
    /// rule, the arguments for a function).
    fn overrides(
        &mut self,
        base: &Expr,
        overrides: &[OverrideInfo],
        class: Class,
        env: &mut Frame,
    ) -> Option<Reg> {
        let mut conds = Vec::new();
        for o in overrides {
            let Reg::Bool(c) = self.expr(&o.condition, env)? else {
                return None;
            };
            conds.push((c, o.beats.iter().copied().collect::<Box<[u32]>>()));
        }
        let sel = self.int_reg();
        self.emit(Op::Overrides(conds.into(), sel));
        let values: Vec<&Expr> = std::iter::once(base)
            .chain(overrides.iter().map(|o| &o.value))
            .collect();
        self.switch(sel, class, &values, |c, e| c.expr(e, env))
    }

    /// A switch on `sel` over blocks that each compute one of `blocks` into
    /// a common register of `class`.
    fn switch<T>(
        &mut self,
        sel: u32,
        class: Class,
        blocks: &[T],
        mut block: impl FnMut(&mut Self, &T) -> Option<Reg>,
    ) -> Option<Reg> {
        let dst = self.fresh(class);
        let at = self.emit(Op::Switch(sel, Box::new([])));
        let mut targets = Vec::with_capacity(blocks.len());
        let mut ends = Vec::with_capacity(blocks.len());
        for b in blocks {
            targets.push(self.here());
            self.branch(dst, |c| block(c, b))?;
            ends.push(self.emit(Op::Jump(u32::MAX)));
        }
        for e in ends {
            self.land(e);
        }
        if let Some(Op::Switch(_, t)) = self.code.get_mut(at as usize) {
            *t = targets.into();
        }
        Some(dst)
    }

    /// The definitions an expression uses, directly or through the
    /// functions and tables it calls.
    fn def_refs(&self, e: &Expr) -> Vec<u32> {
        self.p.def_refs(e)
    }

    fn expr(&mut self, e: &Expr, env: &mut Frame) -> Option<Reg> {
        let Some(class) = class_of(&e.ty) else {
            return self.refuse(
                e.span,
                format!("this is {}, which plans do not hold", kind_of(&e.ty)),
            );
        };
        let Some(r) = self.expr_raw(e, env, class) else {
            return self.refuse(
                e.span,
                format!(
                    "plans do not cover {} written like this",
                    construct(&e.kind)
                ),
            );
        };
        self.convert(r, class)
    }

    /// Stops compiling, keeping the first (innermost) reason.
    fn refuse<T>(&mut self, span: crate::diagnostic::Span, reason: String) -> Option<T> {
        if self.refused.is_none() {
            self.refused = Some(NoPlan::at(span, reason));
        }
        None
    }

    fn expr_raw(&mut self, e: &Expr, env: &mut Frame, class: Class) -> Option<Reg> {
        let p = self.p;
        Some(match &e.kind {
            ExprKind::Const(v) => self.constant(match v {
                Value::Num(d) => Constant::Num(d.serialize()),
                Value::Int(i) if class == Class::Num => {
                    Constant::Num(Decimal::from(*i).serialize())
                }
                Value::Int(i) => Constant::Int(*i),
                Value::Bool(b) => Constant::Bool(i64::from(*b)),
                Value::Enum(x) => Constant::Enum(i64::from(*x)),
                Value::Date(d) => Constant::Date(*d),
                _ => return None,
            })?,
            ExprKind::Input(i) => {
                let k = Known::Input(*i);
                if let Some(r) = self.recall(&k) {
                    return Some(r);
                }
                let dst = self.fresh(class_of(&p.inputs.get(*i as usize)?.ty)?);
                self.emit(Op::Input(*i, dst));
                self.remember(k, dst);
                dst
            }
            ExprKind::Def(i) => self.defs.get(*i as usize).copied().flatten()?,
            ExprKind::Local(s) => env.get(*s as usize).copied().flatten()?,
            ExprKind::DecisionDate => Reg::Date(0),
            ExprKind::Field(base, _) if matches!(base.ty, Type::Optional(_)) => {
                return self.refuse(
                    e.span,
                    "a field of an optional record is not held in a plan".into(),
                );
            }
            ExprKind::Field(base, i) => {
                let Reg::Place(b) = self.expr(base, env)? else {
                    return None;
                };
                let k = Known::Field(b, *i);
                if let Some(r) = self.recall(&k) {
                    return Some(r);
                }
                let dst = self.fresh(class);
                self.emit(Op::Field(b, *i, dst));
                self.remember(k, dst);
                dst
            }
            ExprKind::Neg(x) => match self.expr(x, env)? {
                Reg::Num(s) => {
                    let dst = self.fresh(Class::Num);
                    let Reg::Num(d) = dst else { return None };
                    self.emit_value(Op::NegNum(d, s));
                    dst
                }
                Reg::Int(s) => {
                    let dst = self.fresh(Class::Int);
                    let Reg::Int(d) = dst else { return None };
                    self.emit_value(Op::NegInt(d, s));
                    dst
                }
                _ => return None,
            },
            ExprKind::Not(x) => {
                let Reg::Bool(s) = self.expr(x, env)? else {
                    return None;
                };
                let d = self.int_reg();
                self.emit_value(Op::Not(d, s));
                Reg::Bool(d)
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let and = matches!(e.kind, ExprKind::And(..));
                let d = self.int_reg();
                let Reg::Bool(x) = self.expr(a, env)? else {
                    return None;
                };
                self.emit(Op::Move(Reg::Bool(d), Reg::Bool(x)));
                let skip = if and {
                    self.jump_if(false, d)
                } else {
                    self.jump_if(true, d)
                };
                self.branch(Reg::Bool(d), |c| c.expr(b, env))?;
                self.land(skip);
                Reg::Bool(d)
            }
            ExprKind::Cmp(op, a, b) => {
                let x = self.expr(a, env)?;
                let y = self.expr(b, env)?;
                self.compare(*op, x, y)?
            }
            ExprKind::Arith(op, a, b) => {
                // A date moved by a duration written out (`start + 6
                // months`); durations are not kept in registers.
                let shift = match (&a.kind, &b.kind) {
                    (_, ExprKind::Const(Value::Duration(d))) => {
                        Some((&**a, *d, *op == ArithOp::Sub))
                    }
                    (ExprKind::Const(Value::Duration(d)), _) if *op == ArithOp::Add => {
                        Some((&**b, *d, false))
                    }
                    _ => None,
                };
                if let Some((date, by, back)) = shift {
                    let Reg::Date(x) = self.expr(date, env)? else {
                        return None;
                    };
                    let dst = self.fresh(Class::Date);
                    let Reg::Date(d) = dst else { return None };
                    self.emit_value(Op::Shift(d, x, by, back));
                    return Some(dst);
                }
                let x = self.expr(a, env)?;
                let y = self.expr(b, env)?;
                match (x, y) {
                    (Reg::Int(x), Reg::Int(y)) if *op != ArithOp::Div => {
                        let dst = self.fresh(Class::Int);
                        let Reg::Int(d) = dst else { return None };
                        self.emit_value(Op::ArithInt(*op, d, x, y));
                        dst
                    }
                    _ => {
                        let (Reg::Num(x), Reg::Num(y)) =
                            (self.convert(x, Class::Num)?, self.convert(y, Class::Num)?)
                        else {
                            return None;
                        };
                        let dst = self.fresh(Class::Num);
                        let Reg::Num(d) = dst else { return None };
                        self.emit_value(Op::Arith(*op, d, x, y));
                        dst
                    }
                }
            }
            ExprKind::In(v, options, negated) => {
                let x = self.expr(v, env)?;
                let d = self.int_reg();
                let mut found = Vec::new();
                self.scoped(|c| {
                    for o in options {
                        let y = c.expr(o, env)?;
                        let Reg::Bool(t) = c.compare(CmpOp::Eq, x, y)? else {
                            return None;
                        };
                        found.push(c.jump_if(true, t));
                    }
                    Some(())
                })?;
                self.emit(Op::Int(d, i64::from(*negated)));
                let end = self.emit(Op::Jump(u32::MAX));
                for f in found {
                    self.land(f);
                }
                self.emit(Op::Int(d, i64::from(!*negated)));
                self.land(end);
                Reg::Bool(d)
            }
            ExprKind::If(cond, t, f) => {
                let Reg::Bool(c) = self.expr(cond, env)? else {
                    return None;
                };
                let dst = self.fresh(class);
                let otherwise = self.jump_if(false, c);
                self.branch(dst, |c| c.expr(t, env))?;
                let end = self.emit(Op::Jump(u32::MAX));
                self.land(otherwise);
                self.branch(dst, |c| c.expr(f, env))?;
                self.land(end);
                dst
            }
            ExprKind::Call(f, args) => {
                let func = p.functions.get(*f as usize)?;
                let mut regs = Vec::with_capacity(args.len());
                for (a, (_, ty)) in args.iter().zip(&func.params) {
                    let r = self.expr(a, env)?;
                    regs.push(self.convert(r, class_of(ty)?)?);
                }
                let k = Known::Call(*f, regs.clone());
                if let Some(r) = self.recall(&k) {
                    return Some(r);
                }
                if self.depth >= MAX_DEPTH {
                    return self.refuse(
                        e.span,
                        format!("functions call each other more than {MAX_DEPTH} deep"),
                    );
                }
                let mut frame: Frame = regs.into_iter().map(Some).collect();
                frame.resize(frame.len().max(func.frame_size as usize), None);
                self.depth += 1;
                let r = if func.overrides.is_empty() {
                    self.expr(&func.body, &mut frame)
                } else {
                    match class_of(&func.ret) {
                        Some(c) => self.overrides(&func.body, &func.overrides, c, &mut frame),
                        None => None,
                    }
                };
                self.depth -= 1;
                let r = r?;
                self.remember(k, r);
                r
            }
            ExprKind::Table(t, args) => self.table(*t, args, env, class)?,
            ExprKind::Scale(s, arg) => {
                let x = self.expr(arg, env)?;
                let dst = self.fresh(class);
                self.emit_value(Op::Scale(*s, dst, x));
                dst
            }
            ExprKind::Builtin(b, args) => match b {
                Builtin::Min | Builtin::Max => {
                    let mut regs = Vec::with_capacity(args.len());
                    for a in args {
                        let r = self.expr(a, env)?;
                        regs.push(self.convert(r, class)?);
                    }
                    let (first, rest) = regs.split_first()?;
                    let dst = self.fresh(class);
                    self.emit(Op::Move(dst, *first));
                    for r in rest {
                        self.emit(Op::Pick(*b == Builtin::Min, dst, *r));
                    }
                    dst
                }
                Builtin::Abs => {
                    let x = self.expr(args.first()?, env)?;
                    let dst = self.fresh(x.class());
                    self.emit_value(Op::Abs(dst, x));
                    dst
                }
                Builtin::FirstDayOfMonth
                | Builtin::LastDayOfMonth
                | Builtin::FirstDayOfYear
                | Builtin::LastDayOfYear => {
                    let Reg::Date(x) = self.expr(args.first()?, env)? else {
                        return None;
                    };
                    let dst = self.fresh(Class::Date);
                    let Reg::Date(d) = dst else { return None };
                    self.emit_value(Op::DateOf(*b, d, x));
                    dst
                }
                Builtin::Years | Builtin::Months | Builtin::Days => return None,
            },
            ExprKind::List(_) => return None,
            ExprKind::Between(unit, a, b) => {
                let (Reg::Date(x), Reg::Date(y)) = (self.expr(a, env)?, self.expr(b, env)?) else {
                    return None;
                };
                let dst = self.fresh(Class::Int);
                let Reg::Int(d) = dst else { return None };
                self.emit_value(Op::Between(*unit, d, x, y));
                dst
            }
            ExprKind::Aggregate {
                kind: Aggregate::Collect,
                ..
            } => {
                return self.refuse(
                    e.span,
                    "a list of values computed item by item (`[... for ... in ...]`) is not held in a plan".into(),
                );
            }
            ExprKind::Aggregate { position: true, .. } => {
                return self.refuse(
                    e.span,
                    "items' positions (`for x at k in ...`) are not held in a plan".into(),
                );
            }
            ExprKind::Aggregate { .. } => {
                let (m, list) = member(e)?;
                let regs = self.aggregates(list, &[m], &mut [env])?;
                *regs.first()?
            }
            ExprKind::VariantData(..) => {
                return self.refuse(
                    e.span,
                    "the data of an enum's variant is not held in a plan".into(),
                );
            }
            ExprKind::Fold { .. } => {
                return self.refuse(e.span, "`fold` is not held in a plan".into());
            }
            ExprKind::Record(_) => {
                return self.refuse(
                    e.span,
                    "tables with several results are not held in a plan".into(),
                );
            }
            ExprKind::Used { .. } => {
                return self.refuse(
                    e.span,
                    "what is taken from a used programme is not held in a plan".into(),
                );
            }
            ExprKind::Sorted { .. } => {
                return self.refuse(
                    e.span,
                    "sorted lists and items' positions are not held in a plan".into(),
                );
            }
            ExprKind::Presence(..) | ExprKind::OrElse(..) => {
                return self.refuse(
                    e.span,
                    "values that may be absent (`optional`) are not held in a plan".into(),
                );
            }
            ExprKind::Round(x, target, mode) => {
                let x = self.expr(x, env)?;
                if !matches!(x, Reg::Num(_) | Reg::Int(_)) {
                    return None;
                }
                let dst = self.fresh(Class::Num);
                let Reg::Num(d) = dst else { return None };
                self.emit_value(Op::Round(d, x, *target, *mode));
                dst
            }
        })
    }

    /// A register of `class` set to `v` here, which later steps change.
    fn variable(&mut self, class: Class, v: i64) -> Reg {
        let r = self.fresh(class);
        if let Some(i) = Self::int_of(r) {
            self.emit(Op::Int(i, v));
        }
        r
    }

    /// A comparison as the interpreter's `compare` and `equals`: an
    /// integer against an amount compares as amounts.
    fn compare(&mut self, op: CmpOp, x: Reg, y: Reg) -> Option<Reg> {
        let d = self.int_reg();
        match (x, y) {
            (Reg::Int(a), Reg::Int(b))
            | (Reg::Bool(a), Reg::Bool(b))
            | (Reg::Enum(a), Reg::Enum(b)) => {
                self.emit_value(Op::CmpInt(op, d, a, b));
            }
            (Reg::Date(a), Reg::Date(b)) => {
                self.emit_value(Op::CmpDate(op, d, a, b));
            }
            (Reg::Num(_) | Reg::Int(_), Reg::Num(_) | Reg::Int(_)) => {
                let (Reg::Num(a), Reg::Num(b)) =
                    (self.convert(x, Class::Num)?, self.convert(y, Class::Num)?)
                else {
                    return None;
                };
                self.emit_value(Op::CmpNum(op, d, a, b));
            }
            _ => return None,
        }
        Some(Reg::Bool(d))
    }

    fn table(&mut self, t: u32, args: &[Expr], env: &mut Frame, class: Class) -> Option<Reg> {
        let p = self.p;
        let table = p.tables.get(t as usize)?;
        let mut regs = Vec::with_capacity(args.len());
        for (a, (_, ty, _)) in args.iter().zip(&table.params) {
            let r = self.expr(a, env)?;
            regs.push(self.convert(r, class_of(ty)?)?);
        }
        let frame_size = (table.frame_size as usize).max(regs.len());
        let frame = |regs: &[Reg]| -> Frame {
            let mut f: Frame = regs.iter().copied().map(Some).collect();
            f.resize(frame_size, None);
            f
        };
        let result = |c: &mut Self, row: &TableRowInfo| -> Option<Reg> {
            c.depth += 1;
            let r = if c.depth > MAX_DEPTH {
                None
            } else {
                c.expr(&row.result, &mut frame(&regs))
            };
            c.depth -= 1;
            r
        };
        // Arguments a row does not test are left out of its steps, so that
        // a lookup by the decision date alone can go to the prelude.
        let tested = |rows: &[TableRowInfo]| -> Box<[Option<Reg>]> {
            regs.iter()
                .enumerate()
                .map(|(c, r)| {
                    rows.iter()
                        .any(|row| !matches!(row.tests.get(c), Some(CellTest::Any)))
                        .then_some(*r)
                })
                .collect()
        };
        match table.hit {
            HitPolicy::Priority | HitPolicy::OutputOrder => self.refuse(
                table.span,
                format!(
                    "`hit {}` tables are not held in a plan",
                    table.hit.describe()
                ),
            ),
            HitPolicy::CollectList => self.refuse(
                table.span,
                format!("`{}` collects a list, which plans do not hold", table.name),
            ),
            HitPolicy::Unique | HitPolicy::First => {
                let sel = self.int_reg();
                self.emit_value(Op::Row {
                    table: t,
                    args: tested(&table.rows),
                    dst: sel,
                });
                let rows: Vec<&TableRowInfo> = table.rows.iter().collect();
                self.switch(sel, class, &rows, |c, row| result(c, row))
            }
            HitPolicy::CollectCount
            | HitPolicy::CollectSum
            | HitPolicy::CollectMin
            | HitPolicy::CollectMax => {
                let kind = match table.hit {
                    HitPolicy::CollectCount => Aggregate::Count,
                    HitPolicy::CollectSum => Aggregate::Sum,
                    HitPolicy::CollectMin => Aggregate::Min,
                    _ => Aggregate::Max,
                };
                // A count or a collected sum starts from zero (of the
                // table's type), a minimum or maximum from the first row
                // that matches.
                let acc = self.fresh(class);
                let has = self.int_reg();
                self.emit(Op::Int(has, 0));
                if matches!(kind, Aggregate::Count | Aggregate::Sum) {
                    match (kind, acc) {
                        (Aggregate::Count, Reg::Int(a)) => self.emit(Op::Int(a, 0)),
                        (_, Reg::Int(a)) if class_of(&table.ret)? == Class::Int => {
                            self.emit(Op::Int(a, 0))
                        }
                        (Aggregate::Sum, Reg::Num(a)) => self.emit(Op::Num(a, Decimal::ZERO)),
                        _ => return None,
                    };
                    self.emit(Op::Int(has, 1));
                }
                for (i, row) in table.rows.iter().enumerate() {
                    let m = self.int_reg();
                    self.emit_value(Op::RowMatches {
                        table: t,
                        row: i as u32,
                        args: tested(std::slice::from_ref(row)),
                        dst: m,
                    });
                    let skip = self.jump_if(false, m);
                    match (kind, acc) {
                        (Aggregate::Count, Reg::Int(n)) => {
                            self.emit(Op::Inc(n));
                        }
                        _ => self.scoped(|c| {
                            let v = result(c, row)?;
                            let v = c.convert(v, class)?;
                            c.emit(Op::Accumulate { kind, acc, has, v });
                            Some(())
                        })?,
                    }
                    self.land(skip);
                }
                if matches!(kind, Aggregate::Min | Aggregate::Max) {
                    self.emit(Op::FailIfZero(has));
                }
                Some(acc)
            }
        }
    }

    /// Aggregates over one list, in one pass over its elements: one for an
    /// aggregate in an expression, several for the rules that each sum (or
    /// count, ...) over the same part of the inputs. Each aggregate keeps
    /// the interpreter's order and laziness: an `any` that has found its
    /// element (an `all` that has found a counterexample) asks nothing of
    /// later elements, and a projection is computed only for elements its
    /// filter keeps.
    fn aggregates(
        &mut self,
        list: &Expr,
        members: &[Member<'_>],
        envs: &mut [&mut Frame],
    ) -> Option<Vec<Reg>> {
        let Reg::Place(list_reg) = self.expr(list, envs.first_mut()?)? else {
            return None;
        };
        let Type::List(element_ty) = &list.ty else {
            return None;
        };
        let element_class = class_of(element_ty)?;
        let mut dsts = Vec::with_capacity(members.len());
        for m in members {
            let dst = match m.kind {
                Aggregate::Any => self.variable(Class::Bool, 0),
                Aggregate::All => self.variable(Class::Bool, 1),
                Aggregate::Count => self.variable(Class::Int, 0),
                _ => self.fresh(m.class),
            };
            let has = self.int_reg();
            self.emit(Op::Int(has, 0));
            dsts.push((dst, has));
        }
        let counter = self.int_reg();
        self.emit(Op::IterStart(counter));
        let Reg::Place(elem) = self.fresh(Class::Place) else {
            return None;
        };
        let top = self.emit(Op::IterNext {
            counter,
            list: list_reg,
            elem,
            exit: u32::MAX,
        });
        self.scoped(|c| {
            let bound = if element_class == Class::Place {
                Reg::Place(elem)
            } else {
                let r = c.fresh(element_class);
                c.emit(Op::Load(elem, r));
                r
            };
            for ((m, env), &(dst, has)) in members.iter().zip(envs.iter_mut()).zip(&dsts) {
                if env.len() <= m.slot {
                    env.resize(m.slot + 1, None);
                }
                let saved = env.get_mut(m.slot)?.replace(bound);
                let r = c.aggregate_step(m, env, bound, dst, has);
                *env.get_mut(m.slot)? = saved;
                r?;
            }
            c.emit(Op::Jump(top));
            Some(())
        })?;
        self.land(top);
        let mut out = Vec::with_capacity(members.len());
        for ((m, env), (dst, has)) in members.iter().zip(envs.iter_mut()).zip(dsts) {
            match m.kind {
                Aggregate::Sum => {
                    let done = self.jump_if(true, has);
                    match dst {
                        Reg::Num(a) => self.emit(Op::Num(a, Decimal::ZERO)),
                        Reg::Int(a) if matches!(m.ty, Type::Integer) => self.emit(Op::Int(a, 0)),
                        _ => return None,
                    };
                    self.land(done);
                }
                Aggregate::Min | Aggregate::Max => {
                    let done = self.jump_if(true, has);
                    match m.if_empty {
                        Some(x) => {
                            self.scoped(|c| {
                                let r = c.expr(x, env)?;
                                let r = c.convert(r, m.class)?;
                                c.emit(Op::Move(dst, r));
                                Some(())
                            })?;
                        }
                        None => {
                            self.emit(Op::Fail);
                        }
                    }
                    self.land(done);
                }
                _ => {}
            }
            out.push(dst);
        }
        Some(out)
    }

    /// One aggregate's part of a pass, for the element bound in `env`.
    fn aggregate_step(
        &mut self,
        m: &Member<'_>,
        env: &mut Frame,
        bound: Reg,
        dst: Reg,
        has: u32,
    ) -> Option<()> {
        let d = Self::int_of(dst);
        let mut skips = Vec::new();
        match m.kind {
            // A list is not held in a plan's registers.
            Aggregate::Collect => return None,
            Aggregate::Any | Aggregate::All => {
                let d = d?;
                skips.push(if m.kind == Aggregate::Any {
                    self.jump_if(true, d)
                } else {
                    self.jump_if(false, d)
                });
                self.scoped(|c| {
                    let Some(f) = m.filter else {
                        if m.kind == Aggregate::Any {
                            c.emit(Op::Int(d, 1));
                        }
                        return Some(());
                    };
                    let Reg::Bool(b) = c.expr(f, env)? else {
                        return None;
                    };
                    if m.kind == Aggregate::Any {
                        skips.push(c.jump_if(false, b));
                        c.emit(Op::Int(d, 1));
                    } else {
                        skips.push(c.jump_if(true, b));
                        c.emit(Op::Int(d, 0));
                    }
                    Some(())
                })?;
            }
            Aggregate::Count | Aggregate::Sum | Aggregate::Min | Aggregate::Max => {
                if let Some(f) = m.filter {
                    let Reg::Bool(b) = self.expr(f, env)? else {
                        return None;
                    };
                    skips.push(self.jump_if(false, b));
                }
                let mut step = |c: &mut Self| {
                    if m.kind == Aggregate::Count {
                        c.emit(Op::Inc(d?));
                        return Some(());
                    }
                    let v = match m.projection {
                        Some(pr) => c.expr(pr, env)?,
                        None => bound,
                    };
                    let v = c.convert(v, m.class)?;
                    c.emit(Op::Accumulate {
                        kind: m.kind,
                        acc: dst,
                        has,
                        v,
                    });
                    Some(())
                };
                // What a filtered element skips is forgotten after it.
                if m.filter.is_some() {
                    self.scoped(step)?;
                } else {
                    step(self)?;
                }
            }
        }
        for s in skips {
            self.land(s);
        }
        Some(())
    }
}

/// An aggregate to compute in a pass over a list.
struct Member<'e> {
    kind: Aggregate,
    slot: usize,
    projection: Option<&'e Expr>,
    filter: Option<&'e Expr>,
    if_empty: Option<&'e Expr>,
    class: Class,
    ty: &'e Type,
}

/// An aggregate expression as a member of a pass, with its list.
fn member(e: &Expr) -> Option<(Member<'_>, &Expr)> {
    let ExprKind::Aggregate {
        kind,
        slot,
        list,
        projection,
        filter,
        if_empty,
        position,
    } = &e.kind
    else {
        return None;
    };
    if *kind == Aggregate::Collect || *position {
        return None;
    }
    Some((
        Member {
            kind: *kind,
            slot: *slot as usize,
            projection: projection.as_deref(),
            filter: filter.as_deref(),
            if_empty: if_empty.as_deref(),
            class: class_of(&e.ty)?,
            ty: &e.ty,
        },
        list,
    ))
}

/// The path of an expression that names a part of the inputs
/// (`household.members`): the input and the fields, in order.
fn input_path(e: &Expr) -> Option<Vec<u32>> {
    match &e.kind {
        ExprKind::Input(i) => Some(vec![*i]),
        ExprKind::Field(base, f) => {
            let mut p = input_path(base)?;
            p.push(*f);
            Some(p)
        }
        _ => None,
    }
}

// ---- running ----------------------------------------------------------------

struct Machine<'a, 'r> {
    p: &'a Program,
    inputs: &'a [Value],
    num: &'r mut Vec<Decimal>,
    int: &'r mut Vec<i64>,
    date: &'r mut Vec<NaiveDate>,
    places: Vec<&'a Value>,
    args: &'r mut Vec<Value>,
    matched: &'r mut Vec<usize>,
    candidates: &'r mut Vec<u32>,
}

/// Whether `pick` keeps the new value: only when it is strictly smaller
/// (or larger), so that a tie keeps the first.
fn replaces(min: bool, kept_to_new: Ordering) -> bool {
    if min {
        kept_to_new == Ordering::Greater
    } else {
        kept_to_new == Ordering::Less
    }
}

impl<'a> Machine<'a, '_> {
    fn n(&self, r: u32) -> Option<Decimal> {
        self.num.get(r as usize).copied()
    }
    fn i(&self, r: u32) -> Option<i64> {
        self.int.get(r as usize).copied()
    }
    fn d(&self, r: u32) -> Option<NaiveDate> {
        self.date.get(r as usize).copied()
    }
    fn place(&self, r: u32) -> Option<&'a Value> {
        self.places.get(r as usize).copied()
    }
    fn set_n(&mut self, r: u32, v: Decimal) -> Option<()> {
        *self.num.get_mut(r as usize)? = v;
        Some(())
    }
    fn set_i(&mut self, r: u32, v: i64) -> Option<()> {
        *self.int.get_mut(r as usize)? = v;
        Some(())
    }
    fn set_d(&mut self, r: u32, v: NaiveDate) -> Option<()> {
        *self.date.get_mut(r as usize)? = v;
        Some(())
    }

    /// Puts a value into a register of its type; `None` when it is not of
    /// that type.
    fn store(&mut self, dst: Reg, v: &'a Value) -> Option<()> {
        if let Reg::Place(r) = dst {
            *self.places.get_mut(r as usize)? = v;
            return Some(());
        }
        self.store_scalar(dst, v)
    }

    fn store_scalar(&mut self, dst: Reg, v: &Value) -> Option<()> {
        match (dst, v) {
            (Reg::Num(r), Value::Num(d)) => self.set_n(r, *d),
            (Reg::Num(r), Value::Int(i)) => self.set_n(r, Decimal::from(*i)),
            (Reg::Int(r), Value::Int(i)) => self.set_i(r, *i),
            (Reg::Bool(r), Value::Bool(b)) => self.set_i(r, i64::from(*b)),
            (Reg::Enum(r), Value::Enum(e)) => self.set_i(r, i64::from(*e)),
            (Reg::Date(r), Value::Date(d)) => self.set_d(r, *d),
            _ => None,
        }
    }

    fn value(&self, r: Reg) -> Option<Value> {
        Some(match r {
            Reg::Num(r) => Value::Num(self.n(r)?),
            Reg::Int(r) => Value::Int(self.i(r)?),
            Reg::Bool(r) => Value::Bool(self.i(r)? != 0),
            Reg::Enum(r) => Value::Enum(u32::try_from(self.i(r)?).ok()?),
            Reg::Date(r) => Value::Date(self.d(r)?),
            Reg::Place(r) => self.place(r)?.clone(),
        })
    }

    fn copy(&mut self, dst: Reg, src: Reg) -> Option<()> {
        match (dst, src) {
            (Reg::Num(d), Reg::Num(s)) => self.set_n(d, self.n(s)?),
            (Reg::Date(d), Reg::Date(s)) => self.set_d(d, self.d(s)?),
            (Reg::Place(d), Reg::Place(s)) => {
                let v = self.place(s)?;
                *self.places.get_mut(d as usize)? = v;
                Some(())
            }
            _ => {
                let (d, s) = (Compiler::int_of(dst)?, Compiler::int_of(src)?);
                self.set_i(d, self.i(s)?)
            }
        }
    }

    fn order(&self, a: Reg, b: Reg) -> Option<Ordering> {
        match (a, b) {
            (Reg::Num(a), Reg::Num(b)) => Some(compare_amounts(
                self.num.get(a as usize)?,
                self.num.get(b as usize)?,
            )),
            (Reg::Date(a), Reg::Date(b)) => Some(self.d(a)?.cmp(&self.d(b)?)),
            _ => Some(
                self.i(Compiler::int_of(a)?)?
                    .cmp(&self.i(Compiler::int_of(b)?)?),
            ),
        }
    }

    fn add(&mut self, acc: Reg, v: Reg) -> Option<()> {
        match (acc, v) {
            (Reg::Num(a), Reg::Num(b)) => self.set_n(a, self.n(a)?.checked_add(self.n(b)?)?),
            (Reg::Int(a), Reg::Int(b)) => self.set_i(a, self.i(a)?.checked_add(self.i(b)?)?),
            _ => None,
        }
    }

    fn exec(&mut self, code: &[Op], from: usize) -> Option<()> {
        let mut pc = from;
        while let Some(op) = code.get(pc) {
            pc += 1;
            match op {
                Op::Num(d, v) => self.set_n(*d, *v)?,
                Op::Int(d, v) => self.set_i(*d, *v)?,
                Op::Date(d, v) => self.set_d(*d, *v)?,
                Op::Move(d, s) => self.copy(*d, *s)?,
                Op::IntToNum(d, s) => self.set_n(*d, Decimal::from(self.i(*s)?))?,
                Op::Shift(d, x, by, back) => {
                    let x = self.d(*x)?;
                    let moved = if *back {
                        dates::sub_duration(x, *by)
                    } else {
                        dates::add_duration(x, *by)
                    };
                    self.set_d(*d, moved?)?;
                }
                Op::Param(def, dst) => {
                    let p = self.p;
                    let DefBody::Dated(values) = &p.defs.get(*def as usize)?.body else {
                        return None;
                    };
                    self.store(*dst, in_force(values, self.d(0)?)?)?;
                }
                Op::Input(i, dst) => {
                    let v = self.inputs.get(*i as usize)?;
                    self.store(*dst, v)?;
                }
                Op::Field(base, f, dst) => {
                    let Value::Record(fields) = self.place(*base)? else {
                        return None;
                    };
                    self.store(*dst, fields.get(*f as usize)?)?;
                }
                Op::Load(place, dst) => {
                    let v = self.place(*place)?;
                    self.store(*dst, v)?;
                }
                Op::Arith(op, d, a, b) => {
                    self.set_n(*d, decimal_arith(*op, self.n(*a)?, self.n(*b)?)?)?;
                }
                Op::ArithInt(op, d, a, b) => {
                    self.set_i(*d, integer_arith(*op, self.i(*a)?, self.i(*b)?)?)?;
                }
                Op::NegNum(d, s) => self.set_n(*d, -self.n(*s)?)?,
                Op::NegInt(d, s) => self.set_i(*d, self.i(*s)?.checked_neg()?)?,
                Op::CmpNum(op, d, a, b) => {
                    let ord =
                        compare_amounts(self.num.get(*a as usize)?, self.num.get(*b as usize)?);
                    self.set_i(*d, i64::from(ordering_holds(*op, ord)))?;
                }
                Op::CmpInt(op, d, a, b) => {
                    let ord = self.i(*a)?.cmp(&self.i(*b)?);
                    self.set_i(*d, i64::from(ordering_holds(*op, ord)))?;
                }
                Op::CmpDate(op, d, a, b) => {
                    let ord = self.d(*a)?.cmp(&self.d(*b)?);
                    self.set_i(*d, i64::from(ordering_holds(*op, ord)))?;
                }
                Op::Not(d, s) => self.set_i(*d, i64::from(self.i(*s)? == 0))?,
                Op::Inc(d) => self.set_i(*d, self.i(*d)?.checked_add(1)?)?,
                Op::Jump(t) => pc = *t as usize,
                Op::JumpIfZero(c, t) => {
                    if self.i(*c)? == 0 {
                        pc = *t as usize;
                    }
                }
                Op::JumpIfNonZero(c, t) => {
                    if self.i(*c)? != 0 {
                        pc = *t as usize;
                    }
                }
                Op::CmpJump {
                    kind,
                    op,
                    d,
                    a,
                    b,
                    when,
                    target,
                } => {
                    let ord = match kind {
                        Compared::Amounts => {
                            compare_amounts(self.num.get(*a as usize)?, self.num.get(*b as usize)?)
                        }
                        Compared::Integers => self.i(*a)?.cmp(&self.i(*b)?),
                        Compared::Dates => self.d(*a)?.cmp(&self.d(*b)?),
                    };
                    let holds = ordering_holds(*op, ord);
                    self.set_i(*d, i64::from(holds))?;
                    if holds == *when {
                        pc = *target as usize;
                    }
                }
                Op::Between(unit, d, a, b) => {
                    let (x, y) = (self.d(*a)?, self.d(*b)?);
                    self.set_i(
                        *d,
                        match unit {
                            DurationUnit::Years => dates::years_between(x, y),
                            DurationUnit::Months => dates::months_between(x, y),
                            DurationUnit::Days | DurationUnit::Weeks => dates::days_between(x, y),
                        },
                    )?;
                }
                Op::Round(d, x, target, mode) => {
                    let x = match *x {
                        Reg::Num(r) => self.n(r)?,
                        Reg::Int(r) => Decimal::from(self.i(r)?),
                        _ => return None,
                    };
                    self.set_n(*d, round(x, *target, *mode)?)?;
                }
                Op::Scale(s, dst, x) => {
                    let scale = self.p.scales.get(*s as usize)?;
                    let x = match *x {
                        Reg::Num(r) => self.n(r)?,
                        Reg::Int(r) => Decimal::from(self.i(r)?),
                        _ => return None,
                    };
                    match scale.kind {
                        ScaleKind::Marginal => {
                            let Reg::Num(d) = *dst else { return None };
                            self.set_n(d, marginal_total(scale, x)?)?;
                        }
                        ScaleKind::SingleAmount => {
                            let (_, v) = scale.brackets.get(bracket_of(scale, x)?)?;
                            self.store_scalar(*dst, v)?;
                        }
                    }
                }
                Op::DateOf(b, d, x) => {
                    let x = self.d(*x)?;
                    let v = match b {
                        Builtin::FirstDayOfMonth => dates::first_day_of_month(x),
                        Builtin::LastDayOfMonth => dates::last_day_of_month(x),
                        Builtin::FirstDayOfYear => dates::first_day_of_year(x),
                        Builtin::LastDayOfYear => dates::last_day_of_year(x),
                        _ => return None,
                    };
                    self.set_d(*d, v)?;
                }
                Op::Abs(d, x) => match (*d, *x) {
                    (Reg::Num(d), Reg::Num(x)) => self.set_n(d, self.n(x)?.abs())?,
                    (Reg::Int(d), Reg::Int(x)) => self.set_i(d, self.i(x)?.checked_abs()?)?,
                    _ => return None,
                },
                Op::Pick(min, d, s) => {
                    if replaces(*min, self.order(*d, *s)?) {
                        self.copy(*d, *s)?;
                    }
                }
                Op::IterStart(c) => self.set_i(*c, -1)?,
                Op::IterNext {
                    counter,
                    list,
                    elem,
                    exit,
                } => {
                    let k = self.i(*counter)?.checked_add(1)?;
                    self.set_i(*counter, k)?;
                    let Value::List(items) = self.place(*list)? else {
                        return None;
                    };
                    match items.get(usize::try_from(k).ok()?) {
                        Some(v) => *self.places.get_mut(*elem as usize)? = v,
                        None => pc = *exit as usize,
                    }
                }
                Op::Accumulate { kind, acc, has, v } => {
                    if self.i(*has)? == 0 {
                        self.copy(*acc, *v)?;
                        self.set_i(*has, 1)?;
                    } else {
                        match kind {
                            Aggregate::Sum => self.add(*acc, *v)?,
                            Aggregate::Min | Aggregate::Max => {
                                if replaces(*kind == Aggregate::Min, self.order(*acc, *v)?) {
                                    self.copy(*acc, *v)?;
                                }
                            }
                            _ => return None,
                        }
                    }
                }
                Op::Row { table, args, dst } => {
                    let t = self.p.tables.get(*table as usize)?;
                    self.args.clear();
                    for r in args.iter() {
                        // A column no row tests matches any value.
                        let v = match r {
                            Some(r) => self.value(*r)?,
                            None => Value::Bool(false),
                        };
                        self.args.push(v);
                    }
                    self.matched.clear();
                    find_rows(t, self.args, |v| v, self.matched, self.candidates);
                    let row = match (t.hit, self.matched.as_slice()) {
                        (HitPolicy::Unique, [one]) => *one,
                        (HitPolicy::First, [first, ..]) => *first,
                        _ => return None,
                    };
                    self.set_i(*dst, i64::try_from(row).ok()?)?;
                }
                Op::RowMatches {
                    table,
                    row,
                    args,
                    dst,
                } => {
                    let t = self.p.tables.get(*table as usize)?;
                    let row = t.rows.get(*row as usize)?;
                    let mut all = true;
                    for (test, r) in row.tests.iter().zip(args.iter()) {
                        let Some(r) = r else { continue };
                        if !test.matches(&self.value(*r)?) {
                            all = false;
                            break;
                        }
                    }
                    self.set_i(*dst, i64::from(all))?;
                }
                Op::Switch(sel, targets) => {
                    let k = usize::try_from(self.i(*sel)?).ok()?;
                    pc = *targets.get(k)? as usize;
                }
                Op::Overrides(conds, dst) => {
                    // As the interpreter: the exception no other that holds
                    // wins over; a conflict is the interpreter's to word.
                    let beats = |a: usize, b: usize| {
                        conds
                            .get(a)
                            .is_some_and(|(_, beats)| beats.contains(&(b as u32)))
                    };
                    let holds = |k: usize| match conds.get(k) {
                        Some((c, _)) => self.i(*c).map(|v| v != 0).ok_or(()),
                        None => Ok(false),
                    };
                    let best = crate::semantics::exceptions::winner_of(conds.len(), holds, beats)
                        .ok()?
                        .ok()?;
                    let sel = best.map_or(0, |k| k + 1);
                    self.set_i(*dst, i64::try_from(sel).ok()?)?;
                }
                Op::FailIfZero(c) => {
                    if self.i(*c)? == 0 {
                        return None;
                    }
                }
                Op::Fail => return None,
            }
        }
        Some(())
    }
}
