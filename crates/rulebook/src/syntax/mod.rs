//! Parsing: rulebook text to a syntax tree plus diagnostics.
//!
//! The file is split into items (each starts with its keyword at the start of
//! a line) and each item is parsed on its own, so one broken item does not
//! hide errors in the others.

pub mod ast;
pub mod lines;
pub mod number;

use crate::diagnostic::{Code, Diagnostic, Span};
use crate::syntax::ast::*;
use chrono::NaiveDate;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser;
use rust_decimal::Decimal;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/rulebook.pest"]
struct RulebookParser;

pub use lines::{code_part, starts_item, ITEM_KEYWORDS};

/// A top-level block of text: one item with its doc comment.
#[derive(Debug, Clone)]
pub struct Block {
    pub start: usize,
    pub end: usize,
    /// Where the item keyword starts (after the doc comment).
    pub item_start: usize,
    pub doc: Option<String>,
    /// Doc comment lines in other languages (`--- [sv] ...`), by language.
    pub doc_in: Vec<(String, String)>,
}

/// A doc comment line in another language: `[sv] text`.
fn doc_language(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('[')?;
    let (code, text) = rest.split_once(']')?;
    (code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase()))
        .then(|| (code, text.strip_prefix(' ').unwrap_or(text)))
}

/// Splits a file into item blocks. Text before the first item that is not
/// blank or a comment is returned as a stray span.
pub fn split_blocks(text: &str) -> (Vec<Block>, Option<Span>) {
    let mut blocks: Vec<Block> = Vec::new();
    let mut stray: Option<Span> = None;
    let mut doc_lines: Vec<&str> = Vec::new();
    let mut doc_start: Option<usize> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let line_start = offset;
        offset += raw.len();
        if let Some(doc) = line.strip_prefix("---") {
            doc_start.get_or_insert(line_start);
            doc_lines.push(doc.strip_prefix(' ').unwrap_or(doc));
            continue;
        }
        if starts_item(line) {
            let start = doc_start.unwrap_or(line_start);
            if let Some(last) = blocks.last_mut() {
                last.end = start;
            }
            // Lines marked `[sv]` are the doc comment in that language.
            let mut plain: Vec<&str> = Vec::new();
            let mut doc_in: Vec<(String, String)> = Vec::new();
            for l in &doc_lines {
                match doc_language(l) {
                    Some((code, t)) => match doc_in.iter_mut().find(|(c, _)| c == code) {
                        Some((_, text)) => {
                            text.push('\n');
                            text.push_str(t);
                        }
                        None => doc_in.push((code.to_string(), t.to_string())),
                    },
                    None => plain.push(l),
                }
            }
            let doc = if plain.is_empty() {
                None
            } else {
                Some(plain.join("\n"))
            };
            blocks.push(Block {
                start,
                end: text.len(),
                item_start: line_start,
                doc,
                doc_in,
            });
        } else if blocks.is_empty() {
            let trimmed = line.trim();
            if !trimmed.is_empty() && !trimmed.starts_with("--") && stray.is_none() {
                let lead = line.len() - line.trim_start().len();
                stray = Some(Span::new(line_start + lead, line_start + line.len()));
            }
        }
        if !line.trim().is_empty() {
            doc_lines.clear();
            doc_start = None;
        }
    }
    (blocks, stray)
}

/// Parses a whole rulebook file. Always returns a tree (possibly partial).
/// Runs on a thread with a large stack: nested brackets recurse.
pub fn parse(text: &str) -> (File, Vec<Diagnostic>) {
    on_large_stack(|| parse_here(text))
}

/// Runs `work` on a thread with a 256 MiB stack, so that deeply nested input
/// cannot exhaust the caller's (a thread's default is 2-8 MiB, and unoptimised
/// builds use far more stack per nesting level). Runs in place if no thread
/// can be started.
pub fn on_large_stack<T: Send>(work: impl FnOnce() -> T + Send + Copy) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("rulebook-parse".into())
            .stack_size(256 << 20)
            .spawn_scoped(s, work)
            .ok()
            .and_then(|h| h.join().ok())
    })
    .unwrap_or_else(work)
}

/// [`parse`] on the caller's stack, for callers already on a large one.
pub(crate) fn parse_here(text: &str) -> (File, Vec<Diagnostic>) {
    let mut b = Builder {
        text,
        offset: 0,
        diags: Vec::new(),
        expr_nesting: 0,
    };
    let mut file = File {
        header: None,
        items: Vec::new(),
        unparsed: Vec::new(),
    };
    let (blocks, stray) = split_blocks(text);
    if let Some(span) = stray {
        b.diags.push(
            Diagnostic::error(
                Code::Syntax,
                span,
                "expected an item, such as `rulebook`, `input` or `output`",
            )
            .with_label("not part of any item")
            .with_help(format!(
                "every item starts with one of these keywords at the start of a line: {}",
                ITEM_KEYWORDS.join(", ")
            )),
        );
    }
    for block in blocks {
        let Some(src) = text.get(block.item_start..block.end) else {
            continue;
        };
        b.offset = block.item_start;
        if let Some(d) = nesting_limit(src, block.item_start) {
            b.diags.push(d);
            continue;
        }
        match RulebookParser::parse(Rule::item, src) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { continue };
                let span = b.span(&pair);
                if pair.as_rule() == Rule::header {
                    let header = b.header(pair);
                    if let Some(first) = &file.header {
                        b.diags.push(
                            Diagnostic::error(Code::DuplicateHeader, header.span, "a second `rulebook` header")
                                .with_related(first.span, "the first header is here")
                                .with_help("a file holds one rulebook version; move the other version to a file of its own"),
                        );
                    } else {
                        file.header = Some(header);
                    }
                    continue;
                }
                if let Some(kind) = b.item(pair) {
                    file.items.push(Item {
                        kind,
                        doc: block.doc.clone(),
                        doc_in: block.doc_in.clone(),
                        span,
                    });
                }
            }
            Err(e) => {
                b.diags.push(syntax_error(&e, block.item_start, src));
                file.unparsed.extend(declared_name(src));
            }
        }
    }
    b.diags.extend(direction_controls(text));
    (file, b.diags)
}

/// The name an item declares, read from its first words (`table t(a: ...`
/// declares `t`), for an item that does not parse.
fn declared_name(src: &str) -> Option<String> {
    let mut words = src.split_whitespace();
    let keyword = words.next()?;
    if keyword == "eligibility" {
        return Some(keyword.to_string());
    }
    if !matches!(
        keyword,
        "input"
            | "let"
            | "output"
            | "table"
            | "scale"
            | "function"
            | "parameter"
            | "record"
            | "enum"
    ) {
        return None;
    }
    let name: String = words
        .next()?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

fn direction_controls(text: &str) -> Vec<Diagnostic> {
    use crate::diagnostic::render::is_direction_control;
    let mut found = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        // One finding a line is enough to show where to look.
        if let Some((i, c)) = line.char_indices().find(|(_, c)| is_direction_control(*c)) {
            let start = line_start + i;
            found.push(
                Diagnostic::warning(
                    Code::BidiControl,
                    Span::new(start, start + c.len_utf8()),
                    format!(
                        "an invisible character U+{:04X} changes the order in which this line is shown",
                        u32::from(c)
                    ),
                )
                .with_label("invisible direction control")
                .with_help("delete it: an editor may show this line differently from how it is read"),
            );
        }
        line_start += line.len();
    }
    found
}

/// How deeply brackets, and how many `if`s, one item may nest. Deeper
/// nesting than any rulebook needs would exhaust the parser's stack.
pub const MAX_NESTING: usize = 64;
/// How many operands one chain of `+`, `*`, `and`, ... may have.
pub const MAX_CHAIN: usize = 256;
/// How many `if`s and `not`s (each nests the rest of its expression) one item may hold.
pub const MAX_NESTED_WORDS: usize = 256;
/// How deep one expression's tree may be.
pub const MAX_DEPTH: usize = 512;

