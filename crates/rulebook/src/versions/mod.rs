//! Programmes as families of yearly versions: amendments, validity-period
//! checks and choosing the version in force on a decision date.
//!
//! A version that says `amends V` inherits every item of version V of the
//! same programme except its header and examples; an item it writes again
//! (by kind and name) replaces the inherited one, and `remove a, b` drops
//! inherited items. The result is the fully written-out text, checked like
//! any other rulebook, so an amendment behaves exactly as the copy it stands
//! for.

pub mod workspace;

use crate::check::Checked;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::eval::Executable;
use crate::ir::Program;
use crate::syntax::split_blocks;
use chrono::NaiveDate;
use std::collections::HashSet;

/// Written-out text and where each of its blocks came from.
pub type WrittenOut = (String, Vec<(Span, Origin)>);

/// One rulebook file as read.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// A checked version. For an amendment, `text` is the written-out text the
/// diagnostics' spans refer to, and `origin` maps it back to the files.
pub struct Version {
    pub name: String,
    pub text: String,
    /// The checker's result. Its `program` has moved to `executable`.
    pub checked: Checked,
    /// The checked program, ready to decide cases; `None` when the version
    /// has errors.
    pub executable: Option<Executable>,
    /// For each written-out block: its span in `text`, and where it came
    /// from (the amending file itself, or the named base version).
    pub origin: Vec<(Span, Origin)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Own { offset: usize },
    Inherited { from: String },
}

impl Version {
    pub fn program(&self) -> Option<&Executable> {
        self.executable.as_ref()
    }
    /// Where a span of the checked text is in the file's own text: itself
    /// for a version that amends nothing; for an amendment, only spans in
    /// its own items have a place (inherited ones are in the base's file).
    pub fn own_span(&self, s: Span) -> Option<Span> {
        if self.origin.is_empty() {
            return Some(s);
        }
        self.origin.iter().find_map(|(seg, origin)| match origin {
            Origin::Own { offset } if s.start >= seg.start && s.start <= seg.end => {
                Some(Span::new(
                    s.start - seg.start + offset,
                    s.end.min(seg.end) - seg.start + offset,
                ))
            }
            _ => None,
        })
    }
    /// Diagnostics with spans in the file's own text. A finding inside an
    /// inherited item is reported at the `amends` clause, naming the base.
    pub fn own_diagnostics(&self, own_text: &str) -> Vec<Diagnostic> {
        if self.origin.is_empty() {
            return self.checked.diagnostics.clone();
        }
        let amends_at = own_text
            .find("amends")
            .map(|i| Span::new(i, i + 6))
            .unwrap_or_default();
        let place = |s: Span| self.own_span(s);
        self.checked
            .diagnostics
            .iter()
            .map(|d| match place(d.span) {
                Some(span) => {
                    let mut d = d.clone();
                    d.span = span;
                    d.related.retain_mut(|l| match place(l.span) {
                        Some(s) => {
                            l.span = s;
                            true
                        }
                        None => false,
                    });
                    d
                }
                None => {
                    let from = self
                        .origin
                        .iter()
                        .find_map(|(seg, o)| match o {
                            Origin::Inherited { from }
                                if d.span.start >= seg.start && d.span.start <= seg.end =>
                            {
                                Some(from.clone())
                            }
                            _ => None,
                        })
                        .unwrap_or_default();
                    let mut d = d.clone();
                    d.message = format!("in an item inherited from version {from}: {}", d.message);
                    d.span = amends_at;
                    d.related.clear();
                    d
                }
            })
            .collect()
    }
}

struct Head {
    id: String,
    version: String,
    amends: Option<(String, Span)>,
}

fn head(text: &str) -> Option<Head> {
    let (file, _) = crate::syntax::parse(text);
    let h = file.header?;
    Some(Head {
        id: h.id.name,
        version: h.version.map(|v| v.name).unwrap_or_default(),
        amends: h.amends.map(|a| (a.name, a.span)),
    })
}

/// The programmes a rulebook text names with `use`, and the folders it
/// says they are in.
pub fn used_programmes(text: &str) -> Vec<(String, Option<String>)> {
    // Most rulebooks use none: they are not parsed again to find out.
    if !text
        .lines()
        .any(|l| crate::syntax::starts_item(l) && l.starts_with("use"))
    {
        return Vec::new();
    }
    let (file, _) = crate::syntax::parse(text);
    file.items
        .into_iter()
        .filter_map(|i| match i.kind {
            crate::syntax::ast::ItemKind::Use(u) => Some((u.id.name, u.from)),
            _ => None,
        })
        .collect()
}

