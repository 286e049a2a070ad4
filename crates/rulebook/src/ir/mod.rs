//! The compiled rulebook: every name resolved to a slot, every expression
//! typed. The evaluator never looks a name up by string.

pub mod row_index;
pub mod value;

use crate::diagnostic::Span;
use crate::ir::value::{Type, TypeNames, Value};
use crate::syntax::ast::{Aggregate, DurationUnit, HitPolicy, RoundMode, RoundTarget, ScaleKind};
use chrono::NaiveDate;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Citation {
    pub section: Option<String>,
    pub source: Option<String>,
}

impl From<&crate::syntax::ast::Citation> for Citation {
    fn from(c: &crate::syntax::ast::Citation) -> Citation {
        Citation {
            section: c.section.clone(),
            source: c.source.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Program {
    pub id: String,
    pub title: Option<String>,
    /// `languages fi, sv, en`; the first is the language of the plain texts.
    pub languages: Vec<String>,
    /// The texts people read, with their translations (see [`Texts`]).
    pub texts: Texts,
    pub version: String,
    pub in_force_from: NaiveDate,
    pub in_force_to: Option<NaiveDate>,
    pub source: Option<String>,
    pub amends: Option<String>,
    /// The header item and its `in force` clause, for version diagnostics.
    pub header_span: Span,
    pub in_force_span: Span,
    pub enums: Vec<EnumInfo>,
    pub records: Vec<RecordInfo>,
    pub inputs: Vec<InputInfo>,
    pub defs: Vec<DefInfo>,
    pub functions: Vec<FunctionInfo>,
    pub tables: Vec<TableInfo>,
    pub scales: Vec<ScaleInfo>,
    pub criteria: Vec<CriterionInfo>,
    /// Indices into `defs`, in the order the outputs are written.
    pub outputs: Vec<u32>,
    /// Money outputs not known to be whole cents (the `unrounded-money`
    /// warning): a columnar file gives them more decimal places.
    pub unrounded_outputs: Vec<u32>,
    pub examples: Vec<ExampleInfo>,
    /// What must hold for every valid case (`property`).
    pub properties: Vec<PropertyInfo>,
    /// Other programmes this one uses (`use`), by position.
    pub uses: Vec<UsedProgramme>,
}

/// Another programme this one uses: `use fi.payment_ceiling as ceiling`.
#[derive(Debug, Clone)]
pub struct UsedProgramme {
    pub id: String,
    pub alias: String,
    /// Its checked versions in force during this one's period, earliest
    /// first; the one in force on the decision date decides.
    pub versions: Vec<std::sync::Arc<Program>>,
    pub citation: Citation,
    pub span: Span,
}

impl UsedProgramme {
    /// The version in force on a date.
    pub fn in_force(&self, date: NaiveDate) -> Option<&Program> {
        self.versions
            .iter()
            .find(|v| v.in_force_from <= date && v.in_force_to.is_none_or(|t| date <= t))
            .map(|v| v.as_ref())
    }
}

/// What is taken from a used programme: looked up by name in the version
/// in force on the decision date, so that each date gets its own figures.
#[derive(Debug, Clone, PartialEq)]
pub enum UsedItem {
    /// A parameter, or a definition that reads no inputs.
    Def(std::sync::Arc<str>),
    Function(std::sync::Arc<str>),
    Table(std::sync::Arc<str>),
    Scale(std::sync::Arc<str>),
    /// The rulebook decided for inputs given by their paths (the arguments,
    /// in this order); the result is the named output, or whether the case
    /// is eligible (`None`).
    Decide {
        paths: Vec<std::sync::Arc<str>>,
        result: Option<std::sync::Arc<str>>,
    },
}

impl UsedItem {
    /// The name written after the alias, for explanations.
    pub fn name(&self) -> &str {
        match self {
            UsedItem::Def(n) | UsedItem::Function(n) | UsedItem::Table(n) | UsedItem::Scale(n) => n,
            UsedItem::Decide { result, .. } => result.as_deref().unwrap_or("eligible"),
        }
    }
}

/// A text people read and its translations, keyed by what it is: `title`,
/// `criterion:NAME`, `output:NAME`, `input:PATH`.
pub type Texts = std::collections::BTreeMap<String, TextEntry>;

#[derive(Debug, Clone, PartialEq)]
pub struct TextEntry {
    /// The text in the rulebook's first language.
    pub first: String,
    /// Other languages: code and text.
    pub translations: Vec<(String, String)>,
    pub span: Span,
    /// What the text is, for diagnostics (`the reason of criterion `x``).
    pub what: String,
}

impl Program {
    /// A text in a language: the plain text for the first language (or
    /// when no languages are declared), else its translation, if given.
    pub fn text_in(&self, key: &str, lang: &str) -> Option<&str> {
        let entry = self.texts.get(key)?;
        if self.languages.first().is_none_or(|l| l == lang) {
            return Some(&entry.first);
        }
        entry
            .translations
            .iter()
            .find(|(l, _)| l == lang)
            .map(|(_, t)| t.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct EnumInfo {
    pub name: String,
    pub variants: Vec<String>,
    /// Per variant, the record its data is (`None`: no data). Empty when
    /// no variant has data.
    pub data: Vec<Option<u32>>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub name: String,
    pub ty: Type,
    pub bounds: Option<Bounds>,
    pub description: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RecordInfo {
    pub name: String,
    pub fields: Vec<FieldInfo>,
    pub doc: Option<String>,
    pub span: Span,
}

/// Allowed values of a number or date, from a type such as `integer 1 to 5`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    pub low: Option<(Value, bool)>,
    pub high: Option<(Value, bool)>,
    pub text: String,
}

impl Bounds {
    pub fn contains(&self, v: &Value) -> bool {
        within(v, self.low.as_ref(), self.high.as_ref())
    }
}

/// Whether `v` lies between two optional bounds, each inclusive or not.
pub(crate) fn within(v: &Value, low: Option<&(Value, bool)>, high: Option<&(Value, bool)>) -> bool {
    use std::cmp::Ordering::*;
    let low_ok = match low {
        None => true,
        Some((b, incl)) => matches!(
            (v.compare(b), incl),
            (Some(Greater), _) | (Some(Equal), true)
        ),
    };
    low_ok
        && match high {
            None => true,
            Some((b, incl)) => {
                matches!((v.compare(b), incl), (Some(Less), _) | (Some(Equal), true))
            }
        }
}

#[derive(Debug, Clone)]
pub struct InputInfo {
    pub name: String,
    pub ty: Type,
    pub bounds: Option<Bounds>,
    pub description: Option<String>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    Let,
    Output,
    Parameter,
}

#[derive(Debug, Clone)]
pub struct DefInfo {
    pub name: String,
    pub kind: DefKind,
    pub ty: Type,
    pub body: DefBody,
    /// The base formula as written, for explanations.
    pub formula: String,
    pub citation: Citation,
    pub doc: Option<String>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Debug, Clone)]
pub enum DefBody {
    Rule {
        base: Expr,
        overrides: Vec<OverrideInfo>,
    },
    /// A parameter's values, each in force from its date (`None`: always).
    Dated(Vec<(Option<NaiveDate>, Value)>),
}

#[derive(Debug, Clone)]
pub struct OverrideInfo {
    pub condition: Expr,
    pub value: Expr,
    pub rank: u32,
    pub span: Span,
    /// The condition as written, to name the override in errors.
    pub text: String,
    /// The exception's own `§` or source, if it has one.
    pub citation: Citation,
    /// `as NAME`, if it has one.
    pub name: Option<String>,
    /// The other exceptions of the rule this one wins over when both apply
    /// (by position): those it is written `over`, directly or through
    /// others, and those of lower rank.
    pub beats: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct FunctionInfo {
    pub name: String,
    pub params: Vec<(String, Type)>,
    pub ret: Type,
    pub body: Expr,
    /// Exceptions to the body, as for a rule.
    pub overrides: Vec<OverrideInfo>,
    /// The body as written, for explanations.
    pub formula: String,
    pub frame_size: u32,
    pub citation: Citation,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CellTest {
    Any,
    Range {
        low: Option<(Value, bool)>,
        high: Option<(Value, bool)>,
    },
    OneOf(Vec<Value>),
    /// Any of several ranges (`under 18 or 65 or more`).
    AnyOf(Vec<CellTest>),
}

impl CellTest {
    pub fn matches(&self, v: &Value) -> bool {
        match self {
            CellTest::Any => true,
            CellTest::AnyOf(tests) => tests.iter().any(|t| t.matches(v)),
            CellTest::OneOf(vals) => vals.iter().any(|x| x.equals(v)),
            CellTest::Range { low, high } => within(v, low.as_ref(), high.as_ref()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TableRowInfo {
    pub tests: Vec<CellTest>,
    pub result: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub params: Vec<(String, Type, Option<Bounds>)>,
    pub ret: Type,
    pub hit: HitPolicy,
    pub rows: Vec<TableRowInfo>,
    pub frame_size: u32,
    pub citation: Citation,
    pub doc: Option<String>,
    pub span: Span,
    /// The rows by the value of one column, for a large table; built by
    /// the checker once the rows are known.
    pub index: Option<std::sync::Arc<row_index::RowIndex>>,
}

impl TableInfo {
    /// The index to find rows by, for a table large enough to need one.
    pub fn row_index(&self) -> Option<&row_index::RowIndex> {
        self.index.as_deref()
    }
}

#[derive(Debug, Clone)]
pub struct ScaleInfo {
    pub name: String,
    pub param: (String, Type),
    pub ret: Type,
    pub kind: ScaleKind,
    pub strict: bool,
    pub brackets: Vec<(Value, Value)>,
    /// Each bracket's threshold as an amount.
    pub thresholds: Vec<rust_decimal::Decimal>,
    /// A marginal scale's rates, bracket by bracket (none for a single
    /// amount scale).
    pub rates: Vec<rust_decimal::Decimal>,
    pub citation: Citation,
    pub doc: Option<String>,
    pub span: Span,
}

/// A property: a statement that must hold for every valid case.
#[derive(Debug, Clone)]
pub struct PropertyInfo {
    pub name: String,
    pub kind: PropertyKind,
    /// Whether it names an output, directly or through the definitions it
    /// uses: such a property is about eligible cases only, since only they
    /// have outputs.
    pub about_outputs: bool,
    pub citation: Citation,
    pub doc: Option<String>,
    pub span: Span,
    /// The property as written, for reports.
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum PropertyKind {
    /// `holds` is true for every case that meets `when`.
    Bound {
        holds: Expr,
        when: Option<PropertyCondition>,
    },
    /// Moving `input` in its direction never moves `value` in the forbidden
    /// direction (`value_rises`: it must not rise).
    Monotone {
        value: Expr,
        value_rises: bool,
        input: InputPath,
        input_rises: bool,
    },
    /// Raising `input` by `step` raises `value` by at most `at_most`.
    Marginal {
        value: Expr,
        at_most: Expr,
        input: InputPath,
        step: Expr,
    },
}

#[derive(Debug, Clone)]
pub enum PropertyCondition {
    Eligible,
    Holds(Expr),
}

/// An input, or a field of an input record (fields within fields too):
/// what a relation changes between its two cases.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPath {
    pub input: u32,
    pub fields: Vec<u32>,
    pub ty: Type,
    /// As written: `household.gross_monthly_income`.
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct CriterionInfo {
    pub name: String,
    pub condition: Expr,
    /// The condition as written, for explanations.
    pub formula: String,
    pub reason: String,
    pub citation: Citation,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ExampleInfo {
    pub name: String,
    pub span: Span,
    pub date: NaiveDate,
    /// One value per input, in input order.
    pub inputs: Vec<Value>,
    pub expects: Vec<ExpectInfo>,
}

#[derive(Debug, Clone)]
pub enum ExpectInfo {
    Eligible(bool, Option<Vec<String>>, Span),
    /// The output, its expected value, the allowed difference (none: exact).
    Output(u32, Value, Option<Value>, Span),
    Error(Option<String>, Span),
    /// The property (by index) holds at this case; for a relation, moving
    /// the input by the step (its own, or the one given).
    Property(u32, Option<Value>, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Abs,
    FirstDayOfMonth,
    LastDayOfMonth,
    FirstDayOfYear,
    LastDayOfYear,
    Years,
    Months,
    Days,
}

pub const BUILTINS: &[(&str, Builtin, &str)] = &[
    (
        "min",
        Builtin::Min,
        "min(a, b, ...): the smallest of its arguments",
    ),
    (
        "max",
        Builtin::Max,
        "max(a, b, ...): the largest of its arguments",
    ),
    ("abs", Builtin::Abs, "abs(x): x without its sign"),
    (
        "first_day_of_month",
        Builtin::FirstDayOfMonth,
        "first_day_of_month(date)",
    ),
    (
        "last_day_of_month",
        Builtin::LastDayOfMonth,
        "last_day_of_month(date)",
    ),
    (
        "first_day_of_year",
        Builtin::FirstDayOfYear,
        "first_day_of_year(date)",
    ),
    (
        "last_day_of_year",
        Builtin::LastDayOfYear,
        "last_day_of_year(date)",
    ),
    ("years", Builtin::Years, "years(n): a duration of n years"),
    (
        "months",
        Builtin::Months,
        "months(n): a duration of n months",
    ),
    ("days", Builtin::Days, "days(n): a duration of n days"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Const(Value),
    Input(u32),
    Def(u32),
    /// A function parameter, table column or list element, by frame slot.
    Local(u32),
    DecisionDate,
    Field(Box<Expr>, u32),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>, bool),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(u32, Vec<Expr>),
    Table(u32, Vec<Expr>),
    Scale(u32, Box<Expr>),
    Builtin(Builtin, Vec<Expr>),
    List(Vec<Expr>),
    Between(DurationUnit, Box<Expr>, Box<Expr>),
    Aggregate {
        kind: Aggregate,
        slot: u32,
        /// The item's position (from 1) is held in the slot after the item.
        position: bool,
        list: Box<Expr>,
        projection: Option<Box<Expr>>,
        filter: Option<Box<Expr>>,
        if_empty: Option<Box<Expr>>,
    },
    Round(Box<Expr>, RoundTarget, RoundMode),
    /// `x is present` (true) or `x is absent` (false).
    Presence(Box<Expr>, bool),
    /// `x or else d`.
    OrElse(Box<Expr>, Box<Expr>),
    /// A record built from its fields' values, in order: one row of a table
    /// with several results.
    Record(Vec<Expr>),
    /// A value carried through a list: the carried value in `slot`, the
    /// item in the next and, with `position`, its position after that.
    Fold {
        slot: u32,
        position: bool,
        init: Box<Expr>,
        list: Box<Expr>,
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    /// The data of a variant, when the value is that variant (a record);
    /// absent otherwise.
    VariantData(Box<Expr>, u32),
    /// Something of a used programme (`Program::uses`), with its arguments.
    Used {
        used: u32,
        item: UsedItem,
        args: Vec<Expr>,
    },
    /// The list in the order of `key` (evaluated with the item in `slot`).
    Sorted {
        slot: u32,
        list: Box<Expr>,
        key: Box<Expr>,
        descending: bool,
    },
}

impl Program {
    pub fn def_index(&self, name: &str) -> Option<u32> {
        self.defs
            .iter()
            .position(|d| d.name == name)
            .map(|i| i as u32)
    }
    pub fn output_index(&self, name: &str) -> Option<u32> {
        self.outputs
            .iter()
            .copied()
            .find(|i| self.defs.get(*i as usize).is_some_and(|d| d.name == name))
    }
    pub fn field_types(&self, record: u32) -> Vec<Type> {
        self.records
            .get(record as usize)
            .map(|r| r.fields.iter().map(|f| f.ty.clone()).collect())
            .unwrap_or_default()
    }
    pub fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::Integer => "integer".into(),
            Type::Decimal => "decimal".into(),
            Type::Money => "money".into(),
            Type::Percent => "percent".into(),
            Type::Text => "text".into(),
            Type::Date => "date".into(),
            Type::Duration => "duration".into(),
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
            Type::Error => "unknown".into(),
        }
    }
    pub fn render(&self, v: &Value, ty: &Type) -> String {
        crate::ir::value::render(v, ty, self)
    }
    pub fn to_json(&self, v: &Value, ty: &Type) -> serde_json::Value {
        crate::ir::value::to_json(v, ty, self, &|r| self.field_types(r))
    }
    /// Whether the version is in force on a date.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        date >= self.in_force_from && self.in_force_to.is_none_or(|to| date <= to)
    }
}

impl Program {
    /// The declared type at a dotted input path such as `household.size`.
    /// With `through_lists`, lists are looked into: `members.birth_date`
    /// is the type of each member's field, and a list of dates is a date.
    pub fn input_type_at(&self, path: &str, through_lists: bool) -> Option<Type> {
        let unwrap = |mut ty: Type| {
            while let (true, Type::List(inner)) = (through_lists, &ty) {
                ty = (**inner).clone();
            }
            ty
        };
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut ty = unwrap(self.inputs.iter().find(|i| i.name == first)?.ty.clone());
        for part in parts {
            let Type::Record(r) = ty else { return None };
            let field = self
                .records
                .get(r as usize)?
                .fields
                .iter()
                .find(|f| f.name == part)?;
            ty = unwrap(field.ty.clone());
        }
        Some(ty)
    }
}

impl Program {
    /// Every expression the program decides with: rules and their
    /// overrides, function bodies, table row results and criteria.
    pub fn rule_exprs(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        for d in &self.defs {
            if let DefBody::Rule { base, overrides } = &d.body {
                out.push(base);
                for o in overrides {
                    out.push(&o.condition);
                    out.push(&o.value);
                }
            }
        }
        for f in &self.functions {
            out.push(&f.body);
            for o in &f.overrides {
                out.push(&o.condition);
                out.push(&o.value);
            }
        }
        for t in &self.tables {
            out.extend(t.rows.iter().map(|r| &r.result));
        }
        out.extend(self.criteria.iter().map(|c| &c.condition));
        out
    }

    /// Whether `e` names an output, directly or through the definitions,
    /// functions and tables it uses.
    pub fn mentions_output(&self, e: &Expr) -> bool {
        self.reaches(
            e,
            |x| matches!(&x.kind, ExprKind::Def(i) if self.outputs.contains(i)),
        )
    }

    /// Whether `e` reads the case's inputs, directly or through what it
    /// uses: a used programme's parameters, functions and tables are
    /// evaluated without a case, so they must not.
    pub fn reads_inputs(&self, e: &Expr) -> bool {
        self.reaches(e, |x| matches!(&x.kind, ExprKind::Input(_)))
    }

    /// Whether some expression `e` uses, directly or through definitions,
    /// functions and tables, satisfies `found`.
    fn reaches(&self, e: &Expr, found: impl Fn(&Expr) -> bool) -> bool {
        let mut seen_defs = vec![false; self.defs.len()];
        let mut seen_funcs = vec![false; self.functions.len()];
        let mut seen_tables = vec![false; self.tables.len()];
        let mut todo = vec![e];
        while let Some(e) = todo.pop() {
            if found(e) {
                return true;
            }
            match &e.kind {
                ExprKind::Def(i) => {
                    if let Some(seen) = seen_defs.get_mut(*i as usize) {
                        if !std::mem::replace(seen, true) {
                            if let Some(DefBody::Rule { base, overrides }) =
                                self.defs.get(*i as usize).map(|d| &d.body)
                            {
                                todo.push(base);
                                for o in overrides {
                                    todo.push(&o.condition);
                                    todo.push(&o.value);
                                }
                            }
                        }
                    }
                }
                ExprKind::Call(f, _) => {
                    if let Some(seen) = seen_funcs.get_mut(*f as usize) {
                        if !std::mem::replace(seen, true) {
                            if let Some(func) = self.functions.get(*f as usize) {
                                todo.push(&func.body);
                                for o in &func.overrides {
                                    todo.push(&o.condition);
                                    todo.push(&o.value);
                                }
                            }
                        }
                    }
                }
                ExprKind::Table(t, _) => {
                    if let Some(seen) = seen_tables.get_mut(*t as usize) {
                        if !std::mem::replace(seen, true) {
                            if let Some(table) = self.tables.get(*t as usize) {
                                todo.extend(table.rows.iter().map(|r| &r.result));
                            }
                        }
                    }
                }
                _ => {}
            }
            each_child(e, &mut |c| todo.push(c));
        }
        false
    }

    /// A type written out in full (an enum with its variants, a record with
    /// its fields), to compare types across programmes and versions, whose
    /// enums and records are numbered each in its own way.
    pub fn shape(&self, t: &Type) -> String {
        self.shape_at(t, 0)
    }

    fn shape_at(&self, t: &Type, depth: usize) -> String {
        if depth > 16 {
            return "...".into();
        }
        match t {
            Type::Enum(e) => match self.enums.get(*e as usize) {
                Some(e) => format!("enum {{{}}}", e.variants.join(", ")),
                None => "?".into(),
            },
            Type::Record(r) => match self.records.get(*r as usize) {
                Some(r) => format!(
                    "{{{}}}",
                    r.fields
                        .iter()
                        .map(|f| format!("{}: {}", f.name, self.shape_at(&f.ty, depth + 1)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "?".into(),
            },
            Type::List(t) => format!("list of {}", self.shape_at(t, depth + 1)),
            Type::Optional(t) => format!("optional {}", self.shape_at(t, depth + 1)),
            other => self.type_name(other),
        }
    }

    /// The leaves of the inputs a case gives, by path (`year.fees`), with
    /// their types and bounds: what a rulebook that uses this one passes.
    pub fn input_paths(&self) -> Vec<(String, Type, Option<Bounds>)> {
        let mut out = Vec::new();
        for i in &self.inputs {
            match &i.ty {
                Type::Record(r) if i.bounds.is_none() => match self.records.get(*r as usize) {
                    // An input declared with `{ ... }` is its fields.
                    Some(rec) if rec.name == i.name => {
                        for f in &rec.fields {
                            out.push((
                                format!("{}.{}", i.name, f.name),
                                f.ty.clone(),
                                f.bounds.clone(),
                            ));
                        }
                    }
                    _ => out.push((i.name.clone(), i.ty.clone(), None)),
                },
                ty => out.push((i.name.clone(), ty.clone(), i.bounds.clone())),
            }
        }
        out
    }

    /// Why a value is outside what a type and its bounds allow (naming the
    /// path within it), or `None` when it is inside.
    pub fn outside_bounds(
        &self,
        ty: &Type,
        bounds: Option<&Bounds>,
        v: &Value,
        path: &str,
    ) -> Option<String> {
        if matches!(v, Value::Absent) {
            return None;
        }
        if let Some(b) = bounds {
            if !b.contains(v) {
                return Some(format!("{path} must be {}", b.text));
            }
        }
        match (ty, v) {
            (Type::Optional(t), v) => self.outside_bounds(t, None, v, path),
            (Type::List(t), Value::List(items)) => items
                .iter()
                .enumerate()
                .find_map(|(k, x)| self.outside_bounds(t, None, x, &format!("{path}[{k}]"))),
            (Type::Record(r), Value::Record(values)) => {
                let rec = self.records.get(*r as usize)?;
                rec.fields.iter().zip(values.iter()).find_map(|(f, x)| {
                    self.outside_bounds(&f.ty, f.bounds.as_ref(), x, &format!("{path}.{}", f.name))
                })
            }
            _ => None,
        }
    }
}

impl TypeNames for Program {
    fn variant_name(&self, enum_id: u32, variant: u32) -> &str {
        self.enums
            .get(enum_id as usize)
            .and_then(|e| e.variants.get(variant as usize))
            .map(|s| s.as_str())
            .unwrap_or("?")
    }
    fn field_names(&self, record_id: u32) -> Vec<&str> {
        self.records
            .get(record_id as usize)
            .map(|r| r.fields.iter().map(|f| f.name.as_str()).collect())
            .unwrap_or_default()
    }
    fn field_types(&self, record_id: u32) -> Vec<Type> {
        Program::field_types(self, record_id)
    }
    fn variant_record(&self, enum_id: u32, variant: u32) -> Option<u32> {
        *self
            .enums
            .get(enum_id as usize)?
            .data
            .get(variant as usize)?
    }
}

impl Program {
    /// The definitions a definition uses directly (through the functions
    /// and tables it calls too).
    pub fn def_uses(&self, i: u32) -> Vec<u32> {
        match self.defs.get(i as usize).map(|d| &d.body) {
            Some(DefBody::Rule { base, overrides }) => {
                let mut uses = self.def_refs(base);
                for o in overrides {
                    uses.extend(self.def_refs(&o.condition));
                    uses.extend(self.def_refs(&o.value));
                }
                uses
            }
            _ => Vec::new(),
        }
    }

    /// The definitions an expression names, looking inside the functions
    /// and tables it calls.
    pub fn def_refs(&self, e: &Expr) -> Vec<u32> {
        let mut out = Vec::new();
        let mut functions = vec![false; self.functions.len()];
        let mut tables = vec![false; self.tables.len()];
        let mut todo = vec![e];
        while let Some(e) = todo.pop() {
            match &e.kind {
                ExprKind::Def(i) => out.push(*i),
                ExprKind::Call(f, _) => {
                    if let (Some(seen), Some(func)) = (
                        functions.get_mut(*f as usize),
                        self.functions.get(*f as usize),
                    ) {
                        if !std::mem::replace(seen, true) {
                            todo.push(&func.body);
                        }
                    }
                }
                ExprKind::Table(t, _) => {
                    if let (Some(seen), Some(table)) =
                        (tables.get_mut(*t as usize), self.tables.get(*t as usize))
                    {
                        if !std::mem::replace(seen, true) {
                            todo.extend(table.rows.iter().map(|r| &r.result));
                        }
                    }
                }
                _ => {}
            }
            each_child(e, &mut |c| todo.push(c));
        }
        out
    }

    /// The input field an expression reads, as a path such as
    /// `client.birth_date`; `None` for anything else.
    pub fn input_path(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Input(i) => self.inputs.get(*i as usize).map(|x| x.name.clone()),
            ExprKind::Field(x, idx) => {
                let Type::Record(r) = &x.ty else { return None };
                let field = self.records.get(*r as usize)?.fields.get(*idx as usize)?;
                Some(format!("{}.{}", self.input_path(x)?, field.name))
            }
            _ => None,
        }
    }
}

/// The expressions directly inside `e`.
pub fn each_child<'e>(e: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    match &e.kind {
        ExprKind::Const(_)
        | ExprKind::Input(_)
        | ExprKind::Def(_)
        | ExprKind::Local(_)
        | ExprKind::DecisionDate => {}
        ExprKind::Field(x, _)
        | ExprKind::Neg(x)
        | ExprKind::Not(x)
        | ExprKind::Scale(_, x)
        | ExprKind::VariantData(x, _) => f(x),
        ExprKind::Round(x, ..) | ExprKind::Presence(x, _) => f(x),
        ExprKind::OrElse(a, b) => {
            f(a);
            f(b);
        }
        ExprKind::Arith(_, a, b)
        | ExprKind::Cmp(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Between(_, a, b) => {
            f(a);
            f(b);
        }
        ExprKind::In(v, options, _) => {
            f(v);
            options.iter().for_each(f);
        }
        ExprKind::If(c, t, e) => {
            f(c);
            f(t);
            f(e);
        }
        ExprKind::Call(_, args)
        | ExprKind::Table(_, args)
        | ExprKind::Builtin(_, args)
        | ExprKind::Used { args, .. }
        | ExprKind::Record(args)
        | ExprKind::List(args) => args.iter().for_each(f),
        ExprKind::Sorted { list, key, .. } => {
            f(list);
            f(key);
        }
        ExprKind::Fold {
            init,
            list,
            filter,
            body,
            ..
        } => {
            f(init);
            f(list);
            if let Some(x) = filter {
                f(x);
            }
            f(body);
        }
        ExprKind::Aggregate {
            list,
            projection,
            filter,
            if_empty,
            ..
        } => {
            f(list);
            for x in [projection, filter, if_empty].into_iter().flatten() {
                f(x);
            }
        }
    }
}