fn nesting_limit(src: &str, offset: usize) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut deepest = (0usize, 0usize);
    let mut ifs = 0usize;
    let mut first_if = 0usize;
    for line_start in src.split_inclusive('\n').scan(0usize, |pos, l| {
        let start = *pos;
        *pos += l.len();
        Some((start, l))
    }) {
        let (start, line) = line_start;
        let code = code_part(line);
        let mut in_str = false;
        for (i, c) in code.char_indices() {
            match c {
                '"' => in_str = !in_str,
                '(' | '[' | '{' if !in_str => {
                    depth += 1;
                    if depth > deepest.0 {
                        deepest = (depth, start + i);
                    }
                }
                ')' | ']' | '}' if !in_str => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        for (i, w) in code.match_indices("if").chain(code.match_indices("not")) {
            let before = code.get(..i).and_then(|b| b.chars().last());
            let after = code.get(i + w.len()..).and_then(|a| a.chars().next());
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word(before) && !word(after) && !w.is_empty() {
                if ifs == 0 {
                    first_if = start + i;
                }
                ifs += 1;
            }
        }
    }
    let (what, at) = if deepest.0 > MAX_NESTING {
        (format!("brackets nested {} deep", deepest.0), deepest.1)
    } else if ifs > MAX_NESTED_WORDS {
        (format!("{ifs} `if`s and `not`s in one item"), first_if)
    } else {
        return None;
    };
    Some(
        Diagnostic::error(Code::TooDeep, Span::new(offset + at, offset + at + 1), format!("this item is too deeply nested: {what}"))
            .with_help("split the item into several `let` definitions, or use a decision table instead of nested `if`s"),
    )
}

fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        ident | dotted_ident => "a name",
        number => "a number",
        money_lit => "an amount such as `12.50 €`",
        percent_lit => "a percentage such as `35 %`",
        date_lit => "a date such as `2021-01-01`",
        string => "a quoted text",
        expr | if_expr | rounded | or_expr | and_expr | not_expr | cmp_expr | add_expr
        | mul_expr | unary | postfix | primary | literal => "an expression",
        type_expr | named_type | list_type => "a type such as `money` or `list of Person`",
        cmp_op => "a comparison such as `>=`",
        add_op | mul_op => "an operator",
        in_op => "`in`",
        k_and => "`and`",
        k_or => "`or`",
        k_then => "`then`",
        k_else => "`else` and a reason",
        k_to => "`to`",
        k_from => "`from`",
        k_for => "`for`",
        k_in => "`in`",
        k_where => "`where`",
        k_unless => "`unless`",
        k_rank => "`rank`",
        k_rounded | rounding => "`rounded to ...`",
        round_target => "`cents`, `whole euros`, `10 cents` or `2 decimals`",
        round_mode => "a rounding mode: `half up`, `half even`, `down` or `up`",
        section => "a section reference such as `§ 6.2`",
        source_clause => "`source \"...\"`",
        version_clause => "`version ...`",
        in_force_clause => "`in force 2021-01-01 to 2021-12-31`",
        amends_clause => "`amends ...`",
        version_ref => "a version such as `2021`",
        header => "a `rulebook` header",
        fields => "a list of fields in braces",
        field => "a field such as `birth_date: date`",
        params => "parameters in parentheses such as `(income: money)`",
        param => "a parameter such as `income: money`",
        override_clause => "`unless ... then ...`",
        hit_kind | hit_unique | hit_first | collect | hit_priority | hit_output_order => {
            "a hit policy: `unique`, `first`, `priority`, `output order`, `collect sum`, `collect min`, `collect max`, `collect count` or `collect list`"
        }
        collect_kind => "`sum`, `min`, `max`, `count` or `list` after `collect`",
        dated_value => "`= VALUE from DATE`",
        hit_policy => "`hit unique`, `hit first` or `hit collect sum`",
        table_row => "a table row such as `| 1 | 0.60 |`",
        scale_kind => "`marginal` or `single amount`",
        criterion => "a criterion such as `adult: age >= 18 else \"reason\"`",
        on_clause => "`on DATE`",
        given_clause => "`given NAME {...}`",
        expect_clause => "`expect ...`",
        data_value | data_record | data_list => "a value",
        field_access => "`.field`",
        EOI => "the end of the item",
        colon => "`:`",
        equals => "`=`",
        arrow => "`->` and the result type",
        rparen => "`)`",
        _ => return None,
    })
}

fn syntax_error(e: &pest::error::Error<Rule>, offset: usize, src: &str) -> Diagnostic {
    let (mut start, mut end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    // An item that ends too early is reported at its last word, not at the
    // blank lines or comments after it.
    let content_end = strip_trailing(src);
    if start > content_end {
        start = content_end;
        end = content_end;
    }
    let found: String = src
        .get(start..)
        .unwrap_or("")
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(20)
        .collect();
    let end = if end > start {
        end
    } else {
        start + found.len()
    };
    let span = Span::new(offset + start, offset + end.max(start));
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            // Closing punctuation first: it is most often what is missing.
            let mut rules = positives.clone();
            rules.sort_by_key(|r| {
                !matches!(r, Rule::rparen | Rule::colon | Rule::equals | Rule::arrow)
            });
            let mut names: Vec<&str> = rules.iter().filter_map(|r| describe(*r)).collect();
            names.dedup();
            let mut seen = Vec::new();
            for n in names {
                if !seen.contains(&n) {
                    seen.push(n);
                }
            }
            seen.truncate(4);
            seen
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let found_text = if found.is_empty() {
        "the end of the item".to_string()
    } else {
        format!("`{found}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {}, found {found_text}", join_or(&expected))
    };
    let mut d = Diagnostic::error(Code::Syntax, span, message).with_label("here");
    if found.starts_with('§') {
        d = d.with_help(
            "a section reference goes at the end of a definition's header or after its value",
        );
    } else if found.ends_with(':') && expected.iter().any(|e| e.contains("expression")) {
        d = d.with_help("a criterion reads `name: condition else \"reason\"`");
    } else if matches!(found.as_str(), "first" | "unique" | "collect") {
        d = d.with_help(format!(
            "write the hit policy with `hit` after the result type, as in `-> money, hit {found}`"
        ));
    }
    d
}

/// The length of an item's text without trailing blank lines and comments.
fn strip_trailing(src: &str) -> usize {
    let mut end = 0;
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let code = line.split("--").next().unwrap_or("");
        if !code.trim().is_empty() {
            end = offset + code.trim_end().len();
        }
        offset += line.len();
    }
    end
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

struct Builder<'a> {
    text: &'a str,
    offset: usize,
    diags: Vec<Diagnostic>,
    /// How many `expr`s enclose the one being built. Only the outermost
    /// is measured against `MAX_DEPTH`: measuring each nested one would
    /// walk the tree once per level.
    expr_nesting: usize,
}

type P<'i> = Pair<'i, Rule>;

