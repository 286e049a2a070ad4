//! What editors ask about a rulebook: symbols, where a name is defined and
//! used, hover text, completions, tokens for highlighting, folding ranges and
//! the examples' results. Built on the checker; the language server only
//! translates positions and protocol types.

pub mod context;

use crate::check::{Checked, SymKey};
use crate::diagnostic::{LineIndex, Span};
use crate::eval::Executable;
use crate::ir::value::Type;
use crate::ir::{DefBody, DefKind, Program};
use crate::ops::examples::{run_examples, ExampleResult};
use crate::syntax::ast::{self, ItemKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Enum,
    Variant,
    Record,
    Field,
    Input,
    Parameter,
    Let,
    Output,
    Function,
    Table,
    Scale,
    Criterion,
    Property,
    Example,
    /// A programme named by `use`.
    Use,
}

#[derive(Debug, Clone)]
pub struct Symbol {
    pub key: Option<SymKey>,
    pub name: String,
    pub kind: SymbolKind,
    pub name_span: Span,
    pub item_span: Span,
    /// The enum or record a variant or field belongs to.
    pub container: Option<String>,
    /// One line: the type or signature.
    pub detail: String,
    pub doc: Option<String>,
}

pub struct Analysis {
    pub text: String,
    pub checked: Checked,
    pub symbols: Vec<Symbol>,
    pub index: LineIndex,
    /// Results of the examples, when the rulebook checks.
    pub examples: Vec<ExampleResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Snippet,
    Value,
    Function,
    Field,
    Variant,
    Type,
    Unit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Text to insert; a snippet (with `$1` placeholders) when `snippet`.
    pub insert: String,
    pub snippet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Keyword,
    Type,
    Variant,
    Field,
    Variable,
    Function,
    Number,
    String,
    Comment,
    Operator,
}

pub const KEYWORDS: &[&str] = &[
    "use",
    "as",
    "over",
    "rulebook",
    "version",
    "in",
    "force",
    "from",
    "to",
    "source",
    "amends",
    "languages",
    "optional",
    "sorted",
    "descending",
    "is",
    "present",
    "absent",
    "remove",
    "enum",
    "record",
    "input",
    "let",
    "parameter",
    "table",
    "scale",
    "function",
    "output",
    "eligibility",
    "example",
    "and",
    "or",
    "not",
    "if",
    "then",
    "else",
    "unless",
    "rank",
    "true",
    "false",
    "for",
    "where",
    "rounded",
    "between",
    "hit",
    "unique",
    "first",
    "collect",
    "list",
    "of",
    "on",
    "given",
    "expect",
    "eligible",
    "because",
    "error",
    "over",
    "under",
    "more",
    "less",
    "than",
    "any",
    "decision",
    "date",
    "cents",
    "whole",
    "euros",
    "decimals",
    "half",
    "up",
    "down",
    "even",
    "marginal",
    "single",
    "amount",
    "empty",
    "years",
    "months",
    "days",
];

const SNIPPETS: &[(&str, &str, &str)] = &[
    ("rulebook", "rulebook ${1:programme.id} \"${2:Title}\"\n  version ${3:2025}\n  in force ${4:2025-01-01} to ${5:2025-12-31}\n  source \"${6:Source}\"\n", "a rulebook header"),
    ("input", "input ${1:client} {\n  ${2:birth_date}: ${3:date}\n}\n", "an input record"),
    ("parameter", "parameter ${1:name} = ${2:0.00 €} § ${3:1}\n", "a parameter"),
    ("parameter (dated)", "parameter ${1:name}: ${2:money}\n  = ${3:0.00 €} from ${4:2025-01-01}\n  = ${5:0.00 €} from ${6:2025-07-01}\n", "a parameter whose value changes on a date"),
    ("output", "output ${1:name}: ${2:money} = ${3:expression} rounded to cents\n", "an output"),
    ("table", "table ${1:name}(${2:level}: ${3:integer 1 to 5}) -> ${4:decimal}, hit unique\n  | ${2:level} | ${5:result} |\n  | ${6:1} | ${7:0.60} |\n", "a decision table"),
    ("scale", "scale ${1:name}(${2:income}: money) -> money, marginal\n  | over | rate |\n  | 0 €  | 0 %  |\n", "a scale of brackets"),
    ("eligibility", "eligibility\n  ${1:adult} § ${2:3.1}: ${3:age >= 18} else \"${4:reason}\"\n", "eligibility criteria"),
    ("example", "example \"${1:description}\"\n  on ${2:2025-03-01}\n  given ${3:client} { ${4} }\n  expect eligible\n", "an example (a test)"),
    ("unless", "unless ${1:condition} then ${2:value}", "an override"),
];

