//! The checker: resolves names, checks types and units, finds cycles,
//! analyses decision tables and compiles the rulebook to its resolved form.

pub mod tables;

use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Duration, Type, Value, BUILTIN_TYPES};
use crate::ir::*;
use crate::syntax::ast::{
    self, Aggregate, BinOp, DataValue, DurationUnit, ExprKind as A, HitPolicy, ItemKind, Literal,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The result of checking one rulebook text.
/// What a name written in the rulebook refers to, for editor tooling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SymKey {
    /// An input, parameter, `let`, output, function, table or scale.
    Global(String),
    /// An enum or record (or an input's record type).
    Type(String),
    Variant(String, String),
    Field(String, String),
    Criterion(String),
}

pub struct Checked {
    /// Every resolved use of a name: where it is written and what it means.
    pub uses: Vec<(Span, SymKey)>,
    /// The compiled rulebook; present when there are no errors.
    pub program: Option<Program>,
    /// The compiled rulebook even when it has errors, for editor tooling.
    pub partial: Program,
    pub diagnostics: Vec<Diagnostic>,
    pub ast: ast::File,
}

/// Parses and checks a rulebook. The work runs on a thread with a large
/// stack, so that long chains of definitions cannot exhaust the caller's.
pub fn check(text: &str) -> Checked {
    crate::syntax::on_large_stack(|| check_here(text))
}

fn check_here(text: &str) -> Checked {
    let (file, mut diagnostics) = crate::syntax::parse_here(text);
    let parse_errors: Vec<Span> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.span)
        .collect();
    let mut c = Checker::new(&file, text);
    c.parse_errors = parse_errors;
    c.run();
    diagnostics.append(&mut c.diags);
    diagnostics.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(a.code.as_str().cmp(b.code.as_str()))
    });
    let uses = std::mem::take(&mut c.uses);
    let partial = c.into_program();
    let program = if diagnostics.iter().any(|d| d.is_error()) {
        None
    } else {
        Some(partial.clone())
    };
    Checked {
        uses,
        program,
        partial,
        diagnostics,
        ast: file,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Def(u32),
    Func(u32),
    Table(u32),
    Scale(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    Input(u32),
    Def(u32),
    Func(u32),
    Table(u32),
    Scale(u32),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Todo,
    InProgress,
    Done,
}

struct DefSrc<'a> {
    def: Option<&'a ast::Definition>,
    param: Option<&'a ast::ParameterDef>,
    doc: Option<String>,
    span: Span,
}

struct Checker<'a> {
    file: &'a ast::File,
    text: &'a str,
    diags: Vec<Diagnostic>,
    type_names: HashMap<String, (Type, Span)>,
    enums: Vec<EnumInfo>,
    records: Vec<RecordInfo>,
    variants: HashMap<String, Vec<(u32, u32)>>,
    globals: HashMap<String, (Global, Span)>,
    inputs: Vec<InputInfo>,
    def_src: Vec<DefSrc<'a>>,
    defs: Vec<Option<DefInfo>>,
    def_state: Vec<State>,
    functions: Vec<FunctionInfo>,
    function_src: Vec<&'a ast::FunctionDef>,
    tables: Vec<TableInfo>,
    table_src: Vec<&'a ast::TableDef>,
    scales: Vec<ScaleInfo>,
    criteria: Vec<CriterionInfo>,
    outputs: Vec<u32>,
    examples: Vec<ExampleInfo>,
    locals: Vec<(String, Type)>,
    current: Option<Node>,
    edges: Vec<(Node, Node, Span)>,
    used: HashSet<Node>,
    /// Where the parser found errors; a table with one is not analysed.
    parse_errors: Vec<Span>,
    table_spans: Vec<Span>,
    def_depth: usize,
    uses: Vec<(Span, SymKey)>,
}

/// How long a chain of definitions, functions and tables, each using the
/// next, may be. It bounds the depth of checking and of explanations, and
/// keeps explanations readable. It is measured on the dependency graph, so
/// the order of the definitions in the file does not matter.
pub const MAX_DEF_CHAIN: usize = 256;

/// For each item, the items it uses and where it first uses each.
type UseGraph = HashMap<Node, Vec<(Node, Span)>>;

fn lit_span(v: &DataValue) -> Span {
    v.span()
}

/// Edit distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

pub fn suggest<'s>(name: &str, candidates: impl Iterator<Item = &'s str>) -> Option<&'s str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .filter(|c| *c != name)
        .filter_map(|c| {
            let cl = c.to_lowercase();
            let d = distance(&lower, &cl);
            // A clipped name (`house` for `household`) is worth suggesting
            // too, but a close misspelling wins over it.
            let prefix =
                lower.chars().count() >= 3 && (cl.starts_with(&lower) || lower.starts_with(&cl));
            (d <= limit || prefix).then_some(((d > limit, d, c.len()), c))
        })
        .min_by_key(|(key, _)| *key)
        .map(|(_, c)| c)
}

fn describe_global(g: Global) -> &'static str {
    match g {
        Global::Input(_) => "an input",
        Global::Def(_) => "a value",
        Global::Func(_) => "a function",
        Global::Table(_) => "a table",
        Global::Scale(_) => "a scale",
    }
}

