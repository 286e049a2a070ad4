//! The syntax tree of a rulebook, as written. Names are not resolved yet;
//! every node keeps its byte span in the source text for diagnostics.

use crate::diagnostic::Span;
use chrono::NaiveDate;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A section reference (`§ 6.2`) and a free-text source, both optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Citation {
    pub section: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub header: Option<Header>,
    pub items: Vec<Item>,
    /// The names of items that did not parse (`table t(...` gives `t`):
    /// their syntax error is the one finding, not also every use of them.
    pub unparsed: Vec<String>,
}

/// A text in another language than the rulebook's first: `sv "..."`.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The two-letter language code, with its place.
    pub lang: Ident,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub id: Ident,
    pub title: Option<String>,
    pub title_in: Vec<Translation>,
    /// `languages fi, sv, en`: the first is the language of the plain texts.
    pub languages: Vec<Ident>,
    pub version: Option<Ident>,
    pub in_force: Option<InForce>,
    pub source: Option<String>,
    pub amends: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InForce {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// The `---` doc comment lines just above the item.
    pub doc: Option<String>,
    /// Its lines in other languages (`--- [sv] ...`): code and text.
    pub doc_in: Vec<(String, String)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Enum(EnumDef),
    Record(RecordDef),
    Input(InputDef),
    Definition(Definition),
    Parameter(ParameterDef),
    Function(FunctionDef),
    Table(TableDef),
    Scale(ScaleDef),
    Eligibility(EligibilityDef),
    Example(ExampleDef),
    Property(PropertyDef),
    /// `remove a, b`: only in a version that amends another.
    Remove(Vec<Ident>),
    /// `use fi.payment_ceiling as ceiling from "../payment-ceiling"`.
    Use(UseDef),
}

/// Another programme's rulebooks, used under an alias: `ceiling.payment_ceiling`,
/// `ceiling.counts(kind)`, `ceiling(next_fee.amount: fee).next_fee_due`.
#[derive(Debug, Clone, PartialEq)]
pub struct UseDef {
    /// The programme's id, as in its header.
    pub id: Ident,
    /// `as NAME`, or the id's last part.
    pub alias: Ident,
    /// `from "FOLDER"`: where its files are, relative to this file.
    pub from: Option<String>,
    pub citation: Citation,
}

