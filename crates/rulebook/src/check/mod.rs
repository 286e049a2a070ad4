//! The checker: resolves names, checks types and units, finds cycles,
//! analyses decision tables and compiles the rulebook to its resolved form.
//!
//! One `Checker` holds the state; its passes live in their own files and run
//! in this order (`Checker::run`):
//!
//! 1. `declare`: the header, then types, then every global name, so that the
//!    order of items in a file does not matter;
//! 2. `definitions`, `table_items` (with the row analysis in `tables`) and
//!    `examples`, each typing bodies through `expressions` and reading
//!    figures through `constants`;
//! 3. `dependencies` (cycles, over-long chains, unused definitions) and
//!    `rounding` (money never rounded), over the whole rulebook;
//! 4. `into_program` builds the IR, with the tables' row indexes.

mod constants;
mod declare;
mod definitions;
mod dependencies;
mod domains;
mod examples;
mod expressions;
mod languages;
mod properties;
mod rounding;
mod suggest;
mod table_items;
pub mod tables;
mod uses;

pub use constants::literal_value;
use constants::{cell_to_data, expr_to_data};
use expressions::example_of;
pub use suggest::{inputs_help, suggest};
pub use uses::Library;

use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Type, Value};
use crate::ir::*;
use crate::syntax::ast::{self, HitPolicy, ItemKind};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

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
    Property(String),
    /// A definition, function, table or scale of a used programme, by the
    /// alias it is used under and its name there.
    Used(String, String),
}

/// The result of checking one rulebook text.
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
    check_using(text, &Library::default())
}

/// Parses and checks a rulebook that may `use` the programmes in `library`.
pub fn check_using(text: &str, library: &Library) -> Checked {
    crate::syntax::on_large_stack(|| check_here(text, library))
}

fn check_here(text: &str, library: &Library) -> Checked {
    let (file, mut diagnostics) = crate::syntax::parse_here(text);
    let parse_errors: Vec<Span> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.span)
        .collect();
    let mut c = Checker::new(&file, text, library);
    c.parse_errors = parse_errors;
    c.run();
    diagnostics.append(&mut c.diags);
    let uses = std::mem::take(&mut c.uses);
    let mut partial = c.into_program();
    diagnostics.extend(properties::settle(&mut partial));
    if !diagnostics.iter().any(|d| d.is_error()) {
        diagnostics.extend(domains::check(&partial));
    }
    diagnostics.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(a.code.as_str().cmp(b.code.as_str()))
    });
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
    /// The programmes a `use` may name.
    library: &'a Library,
    /// The programmes this rulebook uses, in the order of their `use`.
    imports: Vec<uses::Import>,
    /// Aliases of `use`s that failed: their uses are not reported again.
    unusable: HashSet<String>,
    text: &'a str,
    diags: Vec<Diagnostic>,
    languages: Vec<String>,
    texts: crate::ir::Texts,
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
    /// Money outputs nothing rounds to whole cents (`unrounded-money`).
    unrounded: Vec<u32>,
    examples: Vec<ExampleInfo>,
    properties: Vec<PropertyInfo>,
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
    fn new(file: &'a ast::File, text: &'a str, library: &'a Library) -> Checker<'a> {
        Checker {
            file,
            library,
            imports: Vec::new(),
            unusable: HashSet::new(),
            text,
            diags: Vec::new(),
            languages: Vec::new(),
            texts: crate::ir::Texts::new(),
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
            unrounded: Vec::new(),
            examples: Vec::new(),
            properties: Vec::new(),
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

    fn run(&mut self) {
        self.check_header();
        (self.languages, self.texts) = self.collect_texts();
        self.declare_uses();
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
        // Each enum variant's data, a record of its own.
        for item in &file.items {
            if let ItemKind::Enum(e) = &item.kind {
                self.declare_variant_data(e);
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
                        overrides: Vec::new(),
                        formula: one_line(self.text.get(f.body.span.start..f.body.span.end)),
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
                    // Several results: a record of them, named after the
                    // table (it cannot be written as a type).
                    if !t.results.is_empty() {
                        let fields = t
                            .results
                            .iter()
                            .map(|(col, ty)| {
                                let (ty, bounds) = self.resolve_type(ty);
                                FieldInfo {
                                    name: col.name.clone(),
                                    ty,
                                    bounds,
                                    description: None,
                                    span: col.span,
                                }
                            })
                            .collect();
                        let rid = self.records.len() as u32;
                        self.records.push(RecordInfo {
                            name: format!("{} results", t.name.name),
                            fields,
                            doc: None,
                            span: t.name.span,
                        });
                        ret = Type::Record(rid);
                    }
                    if t.hit == HitPolicy::CollectCount {
                        ret = Type::Integer;
                    }
                    // A list of the matching rows' results.
                    if matches!(t.hit, HitPolicy::CollectList | HitPolicy::OutputOrder) {
                        ret = Type::List(Box::new(ret));
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
            if let ItemKind::Eligibility(e) = &item.kind {
                self.check_eligibility(e);
            }
        }
        // After the criteria, before the examples, which may name them.
        for item in &file.items {
            if let ItemKind::Property(d) = &item.kind {
                self.check_property(d, item);
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
            languages: self.languages,
            texts: self.texts,
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
            unrounded_outputs: self.unrounded,
            examples: self.examples,
            properties: self.properties,
            uses: self.imports.into_iter().map(|i| i.programme).collect(),
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

/// Source text on one line, runs of white space as one space.
pub(crate) fn one_line(text: Option<&str>) -> String {
    text.unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