impl<'a> Builder<'a> {
    fn span(&self, p: &P) -> Span {
        let s = p.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn ident(&self, p: P) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn string(&mut self, p: P) -> String {
        let raw = p.as_str();
        let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn date(&mut self, p: P) -> NaiveDate {
        let span = self.span(&p);
        match NaiveDate::parse_from_str(p.as_str(), "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::InvalidDate,
                        span,
                        format!("`{}` is not a date in the calendar", p.as_str()),
                    )
                    .with_label("no such day")
                    .with_help("write dates as YEAR-MONTH-DAY, such as 2021-02-28"),
                );
                NaiveDate::default()
            }
        }
    }

    fn number(&mut self, p: &P) -> Decimal {
        let text: String = p.as_str().chars().filter(|c| *c != '_').collect();
        match number::parse_exact(&text) {
            Some(d) => d,
            None => {
                let span = self.span(p);
                self.diags.push(
                    Diagnostic::error(
                        Code::InvalidNumber,
                        span,
                        format!(
                            "`{}` is not a number this engine can hold exactly",
                            p.as_str()
                        ),
                    )
                    .with_help(
                        "numbers are held exactly, with at most 28 significant digits; \
                         write the figure with fewer digits",
                    ),
                );
                Decimal::ZERO
            }
        }
    }

    fn literal(&mut self, p: P) -> Literal {
        let inner = match p.as_rule() {
            Rule::literal => match p.into_inner().next() {
                Some(i) => i,
                None => return Literal::Bool(false),
            },
            _ => p,
        };
        match inner.as_rule() {
            Rule::date_lit => Literal::Date(self.date(inner)),
            Rule::money_lit => {
                let n = inner.into_inner().next();
                Literal::Money(n.map(|n| self.number(&n)).unwrap_or_default())
            }
            Rule::percent_lit => {
                let n = inner.into_inner().next();
                Literal::Percent(n.map(|n| self.number(&n)).unwrap_or_default())
            }
            Rule::duration_lit => {
                let mut it = inner.into_inner();
                let (Some(n), Some(u)) = (it.next(), it.next()) else {
                    return Literal::Bool(false);
                };
                let span = self.span(&n);
                let count = match n.as_str().replace('_', "").parse::<i64>() {
                    Ok(c) if c <= 100_000 => c,
                    _ => {
                        self.diags.push(
                            Diagnostic::error(
                                Code::InvalidNumber,
                                span,
                                "a duration must be a whole number no larger than 100000",
                            )
                            .with_help("write for example `6 months` or `18 years`"),
                        );
                        0
                    }
                };
                let unit = match u.as_str().trim_end_matches('s') {
                    "year" => DurationUnit::Years,
                    "month" => DurationUnit::Months,
                    "week" => DurationUnit::Weeks,
                    _ => DurationUnit::Days,
                };
                Literal::Duration(count, unit)
            }
            Rule::number => {
                let is_int = !inner.as_str().contains('.');
                Literal::Number(self.number(&inner), is_int)
            }
            Rule::string => Literal::Text(self.string(inner)),
            Rule::bool_lit => Literal::Bool(inner.as_str() == "true"),
            _ => Literal::Bool(false),
        }
    }

    fn citation(&mut self, c: &mut Citation, p: P) {
        match p.as_rule() {
            Rule::section => {
                if let Some(r) = p.into_inner().next() {
                    c.section = Some(r.as_str().to_string());
                }
            }
            Rule::source_clause => {
                if let Some(s) = p.into_inner().find(|q| q.as_rule() == Rule::string) {
                    c.source = Some(self.string(s));
                }
            }
            _ => {}
        }
    }

    fn header(&mut self, p: P) -> Header {
        let span = self.span(&p);
        let mut h = Header {
            id: Ident {
                name: String::new(),
                span,
            },
            title: None,
            title_in: Vec::new(),
            languages: Vec::new(),
            version: None,
            in_force: None,
            source: None,
            amends: None,
            span,
        };
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::dotted_ident => h.id = self.ident(q),
                Rule::string => h.title = Some(self.string(q)),
                Rule::translation => h.title_in.extend(self.translation(q)),
                Rule::languages_clause => {
                    for r in q.into_inner().filter(|r| r.as_rule() == Rule::lang_code) {
                        h.languages.push(self.ident(r));
                    }
                }
                Rule::version_clause => {
                    if let Some(v) = q.into_inner().find(|r| r.as_rule() == Rule::version_ref) {
                        h.version = Some(self.ident(v));
                    }
                }
                Rule::amends_clause => {
                    if let Some(v) = q.into_inner().find(|r| r.as_rule() == Rule::version_ref) {
                        h.amends = Some(self.ident(v));
                    }
                }
                Rule::source_clause => {
                    if let Some(s) = q.into_inner().find(|r| r.as_rule() == Rule::string) {
                        h.source = Some(self.string(s));
                    }
                }
                Rule::in_force_clause => {
                    let span = self.span(&q);
                    let dates: Vec<P> = q
                        .into_inner()
                        .filter(|r| r.as_rule() == Rule::date_lit)
                        .collect();
                    let mut it = dates.into_iter();
                    if let Some(from) = it.next() {
                        let from = self.date(from);
                        let to = it.next().map(|t| self.date(t));
                        h.in_force = Some(InForce { from, to, span });
                    }
                }
                _ => {}
            }
        }
        h
    }

    fn item(&mut self, p: P) -> Option<ItemKind> {
        Some(match p.as_rule() {
            Rule::use_def => {
                let mut id = None;
                let mut alias = None;
                let mut from = None;
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::dotted_ident => id = Some(self.ident(q)),
                        Rule::ident => alias = Some(self.ident(q)),
                        Rule::string => from = Some(self.string(q)),
                        Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                        _ => {}
                    }
                }
                let id: Ident = id?;
                // Without `as`, the id's last part names it.
                let alias = alias.unwrap_or_else(|| {
                    let last = id.name.rsplit('.').next().unwrap_or(&id.name).to_string();
                    let start = id.span.end.saturating_sub(last.len());
                    Ident {
                        name: last,
                        span: Span::new(start, id.span.end),
                    }
                });
                ItemKind::Use(UseDef {
                    id,
                    alias,
                    from,
                    citation,
                })
            }
            Rule::remove_def => ItemKind::Remove(
                p.into_inner()
                    .filter(|q| q.as_rule() == Rule::ident)
                    .map(|q| self.ident(q))
                    .collect(),
            ),
            Rule::enum_def => {
                let mut name = None;
                let mut variants = Vec::new();
                let mut data = Vec::new();
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident if name.is_none() => name = Some(self.ident(q)),
                        Rule::enum_variant => {
                            let mut it = q.into_inner();
                            variants.push(self.ident(it.next()?));
                            data.push(match it.next() {
                                Some(f) => self.fields(f),
                                None => Vec::new(),
                            });
                        }
                        Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                        _ => {}
                    }
                }
                ItemKind::Enum(EnumDef {
                    name: name?,
                    variants,
                    data,
                    citation,
                })
            }
            Rule::record_def => {
                let mut name = None;
                let mut fields = Vec::new();
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => name = Some(self.ident(q)),
                        Rule::fields => fields = self.fields(q),
                        Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                        _ => {}
                    }
                }
                ItemKind::Record(RecordDef {
                    name: name?,
                    fields,
                    citation,
                })
            }
            Rule::input_def => {
                let mut name = None;
                let mut shape = None;
                let mut description = None;
                let mut description_in = Vec::new();
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => name = Some(self.ident(q)),
                        Rule::fields => shape = Some(InputShape::Record(self.fields(q))),
                        Rule::type_expr => shape = Some(InputShape::Value(self.type_expr(q)?)),
                        Rule::string => description = Some(self.string(q)),
                        Rule::translation => description_in.extend(self.translation(q)),
                        Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                        _ => {}
                    }
                }
                ItemKind::Input(InputDef {
                    name: name?,
                    shape: shape?,
                    description,
                    description_in,
                    citation,
                })
            }
            Rule::let_def | Rule::output_def => {
                let is_output = p.as_rule() == Rule::output_def;
                let mut name = None;
                let mut ty = None;
                let mut body = None;
                let mut overrides = Vec::new();
                let mut citation = Citation::default();
                let mut label = None;
                let mut label_in = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => name = Some(self.ident(q)),
                        Rule::type_expr => ty = self.type_expr(q),
                        Rule::string => label = Some(self.string(q)),
                        Rule::translation => label_in.extend(self.translation(q)),
                        Rule::expr => body = Some(self.expr(q)?),
                        Rule::override_clause => overrides.push(self.override_clause(q)?),
                        // After an exception, a citation is the exception's own.
                        Rule::section | Rule::source_clause => match overrides.last_mut() {
                            Some(o) => self.citation(&mut o.citation, q),
                            None => self.citation(&mut citation, q),
                        },
                        _ => {}
                    }
                }
                ItemKind::Definition(Definition {
                    is_output,
                    name: name?,
                    ty,
                    label,
                    label_in,
                    body: body?,
                    overrides,
                    citation,
                })
            }
            Rule::parameter_def => {
                let mut name = None;
                let mut ty = None;
                let mut values = Vec::new();
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => name = Some(self.ident(q)),
                        Rule::type_expr => ty = self.type_expr(q),
                        Rule::expr => {
                            let span = self.span(&q);
                            values.push(DatedValue {
                                value: self.expr(q)?,
                                from: None,
                                span,
                            });
                        }
                        Rule::dated_value => {
                            let span = self.span(&q);
                            let mut value = None;
                            let mut from = None;
                            for r in q.into_inner() {
                                match r.as_rule() {
                                    Rule::expr => value = Some(self.expr(r)?),
                                    Rule::date_lit => from = Some(self.date(r)),
                                    _ => {}
                                }
                            }
                            values.push(DatedValue {
                                value: value?,
                                from,
                                span,
                            });
                        }
                        Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                        _ => {}
                    }
                }
                ItemKind::Parameter(ParameterDef {
                    name: name?,
                    ty,
                    values,
                    citation,
                })
            }
            Rule::function_def => {
                let mut name = None;
                let mut params = Vec::new();
                let mut ret = None;
                let mut body = None;
                let mut overrides = Vec::new();
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => name = Some(self.ident(q)),
                        Rule::params => params = self.params(q)?,
                        Rule::type_expr => ret = self.type_expr(q),
                        Rule::expr => body = Some(self.expr(q)?),
                        Rule::override_clause => overrides.push(self.override_clause(q)?),
                        // After an exception, a citation is the exception's own.
                        Rule::section | Rule::source_clause => match overrides.last_mut() {
                            Some(o) => self.citation(&mut o.citation, q),
                            None => self.citation(&mut citation, q),
                        },
                        _ => {}
                    }
                }
                ItemKind::Function(FunctionDef {
                    name: name?,
                    params,
                    ret: ret?,
                    body: body?,
                    overrides,
                    citation,
                })
            }
            Rule::table_def => self.table(p)?,
            Rule::scale_def => self.scale(p)?,
            Rule::eligibility_def => {
                let mut criteria = Vec::new();
                let mut citation = Citation::default();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::criterion => {
                            let span = self.span(&q);
                            let mut name = None;
                            let mut condition = None;
                            let mut reason = String::new();
                            let mut reason_in = Vec::new();
                            let mut cc = Citation::default();
                            for r in q.into_inner() {
                                match r.as_rule() {
                                    Rule::ident => name = Some(self.ident(r)),
                                    Rule::expr => condition = Some(self.expr(r)?),
                                    Rule::string => reason = self.string(r),
                                    Rule::translation => reason_in.extend(self.translation(r)),
                                    Rule::section | Rule::source_clause => {
                                        self.citation(&mut cc, r)
                                    }
                                    _ => {}
                                }
                            }
                            criteria.push(Criterion {
                                name: name?,
                                condition: condition?,
                                reason,
                                reason_in,
                                citation: cc,
                                span,
                            });
                        }
                        Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                        _ => {}
                    }
                }
                ItemKind::Eligibility(EligibilityDef { criteria, citation })
            }
            Rule::example_def => self.example(p)?,
            Rule::property_def => self.property(p)?,
            _ => return None,
        })
    }

    /// `sv "text"`.
    fn translation(&mut self, p: P) -> Option<Translation> {
        let mut lang = None;
        let mut text = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::lang_code => lang = Some(self.ident(q)),
                Rule::string => text = Some(self.string(q)),
                _ => {}
            }
        }
        Some(Translation {
            lang: lang?,
            text: text?,
        })
    }

    fn fields(&mut self, p: P) -> Vec<Field> {
        let mut out = Vec::new();
        for f in p.into_inner().filter(|q| q.as_rule() == Rule::field) {
            let mut name = None;
            let mut ty = None;
            let mut description = None;
            let mut description_in = Vec::new();
            for q in f.into_inner() {
                match q.as_rule() {
                    Rule::ident => name = Some(self.ident(q)),
                    Rule::type_expr => ty = self.type_expr(q),
                    Rule::string => description = Some(self.string(q)),
                    Rule::translation => description_in.extend(self.translation(q)),
                    _ => {}
                }
            }
            if let (Some(name), Some(ty)) = (name, ty) {
                out.push(Field {
                    name,
                    ty,
                    description,
                    description_in,
                });
            }
        }
        out
    }

    fn params(&mut self, p: P) -> Option<Vec<Param>> {
        let mut out = Vec::new();
        for q in p.into_inner().filter(|q| q.as_rule() == Rule::param) {
            let mut it = q.into_inner().filter(|r| r.as_rule() != Rule::colon);
            let name = self.ident(it.next()?);
            let ty = self.type_expr(it.next()?)?;
            out.push(Param { name, ty });
        }
        Some(out)
    }

    fn type_expr(&mut self, p: P) -> Option<TypeExpr> {
        let span = self.span(&p);
        let inner = if p.as_rule() == Rule::type_expr {
            p.into_inner().next()?
        } else {
            p
        };
        match inner.as_rule() {
            Rule::list_type => {
                let elem = inner
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::type_expr)?;
                Some(TypeExpr::List(Box::new(self.type_expr(elem)?), span))
            }
            Rule::optional_type => {
                let inner_ty = inner
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::type_expr)?;
                Some(TypeExpr::Optional(
                    Box::new(self.type_expr(inner_ty)?),
                    span,
                ))
            }
            Rule::named_type => {
                let mut it = inner.into_inner();
                let name = self.ident(it.next()?);
                let bounds = match it.next() {
                    Some(b) => {
                        let span = self.span(&b);
                        b.into_inner()
                            .next()
                            .and_then(|r| self.range(r))
                            .map(|mut r| {
                                r.span = span;
                                r
                            })
                    }
                    None => None,
                };
                Some(TypeExpr::Named { name, bounds, span })
            }
            _ => None,
        }
    }

    fn override_clause(&mut self, p: P) -> Option<Override> {
        let span = self.span(&p);
        let mut exprs = Vec::new();
        let mut rank = 1;
        let mut name = None;
        let mut over = Vec::new();
        let mut citation = Citation::default();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::expr => exprs.push(q),
                Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                Rule::exception_name => {
                    name = q
                        .into_inner()
                        .find(|r| r.as_rule() == Rule::ident)
                        .map(|r| self.ident(r));
                }
                Rule::exception_over => {
                    for r in q.into_inner().filter(|r| r.as_rule() == Rule::ident) {
                        over.push(self.ident(r));
                    }
                }
                Rule::number => {
                    rank = q.as_str().parse::<u32>().unwrap_or_else(|_| {
                        let s = self.span(&q);
                        self.diags.push(
                            Diagnostic::error(
                                Code::InvalidNumber,
                                s,
                                "a rank must be a whole number from 0 to 4294967295",
                            )
                            .with_help("write for example `rank 2`; a higher rank wins"),
                        );
                        1
                    })
                }
                _ => {}
            }
        }
        let mut it = exprs.into_iter();
        let condition = self.expr(it.next()?)?;
        let value = self.expr(it.next()?)?;
        Some(Override {
            condition,
            value,
            rank,
            span,
            citation,
            name,
            over,
        })
    }

    // ---- expressions ------------------------------------------------------

    fn expr(&mut self, p: P) -> Option<Expr> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr => {
                self.expr_nesting += 1;
                let e = p.into_inner().next().and_then(|q| self.expr(q));
                self.expr_nesting -= 1;
                let e = e?;
                if self.expr_nesting == 0 && e.depth() > MAX_DEPTH {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TooDeep,
                            span,
                            format!("this expression is nested more than {MAX_DEPTH} levels deep"),
                        )
                        .with_help("split it into several `let` definitions"),
                    );
                    return None;
                }
                Some(e)
            }
            Rule::if_expr => {
                let mut it = p.into_inner().filter(|q| q.as_rule() == Rule::expr);
                let c = self.expr(it.next()?)?;
                let t = self.expr(it.next()?)?;
                let e = self.expr(it.next()?)?;
                Some(Expr {
                    kind: ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                    span,
                })
            }
            Rule::rounded => {
                let mut it = p.into_inner();
                let mut e = self.expr(it.next()?)?;
                for r in it {
                    let rspan = self.span(&r);
                    let mut target = RoundTarget::Cents(1);
                    let mut mode = RoundMode::HalfUp;
                    for q in r.into_inner() {
                        match q.as_rule() {
                            Rule::round_target => {
                                let t = q.into_inner().next()?;
                                target = match t.as_rule() {
                                    Rule::cents => RoundTarget::Cents(1),
                                    Rule::whole_euros => RoundTarget::Cents(100),
                                    Rule::cents_n | Rule::decimals_n => {
                                        let is_cents = t.as_rule() == Rule::cents_n;
                                        let n = t.into_inner().next()?;
                                        let nspan = self.span(&n);
                                        let v = n.as_str().parse::<u32>().ok().filter(|v| {
                                            if is_cents {
                                                (1..=100_000).contains(v)
                                            } else {
                                                *v <= 20
                                            }
                                        });
                                        match (v, is_cents) {
                                            (Some(v), true) => RoundTarget::Cents(v),
                                            (Some(v), false) => RoundTarget::Decimals(v),
                                            (None, _) => {
                                                self.diags.push(Diagnostic::error(
                                                    Code::InvalidNumber,
                                                    nspan,
                                                    if is_cents {
                                                        "round to a whole number of cents from 1 to 100000"
                                                    } else {
                                                        "round to a whole number of decimals from 0 to 20"
                                                    },
                                                ));
                                                RoundTarget::Cents(1)
                                            }
                                        }
                                    }
                                    _ => RoundTarget::Cents(1),
                                };
                            }
                            Rule::round_mode => {
                                mode = match q.into_inner().next().map(|m| m.as_rule()) {
                                    Some(Rule::half_even) => RoundMode::HalfEven,
                                    Some(Rule::mode_down) => RoundMode::Down,
                                    Some(Rule::mode_up) => RoundMode::Up,
                                    _ => RoundMode::HalfUp,
                                }
                            }
                            _ => {}
                        }
                    }
                    e = Expr {
                        kind: ExprKind::Round(Box::new(e), target, mode),
                        span: span.join(rspan),
                    };
                }
                Some(e)
            }
            Rule::or_expr | Rule::and_expr | Rule::add_expr | Rule::mul_expr
                if p.clone().into_inner().count() > 2 * MAX_CHAIN =>
            {
                self.diags.push(
                    Diagnostic::error(
                        Code::TooDeep,
                        span,
                        format!("this expression has more than {MAX_CHAIN} terms in a row"),
                    )
                    .with_help(
                        "split it into several `let` definitions, or sum a list with `sum(...)`",
                    ),
                );
                None
            }
            Rule::or_expr | Rule::and_expr => {
                let op = if p.as_rule() == Rule::or_expr {
                    BinOp::Or
                } else {
                    BinOp::And
                };
                let mut it = p
                    .into_inner()
                    .filter(|q| !matches!(q.as_rule(), Rule::k_or | Rule::k_and));
                let mut e = self.expr(it.next()?)?;
                for q in it {
                    let r = self.expr(q)?;
                    let s = e.span.join(r.span);
                    e = Expr {
                        kind: ExprKind::Binary(op, Box::new(e), Box::new(r)),
                        span: s,
                    };
                }
                Some(e)
            }
            Rule::not_expr => {
                let mut it = p.into_inner();
                let first = it.next()?;
                if first.as_rule() == Rule::neg_not {
                    let inner = self.expr(it.next()?)?;
                    Some(Expr {
                        kind: ExprKind::Not(Box::new(inner)),
                        span,
                    })
                } else {
                    self.expr(first)
                }
            }
            Rule::cmp_expr => {
                let mut it = p.into_inner();
                let left = self.expr(it.next()?)?;
                let Some(op) = it.next() else {
                    return Some(left);
                };
                if op.as_rule() == Rule::presence {
                    let present = op.into_inner().any(|q| q.as_rule() == Rule::k_present);
                    return Some(Expr {
                        kind: ExprKind::Presence(Box::new(left), present),
                        span,
                    });
                }
                let right = it.next()?;
                match op.as_rule() {
                    Rule::in_op => {
                        let negated = op.as_str().starts_with("not");
                        let options = right
                            .into_inner()
                            .filter(|q| q.as_rule() == Rule::expr)
                            .map(|q| self.expr(q))
                            .collect::<Option<Vec<_>>>()?;
                        Some(Expr {
                            kind: ExprKind::In {
                                value: Box::new(left),
                                options,
                                negated,
                            },
                            span,
                        })
                    }
                    _ => {
                        let bop = match op.as_str() {
                            ">=" | "≥" => BinOp::Ge,
                            "<=" | "≤" => BinOp::Le,
                            "!=" | "≠" => BinOp::Ne,
                            ">" => BinOp::Gt,
                            "<" => BinOp::Lt,
                            _ => BinOp::Eq,
                        };
                        let r = self.expr(right)?;
                        let span = left.span.join(r.span);
                        Some(Expr {
                            kind: ExprKind::Binary(bop, Box::new(left), Box::new(r)),
                            span,
                        })
                    }
                }
            }
            Rule::add_expr | Rule::mul_expr => {
                let mut it = p.into_inner();
                let mut e = self.expr(it.next()?)?;
                while let Some(op) = it.next() {
                    let bop = match op.as_str() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "/" => BinOp::Div,
                        _ => BinOp::Mul,
                    };
                    let r = self.expr(it.next()?)?;
                    let s = e.span.join(r.span);
                    e = Expr {
                        kind: ExprKind::Binary(bop, Box::new(e), Box::new(r)),
                        span: s,
                    };
                }
                Some(e)
            }
            Rule::unary => {
                let parts: Vec<P> = p.into_inner().collect();
                let negs = parts.iter().filter(|q| q.as_rule() == Rule::neg).count();
                let last = parts.into_iter().last()?;
                let mut e = self.expr(last)?;
                for _ in 0..negs {
                    e = Expr {
                        kind: ExprKind::Neg(Box::new(e)),
                        span,
                    };
                }
                Some(e)
            }
            Rule::postfix => {
                let mut it = p.into_inner();
                let mut e = self.expr(it.next()?)?;
                for f in it {
                    if f.as_rule() == Rule::or_else {
                        // The value to use when `e` is absent: a primary and
                        // its fields.
                        let mut parts = f
                            .into_inner()
                            .filter(|q| !matches!(q.as_rule(), Rule::k_or | Rule::k_else));
                        let mut d = self.expr(parts.next()?)?;
                        for g in parts {
                            let gspan = self.span(&g);
                            let name = self.ident(g.into_inner().next()?);
                            d = Expr {
                                span: d.span.join(gspan),
                                kind: ExprKind::Field(Box::new(d), name),
                            };
                        }
                        e = Expr {
                            kind: ExprKind::OrElse(Box::new(e), Box::new(d)),
                            span,
                        };
                        continue;
                    }
                    let fspan = self.span(&f);
                    let name = self.ident(f.into_inner().next()?);
                    e = Expr {
                        kind: ExprKind::Field(Box::new(e), name),
                        span: span.join(fspan),
                    };
                }
                Some(e)
            }
            Rule::primary => {
                let inner = p.into_inner().next()?;
                let parenthesized = inner.as_rule() == Rule::expr;
                let mut e = self.expr(inner)?;
                if parenthesized {
                    // The parentheses belong to the written formula.
                    e.span = span;
                }
                Some(e)
            }
            Rule::literal => {
                let lit = self.literal(p);
                Some(Expr {
                    kind: ExprKind::Literal(lit),
                    span,
                })
            }
            Rule::decision_date => Some(Expr {
                kind: ExprKind::DecisionDate,
                span,
            }),
            Rule::ident => Some(Expr {
                kind: ExprKind::Name(p.as_str().to_string()),
                span,
            }),
            Rule::between_expr => {
                let mut it = p.into_inner();
                let unit = match it.next()?.as_str() {
                    "years" => DurationUnit::Years,
                    "months" => DurationUnit::Months,
                    _ => DurationUnit::Days,
                };
                let mut exprs = it.filter(|q| q.as_rule() == Rule::add_expr);
                let a = self.expr(exprs.next()?)?;
                let b = self.expr(exprs.next()?)?;
                Some(Expr {
                    kind: ExprKind::Between(unit, Box::new(a), Box::new(b)),
                    span,
                })
            }
            Rule::sorted_expr => {
                let mut var = None;
                let mut parts = Vec::new();
                let mut descending = false;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => var = Some(self.ident(q)),
                        Rule::expr => parts.push(self.expr(q)?),
                        Rule::k_descending => descending = true,
                        _ => {}
                    }
                }
                let mut parts = parts.into_iter();
                let list = Box::new(parts.next()?);
                let key = Box::new(parts.next()?);
                Some(Expr {
                    kind: ExprKind::Sorted {
                        var: var?,
                        list,
                        key,
                        descending,
                    },
                    span,
                })
            }
            Rule::list_comp => {
                let mut parts = Vec::new();
                let mut var = None;
                let mut position = None;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::expr => parts.push(self.expr(q)?),
                        Rule::ident => var = Some(self.ident(q)),
                        Rule::position => {
                            position = q
                                .into_inner()
                                .find(|r| r.as_rule() == Rule::ident)
                                .map(|r| Box::new(self.ident(r)))
                        }
                        _ => {}
                    }
                }
                let mut parts = parts.into_iter();
                let projection = parts.next().map(Box::new);
                let list = Box::new(parts.next()?);
                let filter = parts.next().map(Box::new);
                Some(Expr {
                    kind: ExprKind::Aggregate {
                        kind: Aggregate::Collect,
                        projection,
                        var: var?,
                        position,
                        list,
                        filter,
                        if_empty: None,
                    },
                    span,
                })
            }
            Rule::aggregate => {
                let mut kind = Aggregate::Sum;
                let mut projection = None;
                let mut var = None;
                let mut list = None;
                let mut filter = None;
                let mut if_empty = None;
                let mut position = None;
                let mut after = Rule::agg_kind;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::agg_kind => {
                            kind = match q.as_str() {
                                "count" => Aggregate::Count,
                                "min" => Aggregate::Min,
                                "max" => Aggregate::Max,
                                "any" => Aggregate::Any,
                                "all" => Aggregate::All,
                                _ => Aggregate::Sum,
                            }
                        }
                        Rule::expr => {
                            let e = Box::new(self.expr(q)?);
                            match after {
                                Rule::agg_kind => projection = Some(e),
                                Rule::k_in => list = Some(e),
                                Rule::k_where => filter = Some(e),
                                _ => if_empty = Some(e),
                            }
                        }
                        Rule::ident => var = Some(self.ident(q)),
                        Rule::position => {
                            position = q
                                .into_inner()
                                .find(|r| r.as_rule() == Rule::ident)
                                .map(|r| Box::new(self.ident(r)))
                        }
                        Rule::k_in | Rule::k_where | Rule::k_empty => after = q.as_rule(),
                        _ => {}
                    }
                }
                Some(Expr {
                    kind: ExprKind::Aggregate {
                        kind,
                        projection,
                        var: var?,
                        position,
                        list: list?,
                        filter,
                        if_empty,
                    },
                    span,
                })
            }
            Rule::call => {
                let parts: Vec<P> = p.into_inner().collect();
                let names = parts
                    .iter()
                    .take_while(|q| q.as_rule() == Rule::ident)
                    .count();
                let mut it = parts.into_iter();
                let first = self.ident(it.next()?);
                let second = if names == 2 {
                    Some(self.ident(it.next()?))
                } else {
                    None
                };
                let args = it.map(|q| self.expr(q)).collect::<Option<Vec<_>>>()?;
                let kind = match second {
                    Some(name) => ExprKind::UsedCall(first, name, args),
                    None => ExprKind::Call(first, args),
                };
                Some(Expr { kind, span })
            }
            Rule::fold_expr => {
                let mut idents = Vec::new();
                let mut exprs = Vec::new();
                let mut position = None;
                let mut filtered = false;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => idents.push(self.ident(q)),
                        Rule::position => {
                            position = q
                                .into_inner()
                                .find(|r| r.as_rule() == Rule::ident)
                                .map(|r| Box::new(self.ident(r)));
                        }
                        Rule::k_where => filtered = true,
                        Rule::expr => exprs.push(self.expr(q)?),
                        _ => {}
                    }
                }
                let mut idents = idents.into_iter();
                let (acc, var) = (idents.next()?, idents.next()?);
                let mut exprs = exprs.into_iter();
                let init = exprs.next()?;
                let list = exprs.next()?;
                let filter = if filtered {
                    Some(Box::new(exprs.next()?))
                } else {
                    None
                };
                let body = exprs.next()?;
                Some(Expr {
                    kind: ExprKind::Fold {
                        acc,
                        init: Box::new(init),
                        var,
                        position,
                        list: Box::new(list),
                        filter,
                        body: Box::new(body),
                    },
                    span,
                })
            }
            Rule::decide => {
                let mut it = p.into_inner();
                let alias = self.ident(it.next()?);
                let mut args = Vec::new();
                for a in it {
                    let mut parts = a.into_inner();
                    let path = self.ident(parts.next()?);
                    let value = self.expr(parts.next()?)?;
                    args.push((path, value));
                }
                Some(Expr {
                    kind: ExprKind::Decide(alias, args),
                    span,
                })
            }
            Rule::list_expr => {
                let items = p
                    .into_inner()
                    .map(|q| self.expr(q))
                    .collect::<Option<Vec<_>>>()?;
                Some(Expr {
                    kind: ExprKind::List(items),
                    span,
                })
            }
            _ => None,
        }
    }

    // ---- tables and scales ------------------------------------------------

    /// Parses one raw cell's text with a cell rule, keeping source positions.
    fn sub_parse<T>(
        &mut self,
        cell: &P,
        rule: Rule,
        f: impl FnOnce(&mut Self, P) -> Option<T>,
    ) -> Option<T> {
        let text = cell.as_str();
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let saved = self.offset;
        let cell_offset = self.offset + cell.as_span().start() + lead;
        let result = match RulebookParser::parse(rule, trimmed) {
            Ok(mut pairs) => {
                self.offset = cell_offset;
                let r = pairs.next().and_then(|p| f(self, p));
                self.offset = saved;
                r
            }
            Err(e) => {
                let mut d = syntax_error(&e, cell_offset, trimmed);
                if rule == Rule::cell_condition {
                    d = d.with_help(
                        "a condition cell is `-` (any value), a value or list of values (`Hyvinkää, Tuusula`), or a range such as `18 to 24`, `65 or more`, `under 18`, `over 900 € to 1000 €`",
                    );
                }
                self.diags.push(d);
                None
            }
        };
        result
    }

    fn cell_value(&mut self, p: P) -> Option<CellValue> {
        let span = self.span(&p);
        let inner = if p.as_rule() == Rule::cell_value {
            p.into_inner().next()?
        } else {
            p
        };
        Some(match inner.as_rule() {
            Rule::ident => CellValue::Name(self.ident(inner)),
            Rule::neg_literal => {
                let lit = inner.into_inner().next()?;
                let l = match self.literal(lit) {
                    Literal::Number(n, i) => Literal::Number(-n, i),
                    Literal::Money(n) => Literal::Money(-n),
                    Literal::Percent(n) => Literal::Percent(-n),
                    other => other,
                };
                CellValue::Literal(l, span)
            }
            _ => CellValue::Literal(self.literal(inner), span),
        })
    }

    fn range(&mut self, p: P) -> Option<Range> {
        let span = self.span(&p);
        let inner = if p.as_rule() == Rule::range_cond {
            p.into_inner().next()?
        } else {
            p
        };
        let rule = inner.as_rule();
        let cmp = if rule == Rule::range_cmp {
            inner
                .clone()
                .into_inner()
                .next()
                .map(|q| q.as_str().to_string())
        } else {
            None
        };
        let values: Vec<CellValue> = inner
            .into_inner()
            .filter(|q| q.as_rule() == Rule::cell_value)
            .map(|q| self.cell_value(q))
            .collect::<Option<Vec<_>>>()?;
        let mut it = values.into_iter();
        let (low, high) = match rule {
            Rule::range_over_to => (Some((it.next()?, false)), Some((it.next()?, true))),
            Rule::range_to_under => (Some((it.next()?, true)), Some((it.next()?, false))),
            Rule::range_to => (Some((it.next()?, true)), Some((it.next()?, true))),
            Rule::range_or_more => (Some((it.next()?, true)), None),
            Rule::range_or_less => (None, Some((it.next()?, true))),
            Rule::range_over => (Some((it.next()?, false)), None),
            Rule::range_under => (None, Some((it.next()?, false))),
            Rule::range_cmp => {
                let v = it.next()?;
                match cmp.as_deref() {
                    Some(">=" | "≥") => (Some((v, true)), None),
                    Some(">") => (Some((v, false)), None),
                    Some("<=" | "≤") => (None, Some((v, true))),
                    Some("<") => (None, Some((v, false))),
                    _ => (Some((v.clone(), true)), Some((v, true))),
                }
            }
            _ => return None,
        };
        Some(Range { low, high, span })
    }

    fn condition(&mut self, p: P) -> Option<Condition> {
        let inner = p.into_inner().find(|q| q.as_rule() != Rule::EOI)?;
        let span = self.span(&inner);
        match inner.as_rule() {
            Rule::any_cell => Some(Condition::Any(span)),
            Rule::range_cond => Some(Condition::Range(self.range(inner)?)),
            Rule::range_union => {
                let ranges = inner
                    .into_inner()
                    .filter(|q| q.as_rule() == Rule::range_cond)
                    .map(|q| self.range(q))
                    .collect::<Option<Vec<_>>>()?;
                Some(Condition::AnyOf(ranges, span))
            }
            Rule::value_list => {
                let values = inner
                    .into_inner()
                    .map(|q| self.cell_value(q))
                    .collect::<Option<Vec<_>>>()?;
                Some(Condition::OneOf(values, span))
            }
            _ => None,
        }
    }

    fn rows<'i>(&self, p: &[P<'i>]) -> Vec<(Span, Vec<P<'i>>)> {
        p.iter()
            .filter(|q| q.as_rule() == Rule::table_row)
            .map(|q| (self.span(q), q.clone().into_inner().collect()))
            .collect()
    }

    /// A two-way table, as laws print a matrix: the first header cell names
    /// the row input and the column input (`size \ municipality_group`),
    /// the other header cells are conditions on the column input, and each
    /// row is a condition on the row input followed by one result per
    /// column. It is read as the one-row-per-pair table it stands for.
    fn two_way_table(
        &mut self,
        name: &Ident,
        params: &[Param],
        rows: &[(Span, Vec<P>)],
    ) -> Option<(Vec<Ident>, Vec<TableRow>)> {
        let (_, header) = rows.first()?;
        let corner = header.first()?;
        let (left, right) = corner.as_str().split_once('\\')?;
        let corner_span = self.span(corner);
        let ident = |n: &str| Ident {
            name: n.trim().to_string(),
            span: corner_span,
        };
        let (row_input, column_input) = (ident(left), ident(right));
        if params.len() != 2 {
            self.diags.push(
                Diagnostic::error(
                    Code::TableShape,
                    corner_span,
                    format!(
                        "a two-way table has two inputs, one for its rows and one for its columns, but `{}` has {}",
                        name.name,
                        params.len()
                    ),
                )
                .with_help("give the table two inputs, or write one column per input and one for the result"),
            );
            return Some((Vec::new(), Vec::new()));
        }
        // The rows' input may be either of the two.
        let swapped = params.get(1).is_some_and(|p| p.name.name == row_input.name)
            && params
                .first()
                .is_some_and(|p| p.name.name == column_input.name);
        let mut column_tests = Vec::new();
        for c in header.iter().skip(1) {
            column_tests.push(self.sub_parse(c, Rule::cell_condition, |b, p| b.condition(p)));
        }
        let mut out = Vec::new();
        for (span, cells) in rows.iter().skip(1) {
            if cells.len() != column_tests.len() + 1 {
                self.diags.push(
                    Diagnostic::error(
                        Code::TableShape,
                        *span,
                        format!(
                            "this row has {} cells, but the two-way table `{}` has {} columns",
                            cells.len(),
                            name.name,
                            column_tests.len() + 1
                        ),
                    )
                    .with_help(format!(
                        "write a condition on `{}`, then one result for each column",
                        row_input.name
                    )),
                );
                continue;
            }
            let Some(row_test) = cells
                .first()
                .and_then(|c| self.sub_parse(c, Rule::cell_condition, |b, p| b.condition(p)))
            else {
                continue;
            };
            for (c, column_test) in cells.iter().skip(1).zip(&column_tests) {
                let result = self.sub_parse(c, Rule::cell_output, |b, p| {
                    p.into_inner()
                        .find(|q| q.as_rule() == Rule::expr)
                        .and_then(|q| b.expr(q))
                });
                let (Some(result), Some(column_test)) = (result, column_test) else {
                    continue;
                };
                let conditions = if swapped {
                    vec![column_test.clone(), row_test.clone()]
                } else {
                    vec![row_test.clone(), column_test.clone()]
                };
                out.push(TableRow {
                    conditions,
                    result,
                    span: self.span(c),
                });
            }
        }
        let columns = if swapped {
            vec![column_input, row_input, ident("value")]
        } else {
            vec![row_input, column_input, ident("value")]
        };
        Some((columns, out))
    }

    fn table(&mut self, p: P) -> Option<ItemKind> {
        let parts: Vec<P> = p.into_inner().collect();
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = None;
        let mut results: Vec<(Ident, TypeExpr)> = Vec::new();
        let mut hit = HitPolicy::Unique;
        let mut citation = Citation::default();
        for q in parts.iter().cloned() {
            match q.as_rule() {
                Rule::ident => name = Some(self.ident(q)),
                Rule::params => params = self.params(q)?,
                Rule::type_expr => ret = self.type_expr(q),
                Rule::table_results => {
                    for r in q.into_inner() {
                        let mut it = r.into_inner();
                        let col = self.ident(it.next()?);
                        let ty = self.type_expr(it.next()?)?;
                        results.push((col, ty));
                    }
                    ret = results.first().map(|r| r.1.clone());
                }
                Rule::hit_policy => {
                    let kind = q
                        .into_inner()
                        .find(|r| r.as_rule() == Rule::hit_kind)?
                        .into_inner()
                        .next()?;
                    hit = match kind.as_rule() {
                        Rule::hit_first => HitPolicy::First,
                        Rule::hit_priority => HitPolicy::Priority,
                        Rule::hit_output_order => HitPolicy::OutputOrder,
                        Rule::collect => match kind
                            .into_inner()
                            .next()
                            .map(|k| k.as_str().to_string())
                            .as_deref()
                        {
                            Some("min") => HitPolicy::CollectMin,
                            Some("max") => HitPolicy::CollectMax,
                            Some("count") => HitPolicy::CollectCount,
                            Some("list") => HitPolicy::CollectList,
                            _ => HitPolicy::CollectSum,
                        },
                        _ => HitPolicy::Unique,
                    };
                }
                Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                _ => {}
            }
        }
        let name = name?;
        let rows = self.rows(&parts);
        if let Some(table) = self.two_way_table(&name, &params, &rows) {
            return Some(ItemKind::Table(TableDef {
                name,
                params,
                ret: ret?,
                results,
                hit,
                columns: table.0,
                rows: table.1,
                citation,
            }));
        }
        let mut rows_iter = rows.into_iter();
        let mut columns = Vec::new();
        if let Some((_, cells)) = rows_iter.next() {
            for c in &cells {
                if let Some(id) = self.sub_parse(c, Rule::cell_header, |b, p| {
                    p.into_inner()
                        .find(|q| q.as_rule() == Rule::ident)
                        .map(|q| b.ident(q))
                }) {
                    columns.push(id);
                }
            }
        }
        let n = params.len();
        let k = results.len().max(1);
        let mut out_rows = Vec::new();
        for (span, cells) in rows_iter {
            if cells.len() != n + k {
                self.diags.push(
                    Diagnostic::error(
                        Code::TableShape,
                        span,
                        format!(
                            "this row has {} cells, but table `{}` has {} columns",
                            cells.len(),
                            name.name,
                            n + k
                        ),
                    )
                    .with_help(format!(
                        "write one cell for each input ({}) and {}",
                        params
                            .iter()
                            .map(|p| p.name.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if results.is_empty() {
                            "one for the result".to_string()
                        } else {
                            format!(
                                "one for each result ({})",
                                results
                                    .iter()
                                    .map(|r| r.0.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    )),
                );
                continue;
            }
            let mut conditions = Vec::new();
            let mut ok = true;
            let mut result = None;
            let mut fields = Vec::new();
            for (i, c) in cells.iter().enumerate() {
                if i < n {
                    match self.sub_parse(c, Rule::cell_condition, |b, p| b.condition(p)) {
                        Some(cond) => conditions.push(cond),
                        None => ok = false,
                    }
                } else {
                    result = self.sub_parse(c, Rule::cell_output, |b, p| {
                        p.into_inner()
                            .find(|q| q.as_rule() == Rule::expr)
                            .and_then(|q| b.expr(q))
                    });
                    if let (Some(r), Some((col, _))) = (&result, results.get(i - n)) {
                        fields.push((col.clone(), r.clone()));
                    } else if !results.is_empty() {
                        ok = false;
                    }
                }
            }
            // Several results are one record, spanning their cells.
            if !results.is_empty() && ok {
                let span = match (fields.first(), fields.last()) {
                    (Some(a), Some(b)) => a.1.span.join(b.1.span),
                    _ => span,
                };
                result = Some(Expr {
                    kind: ExprKind::Record(fields),
                    span,
                });
            }
            if let (true, Some(result)) = (ok, result) {
                out_rows.push(TableRow {
                    conditions,
                    result,
                    span,
                });
            }
        }
        Some(ItemKind::Table(TableDef {
            name,
            params,
            ret: ret?,
            results,
            hit,
            columns,
            rows: out_rows,
            citation,
        }))
    }

    fn scale(&mut self, p: P) -> Option<ItemKind> {
        let parts: Vec<P> = p.into_inner().collect();
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = None;
        let mut kind = ScaleKind::Marginal;
        let mut citation = Citation::default();
        for q in parts.iter().cloned() {
            match q.as_rule() {
                Rule::ident => name = Some(self.ident(q)),
                Rule::params => params = self.params(q)?,
                Rule::type_expr => ret = self.type_expr(q),
                Rule::scale_kind
                    if q.clone().into_inner().next().map(|k| k.as_rule())
                        == Some(Rule::single_amount) =>
                {
                    kind = ScaleKind::SingleAmount;
                }
                Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                _ => {}
            }
        }
        let name = name?;
        let rows = self.rows(&parts);
        let mut rows_iter = rows.into_iter();
        let mut strict = true;
        let mut header_span = name.span;
        if let Some((span, cells)) = rows_iter.next() {
            header_span = span;
            let first = cells
                .first()
                .map(|c| c.as_str().trim().to_string())
                .unwrap_or_default();
            match first.as_str() {
                "over" => strict = true,
                "from" => strict = false,
                other => self.diags.push(
                    Diagnostic::error(
                        Code::TableShape,
                        span,
                        format!("a scale's first column is headed `over` or `from`, not `{other}`"),
                    )
                    .with_help("`over` means the bracket starts just above the threshold, `from` that it starts at the threshold"),
                ),
            }
        }
        let mut brackets = Vec::new();
        for (span, cells) in rows_iter {
            if cells.len() != 2 {
                self.diags.push(
                    Diagnostic::error(
                        Code::TableShape,
                        span,
                        format!(
                            "a scale row has two cells, a threshold and a value; this one has {}",
                            cells.len()
                        ),
                    )
                    .with_help("write rows such as `| 1000 € | 10 % |`"),
                );
                continue;
            }
            let mut vals = Vec::new();
            for c in &cells {
                if let Some(v) = self.sub_parse(c, Rule::cell_scale, |b, p| {
                    p.into_inner()
                        .find(|q| q.as_rule() == Rule::cell_value)
                        .and_then(|q| b.cell_value(q))
                }) {
                    vals.push(v);
                }
            }
            let mut it = vals.into_iter();
            if let (Some(threshold), Some(value)) = (it.next(), it.next()) {
                brackets.push(ScaleRow {
                    threshold,
                    value,
                    span,
                });
            }
        }
        Some(ItemKind::Scale(ScaleDef {
            name,
            params,
            ret: ret?,
            kind,
            strict,
            brackets,
            citation,
            header_span,
        }))
    }

    // ---- examples ---------------------------------------------------------

    fn data_value(&mut self, p: P) -> Option<DataValue> {
        let span = self.span(&p);
        let inner = if p.as_rule() == Rule::data_value {
            p.into_inner().next()?
        } else {
            p
        };
        Some(match inner.as_rule() {
            Rule::data_record => {
                let mut fields = Vec::new();
                for f in inner.into_inner() {
                    let mut it = f.into_inner().filter(|r| r.as_rule() != Rule::colon);
                    let name = self.ident(it.next()?);
                    let v = self.data_value(it.next()?)?;
                    fields.push((name, v));
                }
                DataValue::Record(fields, span)
            }
            Rule::data_list => {
                let items = inner
                    .into_inner()
                    .map(|q| self.data_value(q))
                    .collect::<Option<Vec<_>>>()?;
                DataValue::List(items, span)
            }
            Rule::ident => DataValue::Name(self.ident(inner)),
            Rule::data_variant => {
                let mut it = inner.into_inner();
                let name = self.ident(it.next()?);
                let DataValue::Record(fields, _) = self.data_value(it.next()?)? else {
                    return None;
                };
                DataValue::Variant(name, fields, span)
            }
            Rule::neg_literal => match self.cell_value(inner)? {
                CellValue::Literal(l, s) => DataValue::Literal(l, s),
                CellValue::Name(i) => DataValue::Name(i),
            },
            _ => DataValue::Literal(self.literal(inner), span),
        })
    }

    fn property(&mut self, p: P) -> Option<ItemKind> {
        let mut name = None;
        let mut citation = Citation::default();
        let mut body = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::ident => name = Some(self.ident(q)),
                Rule::section | Rule::source_clause => self.citation(&mut citation, q),
                Rule::prop_bound => {
                    let mut it = q.into_inner().filter(|r| r.as_rule() != Rule::k_when);
                    let holds = self.expr(it.next()?)?;
                    let when = match it.next() {
                        None => None,
                        Some(r) if r.as_rule() == Rule::when_eligible => {
                            Some(PropertyCondition::Eligible(self.span(&r)))
                        }
                        Some(r) => Some(PropertyCondition::Holds(self.expr(r)?)),
                    };
                    body = Some(PropertyBody::Bound { holds, when });
                }
                Rule::prop_monotone => {
                    let mut exprs = Vec::new();
                    let mut rises = Vec::new();
                    for r in q.into_inner() {
                        match r.as_rule() {
                            Rule::expr => exprs.push(self.expr(r)?),
                            Rule::direction => rises.push(r.as_str().trim() == "rises"),
                            _ => {}
                        }
                    }
                    let mut exprs = exprs.into_iter();
                    body = Some(PropertyBody::Monotone {
                        value: exprs.next()?,
                        value_rises: *rises.first()?,
                        input: exprs.next()?,
                        input_rises: *rises.get(1)?,
                    });
                }
                Rule::prop_marginal => {
                    let mut exprs = Vec::new();
                    for r in q.into_inner() {
                        if r.as_rule() == Rule::expr {
                            exprs.push(self.expr(r)?);
                        }
                    }
                    let mut exprs = exprs.into_iter();
                    body = Some(PropertyBody::Marginal {
                        value: exprs.next()?,
                        at_most: exprs.next()?,
                        input: exprs.next()?,
                        step: exprs.next()?,
                    });
                }
                _ => {}
            }
        }
        Some(ItemKind::Property(PropertyDef {
            name: name?,
            citation,
            body: body?,
        }))
    }

    fn example(&mut self, p: P) -> Option<ItemKind> {
        let mut ex = ExampleDef {
            name: String::new(),
            name_span: Span::default(),
            date: None,
            given: Vec::new(),
            expects: Vec::new(),
        };
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::string => {
                    ex.name_span = self.span(&q);
                    ex.name = self.string(q);
                }
                Rule::on_clause => {
                    if let Some(d) = q.into_inner().next() {
                        ex.date = Some(self.date(d));
                    }
                }
                Rule::given_clause => {
                    let mut it = q.into_inner();
                    let name = self.ident(it.next()?);
                    let v = self.data_value(it.next()?)?;
                    ex.given.push((name, v));
                }
                Rule::expect_clause => {
                    let e = q.into_inner().next()?;
                    let span = self.span(&e);
                    let exp = match e.as_rule() {
                        Rule::expect_eligible => Expectation::Eligible(span),
                        Rule::expect_not_eligible => Expectation::NotEligible(
                            e.into_inner()
                                .filter(|r| r.as_rule() == Rule::ident)
                                .map(|r| self.ident(r))
                                .collect(),
                            span,
                        ),
                        Rule::expect_error => {
                            // The `error` keyword is a token of its own:
                            // the message is the string after it, if any.
                            let msg = e
                                .into_inner()
                                .find(|r| r.as_rule() == Rule::string)
                                .map(|s| self.string(s));
                            Expectation::Error(msg, span)
                        }
                        Rule::expect_property => {
                            let mut name = None;
                            let mut step = None;
                            for r in e.into_inner() {
                                match r.as_rule() {
                                    Rule::ident => name = Some(self.ident(r)),
                                    Rule::data_value => step = self.data_value(r),
                                    _ => {}
                                }
                            }
                            Expectation::Property(name?, step, span)
                        }
                        _ => {
                            let mut it = e.into_inner();
                            let name = self.ident(it.next()?);
                            let v = self.data_value(it.next()?)?;
                            let margin = match it.find(|r| r.as_rule() == Rule::data_value) {
                                Some(m) => Some(self.data_value(m)?),
                                None => None,
                            };
                            Expectation::Output(name, v, margin)
                        }
                    };
                    ex.expects.push(exp);
                }
                _ => {}
            }
        }
        let _ = self.text;
        Some(ItemKind::Example(ex))
    }
}