/// The keyword and name that identify a block (`output fee`, `eligibility`).
fn block_key(block: &str) -> (String, String) {
    let mut words = block
        .lines()
        .find(|l| crate::syntax::starts_item(l))
        .unwrap_or("")
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty());
    let kw = words.next().unwrap_or("").to_string();
    let name = match kw.as_str() {
        "eligibility" | "rulebook" | "example" | "remove" => String::new(),
        _ => words.next().unwrap_or("").to_string(),
    };
    (kw, name)
}

fn removed_names(block: &str) -> Vec<(String, usize)> {
    let code = crate::syntax::code_part(block.trim_start());
    let rest = code.strip_prefix("remove").unwrap_or("");
    let offset = block.len() - block.trim_start().len() + 6;
    let mut out = Vec::new();
    let mut pos = 0;
    for part in rest.split(',') {
        let lead = part.len() - part.trim_start().len();
        let name = part.trim();
        if !name.is_empty() {
            out.push((name.to_string(), offset + pos + lead));
        }
        pos += part.len() + 1;
    }
    out
}

/// Writes out an amendment: the base's items, replaced, removed and added
/// to as the amending text says.
pub fn merge(
    base_text: &str,
    base_version: &str,
    amending: &str,
) -> Result<WrittenOut, Vec<Diagnostic>> {
    let (base_blocks, _) = split_blocks(base_text);
    let (own_blocks, stray) = split_blocks(amending);
    let mut errors = Vec::new();
    let text_of = |t: &str, s: usize, e: usize| t.get(s..e).unwrap_or("").to_string();
    let mut restated: HashSet<(String, String)> = HashSet::new();
    let mut removed: Vec<(String, Span)> = Vec::new();
    for b in &own_blocks {
        let t = text_of(amending, b.item_start, b.end);
        let key = block_key(&t);
        if key.0 == "remove" {
            for (name, at) in removed_names(&t) {
                removed.push((
                    name.clone(),
                    Span::new(b.item_start + at, b.item_start + at + name.len()),
                ));
            }
        } else {
            restated.insert(key);
        }
    }
    let base_names: HashSet<String> = base_blocks
        .iter()
        .map(|b| block_key(&text_of(base_text, b.item_start, b.end)).1)
        .collect();
    for (name, span) in &removed {
        if !base_names.contains(name) {
            errors.push(
                Diagnostic::error(
                    Code::InvalidAmendment,
                    *span,
                    format!("version {base_version} has no item `{name}` to remove"),
                )
                .with_help("remove only names the amended version defines"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let removed: HashSet<String> = removed.into_iter().map(|r| r.0).collect();
    let mut out = String::new();
    let mut origin = Vec::new();
    let mut push = |out: &mut String, t: &str, o: Origin| {
        let start = out.len();
        out.push_str(t);
        if !t.ends_with('\n') {
            out.push('\n');
        }
        origin.push((Span::new(start, out.len()), o));
    };
    if let Some(s) = stray {
        // Text before the header is left where the checker will report it.
        push(
            &mut out,
            &text_of(amending, 0, s.end),
            Origin::Own { offset: 0 },
        );
    }
    let (headers, rest): (Vec<_>, Vec<_>) = own_blocks
        .iter()
        .partition(|b| block_key(&text_of(amending, b.item_start, b.end)).0 == "rulebook");
    for b in &headers {
        push(
            &mut out,
            &text_of(amending, b.start, b.end),
            Origin::Own { offset: b.start },
        );
    }
    for b in &base_blocks {
        let t = text_of(base_text, b.start, b.end);
        let key = block_key(&text_of(base_text, b.item_start, b.end));
        if matches!(key.0.as_str(), "rulebook" | "example" | "remove")
            || restated.contains(&key)
            || removed.contains(&key.1)
        {
            continue;
        }
        push(
            &mut out,
            &t,
            Origin::Inherited {
                from: base_version.to_string(),
            },
        );
    }
    for b in rest {
        let t = text_of(amending, b.start, b.end);
        if block_key(&text_of(amending, b.item_start, b.end)).0 == "remove" {
            continue;
        }
        push(&mut out, &t, Origin::Own { offset: b.start });
    }
    Ok((out, origin))
}

/// Checks a set of rulebook files together: amendments are written out
/// against their base versions, and each programme's versions are checked
/// for overlapping and missing periods. Returns one version per source, in
/// order, and the version-level findings by source index.
pub fn load(sources: &[Source]) -> (Vec<Version>, Vec<(usize, Diagnostic)>) {
    let heads: Vec<Option<Head>> = sources.iter().map(|s| head(&s.text)).collect();
    let mut texts: Vec<Option<WrittenOut>> = vec![None; sources.len()];
    // Amendments whose base could not be applied: checked on their own text.
    let mut unamended = vec![false; sources.len()];
    let mut findings: Vec<(usize, Diagnostic)> = Vec::new();
    // A file whose header does not parse amends nothing as far as is known:
    // it is checked as it is, and its syntax error is the finding.
    for (i, h) in heads.iter().enumerate() {
        if h.is_none() {
            texts[i] = Some((sources[i].text.clone(), Vec::new()));
        }
    }
    // Write out amendments; a chain (2020 amends 2019 amends 2018) is
    // resolved by repeating until nothing changes.
    for _ in 0..sources.len() {
        let mut progress = false;
        for (i, h) in heads.iter().enumerate() {
            let (Some(h), None) = (h, &texts[i]) else {
                continue;
            };
            let Some((base_v, span)) = &h.amends else {
                texts[i] = Some((sources[i].text.clone(), Vec::new()));
                progress = true;
                continue;
            };
            let base = heads.iter().position(|b| {
                b.as_ref()
                    .is_some_and(|b| b.id == h.id && b.version == *base_v)
            });
            match base {
                None => {
                    findings.push((
                        i,
                        Diagnostic::error(Code::InvalidAmendment, *span, format!("there is no version {base_v} of `{}` to amend", h.id))
                            .with_help("check the version name, and check this file together with the folder that holds the amended version"),
                    ));
                    texts[i] = Some((sources[i].text.clone(), Vec::new()));
                    unamended[i] = true;
                    progress = true;
                }
                Some(b) if b == i => {
                    findings.push((
                        i,
                        Diagnostic::error(
                            Code::InvalidAmendment,
                            *span,
                            "a version cannot amend itself",
                        )
                        .with_help("name the previous version"),
                    ));
                    texts[i] = Some((sources[i].text.clone(), Vec::new()));
                    unamended[i] = true;
                    progress = true;
                }
                Some(b) => {
                    let Some((base_text, _)) = &texts[b] else {
                        continue;
                    };
                    match merge(base_text, base_v, &sources[i].text) {
                        Ok(m) => texts[i] = Some(m),
                        Err(errs) => {
                            findings.extend(errs.into_iter().map(|e| (i, e)));
                            texts[i] = Some((sources[i].text.clone(), Vec::new()));
                            unamended[i] = true;
                        }
                    }
                    progress = true;
                }
            }
        }
        if !progress {
            break;
        }
    }
    let written: Vec<WrittenOut> = sources
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(i, (s, t))| {
            t.unwrap_or_else(|| {
                findings.push((
                    i,
                    Diagnostic::error(
                        Code::InvalidAmendment,
                        Span::default(),
                        "the versions amend each other in a circle",
                    )
                    .with_help("each version may amend only an earlier one"),
                ));
                (s.text.clone(), Vec::new())
            })
        })
        .collect();
    // An amendment's header is its own: the ids read before writing out hold.
    let ids: Vec<Option<String>> = heads
        .iter()
        .map(|h| h.as_ref().map(|h| h.id.clone()).filter(|id| !id.is_empty()))
        .collect();
    let order = check_order(&written, ids);
    let mut checked: Vec<Option<Checked>> = (0..sources.len()).map(|_| None).collect();
    let mut library = crate::check::Library::default();
    for step in order {
        for &i in &step.versions {
            let Some((text, _)) = written.get(i) else {
                continue;
            };
            library.users = step.users.clone();
            let mut c = crate::check::check_using(text, &library);
            if unamended.get(i).copied().unwrap_or(false) {
                // Without its base, an amendment's own items name inputs,
                // types and outputs that are not there: only what is wrong
                // in its own text is reported, beside the one finding that
                // the base is missing.
                c.diagnostics.retain(|d| {
                    matches!(
                        d.code,
                        Code::Syntax
                            | Code::InvalidDate
                            | Code::InvalidNumber
                            | Code::BidiControl
                            | Code::TooDeep
                    )
                });
                c.program = None;
            }
            if let Some(slot) = checked.get_mut(i) {
                *slot = Some(c);
            }
        }
        // The programme's versions, now checked, can be used by the next.
        if let Some(id) = &step.id {
            let mut good = Vec::new();
            for &i in &step.versions {
                let Some(c) = checked.get(i).and_then(|c| c.as_ref()) else {
                    continue;
                };
                match &c.program {
                    Some(p) => good.push(std::sync::Arc::new(p.clone())),
                    None => {
                        library.with_errors.insert(id.clone());
                    }
                }
            }
            if !good.is_empty() {
                library.programmes.insert(id.clone(), good);
            }
        }
    }
    let versions: Vec<Version> = sources
        .iter()
        .zip(written)
        .zip(checked)
        .map(|((s, (text, origin)), c)| {
            let mut checked = c.unwrap_or_else(|| crate::check::check(&text));
            let executable = checked.program.take().map(Executable::new);
            Version {
                name: s.name.clone(),
                text,
                checked,
                executable,
                origin,
            }
        })
        .collect();
    findings.extend(check_periods(&versions));
    (versions, findings)
}

/// The versions of one programme, checked together once the programmes
/// they use are.
struct Step {
    id: Option<String>,
    versions: Vec<usize>,
    /// The programmes that use this one, directly or not.
    users: HashSet<String>,
}

/// The order to check versions in: a programme after every programme it
/// uses. Programmes that use each other in a circle come last, each told
/// who uses it, so that the `use` closing the circle is reported.
fn check_order(written: &[WrittenOut], of_version: Vec<Option<String>>) -> Vec<Step> {
    let mut ids: Vec<String> = Vec::new();
    let mut uses: std::collections::HashMap<String, HashSet<String>> = Default::default();
    for ((text, _), id) in written.iter().zip(&of_version) {
        if let Some(id) = id {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
            uses.entry(id.clone())
                .or_default()
                .extend(used_programmes(text).into_iter().map(|u| u.0));
        }
    }
    // Who uses each programme, directly or not.
    let users_of = |target: &str| -> HashSet<String> {
        let mut found: HashSet<String> = HashSet::new();
        let mut todo = vec![target.to_string()];
        while let Some(t) = todo.pop() {
            for (user, used) in &uses {
                if used.contains(&t) && found.insert(user.clone()) {
                    todo.push(user.clone());
                }
            }
        }
        found
    };
    let mut steps = Vec::new();
    // Versions without a header are checked first, on their own.
    let headless: Vec<usize> = (0..written.len())
        .filter(|&i| of_version[i].is_none())
        .collect();
    if !headless.is_empty() {
        steps.push(Step {
            id: None,
            versions: headless,
            users: HashSet::new(),
        });
    }
    let mut done: HashSet<String> = HashSet::new();
    let mut pending = ids.clone();
    while !pending.is_empty() {
        let ready = pending.iter().position(|id| {
            uses.get(id).is_none_or(|u| {
                u.iter()
                    .all(|d| d == id || done.contains(d) || !ids.contains(d))
            })
        });
        // In a circle nothing is ready: take the first left.
        let id = pending.remove(ready.unwrap_or(0));
        steps.push(Step {
            versions: (0..written.len())
                .filter(|&i| of_version[i].as_deref() == Some(id.as_str()))
                .collect(),
            users: users_of(&id),
            id: Some(id.clone()),
        });
        done.insert(id);
    }
    steps
}

/// Overlapping periods and clashing version names are errors; a gap
/// between consecutive versions is a warning.
fn check_periods(versions: &[Version]) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let mut by_id: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let p = &v.checked.partial;
        if p.id.is_empty() || p.version.is_empty() {
            continue;
        }
        match by_id.iter_mut().find(|(id, _)| *id == p.id) {
            Some((_, list)) => list.push(i),
            None => by_id.push((p.id.clone(), vec![i])),
        }
    }
    for (id, mut list) in by_id {
        list.sort_by_key(|i| versions[*i].checked.partial.in_force_from);
        for (n, &i) in list.iter().enumerate() {
            let p = &versions[i].checked.partial;
            for &j in list.iter().take(n) {
                let q = &versions[j].checked.partial;
                if q.version == p.version {
                    out.push((
                        i,
                        Diagnostic::error(
                            Code::VersionOverlap,
                            p.header_span,
                            format!(
                                "`{id}` has two versions named {} (also {})",
                                p.version, versions[j].name
                            ),
                        )
                        .with_help("give each yearly version its own name"),
                    ));
                } else if q.in_force_to.is_none_or(|to| to >= p.in_force_from) {
                    out.push((
                        i,
                        Diagnostic::error(
                            Code::VersionOverlap,
                            p.in_force_span,
                            format!(
                                "version {} of `{id}` is in force on {}, and so is version {} ({})",
                                p.version, p.in_force_from, q.version, versions[j].name
                            ),
                        )
                        .with_help("end the earlier version the day before this one starts"),
                    ));
                }
            }
            if let Some(&prev) = n.checked_sub(1).and_then(|k| list.get(k)) {
                let q = &versions[prev].checked.partial;
                if let Some(to) = q.in_force_to {
                    if to.succ_opt().is_some_and(|next| next < p.in_force_from) {
                        out.push((
                            i,
                            Diagnostic::warning(
                                Code::VersionGap,
                                p.in_force_span,
                                format!(
                                    "no version of `{id}` is in force from {} to {}",
                                    to.succ_opt().unwrap_or(to),
                                    p.in_force_from.pred_opt().unwrap_or(p.in_force_from)
                                ),
                            )
                            .with_help(format!("version {} ends on {to}; start this one the day after, if nothing was meant to apply in between", q.version)),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Why no version could be chosen for a decision date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoVersion {
    /// There are no programmes at all.
    Empty,
    /// Several programmes are here and none was named.
    Ambiguous { programmes: Vec<String> },
    /// The named programme is not among them.
    UnknownProgramme { id: String, programmes: Vec<String> },
    /// No version of the programme is in force on the date; `periods`
    /// lists each version with its period.
    NotInForce {
        id: String,
        date: NaiveDate,
        periods: Vec<String>,
    },
}

impl std::fmt::Display for NoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoVersion::Empty => write!(f, "no rulebook was found"),
            NoVersion::Ambiguous { programmes } => write!(
                f,
                "several programmes are here ({}); say which one",
                programmes.join(", ")
            ),
            NoVersion::UnknownProgramme { id, programmes } => write!(
                f,
                "there is no programme `{id}`; the programmes are {}",
                programmes.join(", ")
            ),
            NoVersion::NotInForce { id, date, periods } => write!(
                f,
                "no version of `{id}` is in force on {date}; the versions are: {}",
                periods.join("; ")
            ),
        }
    }
}

impl std::error::Error for NoVersion {}

/// The position in `programs` of the version of a programme in force on a
/// date (`id` may be left out when only one programme is given).
pub fn select(
    programs: &[&Program],
    id: Option<&str>,
    date: NaiveDate,
) -> Result<usize, NoVersion> {
    let ids: Vec<&str> = {
        let mut v: Vec<&str> = programs.iter().map(|p| p.id.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let names = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect();
    let id = match (id, ids.as_slice()) {
        (Some(id), _) => id,
        (None, [one]) => one,
        (None, []) => return Err(NoVersion::Empty),
        (None, many) => {
            return Err(NoVersion::Ambiguous {
                programmes: names(many),
            })
        }
    };
    if let Some(i) = programs
        .iter()
        .position(|p| p.id == id && p.in_force_on(date))
    {
        return Ok(i);
    }
    let family: Vec<&&Program> = programs.iter().filter(|p| p.id == id).collect();
    if family.is_empty() {
        return Err(NoVersion::UnknownProgramme {
            id: id.to_string(),
            programmes: names(&ids),
        });
    }
    let mut periods: Vec<String> = family
        .iter()
        .map(|p| match p.in_force_to {
            Some(to) => format!("{} from {} to {to}", p.version, p.in_force_from),
            None => format!("{} from {}", p.version, p.in_force_from),
        })
        .collect();
    periods.sort();
    Err(NoVersion::NotInForce {
        id: id.to_string(),
        date,
        periods,
    })
}

/// A version asked to decide a date outside its own validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffPeriod {
    pub id: String,
    pub version: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub date: NaiveDate,
    /// The version of the same programme in force on the date, if any.
    pub in_force: Option<String>,
}

impl std::fmt::Display for OffPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let period = match self.to {
            Some(to) => format!("from {} to {to}", self.from),
            None => format!("from {}", self.from),
        };
        write!(
            f,
            "version {} of `{}` is in force {period}, not on {}; ",
            self.version, self.id, self.date
        )?;
        match &self.in_force {
            Some(v) => write!(f, "version {v} is in force on that date"),
            None => write!(f, "no version found beside it is in force on that date"),
        }
    }
}

impl std::error::Error for OffPeriod {}

/// Whether `p` may decide `date`: it may only within its validity period.
/// `others` are the versions beside it, to name the one in force instead.
pub fn within_period(p: &Program, date: NaiveDate, others: &[&Program]) -> Result<(), OffPeriod> {
    if p.in_force_on(date) {
        return Ok(());
    }
    Err(OffPeriod {
        id: p.id.clone(),
        version: p.version.clone(),
        from: p.in_force_from,
        to: p.in_force_to,
        date,
        in_force: others
            .iter()
            .find(|o| o.id == p.id && o.in_force_on(date))
            .map(|o| o.version.clone()),
    })
}