const UNITS: &[(&str, &str)] = &[
    ("€", "euros"),
    ("%", "percent"),
    ("days", "a duration"),
    ("months", "a duration"),
    ("years", "a duration"),
    ("rounded to cents", "round to 0.01 €"),
    ("rounded to whole euros", "round to 1 €"),
];

fn type_text(p: &Program, t: &Type) -> String {
    p.type_name(t)
}

fn citation_line(section: &Option<String>, source: &Option<String>) -> Option<String> {
    match (section, source) {
        (Some(s), Some(src)) => Some(format!("§ {s} — {src}")),
        (Some(s), None) => Some(format!("§ {s}")),
        (None, Some(src)) => Some(src.clone()),
        (None, None) => None,
    }
}

/// Parses, checks and indexes a rulebook, and runs its examples.
pub fn analyze(text: &str) -> Analysis {
    analyze_with(text, &crate::check::Library::default())
}

/// As [`analyze`], for a rulebook that may `use` the programmes in
/// `library`: what it takes from them is hovered, completed and followed.
pub fn analyze_with(text: &str, library: &crate::check::Library) -> Analysis {
    let mut checked = crate::check::check_using(text, library);
    let mut symbols = Vec::new();
    let p = &checked.partial;
    let global = |n: &str| Some(SymKey::Global(n.to_string()));
    for item in &checked.ast.items {
        let doc = item.doc.clone();
        match &item.kind {
            ItemKind::Enum(e) => {
                symbols.push(Symbol {
                    key: Some(SymKey::Type(e.name.name.clone())),
                    name: e.name.name.clone(),
                    kind: SymbolKind::Enum,
                    name_span: e.name.span,
                    item_span: item.span,
                    container: None,
                    detail: format!(
                        "enum {} {{ {} }}",
                        e.name.name,
                        e.variants
                            .iter()
                            .map(|v| v.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    doc: doc.clone(),
                });
                for v in &e.variants {
                    symbols.push(Symbol {
                        key: Some(SymKey::Variant(e.name.name.clone(), v.name.clone())),
                        name: v.name.clone(),
                        kind: SymbolKind::Variant,
                        name_span: v.span,
                        item_span: v.span,
                        container: Some(e.name.name.clone()),
                        detail: format!("a value of {}", e.name.name),
                        doc: None,
                    });
                }
            }
            ItemKind::Record(r) => {
                symbols.push(Symbol {
                    key: Some(SymKey::Type(r.name.name.clone())),
                    name: r.name.name.clone(),
                    kind: SymbolKind::Record,
                    name_span: r.name.span,
                    item_span: item.span,
                    container: None,
                    detail: format!("record {}", r.name.name),
                    doc: doc.clone(),
                });
                push_fields(&mut symbols, &r.name.name, &r.fields, text);
            }
            ItemKind::Input(i) => {
                let ty = p
                    .inputs
                    .iter()
                    .find(|x| x.name == i.name.name)
                    .map(|x| type_text(p, &x.ty))
                    .unwrap_or_default();
                symbols.push(Symbol {
                    key: global(&i.name.name),
                    name: i.name.name.clone(),
                    kind: SymbolKind::Input,
                    name_span: i.name.span,
                    item_span: item.span,
                    container: None,
                    detail: format!("input {}: {ty}", i.name.name),
                    doc: doc.clone().or(i.description.clone()),
                });
                if let ast::InputShape::Record(fields) = &i.shape {
                    push_fields(&mut symbols, &i.name.name, fields, text);
                }
            }
            ItemKind::Definition(d) => {
                let ty = p
                    .defs
                    .iter()
                    .find(|x| x.name == d.name.name)
                    .map(|x| type_text(p, &x.ty))
                    .unwrap_or_default();
                let kw = if d.is_output { "output" } else { "let" };
                symbols.push(Symbol {
                    key: global(&d.name.name),
                    name: d.name.name.clone(),
                    kind: if d.is_output {
                        SymbolKind::Output
                    } else {
                        SymbolKind::Let
                    },
                    name_span: d.name.span,
                    item_span: item.span,
                    container: None,
                    detail: format!("{kw} {}: {ty}", d.name.name),
                    doc: doc.clone(),
                });
            }
            ItemKind::Parameter(par) => {
                let def = p
                    .defs
                    .iter()
                    .find(|x| x.name == par.name.name && x.kind == DefKind::Parameter);
                let detail = match def {
                    Some(d) => match &d.body {
                        DefBody::Dated(values) => {
                            let shown: Vec<String> = values
                                .iter()
                                .map(|(from, v)| match from {
                                    Some(f) => format!("{} from {f}", p.render(v, &d.ty)),
                                    None => p.render(v, &d.ty),
                                })
                                .collect();
                            format!(
                                "parameter {}: {} = {}",
                                par.name.name,
                                type_text(p, &d.ty),
                                shown.join("; ")
                            )
                        }
                        DefBody::Rule { .. } => format!("parameter {}", par.name.name),
                    },
                    None => format!("parameter {}", par.name.name),
                };
                symbols.push(Symbol {
                    key: global(&par.name.name),
                    name: par.name.name.clone(),
                    kind: SymbolKind::Parameter,
                    name_span: par.name.span,
                    item_span: item.span,
                    container: None,
                    detail,
                    doc: doc.clone(),
                });
            }
            ItemKind::Function(f) => symbols.push(Symbol {
                key: global(&f.name.name),
                name: f.name.name.clone(),
                kind: SymbolKind::Function,
                name_span: f.name.span,
                item_span: item.span,
                container: None,
                detail: first_line(text, item.span),
                doc: doc.clone(),
            }),
            ItemKind::Table(t) => {
                let rows = t.rows.len();
                symbols.push(Symbol {
                    key: global(&t.name.name),
                    name: t.name.name.clone(),
                    kind: SymbolKind::Table,
                    name_span: t.name.span,
                    item_span: item.span,
                    container: None,
                    detail: format!(
                        "{} — hit {}, {rows} row{}",
                        first_line(text, item.span),
                        t.hit.describe(),
                        if rows == 1 { "" } else { "s" }
                    ),
                    doc: doc.clone(),
                });
            }
            ItemKind::Scale(sc) => symbols.push(Symbol {
                key: global(&sc.name.name),
                name: sc.name.name.clone(),
                kind: SymbolKind::Scale,
                name_span: sc.name.span,
                item_span: item.span,
                container: None,
                detail: format!(
                    "{} — {} brackets",
                    first_line(text, item.span),
                    sc.brackets.len()
                ),
                doc: doc.clone(),
            }),
            ItemKind::Eligibility(e) => {
                for c in &e.criteria {
                    symbols.push(Symbol {
                        key: Some(SymKey::Criterion(c.name.name.clone())),
                        name: c.name.name.clone(),
                        kind: SymbolKind::Criterion,
                        name_span: c.name.span,
                        item_span: c.span,
                        container: None,
                        detail: format!(
                            "criterion {}: {}",
                            c.name.name,
                            slice(text, c.condition.span)
                        ),
                        doc: Some(format!("When it fails: “{}”", c.reason)),
                    });
                }
            }
            ItemKind::Property(pr) => symbols.push(Symbol {
                key: Some(SymKey::Property(pr.name.name.clone())),
                name: pr.name.name.clone(),
                kind: SymbolKind::Property,
                name_span: pr.name.span,
                item_span: item.span,
                container: None,
                detail: first_line(text, item.span),
                doc: doc.clone(),
            }),
            ItemKind::Example(ex) => symbols.push(Symbol {
                key: None,
                name: ex.name.clone(),
                kind: SymbolKind::Example,
                name_span: ex.name_span,
                item_span: item.span,
                container: None,
                detail: format!("example {:?}", ex.name),
                doc: None,
            }),
            ItemKind::Use(u) => symbols.push(Symbol {
                key: Some(SymKey::Global(u.alias.name.clone())),
                name: u.alias.name.clone(),
                kind: SymbolKind::Use,
                name_span: u.alias.span,
                item_span: item.span,
                container: None,
                detail: format!("use {} as {}", u.id.name, u.alias.name),
                doc: doc.clone(),
            }),
            ItemKind::Remove(_) => {}
        }
    }
    // What each used programme defines, as its version in force at the
    // start of this one's period has it.
    for u in &p.uses {
        let Some(v) = u.versions.first() else {
            continue;
        };
        let at = checked
            .ast
            .items
            .iter()
            .find_map(|i| match &i.kind {
                ItemKind::Use(x) if x.alias.name == u.alias => Some((x.alias.span, i.span)),
                _ => None,
            })
            .unwrap_or_default();
        let from = format!("from {} version {}", u.id, v.version);
        let mut push = |name: &str,
                        kind: SymbolKind,
                        detail: String,
                        doc: &Option<String>,
                        c: &crate::ir::Citation| {
            let detail = match citation_line(&c.section, &c.source) {
                Some(c) => format!("{detail}\n{c}\n{from}"),
                None => format!("{detail}\n{from}"),
            };
            symbols.push(Symbol {
                key: Some(SymKey::Used(u.alias.clone(), name.to_string())),
                name: format!("{}.{name}", u.alias),
                kind,
                name_span: at.0,
                item_span: at.1,
                container: Some(u.alias.clone()),
                detail,
                doc: doc.clone(),
            });
        };
        for d in &v.defs {
            let kind = match d.kind {
                crate::ir::DefKind::Parameter => SymbolKind::Parameter,
                crate::ir::DefKind::Output => SymbolKind::Output,
                crate::ir::DefKind::Let => SymbolKind::Let,
            };
            push(
                &d.name,
                kind,
                format!("{}.{}: {}", u.alias, d.name, v.type_name(&d.ty)),
                &d.doc,
                &d.citation,
            );
        }
        for f in &v.functions {
            let params: Vec<String> = f
                .params
                .iter()
                .map(|(n, t)| format!("{n}: {}", v.type_name(t)))
                .collect();
            push(
                &f.name,
                SymbolKind::Function,
                format!(
                    "function {}.{}({}) -> {}",
                    u.alias,
                    f.name,
                    params.join(", "),
                    v.type_name(&f.ret)
                ),
                &f.doc,
                &f.citation,
            );
        }
        for t in &v.tables {
            let params: Vec<String> = t
                .params
                .iter()
                .map(|(n, ty, _)| format!("{n}: {}", v.type_name(ty)))
                .collect();
            push(
                &t.name,
                SymbolKind::Table,
                format!(
                    "table {}.{}({}) -> {}",
                    u.alias,
                    t.name,
                    params.join(", "),
                    v.type_name(&t.ret)
                ),
                &t.doc,
                &t.citation,
            );
        }
        for s in &v.scales {
            push(
                &s.name,
                SymbolKind::Scale,
                format!(
                    "scale {}.{}({}: {}) -> {}",
                    u.alias,
                    s.name,
                    s.param.0,
                    v.type_name(&s.param.1),
                    v.type_name(&s.ret)
                ),
                &s.doc,
                &s.citation,
            );
        }
    }
    // Citations of definitions, for hover.
    for s in &mut symbols {
        let cite = checked
            .ast
            .items
            .iter()
            .find(|i| i.span == s.item_span)
            .and_then(|i| match &i.kind {
                ItemKind::Definition(d) => citation_line(&d.citation.section, &d.citation.source),
                ItemKind::Parameter(d) => citation_line(&d.citation.section, &d.citation.source),
                ItemKind::Table(d) => citation_line(&d.citation.section, &d.citation.source),
                ItemKind::Scale(d) => citation_line(&d.citation.section, &d.citation.source),
                ItemKind::Function(d) => citation_line(&d.citation.section, &d.citation.source),
                ItemKind::Input(d) => citation_line(&d.citation.section, &d.citation.source),
                _ => None,
            });
        if let Some(c) = cite {
            s.detail = format!("{}\n{c}", s.detail);
        }
    }
    // The examples run on an executable made of the program, which is then
    // given back to the analysis.
    let executable = checked.program.take().map(Executable::new);
    let examples = executable.as_ref().map(run_examples).unwrap_or_default();
    checked.program = executable.map(Executable::into_program);
    Analysis {
        index: LineIndex::new(text),
        text: text.to_string(),
        checked,
        symbols,
        examples,
    }
}

fn push_fields(symbols: &mut Vec<Symbol>, record: &str, fields: &[ast::Field], text: &str) {
    for f in fields {
        symbols.push(Symbol {
            key: Some(SymKey::Field(record.to_string(), f.name.name.clone())),
            name: f.name.name.clone(),
            kind: SymbolKind::Field,
            name_span: f.name.span,
            item_span: f.name.span.join(f.ty.span()),
            container: Some(record.to_string()),
            detail: format!("{}.{}: {}", record, f.name.name, slice(text, f.ty.span())),
            doc: f.description.clone(),
        });
    }
}

fn slice(text: &str, span: Span) -> String {
    text.get(span.start..span.end)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_line(text: &str, span: Span) -> String {
    text.get(span.start..span.end)
        .unwrap_or("")
        .lines()
        .map(|l| crate::syntax::code_part(l).trim())
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn contains(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

impl Analysis {
    /// The symbol named at `offset`, whether defined or used there.
    pub fn symbol_at(&self, offset: usize) -> Option<&Symbol> {
        if let Some((_, key)) = self.checked.uses.iter().find(|(s, _)| contains(*s, offset)) {
            return self.symbols.iter().find(|s| s.key.as_ref() == Some(key));
        }
        self.symbols.iter().find(|s| contains(s.name_span, offset))
    }

    pub fn definition(&self, offset: usize) -> Option<Span> {
        self.symbol_at(offset).map(|s| s.name_span)
    }

    /// Every place the symbol at `offset` is written, in text order.
    pub fn references(&self, offset: usize, include_declaration: bool) -> Vec<Span> {
        let Some(sym) = self.symbol_at(offset) else {
            return Vec::new();
        };
        let Some(key) = &sym.key else {
            return if include_declaration {
                vec![sym.name_span]
            } else {
                Vec::new()
            };
        };
        let mut out: Vec<Span> = self
            .checked
            .uses
            .iter()
            .filter(|(_, k)| k == key)
            .map(|(s, _)| *s)
            .collect();
        if include_declaration {
            out.push(sym.name_span);
        }
        out.sort();
        out.dedup();
        out
    }

    /// The edits that rename the symbol at `offset`.
    pub fn rename(&self, offset: usize, new_name: &str) -> Result<Vec<(Span, String)>, String> {
        let valid = new_name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && new_name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !KEYWORDS.contains(&new_name);
        if !valid {
            return Err(format!("`{new_name}` is not a valid name: use letters, digits and _, starting with a letter, and no keyword"));
        }
        let sym = self
            .symbol_at(offset)
            .ok_or("there is no name here to rename")?;
        if sym.key.is_none() {
            return Err("examples are renamed by editing their description".into());
        }
        if let Some(SymKey::Used(alias, name)) = &sym.key {
            return Err(format!(
                "`{name}` is defined in the rulebook `{alias}` names; rename it there, and its uses here follow"
            ));
        }
        if self.symbols.iter().any(|s| {
            s.name == new_name && s.container == sym.container && s.kind != SymbolKind::Example
        }) {
            return Err(format!("`{new_name}` is already defined"));
        }
        Ok(self
            .references(offset, true)
            .into_iter()
            .map(|s| (s, new_name.to_string()))
            .collect())
    }

    /// Markdown for the symbol at `offset`, and the span it describes; on an
    /// example's `expect` line, also how the example reached that value.
    pub fn hover(&self, offset: usize) -> Option<(Span, String)> {
        let expect = self.expect_explanation(offset);
        match (self.symbol_hover(offset), expect) {
            (Some((span, text)), Some((_, ex))) => Some((span, format!("{text}\n\n---\n\n{ex}"))),
            (Some(h), None) => Some(h),
            (None, Some(ex)) => Some(ex),
            (None, None) => None,
        }
    }

    /// On an `expect` line of an example: the explanation of that output
    /// (or, for `expect not eligible`, of the failed criteria) in that
    /// example, as the text rendering of its explanation graph.
    pub fn expect_explanation(&self, offset: usize) -> Option<(Span, String)> {
        use crate::ir::ExpectInfo;
        let p = self.checked.program.as_ref()?;
        let (example, expect) = p.examples.iter().find_map(|e| {
            e.expects
                .iter()
                .find(|x| match x {
                    // Anywhere on the expect's line.
                    ExpectInfo::Output(.., span) | ExpectInfo::Eligible(.., span) => {
                        let (a, b) = (span.start.min(offset), span.start.max(offset));
                        self.text.get(a..b).is_some_and(|t| !t.contains('\n'))
                    }
                    _ => false,
                })
                .map(|x| (e, x))
        })?;
        let executable = crate::eval::Executable::new(p.clone());
        let case = crate::eval::Case {
            decision_date: example.date,
            inputs: example.inputs.clone(),
        };
        let d = crate::eval::evaluate(&executable, &case, &crate::eval::Options { explain: true })
            .ok()?;
        let mut g = d.graph?;
        let (span, title) = match expect {
            ExpectInfo::Output(slot, _, _, span) => {
                let name = p.defs.get(*slot as usize)?.name.clone();
                if !d.eligible {
                    return Some((*span, format!("In this example the case is not eligible, so `{name}` is not computed.")));
                }
                g.outputs = vec![name.clone()];
                (*span, format!("How this example reaches `{name}`:"))
            }
            ExpectInfo::Eligible(_, _, span) => {
                g.outputs.clear();
                let title = if d.eligible {
                    "In this example every criterion holds.".to_string()
                } else {
                    "Why this example is not eligible:".to_string()
                };
                (*span, title)
            }
            _ => return None,
        };
        let text = crate::semantics::explanation::to_text(&g);
        Some((span, format!("{title}\n\n```text\n{text}```")))
    }

    fn symbol_hover(&self, offset: usize) -> Option<(Span, String)> {
        let span = self
            .checked
            .uses
            .iter()
            .find(|(s, _)| contains(*s, offset))
            .map(|(s, _)| *s)
            .or_else(|| {
                self.symbols
                    .iter()
                    .find(|s| contains(s.name_span, offset))
                    .map(|s| s.name_span)
            })?;
        let sym = self.symbol_at(offset)?;
        Some((span, hover_text(sym)))
    }

    /// The name written at `offset` (letters, digits and `_`), and its span,
    /// whether or not this file defines it: in a version that amends
    /// another, most names are defined in the base version.
    pub fn word_at(&self, offset: usize) -> Option<(Span, &str)> {
        let text = self.text.as_str();
        let offset = offset.min(text.len());
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let start = text
            .get(..offset)?
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_word(*c))
            .last()
            .map_or(offset, |(i, _)| i);
        let end = offset
            + text
                .get(offset..)?
                .char_indices()
                .find(|(_, c)| !is_word(*c))
                .map_or(text.len() - offset, |(i, _)| i);
        let word = text.get(start..end)?;
        (!word.is_empty()).then_some((Span::new(start, end), word))
    }

    /// The top-level definition (input, parameter, rule, function, table,
    /// scale, criterion or type) this file gives `name`.
    pub fn defined(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().find(|s| {
            s.name == name && s.container.is_none() && !matches!(s.kind, SymbolKind::Example)
        })
    }

    /// Completions at `offset`: fields after a `.`, otherwise names in
    /// scope, keywords, snippets and units.
    pub fn completions(&self, offset: usize) -> Vec<Completion> {
        let before = self.text.get(..offset.min(self.text.len())).unwrap_or("");
        let word_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map(|(i, _)| i)
            .unwrap_or(before.len());
        let head = before.get(..word_start).unwrap_or("");
        if let Some(chain) = head.strip_suffix('.') {
            let path: String = chain
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return self.member_completions(&path);
        }
        let p = &self.checked.partial;
        let mut out = Vec::new();
        for s in &self.symbols {
            let (kind, ok) = match s.kind {
                SymbolKind::Input
                | SymbolKind::Parameter
                | SymbolKind::Let
                | SymbolKind::Output => (CompletionKind::Value, true),
                SymbolKind::Function | SymbolKind::Table | SymbolKind::Scale => {
                    (CompletionKind::Function, true)
                }
                SymbolKind::Variant => (CompletionKind::Variant, true),
                SymbolKind::Enum | SymbolKind::Record => (CompletionKind::Type, true),
                _ => (CompletionKind::Value, false),
            };
            if ok {
                out.push(Completion {
                    label: s.name.clone(),
                    kind,
                    detail: Some(s.detail.lines().next().unwrap_or("").to_string()),
                    insert: s.name.clone(),
                    snippet: false,
                });
            }
        }
        for (name, _, doc) in crate::ir::BUILTINS {
            out.push(Completion {
                label: name.to_string(),
                kind: CompletionKind::Function,
                detail: Some(doc.to_string()),
                insert: format!("{name}($1)"),
                snippet: true,
            });
        }
        for t in crate::ir::value::BUILTIN_TYPES {
            out.push(Completion {
                label: t.to_string(),
                kind: CompletionKind::Type,
                detail: Some("built-in type".into()),
                insert: t.to_string(),
                snippet: false,
            });
        }
        for k in KEYWORDS {
            out.push(Completion {
                label: k.to_string(),
                kind: CompletionKind::Keyword,
                detail: None,
                insert: k.to_string(),
                snippet: false,
            });
        }
        for (label, body, doc) in SNIPPETS {
            out.push(Completion {
                label: label.to_string(),
                kind: CompletionKind::Snippet,
                detail: Some(doc.to_string()),
                insert: body.to_string(),
                snippet: true,
            });
        }
        for (u, doc) in UNITS {
            out.push(Completion {
                label: u.to_string(),
                kind: CompletionKind::Unit,
                detail: Some(doc.to_string()),
                insert: u.to_string(),
                snippet: false,
            });
        }
        let _ = p;
        out
    }

    fn member_completions(&self, path: &str) -> Vec<Completion> {
        let p = &self.checked.partial;
        let mut parts = path.split('.').filter(|s| !s.is_empty());
        let Some(first) = parts.next() else {
            return Vec::new();
        };
        // A used programme: what it defines, and its types.
        if path == first && p.uses.iter().any(|u| u.alias == first) {
            let mut out: Vec<Completion> = self
                .symbols
                .iter()
                .filter(|s| {
                    s.container.as_deref() == Some(first) && matches!(s.key, Some(SymKey::Used(..)))
                })
                .map(|s| {
                    let short = s.name.rsplit('.').next().unwrap_or(&s.name).to_string();
                    let function = matches!(
                        s.kind,
                        SymbolKind::Function | SymbolKind::Table | SymbolKind::Scale
                    );
                    Completion {
                        label: short.clone(),
                        kind: if function {
                            CompletionKind::Function
                        } else {
                            CompletionKind::Value
                        },
                        detail: Some(s.detail.lines().next().unwrap_or("").to_string()),
                        insert: if function {
                            format!("{short}($1)")
                        } else {
                            short
                        },
                        snippet: function,
                    }
                })
                .collect();
            let prefix = format!("{first}.");
            for name in p
                .enums
                .iter()
                .map(|e| &e.name)
                .chain(p.records.iter().map(|r| &r.name))
            {
                if let Some(short) = name.strip_prefix(&prefix) {
                    out.push(Completion {
                        label: short.to_string(),
                        kind: CompletionKind::Type,
                        detail: Some(format!("a type of `{first}`")),
                        insert: short.to_string(),
                        snippet: false,
                    });
                }
            }
            return out;
        }
        // A used programme's enum (`ceiling.FeeKind.`): its values.
        if let Some(e) = p.enums.iter().find(|e| e.name == path) {
            return e
                .variants
                .iter()
                .map(|v| Completion {
                    label: v.clone(),
                    kind: CompletionKind::Variant,
                    detail: Some(format!("a value of {}", e.name)),
                    insert: v.clone(),
                    snippet: false,
                })
                .collect();
        }
        // An enum name: its values.
        if let Some(e) = p.enums.iter().find(|e| e.name == first) {
            return e
                .variants
                .iter()
                .map(|v| Completion {
                    label: v.clone(),
                    kind: CompletionKind::Variant,
                    detail: Some(format!("a value of {}", e.name)),
                    insert: v.clone(),
                    snippet: false,
                })
                .collect();
        }
        let mut ty = match p.inputs.iter().find(|i| i.name == first) {
            Some(i) => i.ty.clone(),
            None => match p.defs.iter().find(|d| d.name == first) {
                Some(d) => d.ty.clone(),
                None => return Vec::new(),
            },
        };
        for part in parts {
            let Type::Record(r) = ty else {
                return Vec::new();
            };
            match p
                .records
                .get(r as usize)
                .and_then(|rec| rec.fields.iter().find(|f| f.name == part))
            {
                Some(f) => ty = f.ty.clone(),
                None => return Vec::new(),
            }
        }
        let Type::Record(r) = ty else {
            return Vec::new();
        };
        p.records
            .get(r as usize)
            .map(|rec| {
                rec.fields
                    .iter()
                    .map(|f| Completion {
                        label: f.name.clone(),
                        kind: CompletionKind::Field,
                        detail: Some(format!("{}: {}", f.name, p.type_name(&f.ty))),
                        insert: f.name.clone(),
                        snippet: false,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Tokens for highlighting, in text order.
    pub fn tokens(&self) -> Vec<(Span, TokenKind)> {
        let text = &self.text;
        let mut out = Vec::new();
        let bytes: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        let kind_of_symbol = |start: usize, end: usize| -> Option<TokenKind> {
            let span = Span::new(start, end);
            let key = self
                .checked
                .uses
                .iter()
                .find(|(s, _)| *s == span)
                .map(|(_, k)| k.clone())
                .or_else(|| {
                    self.symbols
                        .iter()
                        .find(|s| s.name_span == span)
                        .and_then(|s| s.key.clone())
                })?;
            Some(match key {
                SymKey::Type(_) => TokenKind::Type,
                SymKey::Variant(..) => TokenKind::Variant,
                SymKey::Field(..) => TokenKind::Field,
                SymKey::Criterion(_) | SymKey::Property(_) => TokenKind::Variable,
                // A name this rulebook or a used one defines: by what it is.
                SymKey::Global(_) | SymKey::Used(..) => match self
                    .symbols
                    .iter()
                    .find(|s| s.key.as_ref() == Some(&key))
                    .map(|s| s.kind)
                {
                    Some(SymbolKind::Function | SymbolKind::Table | SymbolKind::Scale) => {
                        TokenKind::Function
                    }
                    _ => TokenKind::Variable,
                },
            })
        };
        while let Some(&(start, c)) = bytes.get(i) {
            let next = bytes.get(i + 1).map(|x| x.1);
            if c == '-' && next == Some('-') {
                let end = text
                    .get(start..)
                    .and_then(|r| r.find('\n'))
                    .map(|n| start + n)
                    .unwrap_or(text.len());
                out.push((Span::new(start, end), TokenKind::Comment));
                while bytes.get(i).is_some_and(|x| x.0 < end) {
                    i += 1;
                }
                continue;
            }
            if c == '"' {
                let mut j = i + 1;
                while let Some(&(_, d)) = bytes.get(j) {
                    j += 1;
                    if d == '\\' {
                        j += 1;
                    } else if d == '"' || d == '\n' {
                        break;
                    }
                }
                let end = bytes.get(j).map(|x| x.0).unwrap_or(text.len());
                out.push((Span::new(start, end), TokenKind::String));
                i = j;
                continue;
            }
            if c.is_ascii_digit() {
                let mut j = i;
                while bytes
                    .get(j)
                    .is_some_and(|x| x.1.is_ascii_digit() || matches!(x.1, '.' | '_' | '-'))
                {
                    j += 1;
                }
                let end = bytes.get(j).map(|x| x.0).unwrap_or(text.len());
                out.push((Span::new(start, end), TokenKind::Number));
                i = j;
                continue;
            }
            if c.is_alphabetic() || c == '_' {
                let mut j = i;
                while bytes
                    .get(j)
                    .is_some_and(|x| x.1.is_alphanumeric() || x.1 == '_')
                {
                    j += 1;
                }
                let end = bytes.get(j).map(|x| x.0).unwrap_or(text.len());
                let word = text.get(start..end).unwrap_or("");
                let kind = kind_of_symbol(start, end).unwrap_or(if KEYWORDS.contains(&word) {
                    TokenKind::Keyword
                } else if crate::ir::value::BUILTIN_TYPES.contains(&word) {
                    TokenKind::Type
                } else {
                    TokenKind::Variable
                });
                out.push((Span::new(start, end), kind));
                i = j;
                continue;
            }
            if matches!(
                c,
                '€' | '%'
                    | '§'
                    | '+'
                    | '*'
                    | '/'
                    | '='
                    | '<'
                    | '>'
                    | '!'
                    | '×'
                    | '≥'
                    | '≤'
                    | '≠'
                    | '-'
            ) {
                // Two-character operators (`>=`, `!=`, `->`) are one token.
                let two = matches!((c, next), ('>' | '<' | '!', Some('=')) | ('-', Some('>')));
                let len = c.len_utf8() + if two { 1 } else { 0 };
                out.push((Span::new(start, start + len), TokenKind::Operator));
                i += if two { 2 } else { 1 };
                continue;
            }
            i += 1;
        }
        out
    }

    /// Items that span several lines, as (first line, last line), 0-based.
    pub fn folding(&self) -> Vec<(usize, usize)> {
        self.checked
            .ast
            .items
            .iter()
            .map(|i| {
                let end = self
                    .text
                    .get(i.span.start..i.span.end)
                    .map(|t| i.span.start + t.trim_end().len())
                    .unwrap_or(i.span.end);
                (
                    self.index.position(&self.text, i.span.start).0,
                    self.index.position(&self.text, end).0,
                )
            })
            .filter(|(a, b)| b > a)
            .collect()
    }
}

/// Markdown describing a symbol: its one-line signature and its doc comment.
pub fn hover_text(sym: &Symbol) -> String {
    let mut md = format!("```rulebook\n{}\n```", sym.detail);
    if let Some(doc) = &sym.doc {
        md.push_str("\n\n");
        md.push_str(doc);
    }
    md
}

#[cfg(test)]
mod snippet_tests {
    use super::SNIPPETS;

    /// A snippet with its placeholders' defaults, as an editor inserts it.
    fn expanded(body: &str) -> String {
        let mut out = String::new();
        let mut rest = body;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after.find('}').unwrap_or(after.len());
            let inner = &after[..end];
            out.push_str(inner.split_once(':').map_or("", |(_, d)| d));
            rest = after.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    /// What a snippet inserts is already formatted: `fmt` does not rewrite
    /// it (it used to remove the two spaces the parameter snippet put
    /// before `§`).
    #[test]
    fn snippets_insert_formatted_text() {
        for (label, body, _) in SNIPPETS {
            let text = expanded(body);
            // Fragments, not whole items; a table's columns are aligned to
            // whatever the cells hold once they are filled in.
            if matches!(*label, "unless" | "example" | "table") {
                continue;
            }
            assert_eq!(crate::ops::format::format(&text), text, "snippet {label}");
        }
    }
}
