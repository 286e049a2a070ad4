//! Semantic diff between two versions of a rulebook: what changed in
//! meaning, not in text. Items are matched by name, table rows by their
//! conditions; spans, comments, layout and order do not count.

use crate::check::Checked;
use crate::eval::Executable;
use crate::ir::value::{Type, Value};
use crate::ir::{DefBody, Program};
use crate::syntax::ast::{self, ItemKind};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Validity,
    Eligibility,
    Parameters,
    Tables,
    Scales,
    Outputs,
    Definitions,
    Uses,
    Functions,
    Properties,
    Inputs,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Validity => "Validity and citations",
            Group::Eligibility => "Eligibility criteria",
            Group::Parameters => "Parameters",
            Group::Tables => "Decision tables",
            Group::Scales => "Scales",
            Group::Outputs => "Outputs",
            Group::Definitions => "Intermediate definitions",
            Group::Uses => "Used rulebooks",
            Group::Functions => "Functions",
            Group::Properties => "Properties",
            Group::Inputs => "Inputs and types",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub group: Group,
    pub kind: Kind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// One line for people, such as `83.00 € → 113.00 € (+36.1 %)`.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// Further lines: table rows, criteria reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionInfo {
    pub rulebook: String,
    pub version: String,
    pub in_force_from: String,
    pub in_force_to: Option<String>,
}