impl ItemKind {
    /// The name the item defines, if it defines one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            ItemKind::Enum(e) => Some(&e.name),
            ItemKind::Record(r) => Some(&r.name),
            ItemKind::Input(i) => Some(&i.name),
            ItemKind::Definition(d) => Some(&d.name),
            ItemKind::Parameter(p) => Some(&p.name),
            ItemKind::Function(f) => Some(&f.name),
            ItemKind::Table(t) => Some(&t.name),
            ItemKind::Scale(s) => Some(&s.name),
            ItemKind::Property(p) => Some(&p.name),
            ItemKind::Use(u) => Some(&u.alias),
            ItemKind::Eligibility(_) | ItemKind::Example(_) | ItemKind::Remove(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    pub name: Ident,
    pub variants: Vec<Ident>,
    /// Each variant's data fields, in the order of `variants` (empty for a
    /// variant without data).
    pub data: Vec<Vec<Field>>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub ty: TypeExpr,
    pub description: Option<String>,
    pub description_in: Vec<Translation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordDef {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InputDef {
    pub name: Ident,
    pub shape: InputShape,
    pub description: Option<String>,
    pub description_in: Vec<Translation>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InputShape {
    Record(Vec<Field>),
    Value(TypeExpr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    Named {
        name: Ident,
        bounds: Option<Range>,
        span: Span,
    },
    List(Box<TypeExpr>, Span),
    /// `optional T`: a value a case may leave out.
    Optional(Box<TypeExpr>, Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named { span, .. }
            | TypeExpr::List(_, span)
            | TypeExpr::Optional(_, span) => *span,
        }
    }
}

/// `let` and `output`: a named value with an optional type, a base rule and
/// ranked overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub is_output: bool,
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    /// An output's label for people (`output city_pays: money "Kaupunki maksaa"`).
    pub label: Option<String>,
    pub label_in: Vec<Translation>,
    pub body: Expr,
    pub overrides: Vec<Override>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub condition: Expr,
    pub value: Expr,
    pub rank: u32,
    pub span: Span,
    /// A `§` or `source` written after the exception: laws put an exception
    /// in another section than the rule it makes an exception to.
    pub citation: Citation,
    /// `as NAME`: how other exceptions of the rule refer to this one.
    pub name: Option<Ident>,
    /// `over A, B`: the exceptions this one is an exception to.
    pub over: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDef {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub values: Vec<DatedValue>,
    pub citation: Citation,
}

/// One value of a parameter; `from` is `None` for a parameter with a single value.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedValue {
    pub value: Expr,
    pub from: Option<NaiveDate>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub body: Expr,
    /// Exceptions, as for a rule: `unless CONDITION then VALUE`.
    pub overrides: Vec<Override>,
    pub citation: Citation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitPolicy {
    Unique,
    First,
    CollectSum,
    CollectMin,
    CollectMax,
    CollectCount,
    /// Every matching row's result, in row order.
    CollectList,
    /// Of the matching rows, the result that comes first in its enum's
    /// order: the enum lists its values from the highest priority down.
    Priority,
    /// Every matching row's result, in its enum's order.
    OutputOrder,
}

impl HitPolicy {
    pub fn describe(self) -> &'static str {
        match self {
            HitPolicy::Unique => "unique",
            HitPolicy::First => "first",
            HitPolicy::CollectSum => "collect sum",
            HitPolicy::CollectMin => "collect min",
            HitPolicy::CollectMax => "collect max",
            HitPolicy::CollectCount => "collect count",
            HitPolicy::CollectList => "collect list",
            HitPolicy::Priority => "priority",
            HitPolicy::OutputOrder => "output order",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub name: Ident,
    pub params: Vec<Param>,
    /// The result's type; for a table with several results, the first's.
    pub ret: TypeExpr,
    /// `-> (visit: money, per_procedure: money)`: each result's column and
    /// type; empty for a table of one result.
    pub results: Vec<(Ident, TypeExpr)>,
    pub hit: HitPolicy,
    pub columns: Vec<Ident>,
    pub rows: Vec<TableRow>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub conditions: Vec<Condition>,
    pub result: Expr,
    pub span: Span,
}

/// A condition cell of a decision table.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Any(Span),
    Range(Range),
    OneOf(Vec<CellValue>, Span),
    /// `under 18 or 65 or more`: any of the ranges.
    AnyOf(Vec<Range>, Span),
}

impl Condition {
    pub fn span(&self) -> Span {
        match self {
            Condition::Any(s) | Condition::OneOf(_, s) | Condition::AnyOf(_, s) => *s,
            Condition::Range(r) => r.span,
        }
    }
}

/// An interval with optional, open or closed ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub low: Option<(CellValue, bool)>,
    pub high: Option<(CellValue, bool)>,
    pub span: Span,
}

/// A constant in a table cell, a type bound or an example.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Literal(Literal, Span),
    Name(Ident),
}

impl CellValue {
    pub fn span(&self) -> Span {
        match self {
            CellValue::Literal(_, s) => *s,
            CellValue::Name(i) => i.span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    Marginal,
    SingleAmount,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScaleDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub kind: ScaleKind,
    /// `over` (strictly above the threshold) or `from` (at or above it).
    pub strict: bool,
    pub brackets: Vec<ScaleRow>,
    pub citation: Citation,
    pub header_span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScaleRow {
    pub threshold: CellValue,
    pub value: CellValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EligibilityDef {
    pub criteria: Vec<Criterion>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    pub name: Ident,
    pub condition: Expr,
    pub reason: String,
    pub reason_in: Vec<Translation>,
    pub citation: Citation,
    pub span: Span,
}

/// `property NAME: ...`: what must hold for every valid case.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyDef {
    pub name: Ident,
    pub citation: Citation,
    pub body: PropertyBody,
}

#[derive(Debug, Clone, PartialEq)]
// A rulebook has a handful of properties: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum PropertyBody {
    /// `EXPR` or `EXPR when COND` / `EXPR when eligible`.
    Bound {
        holds: Expr,
        when: Option<PropertyCondition>,
    },
    /// `VALUE never rises when INPUT rises` (or `falls`).
    Monotone {
        value: Expr,
        value_rises: bool,
        input: Expr,
        input_rises: bool,
    },
    /// `VALUE rises by at most LIMIT when INPUT rises by STEP`.
    Marginal {
        value: Expr,
        at_most: Expr,
        input: Expr,
        step: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PropertyCondition {
    Eligible(Span),
    Holds(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExampleDef {
    pub name: String,
    pub name_span: Span,
    pub date: Option<NaiveDate>,
    pub given: Vec<(Ident, DataValue)>,
    pub expects: Vec<Expectation>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    Eligible(Span),
    NotEligible(Vec<Ident>, Span),
    /// An output's expected value, and the largest difference allowed
    /// (`within 0.01 €`), if any.
    Output(Ident, DataValue, Option<DataValue>),
    Error(Option<String>, Span),
    /// `expect property NAME` (for a relation, `by STEP` for how far the
    /// input moves): the property holds at this case.
    Property(Ident, Option<DataValue>, Span),
}

/// A constant value written in an example.
#[derive(Debug, Clone, PartialEq)]
pub enum DataValue {
    Literal(Literal, Span),
    Name(Ident),
    List(Vec<DataValue>, Span),
    Record(Vec<(Ident, DataValue)>, Span),
    /// `Salary { monthly: 2000 € }`: a variant with its data.
    Variant(Ident, Vec<(Ident, DataValue)>, Span),
}

impl DataValue {
    pub fn span(&self) -> Span {
        match self {
            DataValue::Literal(_, s)
            | DataValue::List(_, s)
            | DataValue::Record(_, s)
            | DataValue::Variant(_, _, s) => *s,
            DataValue::Name(i) => i.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    /// A number written without a unit; `is_integer` when it has no decimal point.
    Number(Decimal, bool),
    Money(Decimal),
    /// As written: `50 %` is stored as 50.
    Percent(Decimal),
    Date(NaiveDate),
    Duration(i64, DurationUnit),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Days,
    Weeks,
    Months,
    Years,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "×",
            BinOp::Div => "/",
            BinOp::Eq => "=",
            BinOp::Ne => "≠",
            BinOp::Lt => "<",
            BinOp::Le => "≤",
            BinOp::Gt => ">",
            BinOp::Ge => "≥",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Count,
    Min,
    Max,
    Any,
    All,
    /// `[f(x) for x in list]`: the list of each item's value.
    Collect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundTarget {
    /// A multiple of this many cents (1 = cents, 100 = whole euros).
    Cents(u32),
    Decimals(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundMode {
    HalfUp,
    HalfEven,
    Down,
    Up,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Name(String),
    DecisionDate,
    Field(Box<Expr>, Ident),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    In {
        value: Box<Expr>,
        options: Vec<Expr>,
        negated: bool,
    },
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Ident, Vec<Expr>),
    /// The results of one row of a table with several, by column.
    Record(Vec<(Ident, Expr)>),
    /// `ceiling.counts(kind)`: a function, table or scale of a used rulebook.
    UsedCall(Ident, Ident, Vec<Expr>),
    /// `ceiling(next_fee.amount: fee)`: a used rulebook decided for the
    /// inputs given by their paths; a field of it picks a result.
    Decide(Ident, Vec<(Ident, Expr)>),
    List(Vec<Expr>),
    Between(DurationUnit, Box<Expr>, Box<Expr>),
    Aggregate {
        kind: Aggregate,
        projection: Option<Box<Expr>>,
        var: Ident,
        /// `at k`: a name for the item's position, from 1 (boxed: rare, and
        /// every expression would carry its size).
        position: Option<Box<Ident>>,
        list: Box<Expr>,
        filter: Option<Box<Expr>>,
        if_empty: Option<Box<Expr>>,
    },
    Round(Box<Expr>, RoundTarget, RoundMode),
    /// `x is present` (true) or `x is absent` (false).
    Presence(Box<Expr>, bool),
    /// `x or else d`: `x` when present, else `d`.
    OrElse(Box<Expr>, Box<Expr>),
    /// `fold(acc from init for x in list where filter: body)`.
    Fold {
        acc: Ident,
        init: Box<Expr>,
        var: Ident,
        position: Option<Box<Ident>>,
        list: Box<Expr>,
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    /// `sorted(x in list by key)`, `descending` when true.
    Sorted {
        var: Ident,
        list: Box<Expr>,
        key: Box<Expr>,
        descending: bool,
    },
}

impl Expr {
    /// The direct sub-expressions.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::DecisionDate => Vec::new(),
            ExprKind::Field(e, _)
            | ExprKind::Neg(e)
            | ExprKind::Not(e)
            | ExprKind::Round(e, _, _)
            | ExprKind::Presence(e, _) => vec![e],
            ExprKind::Binary(_, a, b) | ExprKind::Between(_, a, b) | ExprKind::OrElse(a, b) => {
                vec![a, b]
            }
            ExprKind::In { value, options, .. } => std::iter::once(value.as_ref())
                .chain(options.iter())
                .collect(),
            ExprKind::If(c, t, e) => vec![c, t, e],
            ExprKind::Call(_, args) | ExprKind::UsedCall(_, _, args) | ExprKind::List(args) => {
                args.iter().collect()
            }
            ExprKind::Decide(_, args) | ExprKind::Record(args) => {
                args.iter().map(|(_, e)| e).collect()
            }
            ExprKind::Aggregate {
                projection,
                list,
                filter,
                if_empty,
                ..
            } => [
                projection.as_deref(),
                Some(list.as_ref()),
                filter.as_deref(),
                if_empty.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ExprKind::Sorted { list, key, .. } => vec![list, key],
            ExprKind::Fold {
                init,
                list,
                filter,
                body,
                ..
            } => [
                Some(init.as_ref()),
                Some(list.as_ref()),
                filter.as_deref(),
                Some(body.as_ref()),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }

    /// The depth of the tree, computed without recursion so that any tree,
    /// however deep, can be measured.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            deepest = deepest.max(d);
            stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
        }
        deepest
    }
}

/// A syntax tree printed without its byte positions, to compare two trees
/// by meaning: formatting, moving text and comments do not change it.
pub fn without_spans<T: std::fmt::Debug>(x: &T) -> String {
    let s = format!("{x:?}");
    // One pass from left to right: replacing in place and searching again
    // from the start took time in the square of the text's length.
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("Span { start: ") {
        let (before, span) = rest.split_at(i);
        let Some(j) = span.find('}') else {
            break;
        };
        out.push_str(before);
        out.push('_');
        rest = span.get(j + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_spans_blanks_every_span_and_keeps_the_rest() {
        let a = Citation {
            section: Some("6.2".into()),
            ..Citation::default()
        };
        let pair = (
            Span::new(1, 5),
            &a,
            vec![Span::new(7, 9), Span::new(10, 20)],
        );
        let shown = without_spans(&pair);
        assert!(!shown.contains("start"), "{shown}");
        assert_eq!(shown.matches('_').count(), 3, "{shown}");
        assert!(shown.contains("\"6.2\""), "{shown}");
        let moved = (
            Span::new(100, 500),
            &a,
            vec![Span::new(0, 1), Span::new(2, 3)],
        );
        assert_eq!(shown, without_spans(&moved));
    }
}