impl<'a> Checker<'a> {
    fn new(file: &'a ast::File, text: &'a str) -> Checker<'a> {
        Checker {
            file,
            text,
            diags: Vec::new(),
            type_names: HashMap::new(),
            enums: Vec::new(),
            records: Vec::new(),
            variants: HashMap::new(),
            globals: HashMap::new(),
            inputs: Vec::new(),
            def_src: Vec::new(),
            defs: Vec::new(),
            def_state: Vec::new(),
            functions: Vec::new(),
            function_src: Vec::new(),
            tables: Vec::new(),
            table_src: Vec::new(),
            scales: Vec::new(),
            criteria: Vec::new(),
            outputs: Vec::new(),
            examples: Vec::new(),
            locals: Vec::new(),
            current: None,
            edges: Vec::new(),
            used: HashSet::new(),
            parse_errors: Vec::new(),
            table_spans: Vec::new(),
            def_depth: 0,
            uses: Vec::new(),
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn type_name(&self, t: &Type) -> String {
        match t {
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
            other => crate::ir::value::BUILTIN_TYPES
                .iter()
                .find(|n| Type::builtin(n).as_ref() == Some(other))
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
        }
    }

    fn mismatch(&mut self, span: Span, want: &Type, got: &Type, what: &str) {
        if *want == Type::Error || *got == Type::Error {
            return;
        }
        let (w, g) = (self.type_name(want), self.type_name(got));
        let mut d = Diagnostic::error(
            Code::TypeMismatch,
            span,
            format!("{what} should be {w}, but this is {g}"),
        )
        .with_label(format!("this is {g}"));
        d = match (want, got) {
            (Type::Money, Type::Integer | Type::Decimal) => d.with_help(
                "write an amount with its unit, such as `900 €`, or multiply by an amount",
            ),
            (Type::Percent, Type::Integer | Type::Decimal) => {
                d.with_help("write a percentage with its unit, such as `35 %`")
            }
            (Type::Integer, Type::Decimal) => {
                d.with_help("round it, or declare the value as `decimal`")
            }
            (Type::Bool, _) => d.with_help("a condition compares values, such as `age >= 18`"),
            _ => d,
        };
        self.err(d);
    }

    fn declare_global(&mut self, name: &ast::Ident, g: Global) {
        if let Some((_, first)) = self.globals.get(&name.name) {
            let first = *first;
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is defined twice", name.name),
                )
                .with_label("defined again here")
                .with_related(first, "first defined here")
                .with_help("rename one of them, or remove the one that is not meant"),
            );
            return;
        }
        if self.type_names.contains_key(&name.name) {
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is already the name of a type", name.name),
                )
                .with_help("give the value a name that differs from every enum and record"),
            );
            return;
        }
        self.globals.insert(name.name.clone(), (g, name.span));
    }

    fn run(&mut self) {
        self.check_header();
        let file = self.file;
        // Types first: enums and records may be used before they are written.
        for item in &file.items {
            match &item.kind {
                ItemKind::Enum(e) => self.declare_enum(e, item),
                ItemKind::Record(r) => {
                    let id = self.records.len() as u32;
                    if self.declare_type(&r.name, Type::Record(id)) {
                        self.records.push(RecordInfo {
                            name: r.name.name.clone(),
                            fields: Vec::new(),
                            doc: item.doc.clone(),
                            span: r.name.span,
                        });
                    }
                }
                _ => {}
            }
        }
        for item in &file.items {
            if let ItemKind::Record(r) = &item.kind {
                if let Some((Type::Record(id), _)) = self.type_names.get(&r.name.name).cloned() {
                    let fields = self.fields(&r.fields);
                    if let Some(rec) = self.records.get_mut(id as usize) {
                        if rec.span == r.name.span {
                            rec.fields = fields;
                        }
                    }
                }
            }
        }
        // Then every global name, so that order in the file does not matter.
        for item in &file.items {
            match &item.kind {
                ItemKind::Input(i) => self.declare_input(i, item),
                ItemKind::Definition(d) => {
                    let id = self.def_src.len() as u32;
                    self.def_src.push(DefSrc {
                        def: Some(d),
                        param: None,
                        doc: item.doc.clone(),
                        span: item.span,
                    });
                    self.declare_global(&d.name, Global::Def(id));
                    if d.is_output {
                        self.outputs.push(id);
                    }
                }
                ItemKind::Parameter(p) => {
                    let id = self.def_src.len() as u32;
                    self.def_src.push(DefSrc {
                        def: None,
                        param: Some(p),
                        doc: item.doc.clone(),
                        span: item.span,
                    });
                    self.declare_global(&p.name, Global::Def(id));
                }
                ItemKind::Function(f) => {
                    let id = self.functions.len() as u32;
                    let params = f
                        .params
                        .iter()
                        .map(|p| (p.name.name.clone(), self.resolve_type(&p.ty).0))
                        .collect();
                    let ret = self.resolve_type(&f.ret).0;
                    self.functions.push(FunctionInfo {
                        name: f.name.name.clone(),
                        params,
                        ret,
                        body: Expr {
                            kind: ExprKind::Const(Value::Bool(false)),
                            ty: Type::Error,
                            span: f.body.span,
                        },
                        frame_size: f.params.len() as u32,
                        citation: (&f.citation).into(),
                        doc: item.doc.clone(),
                        span: f.name.span,
                    });
                    self.function_src.push(f);
                    self.declare_global(&f.name, Global::Func(id));
                }
                ItemKind::Table(t) => {
                    let id = self.tables.len() as u32;
                    let params = t
                        .params
                        .iter()
                        .map(|p| {
                            let (ty, b) = self.resolve_type(&p.ty);
                            (p.name.name.clone(), ty, b)
                        })
                        .collect();
                    let mut ret = self.resolve_type(&t.ret).0;
                    if t.hit == HitPolicy::CollectCount {
                        ret = Type::Integer;
                    }
                    self.tables.push(TableInfo {
                        name: t.name.name.clone(),
                        params,
                        ret,
                        hit: t.hit,
                        rows: Vec::new(),
                        frame_size: t.params.len() as u32,
                        citation: (&t.citation).into(),
                        doc: item.doc.clone(),
                        span: t.name.span,
                        index: None,
                    });
                    self.table_src.push(t);
                    self.table_spans.push(item.span);
                    self.declare_global(&t.name, Global::Table(id));
                }
                ItemKind::Scale(s) => self.declare_scale(s, item),
                _ => {}
            }
        }
        self.defs = vec![None; self.def_src.len()];
        self.def_state = vec![State::Todo; self.def_src.len()];
        for i in 0..self.def_src.len() {
            self.def_type(i as u32);
        }
        for i in 0..self.function_src.len() {
            self.check_function(i);
        }
        for i in 0..self.table_src.len() {
            self.check_table(i);
        }
        for item in &file.items {
            match &item.kind {
                ItemKind::Eligibility(e) => self.check_eligibility(e),
                ItemKind::Example(_) => {}
                _ => {}
            }
        }
        for item in &file.items {
            if let ItemKind::Example(e) = &item.kind {
                self.check_example(e);
            }
        }
        for item in &file.items {
            if let ItemKind::Remove(names) = &item.kind {
                let span = names.first().map(|n| n.span).unwrap_or(item.span);
                self.err(
                    Diagnostic::error(Code::InvalidAmendment, span, "`remove` can only drop definitions a version inherits")
                        .with_help(if self.file.header.as_ref().is_some_and(|h| h.amends.is_some()) {
                            "check this file together with the version it amends: `rulebook check FOLDER`"
                        } else {
                            "add `amends VERSION` to the header, or delete the line"
                        }),
                );
            }
        }
        let (uses, users) = self.use_graph();
        self.find_cycles(&uses, &users);
        self.find_long_chains(&uses, &users);
        self.warn_unused();
        self.warn_unrounded();
    }

    fn check_header(&mut self) {
        let Some(h) = &self.file.header else {
            let span = self
                .file
                .items
                .first()
                .map(|i| Span::new(i.span.start, i.span.start))
                .unwrap_or_default();
            self.err(
                Diagnostic::error(Code::MissingHeader, span, "this file has no `rulebook` header")
                    .with_help("start the file with a header such as:\nrulebook helsinki.home_care \"Title\"\n  version 2021\n  in force 2021-01-01 to 2021-12-31\n  source \"...\""),
            );
            return;
        };
        if h.version.is_none() {
            self.err(
                Diagnostic::error(
                    Code::InvalidHeader,
                    h.id.span,
                    "the header does not say which version this is",
                )
                .with_help("add a line such as `version 2021` under the header"),
            );
        }
        match &h.in_force {
            None => self.err(
                Diagnostic::error(Code::InvalidHeader, h.id.span, "the header does not say when this version is in force")
                    .with_help("add a line such as `in force 2021-01-01 to 2021-12-31`, or `in force from 2021-01-01` when it has no end"),
            ),
            Some(f) => {
                if let Some(to) = f.to {
                    if to < f.from {
                        self.err(
                            Diagnostic::error(
                                Code::InvalidHeader,
                                f.span,
                                format!("the validity period ends ({to}) before it starts ({})", f.from),
                            )
                            .with_label("ends before it starts")
                            .with_help("swap the dates, or correct the year"),
                        );
                    }
                }
            }
        }
    }

    fn declare_type(&mut self, name: &ast::Ident, ty: Type) -> bool {
        if Type::builtin(&name.name).is_some() {
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is a built-in type", name.name),
                )
                .with_help("choose another name"),
            );
            return false;
        }
        if let Some((_, first)) = self.type_names.get(&name.name) {
            let first = *first;
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("the type `{}` is defined twice", name.name),
                )
                .with_related(first, "first defined here")
                .with_help("rename or remove one of them"),
            );
            return false;
        }
        self.type_names.insert(name.name.clone(), (ty, name.span));
        true
    }

    fn declare_enum(&mut self, e: &ast::EnumDef, item: &ast::Item) {
        let id = self.enums.len() as u32;
        if !self.declare_type(&e.name, Type::Enum(id)) {
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for v in &e.variants {
            if names.contains(&v.name) {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        v.span,
                        format!("`{}` appears twice in enum `{}`", v.name, e.name.name),
                    )
                    .with_help("remove the second one"),
                );
                continue;
            }
            self.variants
                .entry(v.name.clone())
                .or_default()
                .push((id, names.len() as u32));
            names.push(v.name.clone());
        }
        self.enums.push(EnumInfo {
            name: e.name.name.clone(),
            variants: names,
            doc: item.doc.clone(),
            span: e.name.span,
        });
    }

    fn fields(&mut self, fields: &[ast::Field]) -> Vec<FieldInfo> {
        let mut out: Vec<FieldInfo> = Vec::new();
        for f in fields {
            if let Some(first) = out.iter().find(|o| o.name == f.name.name) {
                let first = first.span;
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        f.name.span,
                        format!("the field `{}` appears twice", f.name.name),
                    )
                    .with_related(first, "first here")
                    .with_help("remove or rename one of them"),
                );
                continue;
            }
            let (ty, bounds) = self.resolve_type(&f.ty);
            out.push(FieldInfo {
                name: f.name.name.clone(),
                ty,
                bounds,
                description: f.description.clone(),
                span: f.name.span,
            });
        }
        out
    }

    fn declare_input(&mut self, i: &ast::InputDef, item: &ast::Item) {
        let (ty, bounds) = match &i.shape {
            ast::InputShape::Value(t) => self.resolve_type(t),
            ast::InputShape::Record(fields) => {
                let fields = self.fields(fields);
                let id = self.records.len() as u32;
                self.records.push(RecordInfo {
                    name: i.name.name.clone(),
                    fields,
                    doc: item.doc.clone(),
                    span: i.name.span,
                });
                (Type::Record(id), None)
            }
        };
        let id = self.inputs.len() as u32;
        self.inputs.push(InputInfo {
            name: i.name.name.clone(),
            ty,
            bounds,
            description: i.description.clone(),
            doc: item.doc.clone(),
            span: i.name.span,
        });
        self.declare_global(&i.name, Global::Input(id));
    }

    fn resolve_type(&mut self, t: &ast::TypeExpr) -> (Type, Option<Bounds>) {
        match t {
            ast::TypeExpr::List(inner, _) => {
                (Type::List(Box::new(self.resolve_type(inner).0)), None)
            }
            ast::TypeExpr::Named { name, bounds, .. } => {
                let ty = if let Some(b) = Type::builtin(&name.name) {
                    b
                } else if let Some((ty, _)) = self.type_names.get(&name.name) {
                    let ty = ty.clone();
                    self.uses.push((name.span, SymKey::Type(name.name.clone())));
                    ty
                } else {
                    let candidates: Vec<String> = BUILTIN_TYPES
                        .iter()
                        .map(|s| s.to_string())
                        .chain(self.type_names.keys().cloned())
                        .collect();
                    let mut d = Diagnostic::error(
                        Code::UnknownType,
                        name.span,
                        format!("there is no type `{}`", name.name),
                    )
                    .with_label("unknown type");
                    d = match suggest(&name.name, candidates.iter().map(|s| s.as_str())) {
                        Some(s) => d.did_you_mean(name.span, s),
                        None => d.with_help(format!(
                            "the built-in types are {}; enums and records are declared with `enum` and `record`",
                            BUILTIN_TYPES.join(", ")
                        )),
                    };
                    self.err(d);
                    Type::Error
                };
                let b = bounds.as_ref().and_then(|r| {
                    if !(ty.is_numeric() || ty == Type::Date) {
                        self.err(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                r.span,
                                format!("a {} cannot have a range", self.type_name(&ty)),
                            )
                            .with_help(
                                "ranges such as `1 to 5` are for numbers, amounts and dates",
                            ),
                        );
                        return None;
                    }
                    let (low, high) = self.range_values(r, &ty)?;
                    Some(Bounds {
                        low,
                        high,
                        text: self
                            .text
                            .get(r.span.start..r.span.end)
                            .unwrap_or("")
                            .to_string(),
                    })
                });
                (ty, b)
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn range_values(
        &mut self,
        r: &ast::Range,
        ty: &Type,
    ) -> Option<(Option<(Value, bool)>, Option<(Value, bool)>)> {
        let low = match &r.low {
            Some((v, incl)) => Some((self.const_value(&cell_to_data(v), ty)?, *incl)),
            None => None,
        };
        let high = match &r.high {
            Some((v, incl)) => Some((self.const_value(&cell_to_data(v), ty)?, *incl)),
            None => None,
        };
        if let (Some((l, li)), Some((h, hi))) = (&low, &high) {
            use std::cmp::Ordering::*;
            let empty = match l.compare(h) {
                Some(Greater) => true,
                Some(Equal) => !(*li && *hi),
                _ => false,
            };
            if empty {
                self.err(
                    Diagnostic::error(Code::EmptyRange, r.span, "no value can be in this range")
                        .with_label("empty range")
                        .with_help("write the smaller value first, as in `18 to 24`"),
                );
            }
        }
        Some((low, high))
    }

    fn declare_scale(&mut self, s: &'a ast::ScaleDef, item: &ast::Item) {
        let id = self.scales.len() as u32;
        let param = match s.params.as_slice() {
            [p] => {
                let ty = self.resolve_type(&p.ty).0;
                if !(ty.is_numeric() || ty == Type::Error) {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            p.ty.span(),
                            "a scale's input must be a number or an amount",
                        )
                        .with_help("declare it as `money`, `decimal` or `integer`"),
                    );
                }
                (p.name.name.clone(), ty)
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        s.name.span,
                        format!(
                            "a scale has exactly one input, `{}` has {}",
                            s.name.name,
                            s.params.len()
                        ),
                    )
                    .with_help("write for example `scale tax(income: money) -> money, marginal`"),
                );
                (String::new(), Type::Error)
            }
        };
        let ret = self.resolve_type(&s.ret).0;
        let value_ty = match s.kind {
            ast::ScaleKind::Marginal => Type::Percent,
            ast::ScaleKind::SingleAmount => ret.clone(),
        };
        if s.kind == ast::ScaleKind::Marginal && !ret.fits(&param.1) {
            self.mismatch(s.ret.span(), &param.1, &ret, "a marginal scale's result");
        }
        let mut brackets: Vec<(Value, Value)> = Vec::new();
        let mut last: Option<(Value, Span)> = None;
        for row in &s.brackets {
            let t = self.const_value(&cell_to_data(&row.threshold), &param.1);
            let v = self.const_value(&cell_to_data(&row.value), &value_ty);
            if let (Some(t), Some(v)) = (t, v) {
                if let Some((prev, prev_span)) = &last {
                    if t.compare(prev) != Some(std::cmp::Ordering::Greater) {
                        self.err(
                            Diagnostic::error(Code::ScaleOrder, row.threshold.span(), "scale thresholds must increase from row to row")
                                .with_related(*prev_span, "the previous threshold")
                                .with_help("sort the rows by threshold, smallest first, and remove repeated thresholds"),
                        );
                    }
                }
                last = Some((t.clone(), row.threshold.span()));
                brackets.push((t, v));
            }
        }
        if s.brackets.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::TableShape,
                    s.name.span,
                    format!("the scale `{}` has no rows", s.name.name),
                )
                .with_help("add rows such as `| 0 € | 0 % |` under the header row"),
            );
        }
        // Thresholds are numbers (the scale's input is); rates are
        // percents. Kept as amounts so that evaluation converts nothing.
        let thresholds = brackets
            .iter()
            .filter_map(|(t, _)| t.as_decimal())
            .collect();
        let rates = match s.kind {
            ast::ScaleKind::Marginal => brackets
                .iter()
                .filter_map(|(_, r)| r.as_decimal())
                .collect(),
            ast::ScaleKind::SingleAmount => Vec::new(),
        };
        self.scales.push(ScaleInfo {
            name: s.name.name.clone(),
            param,
            ret,
            kind: s.kind,
            strict: s.strict,
            brackets,
            thresholds,
            rates,
            citation: (&s.citation).into(),
            doc: item.doc.clone(),
            span: s.name.span,
        });
        self.declare_global(&s.name, Global::Scale(id));
    }

    /// Converts a constant written in a cell, bound or example to a value.
    fn const_value(&mut self, v: &DataValue, ty: &Type) -> Option<Value> {
        let span = lit_span(v);
        match (v, ty) {
            (_, Type::Error) => None,
            (DataValue::Literal(lit, _), _) => {
                let (value, got) = literal_value(lit);
                let fits = match (&got, ty) {
                    (Type::Integer, Type::Decimal) => true,
                    (a, b) => a == b,
                };
                if fits {
                    Some(match (value, ty) {
                        (Value::Int(i), Type::Decimal) => Value::Num(Decimal::from(i)),
                        (v, _) => v,
                    })
                } else {
                    if let (Type::Decimal, Type::Integer, Literal::Number(n, _)) = (&got, ty, lit) {
                        if n.fract().is_zero() {
                            return n.to_string().parse::<i64>().ok().map(Value::Int);
                        }
                    }
                    self.mismatch(span, ty, &got, "this value");
                    None
                }
            }
            (DataValue::Name(id), Type::Enum(e)) => {
                let info = self.enums.get(*e as usize)?;
                match info.variants.iter().position(|v| *v == id.name) {
                    Some(i) => {
                        self.uses
                            .push((id.span, SymKey::Variant(info.name.clone(), id.name.clone())));
                        Some(Value::Enum(i as u32))
                    }
                    None => {
                        let ename = info.name.clone();
                        let mut d = Diagnostic::error(
                            Code::UnknownName,
                            id.span,
                            format!("`{}` is not one of the values of `{ename}`", id.name),
                        )
                        .with_label("unknown value");
                        let vs = info.variants.clone();
                        d = match suggest(&id.name, vs.iter().map(|s| s.as_str())) {
                            Some(s) => d.did_you_mean(id.span, s),
                            None => d.with_help(format!(
                                "the values of `{ename}` are {}",
                                vs.join(", ")
                            )),
                        };
                        self.err(d);
                        None
                    }
                }
            }
            (DataValue::Name(id), _) => {
                let known = self.globals.contains_key(&id.name);
                let mut d = Diagnostic::error(
                    if known {
                        Code::NotConstant
                    } else {
                        Code::UnknownName
                    },
                    id.span,
                    if known {
                        format!("`{}` is a name, but a constant is needed here", id.name)
                    } else {
                        format!(
                            "`{}` is not a value of type {}",
                            id.name,
                            self.type_name(ty)
                        )
                    },
                );
                d = d.with_help(format!(
                    "write a {} value here, such as {}",
                    self.type_name(ty),
                    example_of(ty)
                ));
                self.err(d);
                None
            }
            (DataValue::List(items, _), Type::List(elem)) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.const_value(i, elem)?);
                }
                Some(Value::List(Arc::from(out)))
            }
            (DataValue::Record(fields, rspan), Type::Record(r)) => {
                let info = self.records.get(*r as usize)?.clone();
                let mut values: Vec<Option<Value>> = vec![None; info.fields.len()];
                let mut ok = true;
                for (name, v) in fields {
                    match info.fields.iter().position(|f| f.name == name.name) {
                        Some(i) => {
                            self.uses.push((
                                name.span,
                                SymKey::Field(info.name.clone(), name.name.clone()),
                            ));
                            let Some(f) = info.fields.get(i) else {
                                continue;
                            };
                            let val = self.const_value(v, &f.ty);
                            if let (Some(val), Some(b)) = (&val, &f.bounds) {
                                if !b.contains(val) {
                                    self.err(
                                        Diagnostic::error(
                                            Code::InvalidExample,
                                            v.span(),
                                            format!("`{}` must be {}", name.name, b.text),
                                        )
                                        .with_help("use a value inside the declared range"),
                                    );
                                    ok = false;
                                }
                            }
                            ok &= val.is_some();
                            if let Some(slot) = values.get_mut(i) {
                                *slot = val;
                            }
                        }
                        None => {
                            let mut d = Diagnostic::error(
                                Code::UnknownField,
                                name.span,
                                format!("`{}` has no field `{}`", info.name, name.name),
                            );
                            d = match suggest(
                                &name.name,
                                info.fields.iter().map(|f| f.name.as_str()),
                            ) {
                                Some(s) => d.did_you_mean(name.span, s),
                                None => d.with_help(format!(
                                    "the fields of `{}` are {}",
                                    info.name,
                                    info.fields
                                        .iter()
                                        .map(|f| f.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            };
                            self.err(d);
                            ok = false;
                        }
                    }
                }
                let missing: Vec<&str> = info
                    .fields
                    .iter()
                    .zip(&values)
                    .filter(|(_, v)| v.is_none())
                    .map(|(f, _)| f.name.as_str())
                    .filter(|n| !fields.iter().any(|(f, _)| f.name == *n))
                    .collect();
                if !missing.is_empty() {
                    self.err(
                        Diagnostic::error(
                            Code::InvalidExample,
                            *rspan,
                            format!(
                                "`{}` is missing {}",
                                info.name,
                                missing
                                    .iter()
                                    .map(|m| format!("`{m}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                        .with_help("give every field a value"),
                    );
                    return None;
                }
                if !ok {
                    return None;
                }
                Some(Value::Record(Arc::from(
                    values
                        .into_iter()
                        .map(|v| v.unwrap_or(Value::Bool(false)))
                        .collect::<Vec<_>>(),
                )))
            }
            (other, _) => {
                let got = match other {
                    DataValue::List(..) => "a list",
                    DataValue::Record(..) => "a record",
                    _ => "a value",
                };
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        span,
                        format!("expected {}, but this is {got}", self.type_name(ty)),
                    )
                    .with_help(format!(
                        "write a {} value here, such as {}",
                        self.type_name(ty),
                        example_of(ty)
                    )),
                );
                None
            }
        }
    }

    // ---- definitions ------------------------------------------------------

    fn def_type(&mut self, i: u32) -> Type {
        let idx = i as usize;
        match self.def_state.get(idx) {
            Some(State::Done) => {
                return self
                    .defs
                    .get(idx)
                    .and_then(|d| d.as_ref())
                    .map(|d| d.ty.clone())
                    .unwrap_or(Type::Error)
            }
            Some(State::InProgress) => {
                // A cycle; reported by `find_cycles`. Use the declared type if any.
                let src = self.def_src.get(idx);
                let declared = src.and_then(|s| {
                    s.def
                        .and_then(|d| d.ty.clone())
                        .or_else(|| s.param.and_then(|p| p.ty.clone()))
                });
                return match declared {
                    Some(t) => self.resolve_type(&t).0,
                    None => Type::Error,
                };
            }
            Some(State::Todo) => {}
            None => return Type::Error,
        }
        if self.def_depth >= MAX_DEF_CHAIN {
            // Checking stops descending here so that its own recursion stays
            // bounded; `find_long_chains` reports the chain, whatever the
            // order of the definitions in the file.
            return Type::Error;
        }
        if let Some(s) = self.def_state.get_mut(idx) {
            *s = State::InProgress;
        }
        self.def_depth += 1;
        let saved_locals = std::mem::take(&mut self.locals);
        let saved_node = self.current.replace(Node::Def(i));
        let info = self.check_def(idx);
        self.def_depth -= 1;
        self.locals = saved_locals;
        self.current = saved_node;
        let ty = info.as_ref().map(|d| d.ty.clone()).unwrap_or(Type::Error);
        if let Some(slot) = self.defs.get_mut(idx) {
            *slot = info;
        }
        if let Some(s) = self.def_state.get_mut(idx) {
            *s = State::Done;
        }
        ty
    }

    fn check_def(&mut self, idx: usize) -> Option<DefInfo> {
        let src = self.def_src.get(idx)?;
        let (doc, span) = (src.doc.clone(), src.span);
        if let Some(d) = src.def {
            let declared = d.ty.as_ref().map(|t| self.resolve_type(t).0);
            let base = self.expr(&d.body);
            let ty = match &declared {
                Some(t) => {
                    if !base.ty.fits(t) {
                        self.mismatch(d.body.span, t, &base.ty, &format!("`{}`", d.name.name));
                    }
                    t.clone()
                }
                None => base.ty.clone(),
            };
            let mut overrides = Vec::new();
            for o in &d.overrides {
                let condition = self.expr(&o.condition);
                if !condition.ty.fits(&Type::Bool) {
                    self.mismatch(
                        o.condition.span,
                        &Type::Bool,
                        &condition.ty,
                        "the condition after `unless`",
                    );
                }
                let value = self.expr(&o.value);
                if !value.ty.fits(&ty) {
                    self.mismatch(o.value.span, &ty, &value.ty, "the value after `then`");
                }
                overrides.push(OverrideInfo {
                    condition,
                    value,
                    rank: o.rank,
                    span: o.span,
                    text: self
                        .text
                        .get(o.condition.span.start..o.condition.span.end)
                        .unwrap_or("")
                        .to_string(),
                });
            }
            self.check_override_ranks(d);
            return Some(DefInfo {
                name: d.name.name.clone(),
                kind: if d.is_output {
                    DefKind::Output
                } else {
                    DefKind::Let
                },
                ty,
                body: DefBody::Rule { base, overrides },
                formula: self
                    .text
                    .get(d.body.span.start..d.body.span.end)
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                citation: (&d.citation).into(),
                doc,
                span,
                name_span: d.name.span,
            });
        }
        let p = src.param?;
        let declared = p.ty.as_ref().map(|t| self.resolve_type(t).0);
        let mut ty = declared.clone();
        let mut values = Vec::new();
        let mut last_date: Option<(NaiveDate, Span)> = None;
        let dated = p.values.iter().any(|v| v.from.is_some());
        for v in &p.values {
            let Some(data) = expr_to_data(&v.value) else {
                self.err(
                    Diagnostic::error(Code::NotConstant, v.value.span, format!("the value of parameter `{}` must be a constant", p.name.name))
                        .with_label("computed value")
                        .with_help("write the figure itself, such as `290.00 €`; use `let` for a value computed from others"),
                );
                continue;
            };
            let value = match &ty {
                Some(t) => self.const_value(&data, t),
                None => {
                    let (value, t) = match &data {
                        DataValue::Literal(l, _) => literal_value(l),
                        _ => (Value::Bool(false), Type::Error),
                    };
                    ty = Some(t);
                    Some(value)
                }
            };
            if dated && v.from.is_none() {
                self.err(
                    Diagnostic::error(
                        Code::ParameterDates,
                        v.span,
                        "this value has no date, but the parameter's other values do",
                    )
                    .with_help("write `= VALUE from DATE` for every value of a dated parameter"),
                );
            }
            if let (Some((prev, prev_span)), Some(from)) = (last_date, v.from) {
                if from <= prev {
                    self.err(
                        Diagnostic::error(
                            Code::ParameterDates,
                            v.span,
                            format!("the values of `{}` must have increasing dates", p.name.name),
                        )
                        .with_related(prev_span, "the previous value")
                        .with_help("list the values in date order, each date once"),
                    );
                }
            }
            if let Some(from) = v.from {
                last_date = Some((from, v.span));
            }
            if let Some(value) = value {
                values.push((v.from, value));
            }
        }
        if !dated && p.values.len() > 1 {
            self.err(
                Diagnostic::error(
                    Code::ParameterDates,
                    p.name.span,
                    "a parameter with several values needs a date for each",
                )
                .with_help("write `= VALUE from DATE` for each value"),
            );
        }
        Some(DefInfo {
            name: p.name.name.clone(),
            kind: DefKind::Parameter,
            ty: ty.unwrap_or(Type::Error),
            body: DefBody::Dated(values),
            formula: String::new(),
            citation: (&p.citation).into(),
            doc,
            span,
            name_span: p.name.span,
        })
    }

    fn check_override_ranks(&mut self, d: &ast::Definition) {
        // Two overrides of equal rank are allowed only if they cannot both
        // apply; that is decided at run time, with an error naming both. Here
        // we flag the obvious case: the very same condition twice.
        for (i, a) in d.overrides.iter().enumerate() {
            for b in d.overrides.iter().skip(i + 1) {
                if a.rank == b.rank
                    && ast::without_spans(&a.condition.kind)
                        == ast::without_spans(&b.condition.kind)
                {
                    self.err(
                        Diagnostic::error(
                            Code::DuplicateOverrideRank,
                            b.span,
                            format!(
                                "two overrides of `{}` have the same condition and rank {}",
                                d.name.name, a.rank
                            ),
                        )
                        .with_related(a.span, "the other override")
                        .with_help("give one of them a higher rank (`rank 2`), or merge them"),
                    );
                }
            }
        }
    }

    fn check_function(&mut self, i: usize) {
        let Some(f) = self.function_src.get(i).copied() else {
            return;
        };
        let Some(info) = self.functions.get(i) else {
            return;
        };
        self.locals = info.params.clone();
        let ret = info.ret.clone();
        self.current = Some(Node::Func(i as u32));
        let body = self.expr(&f.body);
        if !body.ty.fits(&ret) {
            self.mismatch(
                f.body.span,
                &ret,
                &body.ty,
                &format!("the result of `{}`", f.name.name),
            );
        }
        if let Some(info) = self.functions.get_mut(i) {
            info.body = body;
        }
        self.locals.clear();
        self.current = None;
    }

    fn check_table(&mut self, i: usize) {
        let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
        let Some(t) = self.table_src.get(i).copied() else {
            return;
        };
        let Some(info) = self.tables.get(i).cloned() else {
            return;
        };
        self.current = Some(Node::Table(i as u32));
        // The header row names the inputs, in order, then the result.
        let expected: Vec<&str> = info.params.iter().map(|p| p.0.as_str()).collect();
        if t.columns.len() != expected.len() + 1
            || t.columns.iter().zip(&expected).any(|(c, e)| c.name != *e)
        {
            let span = t
                .columns
                .first()
                .map(|c| {
                    c.span
                        .join(t.columns.last().map(|l| l.span).unwrap_or(c.span))
                })
                .unwrap_or(t.name.span);
            self.err(
                Diagnostic::error(
                    Code::TableShape,
                    span,
                    format!(
                        "the header row of `{}` should name its inputs, then the result",
                        t.name.name
                    ),
                )
                .with_help(format!(
                    "write the header as `| {} | {} |`",
                    expected.join(" | "),
                    if t.columns.len() > expected.len() {
                        t.columns
                            .last()
                            .map(|c| c.name.as_str())
                            .unwrap_or("result")
                    } else {
                        "result"
                    }
                )),
            );
        }
        if t.rows.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::TableShape,
                    t.name.span,
                    format!("the table `{}` has no rows", t.name.name),
                )
                .with_help("add rows under the header row"),
            );
        }
        match (t.hit, &info.ret) {
            (HitPolicy::CollectSum, r) if !(r.is_numeric() || *r == Type::Error) => {
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        t.ret.span(),
                        "`collect sum` adds numbers or amounts",
                    )
                    .with_help("declare the result as money, decimal, integer or percent"),
                );
            }
            (HitPolicy::CollectMin | HitPolicy::CollectMax, r)
                if !(r.is_ordered() || *r == Type::Error) =>
            {
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        t.ret.span(),
                        "`collect min` and `collect max` need values that can be ordered",
                    )
                    .with_help("declare the result as a number, amount, percent or date"),
                );
            }
            _ => {}
        }
        self.locals = info
            .params
            .iter()
            .map(|(n, ty, _)| (n.clone(), ty.clone()))
            .collect();
        let mut rows = Vec::new();
        for row in &t.rows {
            let mut tests = Vec::new();
            let mut ok = true;
            for (cond, (_, ty, _)) in row.conditions.iter().zip(&info.params) {
                match self.cell_test(cond, ty) {
                    Some(test) => tests.push(test),
                    None => ok = false,
                }
            }
            let result = if t.hit == HitPolicy::CollectCount {
                // The result cell only labels the row; the count is what matters.
                Expr {
                    kind: ExprKind::Const(Value::Int(1)),
                    ty: Type::Integer,
                    span: row.result.span,
                }
            } else {
                let r = self.expr(&row.result);
                if !r.ty.fits(&info.ret) {
                    self.mismatch(row.result.span, &info.ret, &r.ty, "this result");
                }
                r
            };
            if ok {
                rows.push(TableRowInfo {
                    tests,
                    result,
                    span: row.span,
                });
            }
        }
        self.locals.clear();
        self.current = None;
        if let Some(info) = self.tables.get_mut(i) {
            info.rows = rows;
        }
        let item_span = self.table_spans.get(i).copied().unwrap_or_default();
        let clean = self.diags.iter().filter(|d| d.is_error()).count() == errors_before
            && !self
                .parse_errors
                .iter()
                .any(|s| s.start >= item_span.start && s.start < item_span.end);
        if let Some(info) = self.tables.get(i).cloned() {
            if clean && info.rows.len() == t.rows.len() {
                let sizes: Vec<u32> = self.enums.iter().map(|e| e.variants.len() as u32).collect();
                let findings = crate::check::tables::analyze(&info, &|e| {
                    sizes.get(e as usize).copied().unwrap_or(0)
                });
                for f in findings {
                    let d = self.table_finding(&info, f);
                    self.err(d);
                }
            }
        }
    }

    fn table_finding(&self, t: &TableInfo, f: crate::check::tables::Finding) -> Diagnostic {
        use crate::check::tables::Finding;
        let show = |w: &[Value]| -> String {
            t.params
                .iter()
                .zip(w)
                .map(|((n, ty, _), v)| {
                    format!(
                        "{n} = {}",
                        crate::ir::value::render(v, ty, &NamesView(self))
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let row_span = |r: usize| t.rows.get(r).map(|r| r.span).unwrap_or(t.span);
        match f {
            Finding::Gap(w) => Diagnostic::error(
                Code::TableGap,
                t.span,
                format!("no row of `{}` matches {}", t.name, show(&w)),
            )
            .with_label("incomplete table")
            .with_help(format!(
                "add a row for {}, widen a range, or use `hit first` with a last row of `-` cells",
                show(&w)
            ))
            .with_fix(
                format!("add a row for {}", show(&w)),
                Span::new(row_span(t.rows.len().saturating_sub(1)).end, row_span(t.rows.len().saturating_sub(1)).end),
                {
                    // The new row's result is left for the author: `TODO`
                    // does not check until it is replaced.
                    let cells: Vec<String> = t
                        .params
                        .iter()
                        .zip(&w)
                        .map(|((_, ty, _), v)| crate::ir::value::render(v, ty, &NamesView(self)))
                        .collect();
                    format!("\n  | {} | TODO |", cells.join(" | "))
                },
            ),
            Finding::Overlap(a, b, w) => Diagnostic::error(
                Code::TableOverlap,
                row_span(b),
                format!("rows {} and {} of `{}` both match {}", a + 1, b + 1, t.name, show(&w)),
            )
            .with_label("overlaps an earlier row")
            .with_related(row_span(a), "this row matches too")
            .with_help("make the ranges exclusive (for example `over 900 € to 1000 €`), or use `hit first` if the first match should win"),
            Finding::Unreachable(r) => Diagnostic::warning(
                Code::UnreachableRow,
                row_span(r),
                format!("row {} of `{}` can never be chosen: earlier rows match everything it matches", r + 1, t.name),
            )
            .with_label("never used")
            .with_help("remove the row, or move it above the rows that shadow it"),
        }
    }

    fn cell_test(&mut self, c: &ast::Condition, ty: &Type) -> Option<CellTest> {
        match c {
            ast::Condition::Any(_) => Some(CellTest::Any),
            ast::Condition::OneOf(values, _) => {
                let mut out = Vec::new();
                for v in values {
                    out.push(self.const_value(&cell_to_data(v), ty)?);
                }
                Some(CellTest::OneOf(out))
            }
            ast::Condition::Range(r) => {
                if !(ty.is_ordered() || *ty == Type::Error) {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            r.span,
                            format!("a {} cannot be compared with a range", self.type_name(ty)),
                        )
                        .with_help("list the values that match, separated by commas"),
                    );
                    return None;
                }
                let (low, high) = self.range_values(r, ty)?;
                Some(CellTest::Range { low, high })
            }
        }
    }

    fn check_eligibility(&mut self, e: &ast::EligibilityDef) {
        for c in &e.criteria {
            if let Some(first) = self.criteria.iter().find(|x| x.name == c.name.name) {
                let first = first.span;
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        c.name.span,
                        format!("the criterion `{}` is defined twice", c.name.name),
                    )
                    .with_related(first, "first defined here")
                    .with_help("give each criterion its own name"),
                );
                continue;
            }
            self.current = None;
            let condition = self.expr(&c.condition);
            if !condition.ty.fits(&Type::Bool) {
                self.mismatch(c.condition.span, &Type::Bool, &condition.ty, "a criterion");
            }
            let mut citation: Citation = (&c.citation).into();
            if citation.section.is_none() {
                citation.section = e.citation.section.clone();
            }
            if citation.source.is_none() {
                citation.source = e.citation.source.clone();
            }
            self.criteria.push(CriterionInfo {
                name: c.name.name.clone(),
                condition,
                reason: c.reason.clone(),
                citation,
                span: c.name.span,
            });
        }
    }

    fn check_example(&mut self, e: &ast::ExampleDef) {
        let mut ok = true;
        let Some(date) = e.date else {
            self.err(
                Diagnostic::error(
                    Code::InvalidExample,
                    e.name_span,
                    format!("the example {:?} has no decision date", e.name),
                )
                .with_help("add a line such as `on 2021-03-01`"),
            );
            return;
        };
        let mut inputs: Vec<Option<Value>> = vec![None; self.inputs.len()];
        for (name, value) in &e.given {
            let Some(idx) = self.inputs.iter().position(|i| i.name == name.name) else {
                let mut d = Diagnostic::error(
                    Code::InvalidExample,
                    name.span,
                    format!("there is no input `{}`", name.name),
                )
                .with_label("unknown input");
                let names: Vec<String> = self.inputs.iter().map(|i| i.name.clone()).collect();
                d = match suggest(&name.name, names.iter().map(|s| s.as_str())) {
                    Some(s) => d.did_you_mean(name.span, s),
                    None => d.with_help(format!("the inputs are {}", names.join(", "))),
                };
                self.err(d);
                ok = false;
                continue;
            };
            let Some(info) = self.inputs.get(idx) else {
                continue;
            };
            self.uses
                .push((name.span, SymKey::Global(name.name.clone())));
            let (ty, bounds) = (info.ty.clone(), info.bounds.clone());
            let v = self.const_value(value, &ty);
            if let (Some(v), Some(b)) = (&v, &bounds) {
                if !b.contains(v) {
                    self.err(
                        Diagnostic::error(
                            Code::InvalidExample,
                            value.span(),
                            format!("`{}` must be {}", name.name, b.text),
                        )
                        .with_help("use a value inside the declared range"),
                    );
                    ok = false;
                }
            }
            ok &= v.is_some();
            if let Some(slot) = inputs.get_mut(idx) {
                *slot = v;
            }
        }
        let missing: Vec<String> = self
            .inputs
            .iter()
            .zip(&inputs)
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i.name.clone())
            .filter(|n| !e.given.iter().any(|(g, _)| g.name == *n))
            .collect();
        if !missing.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::InvalidExample,
                    e.name_span,
                    format!(
                        "the example does not give {}",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_help("add a `given NAME ...` line for each input"),
            );
            ok = false;
        }
        let mut expects = Vec::new();
        for x in &e.expects {
            match x {
                ast::Expectation::Eligible(s) => expects.push(ExpectInfo::Eligible(true, None, *s)),
                ast::Expectation::NotEligible(names, s) => {
                    for n in names {
                        if self.criteria.iter().any(|c| c.name == n.name) {
                            self.uses.push((n.span, SymKey::Criterion(n.name.clone())));
                        } else {
                            let mut d = Diagnostic::error(
                                Code::InvalidExample,
                                n.span,
                                format!("there is no criterion `{}`", n.name),
                            );
                            let names: Vec<String> =
                                self.criteria.iter().map(|c| c.name.clone()).collect();
                            if let Some(s) = suggest(&n.name, names.iter().map(|s| s.as_str())) {
                                d = d.with_help(format!("did you mean `{s}`?"));
                            }
                            self.err(d);
                            ok = false;
                        }
                    }
                    let list = if names.is_empty() {
                        None
                    } else {
                        Some(names.iter().map(|n| n.name.clone()).collect())
                    };
                    expects.push(ExpectInfo::Eligible(false, list, *s));
                }
                ast::Expectation::Error(m, s) => expects.push(ExpectInfo::Error(m.clone(), *s)),
                ast::Expectation::Output(name, value, margin) => {
                    let found = self.outputs.iter().copied().find(|o| {
                        self.def_src
                            .get(*o as usize)
                            .and_then(|s| s.def)
                            .is_some_and(|d| d.name.name == name.name)
                    });
                    let Some(o) = found else {
                        let names: Vec<String> = self
                            .outputs
                            .iter()
                            .filter_map(|o| {
                                self.def_src
                                    .get(*o as usize)
                                    .and_then(|s| s.def)
                                    .map(|d| d.name.name.clone())
                            })
                            .collect();
                        let mut d = Diagnostic::error(
                            Code::InvalidExample,
                            name.span,
                            format!("there is no output `{}`", name.name),
                        )
                        .with_label("unknown output");
                        d = match suggest(&name.name, names.iter().map(|s| s.as_str())) {
                            Some(s) => d.did_you_mean(name.span, s),
                            None if self.globals.contains_key(&name.name) => d.with_help(format!(
                                "`{}` is not an output; examples check outputs only",
                                name.name
                            )),
                            None => d.with_help(format!("the outputs are {}", names.join(", "))),
                        };
                        self.err(d);
                        ok = false;
                        continue;
                    };
                    self.uses
                        .push((name.span, SymKey::Global(name.name.clone())));
                    let ty = self.def_type(o);
                    let margin = match margin {
                        None => None,
                        Some(m) if !ty.is_numeric() => {
                            self.err(
                                Diagnostic::error(
                                    Code::InvalidExample,
                                    m.span(),
                                    format!(
                                        "`within` needs a number, but `{}` is {}",
                                        name.name,
                                        self.type_name(&ty)
                                    ),
                                )
                                .with_label("no difference can be allowed here")
                                .with_help("remove `within ...`: values that are not numbers are compared exactly"),
                            );
                            ok = false;
                            continue;
                        }
                        Some(m) => match self.const_value(m, &ty) {
                            Some(v) if v.as_decimal().is_some_and(|d| d.is_sign_negative()) => {
                                self.err(
                                    Diagnostic::error(
                                        Code::InvalidExample,
                                        m.span(),
                                        "the allowed difference cannot be negative",
                                    )
                                    .with_label("negative")
                                    .with_help("write the largest difference allowed, such as `within 0.01 €`"),
                                );
                                ok = false;
                                continue;
                            }
                            Some(v) => Some(v),
                            None => {
                                ok = false;
                                continue;
                            }
                        },
                    };
                    match self.const_value(value, &ty) {
                        Some(v) => expects.push(ExpectInfo::Output(o, v, margin, name.span)),
                        None => ok = false,
                    }
                }
            }
        }
        if ok {
            self.examples.push(ExampleInfo {
                name: e.name.clone(),
                span: e.name_span,
                date,
                inputs: inputs
                    .into_iter()
                    .map(|v| v.unwrap_or(Value::Bool(false)))
                    .collect(),
                expects,
            });
        }
    }

    // ---- expressions ------------------------------------------------------

    fn edge(&mut self, to: Node, span: Span) {
        self.used.insert(to);
        if let Some(from) = self.current {
            self.edges.push((from, to, span));
        }
    }

    fn all_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.locals.iter().map(|l| l.0.clone()).collect();
        names.extend(self.globals.keys().cloned());
        names.extend(self.variants.keys().cloned());
        names.extend(BUILTINS.iter().map(|b| b.0.to_string()));
        names.sort();
        names
    }

    fn unknown_name(&mut self, name: &str, span: Span) -> Expr {
        let names = self.all_names();
        let mut d = Diagnostic::error(Code::UnknownName, span, format!("`{name}` is not defined"))
            .with_label("unknown name");
        if let Some(s) = suggest(name, names.iter().map(|s| s.as_str())) {
            // The author most likely meant it: do not also call it unused.
            if let Some((Global::Def(i), _)) = self.globals.get(s) {
                self.used.insert(Node::Def(*i));
            }
            d = d.did_you_mean(span, s);
        } else if self.type_names.contains_key(name) {
            d = d.with_help(format!(
                "`{name}` is a type; write one of its values, such as `{name}.Value`"
            ));
        } else {
            d = d.with_help("define it with `let`, `parameter` or `input`, or check the spelling");
        }
        self.err(d);
        error_expr(span)
    }

    fn expr(&mut self, e: &ast::Expr) -> Expr {
        let span = e.span;
        let mk = |kind, ty| Expr { kind, ty, span };
        match &e.kind {
            A::Literal(l) => {
                let (v, t) = literal_value(l);
                if let Literal::Number(n, true) = l {
                    if n.to_string().parse::<i64>().is_err() {
                        return mk(ExprKind::Const(Value::Num(*n)), Type::Decimal);
                    }
                }
                mk(ExprKind::Const(v), t)
            }
            A::DecisionDate => mk(ExprKind::DecisionDate, Type::Date),
            A::Name(n) => self.name(n, span),
            A::Field(base, field) => {
                if let A::Name(n) = &base.kind {
                    if let Some((Type::Enum(eid), _)) = self.type_names.get(n).cloned() {
                        if !self.globals.contains_key(n) && !self.locals.iter().any(|l| l.0 == *n) {
                            self.uses.push((base.span, SymKey::Type(n.clone())));
                            return self.variant_of(eid, field);
                        }
                    }
                }
                let b = self.expr(base);
                match &b.ty {
                    Type::Record(r) => {
                        let Some(info) = self.records.get(*r as usize) else {
                            return error_expr(span);
                        };
                        match info.fields.iter().position(|f| f.name == field.name) {
                            Some(i) => {
                                self.uses.push((
                                    field.span,
                                    SymKey::Field(info.name.clone(), field.name.clone()),
                                ));
                                let ty = info
                                    .fields
                                    .get(i)
                                    .map(|f| f.ty.clone())
                                    .unwrap_or(Type::Error);
                                mk(ExprKind::Field(Box::new(b), i as u32), ty)
                            }
                            None => {
                                let rname = info.name.clone();
                                let fields: Vec<String> =
                                    info.fields.iter().map(|f| f.name.clone()).collect();
                                let mut d = Diagnostic::error(
                                    Code::UnknownField,
                                    field.span,
                                    format!("`{rname}` has no field `{}`", field.name),
                                )
                                .with_label("unknown field");
                                d = match suggest(&field.name, fields.iter().map(|s| s.as_str())) {
                                    Some(s) => d.did_you_mean(field.span, s),
                                    None => d.with_help(format!(
                                        "the fields of `{rname}` are {}",
                                        fields.join(", ")
                                    )),
                                };
                                self.err(d);
                                error_expr(span)
                            }
                        }
                    }
                    Type::Error => error_expr(span),
                    Type::List(_) => {
                        self.err(
                            Diagnostic::error(Code::TypeMismatch, field.span, format!("a list has no field `{}`", field.name))
                                .with_help(format!("to use the field of each item, write for example `sum(m.{} for m in LIST)`", field.name)),
                        );
                        error_expr(span)
                    }
                    other => {
                        let t = self.type_name(other);
                        self.err(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                field.span,
                                format!("a {t} has no fields"),
                            )
                            .with_help(
                                "fields belong to records, such as inputs declared with `{ ... }`",
                            ),
                        );
                        error_expr(span)
                    }
                }
            }
            A::Neg(inner) => {
                let i = self.expr(inner);
                if !(i.ty.is_numeric() || matches!(i.ty, Type::Duration | Type::Error)) {
                    let t = self.type_name(&i.ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("a {t} cannot be negated"),
                        )
                        .with_help("only numbers, amounts, percentages and durations have a sign"),
                    );
                    return error_expr(span);
                }
                let ty = i.ty.clone();
                mk(ExprKind::Neg(Box::new(i)), ty)
            }
            A::Not(inner) => {
                let i = self.expr(inner);
                if !i.ty.fits(&Type::Bool) {
                    self.mismatch(inner.span, &Type::Bool, &i.ty, "the value after `not`");
                }
                mk(ExprKind::Not(Box::new(i)), Type::Bool)
            }
            A::Binary(op, l, r) => self.binary(*op, l, r, span),
            A::In {
                value,
                options,
                negated,
            } => {
                let v = self.expr(value);
                let mut opts = Vec::new();
                for o in options {
                    let x = self.expr_expecting(o, &v.ty);
                    if !(x.ty.fits(&v.ty) || v.ty.fits(&x.ty)) {
                        self.mismatch(o.span, &v.ty, &x.ty, "each listed value");
                    }
                    opts.push(x);
                }
                mk(ExprKind::In(Box::new(v), opts, *negated), Type::Bool)
            }
            A::If(c, t, f) => {
                let c = self.expr(c);
                if !c.ty.fits(&Type::Bool) {
                    self.mismatch(c.span, &Type::Bool, &c.ty, "the condition after `if`");
                }
                let t = self.expr(t);
                let f = self.expr(f);
                let ty = match unify(&t.ty, &f.ty) {
                    Some(ty) => ty,
                    None => {
                        self.mismatch(f.span, &t.ty, &f.ty, "the `else` branch");
                        Type::Error
                    }
                };
                mk(ExprKind::If(Box::new(c), Box::new(t), Box::new(f)), ty)
            }
            A::Call(name, args) => self.call(name, args, span),
            A::List(items) => {
                let mut out = Vec::new();
                let mut ty = None;
                for i in items {
                    let x = self.expr(i);
                    ty = match ty {
                        None => Some(x.ty.clone()),
                        Some(t) => match unify(&t, &x.ty) {
                            Some(u) => Some(u),
                            None => {
                                self.mismatch(i.span, &t, &x.ty, "each item of the list");
                                Some(Type::Error)
                            }
                        },
                    };
                    out.push(x);
                }
                mk(
                    ExprKind::List(out),
                    Type::List(Box::new(ty.unwrap_or(Type::Error))),
                )
            }
            A::Between(unit, a, b) => {
                let a = self.expr(a);
                let b = self.expr(b);
                for x in [&a, &b] {
                    if !x.ty.fits(&Type::Date) {
                        self.mismatch(x.span, &Type::Date, &x.ty, "each end of `between`");
                    }
                }
                mk(
                    ExprKind::Between(*unit, Box::new(a), Box::new(b)),
                    Type::Integer,
                )
            }
            A::Aggregate {
                kind,
                projection,
                var,
                list,
                filter,
                if_empty,
            } => self.aggregate(
                *kind,
                projection.as_deref(),
                var,
                list,
                filter.as_deref(),
                if_empty.as_deref(),
                span,
            ),
            A::Round(inner, target, mode) => {
                let i = self.expr(inner);
                let ok = matches!(
                    (target, &i.ty),
                    (_, Type::Error)
                        | (ast::RoundTarget::Cents(_), Type::Money)
                        | (ast::RoundTarget::Decimals(_), Type::Money | Type::Decimal)
                );
                if !ok {
                    let t = self.type_name(&i.ty);
                    let help = match (target, &i.ty) {
                        (ast::RoundTarget::Cents(_), Type::Decimal | Type::Integer) => {
                            "cents and euros are for amounts; use `rounded to 2 decimals` for a plain number"
                        }
                        _ => "round amounts to cents or euros, and plain numbers to decimals",
                    };
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("a {t} cannot be rounded this way"),
                        )
                        .with_help(help),
                    );
                }
                let ty = i.ty.clone();
                mk(ExprKind::Round(Box::new(i), *target, *mode), ty)
            }
        }
    }

    /// Like `expr`, but a bare variant name is looked up in the expected enum
    /// first, so that two enums may share a variant name.
    fn expr_expecting(&mut self, e: &ast::Expr, want: &Type) -> Expr {
        if let (A::Name(n), Type::Enum(eid)) = (&e.kind, want) {
            if !self.locals.iter().any(|l| l.0 == *n) && !self.globals.contains_key(n) {
                if let Some(pos) = self
                    .enums
                    .get(*eid as usize)
                    .and_then(|i| i.variants.iter().position(|v| v == n))
                {
                    let ename = self
                        .enums
                        .get(*eid as usize)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    self.uses.push((e.span, SymKey::Variant(ename, n.clone())));
                    return Expr {
                        kind: ExprKind::Const(Value::Enum(pos as u32)),
                        ty: want.clone(),
                        span: e.span,
                    };
                }
            }
        }
        self.expr(e)
    }

    fn variant_of(&mut self, eid: u32, field: &ast::Ident) -> Expr {
        let Some(info) = self.enums.get(eid as usize) else {
            return error_expr(field.span);
        };
        match info.variants.iter().position(|v| *v == field.name) {
            Some(i) => {
                self.uses.push((
                    field.span,
                    SymKey::Variant(info.name.clone(), field.name.clone()),
                ));
                Expr {
                    kind: ExprKind::Const(Value::Enum(i as u32)),
                    ty: Type::Enum(eid),
                    span: field.span,
                }
            }
            None => {
                let name = info.name.clone();
                let vs = info.variants.clone();
                let mut d = Diagnostic::error(
                    Code::UnknownName,
                    field.span,
                    format!("`{}` is not one of the values of `{name}`", field.name),
                );
                d = match suggest(&field.name, vs.iter().map(|s| s.as_str())) {
                    Some(s) => d.did_you_mean(field.span, s),
                    None => d.with_help(format!("the values of `{name}` are {}", vs.join(", "))),
                };
                self.err(d);
                error_expr(field.span)
            }
        }
    }

    fn name(&mut self, n: &str, span: Span) -> Expr {
        if let Some(pos) = self.locals.iter().rposition(|l| l.0 == n) {
            let ty = self
                .locals
                .get(pos)
                .map(|l| l.1.clone())
                .unwrap_or(Type::Error);
            return Expr {
                kind: ExprKind::Local(pos as u32),
                ty,
                span,
            };
        }
        if let Some((g, _)) = self.globals.get(n).copied() {
            self.uses.push((span, SymKey::Global(n.to_string())));
            return match g {
                Global::Input(i) => {
                    let ty = self
                        .inputs
                        .get(i as usize)
                        .map(|x| x.ty.clone())
                        .unwrap_or(Type::Error);
                    Expr {
                        kind: ExprKind::Input(i),
                        ty,
                        span,
                    }
                }
                Global::Def(i) => {
                    self.edge(Node::Def(i), span);
                    let ty = self.def_type(i);
                    Expr {
                        kind: ExprKind::Def(i),
                        ty,
                        span,
                    }
                }
                other => {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{n}` is {} and needs arguments", describe_global(other)),
                        )
                        .with_help(format!(
                            "call it with its inputs in parentheses, such as `{n}(...)`"
                        )),
                    );
                    error_expr(span)
                }
            };
        }
        if let Some(vs) = self.variants.get(n).cloned() {
            match vs.as_slice() {
                [(e, v)] => {
                    let ename = self
                        .enums
                        .get(*e as usize)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    self.uses
                        .push((span, SymKey::Variant(ename, n.to_string())));
                    return Expr {
                        kind: ExprKind::Const(Value::Enum(*v)),
                        ty: Type::Enum(*e),
                        span,
                    };
                }
                _ => {
                    let enums: Vec<String> = vs
                        .iter()
                        .filter_map(|(e, _)| self.enums.get(*e as usize).map(|x| x.name.clone()))
                        .collect();
                    self.err(
                        Diagnostic::error(
                            Code::UnknownName,
                            span,
                            format!("`{n}` is a value of several enums: {}", enums.join(", ")),
                        )
                        .with_help(format!(
                            "say which one, such as `{}.{n}`",
                            enums.first().cloned().unwrap_or_default()
                        )),
                    );
                    return error_expr(span);
                }
            }
        }
        self.unknown_name(n, span)
    }

    fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> Expr {
        let a = self.expr(l);
        let b = match op {
            BinOp::Eq | BinOp::Ne => self.expr_expecting(r, &a.ty),
            _ => self.expr(r),
        };
        let mk = |kind, ty| Expr { kind, ty, span };
        use Type::*;
        if a.ty == Error || b.ty == Error {
            let ty = if matches!(
                op,
                BinOp::Eq
                    | BinOp::Ne
                    | BinOp::Lt
                    | BinOp::Le
                    | BinOp::Gt
                    | BinOp::Ge
                    | BinOp::And
                    | BinOp::Or
            ) {
                Bool
            } else {
                Error
            };
            return mk(ExprKind::Const(Value::Bool(false)), ty);
        }
        let (ta, tb) = (a.ty.clone(), b.ty.clone());
        // Takes the operands rather than cloning them: a clone here would
        // copy the whole left-hand side of `a + b + c + ...` at every step.
        let arith = |op: ArithOp, ty: Type, a: Expr, b: Expr| Expr {
            kind: ExprKind::Arith(op, Box::new(a), Box::new(b)),
            ty,
            span,
        };
        match op {
            BinOp::And | BinOp::Or => {
                for x in [&a, &b] {
                    if !x.ty.fits(&Bool) {
                        self.mismatch(
                            x.span,
                            &Bool,
                            &x.ty,
                            &format!("each side of `{}`", op.symbol()),
                        );
                    }
                }
                let kind = if op == BinOp::And {
                    ExprKind::And(Box::new(a), Box::new(b))
                } else {
                    ExprKind::Or(Box::new(a), Box::new(b))
                };
                mk(kind, Bool)
            }
            BinOp::Add | BinOp::Sub => {
                let aop = if op == BinOp::Add {
                    ArithOp::Add
                } else {
                    ArithOp::Sub
                };
                let ty = match (&ta, &tb) {
                    (Money, Money) => Some(Money),
                    (Percent, Percent) => Some(Percent),
                    (Integer, Integer) => Some(Integer),
                    (Integer | Decimal, Integer | Decimal) => Some(Decimal),
                    (Date, Duration) => Some(Date),
                    (Duration, Duration) => Some(Duration),
                    (Duration, Date) if op == BinOp::Add => Some(Date),
                    _ => None,
                };
                match ty {
                    Some(t) => arith(aop, t, a, b),
                    None => {
                        self.unit_error(op, &ta, &tb, span);
                        error_expr(span)
                    }
                }
            }
            BinOp::Mul => {
                let ty = match (&ta, &tb) {
                    (Money, Integer | Decimal | Percent) | (Integer | Decimal | Percent, Money) => {
                        Some(Money)
                    }
                    (Percent, Percent) => Some(Percent),
                    (Percent, Integer | Decimal) | (Integer | Decimal, Percent) => Some(Percent),
                    (Integer, Integer) => Some(Integer),
                    (Integer | Decimal, Integer | Decimal) => Some(Decimal),
                    _ => None,
                };
                match ty {
                    Some(t) => arith(ArithOp::Mul, t, a, b),
                    None => {
                        self.unit_error(op, &ta, &tb, span);
                        error_expr(span)
                    }
                }
            }
            BinOp::Div => {
                let ty = match (&ta, &tb) {
                    (Money, Integer | Decimal | Percent) => Some(Money),
                    (Money, Money) => Some(Decimal),
                    (Percent, Integer | Decimal) => Some(Percent),
                    (Percent, Percent) => Some(Decimal),
                    (Integer | Decimal, Integer | Decimal) => Some(Decimal),
                    _ => None,
                };
                match ty {
                    Some(t) => arith(ArithOp::Div, t, a, b),
                    None => {
                        self.unit_error(op, &ta, &tb, span);
                        error_expr(span)
                    }
                }
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let cop = match op {
                    BinOp::Eq => CmpOp::Eq,
                    BinOp::Ne => CmpOp::Ne,
                    BinOp::Lt => CmpOp::Lt,
                    BinOp::Le => CmpOp::Le,
                    BinOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let same = ta.fits(&tb) || tb.fits(&ta);
                if !same {
                    self.unit_error(op, &ta, &tb, span);
                    return mk(ExprKind::Const(Value::Bool(false)), Bool);
                }
                if !matches!(cop, CmpOp::Eq | CmpOp::Ne) && !ta.is_ordered() {
                    let t = self.type_name(&ta);
                    self.err(
                        Diagnostic::error(Code::TypeMismatch, span, format!("values of type {t} have no order"))
                            .with_help("compare them with `=` or `!=`, or list the allowed values with `in [...]`"),
                    );
                    return mk(ExprKind::Const(Value::Bool(false)), Bool);
                }
                if matches!(ta, List(_) | Record(_)) {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            "lists and records cannot be compared as a whole",
                        )
                        .with_help("compare their fields, or use `any(...)` or `all(...)`"),
                    );
                }
                mk(ExprKind::Cmp(cop, Box::new(a), Box::new(b)), Bool)
            }
        }
    }

    fn unit_error(&mut self, op: BinOp, a: &Type, b: &Type, span: Span) {
        use Type::*;
        let (na, nb) = (self.type_name(a), self.type_name(b));
        let help = match (a, b) {
            (Money, Integer | Decimal) | (Integer | Decimal, Money) => {
                "write the number as an amount, such as `900 €`".to_string()
            }
            (Percent, Integer | Decimal) | (Integer | Decimal, Percent) => {
                "write the number as a percentage, such as `35 %`".to_string()
            }
            (Money, Money) if op == BinOp::Mul => {
                "multiply an amount by a number or a percentage, not by another amount".to_string()
            }
            (Date, Date) if op == BinOp::Sub => {
                "use `days between A and B` or `years between A and B`".to_string()
            }
            (Date, Money | Integer | Decimal) | (Money | Integer | Decimal, Date) => {
                "add a duration to a date, such as `6 months`".to_string()
            }
            _ => format!("`{}` does not combine {na} and {nb}", op.symbol()),
        };
        self.err(
            Diagnostic::error(
                Code::UnitMismatch,
                span,
                format!("cannot {} {na} and {nb}", op_verb(op)),
            )
            .with_label(format!("{na} {} {nb}", op.symbol()))
            .with_help(help),
        );
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Expr {
        let mk = |kind, ty| Expr { kind, ty, span };
        if self.locals.iter().any(|l| l.0 == name.name) {
            self.err(
                Diagnostic::error(
                    Code::WrongArguments,
                    name.span,
                    format!("`{}` is a value, not a function", name.name),
                )
                .with_help("remove the parentheses"),
            );
            return error_expr(span);
        }
        let global = self.globals.get(&name.name).map(|g| g.0);
        let arity = |c: &mut Checker, want: usize, what: &str| -> bool {
            if args.len() != want {
                c.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        span,
                        format!(
                            "{what} `{}` takes {want} argument{}, but {} {} given",
                            name.name,
                            if want == 1 { "" } else { "s" },
                            args.len(),
                            if args.len() == 1 { "is" } else { "are" }
                        ),
                    )
                    .with_help("give one argument for each of its inputs, in order"),
                );
                false
            } else {
                true
            }
        };
        if global.is_some() {
            self.uses
                .push((name.span, SymKey::Global(name.name.clone())));
        }
        match global {
            Some(Global::Func(f)) => {
                let Some(info) = self.functions.get(f as usize).cloned() else {
                    return error_expr(span);
                };
                self.edge(Node::Func(f), name.span);
                if !arity(self, info.params.len(), "the function") {
                    return error_expr(span);
                }
                let mut out = Vec::new();
                for (a, (pname, pty)) in args.iter().zip(&info.params) {
                    let x = self.expr_expecting(a, pty);
                    if !x.ty.fits(pty) {
                        self.mismatch(a.span, pty, &x.ty, &format!("`{pname}`"));
                    }
                    out.push(x);
                }
                mk(ExprKind::Call(f, out), info.ret)
            }
            Some(Global::Table(t)) => {
                let Some(info) = self.tables.get(t as usize).cloned() else {
                    return error_expr(span);
                };
                self.edge(Node::Table(t), name.span);
                if !arity(self, info.params.len(), "the table") {
                    return error_expr(span);
                }
                let mut out = Vec::new();
                for (a, (pname, pty, _)) in args.iter().zip(&info.params) {
                    let x = self.expr_expecting(a, pty);
                    if !x.ty.fits(pty) {
                        self.mismatch(a.span, pty, &x.ty, &format!("`{pname}`"));
                    }
                    out.push(x);
                }
                mk(ExprKind::Table(t, out), info.ret)
            }
            Some(Global::Scale(s)) => {
                let Some(info) = self.scales.get(s as usize).cloned() else {
                    return error_expr(span);
                };
                self.edge(Node::Scale(s), name.span);
                if !arity(self, 1, "the scale") {
                    return error_expr(span);
                }
                let Some(first) = args.first() else {
                    return error_expr(span);
                };
                let x = self.expr(first);
                if !x.ty.fits(&info.param.1) {
                    self.mismatch(
                        first.span,
                        &info.param.1,
                        &x.ty,
                        &format!("`{}`", info.param.0),
                    );
                }
                mk(ExprKind::Scale(s, Box::new(x)), info.ret)
            }
            Some(other) => {
                self.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        name.span,
                        format!(
                            "`{}` is {}, not a function",
                            name.name,
                            describe_global(other)
                        ),
                    )
                    .with_help("remove the parentheses"),
                );
                error_expr(span)
            }
            None => {
                let Some((_, b, _)) = BUILTINS.iter().find(|b| b.0 == name.name) else {
                    return self.unknown_name(&name.name, name.span);
                };
                let xs: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
                if xs.iter().any(|x| x.ty == Type::Error) {
                    return error_expr(span);
                }
                let ty = match b {
                    Builtin::Min | Builtin::Max => {
                        if xs.is_empty() {
                            self.err(
                                Diagnostic::error(
                                    Code::WrongArguments,
                                    span,
                                    format!("`{}` needs at least one value", name.name),
                                )
                                .with_help(format!(
                                    "write `{}(a, b)`, or `{}(x.field for x in LIST)` for a list",
                                    name.name, name.name
                                )),
                            );
                            return error_expr(span);
                        }
                        let mut ty = xs.first().map(|x| x.ty.clone()).unwrap_or(Type::Error);
                        for x in xs.iter().skip(1) {
                            match unify(&ty, &x.ty) {
                                Some(u) => ty = u,
                                None => {
                                    let t = ty.clone();
                                    self.unit_error(BinOp::Lt, &t, &x.ty, x.span);
                                    return error_expr(span);
                                }
                            }
                        }
                        if !ty.is_ordered() {
                            self.mismatch(span, &Type::Decimal, &ty, "the values compared");
                            return error_expr(span);
                        }
                        ty
                    }
                    Builtin::Abs => {
                        if !arity(self, 1, "the function") {
                            return error_expr(span);
                        }
                        let t = xs.first().map(|x| x.ty.clone()).unwrap_or(Type::Error);
                        if !t.is_numeric() {
                            self.mismatch(span, &Type::Decimal, &t, "the value of `abs`");
                        }
                        t
                    }
                    Builtin::FirstDayOfMonth
                    | Builtin::LastDayOfMonth
                    | Builtin::FirstDayOfYear
                    | Builtin::LastDayOfYear => {
                        if !arity(self, 1, "the function") {
                            return error_expr(span);
                        }
                        if let Some(x) = xs.first() {
                            if !x.ty.fits(&Type::Date) {
                                self.mismatch(x.span, &Type::Date, &x.ty, "the argument");
                            }
                        }
                        Type::Date
                    }
                    Builtin::Years | Builtin::Months | Builtin::Days => {
                        if !arity(self, 1, "the function") {
                            return error_expr(span);
                        }
                        if let Some(x) = xs.first() {
                            if !x.ty.fits(&Type::Integer) {
                                self.mismatch(x.span, &Type::Integer, &x.ty, "the number of units");
                            }
                        }
                        Type::Duration
                    }
                };
                mk(ExprKind::Builtin(*b, xs), ty)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate(
        &mut self,
        kind: Aggregate,
        projection: Option<&ast::Expr>,
        var: &ast::Ident,
        list: &ast::Expr,
        filter: Option<&ast::Expr>,
        if_empty: Option<&ast::Expr>,
        span: Span,
    ) -> Expr {
        let l = self.expr(list);
        let elem = match &l.ty {
            Type::List(e) => e.as_ref().clone(),
            Type::Error => Type::Error,
            other => {
                let t = self.type_name(other);
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        list.span,
                        format!("expected a list after `in`, but this is {t}"),
                    )
                    .with_help("aggregates go over lists, such as `household.members`"),
                );
                Type::Error
            }
        };
        let slot = self.locals.len() as u32;
        self.locals.push((var.name.clone(), elem.clone()));
        let proj = projection.map(|p| self.expr(p));
        let filt = filter.map(|f| {
            let x = self.expr(f);
            if !x.ty.fits(&Type::Bool) {
                self.mismatch(f.span, &Type::Bool, &x.ty, "the condition after `where`");
            }
            x
        });
        self.locals.pop();
        let value_ty = proj.as_ref().map(|p| p.ty.clone()).unwrap_or(elem.clone());
        let kw = match kind {
            Aggregate::Sum => "sum",
            Aggregate::Count => "count",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::Any => "any",
            Aggregate::All => "all",
        };
        let ty = match kind {
            Aggregate::Sum => {
                if !(value_ty.is_numeric() || value_ty == Type::Error) {
                    let t = self.type_name(&value_ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("`sum` adds numbers or amounts, but the values are {t}"),
                        )
                        .with_help(format!(
                            "say what to add, such as `sum({}.income for {} in ...)`",
                            var.name, var.name
                        )),
                    );
                }
                value_ty
            }
            Aggregate::Count => Type::Integer,
            Aggregate::Min | Aggregate::Max => {
                if !(value_ty.is_ordered() || value_ty == Type::Error) {
                    let t = self.type_name(&value_ty);
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            span,
                            format!("`{kw}` needs values with an order, but these are {t}"),
                        )
                        .with_help(format!(
                            "say what to compare, such as `{kw}({}.income for {} in ...)`",
                            var.name, var.name
                        )),
                    );
                }
                value_ty
            }
            Aggregate::Any | Aggregate::All => {
                if filt.is_none() {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{kw}` needs a condition"),
                        )
                        .with_help(format!(
                            "write `{kw}({} in LIST where CONDITION)`",
                            var.name
                        )),
                    );
                }
                if proj.is_some() {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{kw}` tests a condition; it takes no `... for`"),
                        )
                        .with_help(format!(
                            "write `{kw}({} in LIST where CONDITION)`",
                            var.name
                        )),
                    );
                }
                Type::Bool
            }
        };
        if matches!(kind, Aggregate::Count) && proj.is_some() {
            self.err(
                Diagnostic::error(
                    Code::WrongArguments,
                    span,
                    "`count` counts items; it takes no `... for`",
                )
                .with_help(format!(
                    "write `count({} in LIST where CONDITION)`",
                    var.name
                )),
            );
        }
        let empty = if_empty.map(|e| {
            let x = self.expr(e);
            if !x.ty.fits(&ty) {
                self.mismatch(e.span, &ty, &x.ty, "the value `if empty`");
            }
            x
        });
        Expr {
            kind: ExprKind::Aggregate {
                kind,
                slot,
                list: Box::new(l),
                projection: proj.map(Box::new),
                filter: filt.map(Box::new),
                if_empty: empty.map(Box::new),
            },
            ty,
            span,
        }
    }

    // ---- whole-rulebook findings ------------------------------------------

    fn node_name(&self, n: Node) -> String {
        match n {
            Node::Def(i) => self.def_src.get(i as usize).map(|s| {
                s.def
                    .map(|d| d.name.name.clone())
                    .or_else(|| s.param.map(|p| p.name.name.clone()))
                    .unwrap_or_default()
            }),
            Node::Func(i) => self.functions.get(i as usize).map(|f| f.name.clone()),
            Node::Table(i) => self.tables.get(i as usize).map(|t| t.name.clone()),
            Node::Scale(i) => self.scales.get(i as usize).map(|s| s.name.clone()),
        }
        .unwrap_or_default()
    }

    /// The graph of uses: for each definition, function, table or scale,
    /// what it uses (each once, at its first use), and every user in a
    /// stable order.
    fn use_graph(&self) -> (UseGraph, Vec<Node>) {
        let mut adj: UseGraph = HashMap::new();
        for (a, b, s) in &self.edges {
            let list = adj.entry(*a).or_default();
            if !list.iter().any(|(n, _)| n == b) {
                list.push((*b, *s));
            }
        }
        let mut nodes: Vec<Node> = adj.keys().copied().collect();
        nodes.sort_by_key(|n| format!("{n:?}"));
        (adj, nodes)
    }

    fn find_cycles(&mut self, adj: &UseGraph, nodes: &[Node]) {
        let mut color: HashMap<Node, u8> = HashMap::new();
        let mut reported: HashSet<Vec<Node>> = HashSet::new();
        for &start in nodes {
            if color.get(&start).copied().unwrap_or(0) != 0 {
                continue;
            }
            // Iterative depth-first search, so deep chains cannot overflow.
            let mut stack: Vec<(Node, usize)> = vec![(start, 0)];
            let mut path: Vec<(Node, Span)> = vec![(start, Span::default())];
            color.insert(start, 1);
            while let Some((node, idx)) = stack.last().copied() {
                let next = adj.get(&node).and_then(|l| l.get(idx)).copied();
                match next {
                    None => {
                        color.insert(node, 2);
                        stack.pop();
                        path.pop();
                    }
                    Some((to, span)) => {
                        if let Some(top) = stack.last_mut() {
                            top.1 += 1;
                        }
                        match color.get(&to).copied().unwrap_or(0) {
                            0 => {
                                color.insert(to, 1);
                                stack.push((to, 0));
                                path.push((to, span));
                            }
                            1 => {
                                let pos = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                                let mut cycle: Vec<(Node, Span)> =
                                    path.get(pos..).map(|s| s.to_vec()).unwrap_or_default();
                                cycle.push((to, span));
                                let mut key: Vec<Node> =
                                    cycle.iter().skip(1).map(|c| c.0).collect();
                                key.sort_by_key(|n| format!("{n:?}"));
                                if reported.insert(key) {
                                    self.report_cycle(&cycle);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    /// Reports the longest chain of uses if it is longer than
    /// `MAX_DEF_CHAIN`. Iterative, so any length is measured without
    /// recursion; a use that closes a cycle (reported by `find_cycles`)
    /// counts as the end of its chain.
    fn find_long_chains(&mut self, adj: &UseGraph, nodes: &[Node]) {
        // Longest chain starting at a node, counted in nodes, with the first
        // use along it.
        let mut longest: HashMap<Node, (usize, Option<(Node, Span)>)> = HashMap::new();
        let mut on_path: HashSet<Node> = HashSet::new();
        for &start in nodes {
            if longest.contains_key(&start) {
                continue;
            }
            let mut stack: Vec<(Node, usize)> = vec![(start, 0)];
            on_path.insert(start);
            while let Some((node, idx)) = stack.last().copied() {
                match adj.get(&node).and_then(|l| l.get(idx)).copied() {
                    Some((to, _)) => {
                        if let Some(top) = stack.last_mut() {
                            top.1 += 1;
                        }
                        if !longest.contains_key(&to) && !on_path.contains(&to) {
                            on_path.insert(to);
                            stack.push((to, 0));
                        }
                    }
                    None => {
                        let mut best = (1, None);
                        for &(to, span) in adj.get(&node).map(Vec::as_slice).unwrap_or_default() {
                            let below = longest.get(&to).map_or(0, |l| l.0);
                            if below + 1 > best.0 {
                                best = (below + 1, Some((to, span)));
                            }
                        }
                        longest.insert(node, best);
                        on_path.remove(&node);
                        stack.pop();
                    }
                }
            }
        }
        let Some((&head, &(length, _))) = longest
            .iter()
            .filter(|(_, l)| l.0 > MAX_DEF_CHAIN)
            .max_by_key(|(n, l)| (l.0, std::cmp::Reverse(format!("{n:?}"))))
        else {
            return;
        };
        let mut names = vec![self.node_name(head)];
        let mut first_use = None;
        let mut at = head;
        while let Some(&(_, Some((next, span)))) = longest.get(&at) {
            first_use.get_or_insert(span);
            names.push(self.node_name(next));
            at = next;
        }
        let shown = match names.as_slice() {
            [a, b, .., y, z] if names.len() > 4 => format!("`{a}` → `{b}` → … → `{y}` → `{z}`"),
            _ => names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" → "),
        };
        let span = first_use.unwrap_or_default();
        self.err(
            Diagnostic::error(
                Code::TooDeep,
                span,
                format!("definitions depend on each other in a chain of {length}, longer than {MAX_DEF_CHAIN}: {shown}"),
            )
            .with_label(format!("`{}` uses `{}` here, the first of {} steps", names.first().cloned().unwrap_or_default(), names.get(1).cloned().unwrap_or_default(), length - 1))
            .with_help("compute values from fewer intermediate steps; such chains also make explanations unreadable"),
        );
    }

    fn report_cycle(&mut self, cycle: &[(Node, Span)]) {
        let names: Vec<String> = cycle.iter().map(|(n, _)| self.node_name(*n)).collect();
        let first_span = cycle.get(1).map(|c| c.1).unwrap_or_default();
        let mut d = Diagnostic::error(Code::Cycle, first_span, format!("these definitions depend on themselves: {}", names.join(" → ")))
            .with_label(format!("`{}` uses `{}` here", names.first().cloned().unwrap_or_default(), names.get(1).cloned().unwrap_or_default()))
            .with_help("a value cannot be computed from itself; break the cycle by computing one of them from inputs or parameters");
        for (i, (_, s)) in cycle.iter().enumerate().skip(2) {
            let from = names.get(i - 1).cloned().unwrap_or_default();
            let to = names.get(i).cloned().unwrap_or_default();
            d = d.with_related(*s, format!("`{from}` uses `{to}` here"));
        }
        self.err(d);
    }

    fn warn_unused(&mut self) {
        let mut warnings = Vec::new();
        for (i, src) in self.def_src.iter().enumerate() {
            let is_output = src.def.is_some_and(|d| d.is_output);
            if is_output || self.used.contains(&Node::Def(i as u32)) {
                continue;
            }
            let (name, kind) = match (src.def, src.param) {
                (Some(d), _) => (&d.name, "value"),
                (_, Some(p)) => (&p.name, "parameter"),
                _ => continue,
            };
            // A duplicate is reported as such, not as unused.
            if self.globals.get(&name.name).map(|g| g.1) != Some(name.span) {
                continue;
            }
            warnings.push((
                name.span,
                format!("the {kind} `{}` is never used", name.name),
            ));
        }
        for (i, f) in self.functions.iter().enumerate() {
            if !self.used.contains(&Node::Func(i as u32)) {
                warnings.push((f.span, format!("the function `{}` is never used", f.name)));
            }
        }
        for (i, t) in self.tables.iter().enumerate() {
            if !self.used.contains(&Node::Table(i as u32)) {
                warnings.push((t.span, format!("the table `{}` is never used", t.name)));
            }
        }
        for (i, s) in self.scales.iter().enumerate() {
            if !self.used.contains(&Node::Scale(i as u32)) {
                warnings.push((s.span, format!("the scale `{}` is never used", s.name)));
            }
        }
        for (span, msg) in warnings {
            self.err(
                Diagnostic::warning(Code::UnusedDefinition, span, msg)
                    .with_label("unused")
                    .with_help(
                        "remove it, use it in an output or criterion, or make it an `output`",
                    ),
            );
        }
    }

    fn warn_unrounded(&mut self) {
        let mut memo: HashMap<u32, bool> = HashMap::new();
        let mut warnings = Vec::new();
        for &o in &self.outputs {
            let Some(Some(d)) = self.defs.get(o as usize) else {
                continue;
            };
            if d.ty != Type::Money {
                continue;
            }
            if !self.def_exact(o, &mut memo) {
                warnings.push((d.name_span, d.name.clone()));
            }
        }
        for (span, name) in warnings {
            self.err(
                Diagnostic::warning(Code::UnroundedMoney, span, format!("the money output `{name}` is never rounded"))
                    .with_label("may hold fractions of a cent")
                    .with_help("end its formula with `rounded to cents` (or the rounding the rulebook prescribes)"),
            );
        }
    }

    fn def_exact(&self, i: u32, memo: &mut HashMap<u32, bool>) -> bool {
        if let Some(v) = memo.get(&i) {
            return *v;
        }
        memo.insert(i, true); // cycles are reported elsewhere
        let result = match self.defs.get(i as usize) {
            Some(Some(d)) => match &d.body {
                DefBody::Dated(values) => values.iter().all(|(_, v)| value_in_cents(v)),
                DefBody::Rule { base, overrides } => {
                    self.exact(base, memo) && overrides.iter().all(|o| self.exact(&o.value, memo))
                }
            },
            _ => true,
        };
        memo.insert(i, result);
        result
    }

    /// Whether an amount is known to be whole cents.
    fn exact(&self, e: &Expr, memo: &mut HashMap<u32, bool>) -> bool {
        if e.ty != Type::Money {
            return true;
        }
        match &e.kind {
            ExprKind::Round(_, ast::RoundTarget::Cents(_), _) => true,
            ExprKind::Round(_, ast::RoundTarget::Decimals(n), _) => *n <= 2,
            ExprKind::Const(v) => value_in_cents(v),
            ExprKind::Input(_) | ExprKind::Local(_) | ExprKind::Field(..) => true,
            ExprKind::Def(j) => self.def_exact(*j, memo),
            ExprKind::Neg(x) => self.exact(x, memo),
            ExprKind::Arith(ArithOp::Add | ArithOp::Sub, a, b) => {
                self.exact(a, memo) && self.exact(b, memo)
            }
            ExprKind::Arith(ArithOp::Mul, a, b) => {
                (a.ty == Type::Integer && self.exact(b, memo))
                    || (b.ty == Type::Integer && self.exact(a, memo))
            }
            ExprKind::If(_, a, b) => self.exact(a, memo) && self.exact(b, memo),
            ExprKind::Builtin(_, xs) => xs.iter().all(|x| self.exact(x, memo)),
            ExprKind::Call(f, _) => self
                .functions
                .get(*f as usize)
                .is_some_and(|f| self.exact(&f.body, memo)),
            ExprKind::Table(t, _) => self
                .tables
                .get(*t as usize)
                .is_some_and(|t| t.rows.iter().all(|r| self.exact(&r.result, memo))),
            ExprKind::Scale(s, _) => self.scales.get(*s as usize).is_some_and(|s| {
                s.kind == ast::ScaleKind::SingleAmount
                    && s.brackets.iter().all(|(_, v)| value_in_cents(v))
            }),
            ExprKind::Aggregate {
                projection,
                list,
                if_empty,
                ..
            } => {
                let base = match projection {
                    Some(p) => self.exact(p, memo),
                    None => matches!(list.ty, Type::List(_)),
                };
                base && if_empty.as_ref().is_none_or(|x| self.exact(x, memo))
            }
            _ => false,
        }
    }

    fn into_program(self) -> Program {
        let header = self.file.header.as_ref();
        let (from, to) = header
            .and_then(|h| h.in_force.as_ref())
            .map(|f| (f.from, f.to))
            .unwrap_or((NaiveDate::default(), None));
        let defs: Vec<DefInfo> = self
            .defs
            .into_iter()
            .zip(&self.def_src)
            .map(|(d, src)| {
                d.unwrap_or_else(|| DefInfo {
                    name: src
                        .def
                        .map(|d| d.name.name.clone())
                        .or_else(|| src.param.map(|p| p.name.name.clone()))
                        .unwrap_or_default(),
                    kind: DefKind::Let,
                    ty: Type::Error,
                    body: DefBody::Dated(Vec::new()),
                    formula: String::new(),
                    citation: Citation::default(),
                    doc: src.doc.clone(),
                    span: src.span,
                    name_span: src.span,
                })
            })
            .collect();
        Program {
            id: header.map(|h| h.id.name.clone()).unwrap_or_default(),
            title: header.and_then(|h| h.title.clone()),
            version: header
                .and_then(|h| h.version.as_ref())
                .map(|v| v.name.clone())
                .unwrap_or_default(),
            in_force_from: from,
            in_force_to: to,
            source: header.and_then(|h| h.source.clone()),
            amends: header
                .and_then(|h| h.amends.as_ref())
                .map(|a| a.name.clone()),
            header_span: header.map(|h| h.span).unwrap_or_default(),
            in_force_span: header
                .and_then(|h| h.in_force.as_ref())
                .map(|f| f.span)
                .unwrap_or_default(),
            enums: self.enums,
            records: self.records,
            inputs: self.inputs,
            defs,
            functions: self.functions,
            tables: with_row_indexes(self.tables),
            scales: self.scales,
            criteria: self.criteria,
            outputs: self.outputs,
            examples: self.examples,
        }
    }
}

/// Large tables get their row index once their rows are known.
fn with_row_indexes(mut tables: Vec<TableInfo>) -> Vec<TableInfo> {
    for t in &mut tables {
        t.index = crate::ir::row_index::build(t).map(std::sync::Arc::new);
    }
    tables
}

struct NamesView<'c, 'a>(&'c Checker<'a>);

impl crate::ir::value::TypeNames for NamesView<'_, '_> {
    fn variant_name(&self, enum_id: u32, variant: u32) -> &str {
        self.0
            .enums
            .get(enum_id as usize)
            .and_then(|e| e.variants.get(variant as usize))
            .map(|s| s.as_str())
            .unwrap_or("?")
    }
    fn field_names(&self, record_id: u32) -> Vec<&str> {
        self.0
            .records
            .get(record_id as usize)
            .map(|r| r.fields.iter().map(|f| f.name.as_str()).collect())
            .unwrap_or_default()
    }
}

fn op_verb(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "subtract",
        BinOp::Mul => "multiply",
        BinOp::Div => "divide",
        _ => "compare",
    }
}

fn value_in_cents(v: &Value) -> bool {
    match v {
        Value::Num(d) => (d * Decimal::ONE_HUNDRED).fract().is_zero(),
        Value::Int(_) => true,
        _ => true,
    }
}

fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Error, t) | (t, Type::Error) => Some(t.clone()),
        (Type::Integer, Type::Decimal) | (Type::Decimal, Type::Integer) => Some(Type::Decimal),
        (a, b) if a == b => Some(a.clone()),
        _ => None,
    }
}

fn error_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Const(Value::Bool(false)),
        ty: Type::Error,
        span,
    }
}

fn example_of(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "`true`",
        Type::Integer => "`3`",
        Type::Decimal => "`0.60`",
        Type::Money => "`12.50 €`",
        Type::Percent => "`35 %`",
        Type::Text => "`\"text\"`",
        Type::Date => "`2021-01-01`",
        Type::Duration => "`6 months`",
        Type::Enum(_) => "one of its values",
        Type::Record(_) => "`{ field: value }`",
        Type::List(_) => "`[ ... ]`",
        Type::Error => "a value",
    }
}