impl VersionInfo {
    fn of(p: &Program) -> VersionInfo {
        VersionInfo {
            rulebook: p.id.clone(),
            version: p.version.clone(),
            in_force_from: p.in_force_from.to_string(),
            in_force_to: p.in_force_to.map(|d| d.to_string()),
        }
    }
    pub fn period(&self) -> String {
        match &self.in_force_to {
            Some(to) => format!("{} to {to}", self.in_force_from),
            None => format!("from {}", self.in_force_from),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub old: VersionInfo,
    pub new: VersionInfo,
    /// Grouped and in a stable order: by group, then name, then kind.
    pub changes: Vec<Change>,
}

/// A checked version and the text its spans refer to.
pub struct Side<'a> {
    pub text: &'a str,
    pub checked: &'a Checked,
    pub program: &'a Executable,
}

fn slice(text: &str, span: crate::diagnostic::Span) -> String {
    text.get(span.start..span.end)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn items(c: &Checked) -> BTreeMap<(u8, String), &ast::Item> {
    let mut m = BTreeMap::new();
    for item in &c.ast.items {
        let key = match &item.kind {
            ItemKind::Eligibility(_) | ItemKind::Example(_) | ItemKind::Remove(_) => continue,
            k => k.name().map(|n| n.name.clone()).unwrap_or_default(),
        };
        let tag = match &item.kind {
            ItemKind::Enum(_) | ItemKind::Record(_) | ItemKind::Input(_) => 0,
            _ => 1,
        };
        m.insert((tag, key), item);
    }
    m
}

fn criteria(c: &Checked) -> BTreeMap<String, &ast::Criterion> {
    let mut m = BTreeMap::new();
    for item in &c.ast.items {
        if let ItemKind::Eligibility(e) = &item.kind {
            for cr in &e.criteria {
                m.insert(cr.name.name.clone(), cr);
            }
        }
    }
    m
}

fn citation_text(c: &ast::Citation) -> String {
    match (&c.section, &c.source) {
        (Some(s), Some(src)) => format!("§ {s}, {src}"),
        (Some(s), None) => format!("§ {s}"),
        (None, Some(src)) => src.clone(),
        (None, None) => "none".into(),
    }
}

fn item_citation(k: &ItemKind) -> Option<&ast::Citation> {
    Some(match k {
        ItemKind::Enum(e) => &e.citation,
        ItemKind::Record(r) => &r.citation,
        ItemKind::Input(i) => &i.citation,
        ItemKind::Definition(d) => &d.citation,
        ItemKind::Parameter(p) => &p.citation,
        ItemKind::Function(f) => &f.citation,
        ItemKind::Table(t) => &t.citation,
        ItemKind::Scale(s) => &s.citation,
        _ => return None,
    })
}

/// The meaning of an item apart from its citation, which is compared on its own.
fn meaning_without_citation(k: &ItemKind) -> String {
    let mut k = k.clone();
    match &mut k {
        ItemKind::Enum(e) => e.citation = Default::default(),
        ItemKind::Record(r) => r.citation = Default::default(),
        ItemKind::Input(i) => i.citation = Default::default(),
        ItemKind::Definition(d) => d.citation = Default::default(),
        ItemKind::Parameter(p) => p.citation = Default::default(),
        ItemKind::Function(f) => f.citation = Default::default(),
        ItemKind::Table(t) => t.citation = Default::default(),
        ItemKind::Scale(s) => s.citation = Default::default(),
        _ => {}
    }
    ast::without_spans(&k)
}

fn group_of(k: &ItemKind) -> Group {
    match k {
        ItemKind::Enum(_) | ItemKind::Record(_) | ItemKind::Input(_) => Group::Inputs,
        ItemKind::Parameter(_) => Group::Parameters,
        ItemKind::Table(_) => Group::Tables,
        ItemKind::Scale(_) => Group::Scales,
        ItemKind::Function(_) => Group::Functions,
        ItemKind::Property(_) => Group::Properties,
        ItemKind::Definition(d) if d.is_output => Group::Outputs,
        ItemKind::Use(_) => Group::Uses,
        _ => Group::Definitions,
    }
}

fn section_of(k: &ItemKind) -> Option<String> {
    item_citation(k).and_then(|c| c.section.clone())
}

/// A definition's text for one line of a report: at most 240 characters
/// (JSON's `old` and `new` keep it whole).
fn shortened(text: &str) -> String {
    match text.char_indices().nth(240) {
        Some((i, _)) => format!("{} …", &text[..i]),
        None => text.to_string(),
    }
}

/// A value as `eval` writes it in JSON (`83.00`, `42 %`), without the
/// currency that text adds.
fn json_text(p: &Program, v: &Value, ty: &Type) -> String {
    match p.to_json(v, ty) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The change between two literal cells (`588 €` → `598 €`) as
/// ` (+10 €, +1.7 %)`; empty when either is not a plain amount, number or
/// percentage, or their units differ.
fn literal_delta(old: &str, new: &str) -> String {
    let split = |t: &str| -> Option<(Decimal, &'static str)> {
        let t = t.trim();
        let (num, unit) = if let Some(n) = t.strip_suffix('€') {
            (n.trim(), "€")
        } else if let Some(n) = t.strip_suffix('%') {
            (n.trim(), "%")
        } else {
            (t, "")
        };
        Some((crate::syntax::number::parse_exact(num)?, unit))
    };
    let (Some((a, ua)), Some((b, ub))) = (split(old), split(new)) else {
        return String::new();
    };
    if ua != ub || a == b {
        return String::new();
    }
    let delta = b - a;
    let sign = if delta > Decimal::ZERO { "+" } else { "" };
    // The difference keeps the cells' decimals: 8.50 € − 8.40 € is 0.10 €.
    let shown = match ua {
        "%" => format!("{sign}{delta} percentage points"),
        "" => format!("{sign}{delta}"),
        u => format!("{sign}{delta} {u}"),
    };
    let rel = if a.is_zero() {
        String::new()
    } else {
        let pct = (delta * Decimal::ONE_HUNDRED / a.abs()).round_dp(1);
        format!(
            ", {}{} %",
            if pct > Decimal::ZERO { "+" } else { "" },
            pct.normalize()
        )
    };
    format!(" ({shown}{rel})")
}

/// `83.00 € → 113.00 € (+30.00 €, +36.1 %)`.
fn value_change(p_old: &Program, p_new: &Program, old: &Value, new: &Value, ty: &Type) -> String {
    let (o, n) = (p_old.render(old, ty), p_new.render(new, ty));
    match (old.as_decimal(), new.as_decimal()) {
        (Some(a), Some(b)) if ty.is_numeric() => {
            let delta = b - a;
            let shown = p_new.render(
                &match (ty, new) {
                    (Type::Integer, _) => Value::Int(delta.to_string().parse().unwrap_or(0)),
                    _ => Value::Num(delta),
                },
                ty,
            );
            // A change of a percentage is in percentage points, so that it
            // cannot be read as the relative change beside it.
            let shown = match ty {
                Type::Percent => format!(
                    "{} percentage point{}",
                    shown.trim_end_matches(" %"),
                    if (delta * Decimal::ONE_HUNDRED).abs() == Decimal::ONE {
                        ""
                    } else {
                        "s"
                    }
                ),
                _ => shown,
            };
            let sign = if delta >= Decimal::ZERO { "+" } else { "" };
            let rel = if a.is_zero() {
                String::new()
            } else {
                let pct = (delta * Decimal::ONE_HUNDRED / a.abs()).round_dp(1);
                format!(
                    ", {}{} %",
                    if pct >= Decimal::ZERO { "+" } else { "" },
                    pct.normalize()
                )
            };
            format!("{o} → {n} ({sign}{shown}{rel})")
        }
        _ => format!("{o} → {n}"),
    }
}

type DatedValues = Vec<(Option<chrono::NaiveDate>, Value)>;

fn parameter_values(p: &Program, name: &str) -> Option<(Type, DatedValues)> {
    let d = p.defs.iter().find(|d| d.name == name)?;
    match &d.body {
        DefBody::Dated(v) => Some((d.ty.clone(), v.clone())),
        DefBody::Rule { .. } => None,
    }
}

fn row_key(t: &ast::TableRow) -> String {
    ast::without_spans(&t.conditions)
}

fn row_text(text: &str, row: &ast::TableRow) -> String {
    slice(text, row.span)
}

pub fn diff(old: &Side, new: &Side) -> Diff {
    let mut changes = Vec::new();
    let (po, pn) = (old.program, new.program);
    // Validity and the header's citation.
    let (vo, vn) = (VersionInfo::of(po), VersionInfo::of(pn));
    if vo.period() != vn.period() {
        changes.push(Change {
            group: Group::Validity,
            kind: Kind::Changed,
            name: "in force".into(),
            section: None,
            summary: format!("{} → {}", vo.period(), vn.period()),
            old: Some(vo.period()),
            new: Some(vn.period()),
            details: Vec::new(),
        });
    }
    if po.source != pn.source {
        changes.push(Change {
            group: Group::Validity,
            kind: Kind::Changed,
            name: "source".into(),
            section: None,
            summary: "the rulebook's source changed".into(),
            old: po.source.clone(),
            new: pn.source.clone(),
            details: vec![
                format!(
                    "was: {}",
                    po.source.clone().unwrap_or_else(|| "(none)".into())
                ),
                format!(
                    "now: {}",
                    pn.source.clone().unwrap_or_else(|| "(none)".into())
                ),
            ],
        });
    }
    if po.title != pn.title {
        changes.push(Change {
            group: Group::Validity,
            kind: Kind::Changed,
            name: "title".into(),
            section: None,
            summary: format!(
                "{} → {}",
                po.title.clone().unwrap_or_default(),
                pn.title.clone().unwrap_or_default()
            ),
            old: po.title.clone(),
            new: pn.title.clone(),
            details: Vec::new(),
        });
    }
    // A used programme whose versions in force differ changes what this
    // rulebook decides though its text does not.
    for un in &pn.uses {
        let Some(uo) = po.uses.iter().find(|u| u.id == un.id) else {
            continue;
        };
        let names = |u: &crate::ir::UsedProgramme| -> String {
            u.versions
                .iter()
                .map(|v| v.version.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (a, b) = (names(uo), names(un));
        if a != b {
            changes.push(Change {
                group: Group::Uses,
                kind: Kind::Changed,
                name: un.alias.clone(),
                section: None,
                summary: format!("{}: version {a} → {b}", un.id),
                old: Some(a),
                new: Some(b),
                details: vec![format!(
                    "what is taken from {} is decided by the version in force on the decision date; run `rulebook diff` on its versions to see what changed there",
                    un.id
                )],
            });
        }
    }
    // Eligibility criteria.
    let (co, cn) = (criteria(old.checked), criteria(new.checked));
    for (name, c) in &co {
        match cn.get(name) {
            None => changes.push(Change {
                group: Group::Eligibility,
                kind: Kind::Removed,
                name: name.clone(),
                section: c.citation.section.clone(),
                summary: format!("criterion removed: {}", slice(old.text, c.condition.span)),
                old: Some(slice(old.text, c.condition.span)),
                new: None,
                details: vec![format!("reason was: {}", c.reason)],
            }),
            Some(n) => {
                let mut details = Vec::new();
                if ast::without_spans(&c.condition) != ast::without_spans(&n.condition) {
                    details.push(format!(
                        "condition: {} → {}",
                        slice(old.text, c.condition.span),
                        slice(new.text, n.condition.span)
                    ));
                }
                if c.reason != n.reason {
                    details.push(format!("reason: {:?} → {:?}", c.reason, n.reason));
                }
                if c.citation != n.citation {
                    details.push(format!(
                        "citation: {} → {}",
                        citation_text(&c.citation),
                        citation_text(&n.citation)
                    ));
                }
                if !details.is_empty() {
                    changes.push(Change {
                        group: Group::Eligibility,
                        kind: Kind::Changed,
                        name: name.clone(),
                        section: n.citation.section.clone(),
                        summary: details.first().cloned().unwrap_or_default(),
                        old: Some(slice(old.text, c.condition.span)),
                        new: Some(slice(new.text, n.condition.span)),
                        details,
                    });
                }
            }
        }
    }
    for (name, n) in &cn {
        if !co.contains_key(name) {
            changes.push(Change {
                group: Group::Eligibility,
                kind: Kind::Added,
                name: name.clone(),
                section: n.citation.section.clone(),
                summary: format!("criterion added: {}", slice(new.text, n.condition.span)),
                old: None,
                new: Some(slice(new.text, n.condition.span)),
                details: vec![format!("reason: {}", n.reason)],
            });
        }
    }
    // Every named item.
    let (io, inew) = (items(old.checked), items(new.checked));
    for (key, item) in &io {
        let name = key.1.clone();
        match inew.get(key) {
            None => changes.push(Change {
                group: group_of(&item.kind),
                kind: Kind::Removed,
                name: name.clone(),
                section: section_of(&item.kind),
                summary: format!("removed: {}", first_line(old.text, item.span)),
                old: Some(first_line(old.text, item.span)),
                new: None,
                details: Vec::new(),
            }),
            Some(n) => item_change(old, new, &name, item, n, &mut changes),
        }
    }
    for (key, item) in &inew {
        if !io.contains_key(key) {
            changes.push(Change {
                group: group_of(&item.kind),
                kind: Kind::Added,
                name: key.1.clone(),
                section: section_of(&item.kind),
                summary: format!("added: {}", first_line(new.text, item.span)),
                old: None,
                new: Some(first_line(new.text, item.span)),
                details: Vec::new(),
            });
        }
    }
    changes.sort_by(|a, b| (a.group, &a.name, a.kind).cmp(&(b.group, &b.name, b.kind)));
    Diff {
        old: vo,
        new: vn,
        changes,
    }
}

fn first_line(text: &str, span: crate::diagnostic::Span) -> String {
    text.get(span.start..span.end)
        .unwrap_or("")
        .lines()
        .map(|l| crate::syntax::code_part(l).trim())
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn item_change(
    old: &Side,
    new: &Side,
    name: &str,
    a: &ast::Item,
    b: &ast::Item,
    out: &mut Vec<Change>,
) {
    let group = group_of(&b.kind);
    let section = section_of(&b.kind);
    let mut push = |summary: String, o: Option<String>, n: Option<String>, details: Vec<String>| {
        out.push(Change {
            group,
            kind: Kind::Changed,
            name: name.to_string(),
            section: section.clone(),
            summary,
            old: o,
            new: n,
            details,
        })
    };
    if let (Some(ca), Some(cb)) = (item_citation(&a.kind), item_citation(&b.kind)) {
        if ca != cb {
            push(
                format!("citation: {} → {}", citation_text(ca), citation_text(cb)),
                Some(citation_text(ca)),
                Some(citation_text(cb)),
                Vec::new(),
            );
        }
    }
    if meaning_without_citation(&a.kind) == meaning_without_citation(&b.kind) {
        return;
    }
    match (&a.kind, &b.kind) {
        (ItemKind::Parameter(_), ItemKind::Parameter(_)) => {
            let (Some((ty, vo)), Some((_, vn))) = (
                parameter_values(old.program, name),
                parameter_values(new.program, name),
            ) else {
                return;
            };
            let same = vo.len() == vn.len()
                && vo
                    .iter()
                    .zip(&vn)
                    .all(|(x, y)| x.0 == y.0 && x.1.equals(&y.1));
            if same {
                return;
            }
            match (vo.as_slice(), vn.as_slice()) {
                ([(None, x)], [(None, y)]) => {
                    let s = value_change(old.program, new.program, x, y, &ty);
                    push(
                        s,
                        Some(json_text(old.program, x, &ty)),
                        Some(json_text(new.program, y, &ty)),
                        Vec::new(),
                    );
                }
                _ => {
                    let show = |p: &Program, v: &[(Option<chrono::NaiveDate>, Value)]| {
                        v.iter()
                            .map(|(d, x)| match d {
                                Some(d) => format!("{} from {d}", p.render(x, &ty)),
                                None => p.render(x, &ty),
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    let (o, n) = (show(old.program, &vo), show(new.program, &vn));
                    push(format!("{o} → {n}"), Some(o), Some(n), Vec::new());
                }
            }
        }
        (ItemKind::Table(ta), ItemKind::Table(tb)) => {
            let mut details = Vec::new();
            if ast::without_spans(&ta.params) != ast::without_spans(&tb.params)
                || ast::without_spans(&ta.ret) != ast::without_spans(&tb.ret)
                || ta.hit != tb.hit
            {
                details.push(format!(
                    "signature: {} → {}",
                    first_line(old.text, a.span),
                    first_line(new.text, b.span)
                ));
            }
            let cond = |text: &str, r: &ast::TableRow| -> String {
                tb.params
                    .iter()
                    .zip(&r.conditions)
                    .map(|(p, c)| format!("{} {}", p.name.name, slice(text, c.span())))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let ra: Vec<(String, &ast::TableRow)> =
                ta.rows.iter().map(|r| (row_key(r), r)).collect();
            let rb: Vec<(String, &ast::TableRow)> =
                tb.rows.iter().map(|r| (row_key(r), r)).collect();
            // Rows are matched by their conditions through maps, the first
            // of equal keys winning, so that long tables compare in linear
            // time.
            let mut by_key_b: HashMap<&str, &ast::TableRow> = HashMap::new();
            for (k, r) in &rb {
                by_key_b.entry(k.as_str()).or_insert(*r);
            }
            let keys_a: HashSet<&str> = ra.iter().map(|(k, _)| k.as_str()).collect();
            for (k, r) in &ra {
                match by_key_b.get(k.as_str()) {
                    None => details.push(format!("row removed: {}", row_text(old.text, r))),
                    Some(r2) if ast::without_spans(&r.result) != ast::without_spans(&r2.result) => {
                        let (was, now) = (
                            slice(old.text, r.result.span),
                            slice(new.text, r2.result.span),
                        );
                        details.push(format!(
                            "row {}: {was} → {now}{}",
                            cond(new.text, r2),
                            literal_delta(&was, &now)
                        ))
                    }
                    _ => {}
                }
            }
            for (k, r) in &rb {
                if !keys_a.contains(k.as_str()) {
                    details.push(format!("row added: {}", row_text(new.text, r)));
                }
            }
            if details.is_empty() {
                details.push("rows reordered".into());
            }
            let n = details.len();
            push(
                format!("{n} change{} in the table", if n == 1 { "" } else { "s" }),
                None,
                None,
                details,
            );
        }
        (ItemKind::Scale(sa), ItemKind::Scale(sb)) => {
            let mut details = Vec::new();
            if sa.kind != sb.kind
                || sa.strict != sb.strict
                || ast::without_spans(&sa.params) != ast::without_spans(&sb.params)
            {
                details.push(format!(
                    "signature: {} → {}",
                    first_line(old.text, a.span),
                    first_line(new.text, b.span)
                ));
            }
            let key = |r: &ast::ScaleRow| ast::without_spans(&r.threshold);
            let mut by_key_b: HashMap<String, &ast::ScaleRow> = HashMap::new();
            for r in &sb.brackets {
                by_key_b.entry(key(r)).or_insert(r);
            }
            let keys_a: HashSet<String> = sa.brackets.iter().map(key).collect();
            for r in &sa.brackets {
                match by_key_b.get(&key(r)) {
                    None => details.push(format!("bracket removed: {}", slice(old.text, r.span))),
                    Some(r2) if ast::without_spans(&r.value) != ast::without_spans(&r2.value) => {
                        details.push(format!(
                            "bracket changed: {} → {}",
                            slice(old.text, r.span),
                            slice(new.text, r2.span)
                        ))
                    }
                    _ => {}
                }
            }
            for r in &sb.brackets {
                if !keys_a.contains(&key(r)) {
                    details.push(format!("bracket added: {}", slice(new.text, r.span)));
                }
            }
            let n = details.len();
            push(
                format!("{n} change{} in the scale", if n == 1 { "" } else { "s" }),
                None,
                None,
                details,
            );
        }
        (ItemKind::Definition(da), ItemKind::Definition(db)) => {
            let (o, n) = (slice(old.text, da.body.span), slice(new.text, db.body.span));
            let mut details = Vec::new();
            if ast::without_spans(&da.body) != ast::without_spans(&db.body) {
                details.push(format!("formula: {o} → {n}"));
            }
            if ast::without_spans(&da.ty) != ast::without_spans(&db.ty) {
                details.push("declared type changed".into());
            }
            if ast::without_spans(&da.overrides) != ast::without_spans(&db.overrides) {
                let show = |t: &str, d: &ast::Definition| {
                    d.overrides
                        .iter()
                        .map(|x| slice(t, x.span))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                details.push(format!(
                    "overrides: [{}] → [{}]",
                    show(old.text, da),
                    show(new.text, db)
                ));
            }
            if da.label != db.label
                || ast::without_spans(&da.label_in) != ast::without_spans(&db.label_in)
            {
                let show = |d: &ast::Definition| {
                    let mut s = format!("\"{}\"", d.label.clone().unwrap_or_default());
                    for t in &d.label_in {
                        s.push_str(&format!(" {} \"{}\"", t.lang.name, t.text));
                    }
                    s
                };
                details.push(format!("label: {} → {}", show(da), show(db)));
            }
            let summary = details.first().cloned().unwrap_or_else(|| "changed".into());
            push(summary, Some(o), Some(n), details);
        }
        (ItemKind::Input(ia), ItemKind::Input(ib)) => {
            let fields = |i: &ast::InputDef| -> Vec<(String, String)> {
                match &i.shape {
                    ast::InputShape::Record(fs) => fs
                        .iter()
                        .map(|f| (f.name.name.clone(), ast::without_spans(&f.ty)))
                        .collect(),
                    ast::InputShape::Value(t) => vec![(String::new(), ast::without_spans(t))],
                }
            };
            let text_of = |t: &str, i: &ast::InputDef, name: &str| -> String {
                match &i.shape {
                    ast::InputShape::Record(fs) => fs
                        .iter()
                        .find(|f| f.name.name == name)
                        .map(|f| format!("{}: {}", name, slice(t, f.ty.span())))
                        .unwrap_or_default(),
                    ast::InputShape::Value(ty) => slice(t, ty.span()),
                }
            };
            let (fa, fb) = (fields(ia), fields(ib));
            let mut details = Vec::new();
            for (n, t) in &fa {
                match fb.iter().find(|(m, _)| m == n) {
                    None => details.push(format!("field removed: {}", text_of(old.text, ia, n))),
                    Some((_, t2)) if t2 != t => details.push(format!(
                        "field changed: {} → {}",
                        text_of(old.text, ia, n),
                        text_of(new.text, ib, n)
                    )),
                    _ => {}
                }
            }
            for (n, _) in &fb {
                if !fa.iter().any(|(m, _)| m == n) {
                    details.push(format!("field added: {}", text_of(new.text, ib, n)));
                }
            }
            if details.is_empty() {
                details.push("descriptions or field order changed".into());
            }
            push(
                details.first().cloned().unwrap_or_default(),
                None,
                None,
                details,
            );
        }
        _ => {
            let (o, n) = (first_line(old.text, a.span), first_line(new.text, b.span));
            let same_kind = std::mem::discriminant(&a.kind) == std::mem::discriminant(&b.kind);
            let summary = if same_kind && o == n {
                "definition changed below its first line".to_string()
            } else {
                format!("was `{o}`, now `{n}`")
            };
            let (was, now) = (slice(old.text, a.span), slice(new.text, b.span));
            let details = vec![
                format!("was: {}", shortened(&was)),
                format!("now: {}", shortened(&now)),
            ];
            push(summary, Some(was), Some(now), details);
        }
    }
}

// ---- rendering ----------------------------------------------------------

fn marker(k: Kind) -> &'static str {
    match k {
        Kind::Added => "+",
        Kind::Removed => "-",
        Kind::Changed => "~",
    }
}

fn grouped(d: &Diff) -> Vec<(Group, Vec<&Change>)> {
    let mut out: Vec<(Group, Vec<&Change>)> = Vec::new();
    for c in &d.changes {
        match out.last_mut() {
            Some((g, list)) if *g == c.group => list.push(c),
            _ => out.push((c.group, vec![c])),
        }
    }
    out
}

pub fn to_text(d: &Diff) -> String {
    let mut s = format!(
        "{} {} ({}) → {} ({})\n",
        d.new.rulebook,
        d.old.version,
        d.old.period(),
        d.new.version,
        d.new.period()
    );
    if d.changes.is_empty() {
        s.push_str("no changes in meaning\n");
        return s;
    }
    for (g, list) in grouped(d) {
        s.push_str(&format!("\n{}\n", g.title()));
        for c in list {
            s.push_str(&format!(
                "  {} {}{}: {}\n",
                marker(c.kind),
                c.name,
                section_suffix(c),
                c.summary
            ));
            for det in extra_details(c) {
                s.push_str(&format!("      {det}\n"));
            }
        }
    }
    s
}

/// ` (§ 6.2)` for a change with a section, else nothing.
fn section_suffix(c: &Change) -> String {
    c.section
        .as_ref()
        .map(|x| format!(" (§ {x})"))
        .unwrap_or_default()
}

/// The detail lines not already shown as the summary.
fn extra_details(c: &Change) -> impl Iterator<Item = &String> {
    c.details
        .iter()
        .skip(usize::from(c.details.first() == Some(&c.summary)))
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

pub fn to_markdown(d: &Diff) -> String {
    let mut s = format!(
        "# {}: {} → {}\n\n| | old | new |\n| --- | --- | --- |\n| version | {} | {} |\n| in force | {} | {} |\n",
        d.new.rulebook,
        d.old.version,
        d.new.version,
        d.old.version,
        d.new.version,
        d.old.period(),
        d.new.period()
    );
    if d.changes.is_empty() {
        s.push_str("\nNo changes in meaning.\n");
        return s;
    }
    for (g, list) in grouped(d) {
        s.push_str(&format!("\n## {}\n\n", g.title()));
        for c in list {
            let sec = section_suffix(c);
            let kind = match c.kind {
                Kind::Added => "added",
                Kind::Removed => "removed",
                Kind::Changed => "changed",
            };
            s.push_str(&format!(
                "- **{}**{sec}, {kind}: {}\n",
                c.name,
                md_escape(&c.summary)
            ));
            for det in extra_details(c) {
                s.push_str(&format!("  - `{}`\n", det.replace('`', "'")));
            }
        }
    }
    s
}

pub fn to_json(d: &Diff) -> serde_json::Value {
    serde_json::json!(d)
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The changes as an HTML fragment (a section per group).
pub fn to_html_fragment(d: &Diff) -> String {
    let mut s = String::new();
    if d.changes.is_empty() {
        s.push_str("<p class=\"none\">No changes in meaning.</p>\n");
        return s;
    }
    for (g, list) in grouped(d) {
        s.push_str(&format!(
            "<section><h2>{}</h2>\n<table class=\"changes\">\n",
            html_escape(g.title())
        ));
        for c in list {
            let kind = match c.kind {
                Kind::Added => "added",
                Kind::Removed => "removed",
                Kind::Changed => "changed",
            };
            let sec = c
                .section
                .as_ref()
                .map(|x| format!("§ {}", html_escape(x)))
                .unwrap_or_default();
            s.push_str(&format!(
                "<tr class=\"{kind}\"><td class=\"kind\">{kind}</td><td class=\"name\">{}</td><td class=\"section\">{sec}</td><td>{}",
                html_escape(&c.name),
                html_escape(&c.summary)
            ));
            let extra: Vec<&String> = extra_details(c).collect();
            if !extra.is_empty() {
                s.push_str("<ul>");
                for det in extra {
                    s.push_str(&format!("<li><code>{}</code></li>", html_escape(det)));
                }
                s.push_str("</ul>");
            }
            s.push_str("</td></tr>\n");
        }
        s.push_str("</table></section>\n");
    }
    s
}

pub const HTML_STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#222}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top;text-align:left}\
tr.added td.kind{color:#0a6b1f}tr.removed td.kind{color:#a4161a}tr.changed td.kind{color:#8a5a00}\
td.kind{font-weight:600;width:5rem}td.name{font-family:monospace;width:14rem}td.section{width:5rem;color:#555}\
code{font-size:.85rem;white-space:pre-wrap}.none{color:#555}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
svg{display:block;margin:.5rem 0 1.5rem}tr.first td{border-top:1px solid #bbb}\
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.sides ul{padding-left:1.2rem}\
li.differs{background:#fff3c4}li.differs code{font-weight:600}details{margin:.4rem 0}";

/// A complete, self-contained HTML report.
pub fn to_html(d: &Diff, impact_html: Option<&str>) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p>Version {ov} (in force {op}) compared with version {nv} (in force {np}).</p>\n{impact}{changes}</body>\n</html>\n",
        title = html_escape(&format!("{}: {} → {}", d.new.rulebook, d.old.version, d.new.version)),
        style = HTML_STYLE,
        ov = html_escape(&d.old.version),
        op = html_escape(&d.old.period()),
        nv = html_escape(&d.new.version),
        np = html_escape(&d.new.period()),
        impact = impact_html.unwrap_or(""),
        changes = to_html_fragment(d),
    )
}