/// The value and type of a literal.
pub fn literal_value(l: &Literal) -> (Value, Type) {
    match l {
        Literal::Bool(b) => (Value::Bool(*b), Type::Bool),
        Literal::Number(n, true) => match n.to_string().parse::<i64>() {
            Ok(i) => (Value::Int(i), Type::Integer),
            Err(_) => (Value::Num(*n), Type::Decimal),
        },
        Literal::Number(n, false) => (Value::Num(*n), Type::Decimal),
        Literal::Money(n) => (Value::Num(*n), Type::Money),
        Literal::Percent(n) => (Value::Num(n / Decimal::ONE_HUNDRED), Type::Percent),
        Literal::Date(d) => (Value::Date(*d), Type::Date),
        Literal::Duration(n, unit) => {
            let d = match unit {
                DurationUnit::Days => Duration {
                    months: 0,
                    days: *n,
                },
                DurationUnit::Weeks => Duration {
                    months: 0,
                    days: n * 7,
                },
                DurationUnit::Months => Duration {
                    months: *n,
                    days: 0,
                },
                DurationUnit::Years => Duration {
                    months: n * 12,
                    days: 0,
                },
            };
            (Value::Duration(d), Type::Duration)
        }
        Literal::Text(t) => (Value::Text(Arc::from(t.as_str())), Type::Text),
    }
}

fn cell_to_data(c: &ast::CellValue) -> DataValue {
    match c {
        ast::CellValue::Literal(l, s) => DataValue::Literal(l.clone(), *s),
        ast::CellValue::Name(i) => DataValue::Name(i.clone()),
    }
}

/// A parameter's value written as an expression, if it is a constant.
fn expr_to_data(e: &ast::Expr) -> Option<DataValue> {
    match &e.kind {
        A::Literal(l) => Some(DataValue::Literal(l.clone(), e.span)),
        A::Neg(inner) => match &inner.kind {
            A::Literal(Literal::Number(n, i)) => {
                Some(DataValue::Literal(Literal::Number(-n, *i), e.span))
            }
            A::Literal(Literal::Money(n)) => Some(DataValue::Literal(Literal::Money(-n), e.span)),
            A::Literal(Literal::Percent(n)) => {
                Some(DataValue::Literal(Literal::Percent(-n), e.span))
            }
            _ => None,
        },
        A::Name(n) => Some(DataValue::Name(ast::Ident {
            name: n.clone(),
            span: e.span,
        })),
        A::Field(base, field) => match &base.kind {
            A::Name(_) => Some(DataValue::Name(field.clone())),
            _ => None,
        },
        _ => None,
    }
}
