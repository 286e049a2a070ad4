//! The decision letter: the reasons part of an administrative decision
//! (hallintolaki 434/2003 45 §), in one of the rulebook's languages.
//!
//! Nothing in it is invented: the outcome, the facts that affected the
//! decision (only those the explanation graph used), each amount with how it
//! was reached, and the provisions applied all come from the rulebook's
//! texts and the decision's explanation graph. The letter's own words are a
//! fixed set of headings and phrases per language. Numbers and
//! dates are written as readers of the language write them (`1 234,56 €`
//! and `2.3.2024` in Finnish and Swedish).

use crate::eval::{Case, Decision};
use crate::ir::Program;
use crate::semantics::explanation::{reached, ExplainNode, NodeKind};
use serde::Serialize;
use std::collections::HashMap;

/// The letter's own words in one language.
struct Words {
    decision: &'static str,
    decision_date: &'static str,
    granted: &'static str,
    refused: &'static str,
    reasons: &'static str,
    facts: &'static str,
    amounts: &'static str,
    how: &'static str,
    provisions: &'static str,
    not_met: &'static str,
    yes: &'static str,
    no: &'static str,
    rounded_cents: &'static str,
    rounded_euros: &'static str,
    row: &'static str,
    months: [&'static str; 12],
}

const FI: Words = Words {
    decision: "Päätös",
    decision_date: "Päätöspäivä",
    granted: "Myönteinen: edellytykset täyttyvät.",
    refused: "Kielteinen: kaikki edellytykset eivät täyty.",
    reasons: "Perustelut",
    facts: "Päätökseen vaikuttaneet tiedot",
    amounts: "Määrät ja niiden laskeminen",
    how: "Laskelma",
    provisions: "Sovelletut säännökset",
    not_met: "Edellytys ei täyty",
    yes: "kyllä",
    no: "ei",
    rounded_cents: "pyöristettynä sentteihin",
    rounded_euros: "pyöristettynä täysiin euroihin",
    row: "taulukon rivi",
    months: [""; 12],
};

const SV: Words = Words {
    decision: "Beslut",
    decision_date: "Beslutsdatum",
    granted: "Positivt: villkoren uppfylls.",
    refused: "Negativt: alla villkor uppfylls inte.",
    reasons: "Motivering",
    facts: "Uppgifter som påverkade beslutet",
    amounts: "Belopp och hur de räknades ut",
    how: "Beräkning",
    provisions: "Tillämpade bestämmelser",
    not_met: "Villkoret uppfylls inte",
    yes: "ja",
    no: "nej",
    rounded_cents: "avrundat till cent",
    rounded_euros: "avrundat till hela euro",
    row: "tabellens rad",
    months: [""; 12],
};

const EN: Words = Words {
    decision: "Decision",
    decision_date: "Decision date",
    granted: "Granted: the conditions are met.",
    refused: "Refused: not every condition is met.",
    reasons: "Reasons",
    facts: "Facts that affected the decision",
    amounts: "Amounts and how they were reached",
    how: "Calculation",
    provisions: "Provisions applied",
    not_met: "Condition not met",
    yes: "yes",
    no: "no",
    rounded_cents: "rounded to cents",
    rounded_euros: "rounded to whole euros",
    row: "table row",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

/// The languages a letter can be written in.
pub const LETTER_LANGUAGES: &[&str] = &["fi", "sv", "en"];

fn words(lang: &str) -> &'static Words {
    match lang {
        "sv" => &SV,
        "en" => &EN,
        _ => &FI,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    pub label: String,
    pub value: String,
    /// How the value was reached: the formula with the values in place.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub how: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub reason: String,
    /// The condition with the case's values in it.
    pub condition: String,
}

/// A decision letter's content, in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Letter {
    pub language: String,
    pub title: String,
    pub decision_date: String,
    pub eligible: bool,
    pub outcome: String,
    pub refusals: Vec<Refusal>,
    pub amounts: Vec<Amount>,
    pub facts: Vec<Fact>,
    pub provisions: Vec<String>,
}

/// Why a letter cannot be written.
#[derive(Debug, Clone, PartialEq)]
pub struct NoLetter(pub String);

/// The letter of a decision made with its explanation.
pub fn letter(p: &Program, case: &Case, d: &Decision, lang: &str) -> Result<Letter, NoLetter> {
    if !LETTER_LANGUAGES.contains(&lang) {
        return Err(NoLetter(format!(
            "`{lang}` is not a letter language: write fi, sv or en"
        )));
    }
    if p.languages.is_empty() {
        return Err(NoLetter(format!(
            "{} declares no languages, so its texts cannot be put in a letter: add `languages fi, sv, en` (the plain texts' language first) to its header and write its texts in each",
            p.id
        )));
    }
    if !p.languages.iter().any(|l| l == lang) {
        return Err(NoLetter(format!(
            "{} is written in {}, not in `{lang}`",
            p.id,
            p.languages.join(", ")
        )));
    }
    let Some(g) = &d.graph else {
        return Err(NoLetter(
            "the decision was made without its explanation; evaluate with the explanation to write a letter".into(),
        ));
    };
    let w = words(lang);
    let text = |key: &str, fallback: &str| -> String {
        p.text_in(key, lang).unwrap_or(fallback).to_string()
    };
    let by_id: HashMap<&str, &ExplainNode> = g.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let refusals = g
        .failed_criteria
        .iter()
        .filter_map(|id| by_id.get(id.as_str()))
        .map(|n| Refusal {
            reason: text(
                &format!("criterion:{}", n.name),
                n.reason.as_deref().unwrap_or(""),
            ),
            // Only a condition that compares values says more than the
            // facts below (`17 ≥ 18`; not `not ((false) or (true))`).
            condition: n
                .substituted
                .as_deref()
                .filter(|c| c.chars().any(|ch| ch.is_ascii_digit()))
                .map(|c| local(c, lang))
                .unwrap_or_default(),
        })
        .collect();
    // A step shared by two amounts is shown under the first.
    let mut shown = std::collections::HashSet::new();
    let amounts = g
        .outputs
        .iter()
        .filter_map(|id| by_id.get(id.as_str()))
        .map(|n| Amount {
            label: text(&format!("output:{}", n.name), &n.name),
            value: local(&n.value, lang),
            how: how(n, &by_id, lang, w, &mut shown),
        })
        .collect();
    let order = reached(g);
    let facts = order
        .iter()
        .filter(|n| n.kind == NodeKind::Input)
        .map(|n| Fact {
            label: text(&format!("input:{}", n.name), &n.name),
            value: local(&n.value, lang),
        })
        .collect();
    let mut provisions: Vec<String> = Vec::new();
    for n in &order {
        let cited = match (&n.section, &n.source) {
            (Some(s), Some(src)) => format!("§ {s}, {src}"),
            (Some(s), None) => format!("§ {s}"),
            (None, Some(src)) => src.clone(),
            (None, None) => continue,
        };
        if !provisions.contains(&cited) {
            provisions.push(cited);
        }
    }
    Ok(Letter {
        language: lang.to_string(),
        title: text("title", p.title.as_deref().unwrap_or(&p.id)),
        decision_date: local_date(&case.decision_date.to_string(), lang),
        eligible: d.eligible,
        outcome: if d.eligible { w.granted } else { w.refused }.to_string(),
        refusals,
        amounts,
        facts,
        provisions,
    })
}

/// How an output was reached: its own calculation, then each rule,
/// parameter and table value it used, in the language's number format.
fn how<'g>(
    n: &ExplainNode,
    by_id: &HashMap<&str, &'g ExplainNode>,
    lang: &str,
    w: &Words,
    seen: &mut std::collections::HashSet<&'g str>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(x) = &n.substituted {
        out.push(format!(
            "{}: {} = {}",
            w.how,
            words_in(&local(x, lang), w),
            local(&n.value, lang)
        ));
    }
    let mut todo: Vec<&str> = n.uses.iter().rev().map(String::as_str).collect();
    while let Some(id) = todo.pop() {
        let Some(u) = by_id.get(id) else { continue };
        if !seen.insert(u.id.as_str()) {
            continue;
        }
        if u.kind == NodeKind::Input || u.kind == NodeKind::Output {
            continue;
        }
        let value = local(&u.value, lang);
        let line = match u.kind {
            NodeKind::Table => {
                let rows: Vec<String> = u.rows.iter().map(usize::to_string).collect();
                format!(
                    "{} = {value} ({} {})",
                    local(&u.name, lang),
                    w.row,
                    rows.join(", ")
                )
            }
            _ => match &u.substituted {
                Some(x) => format!("{} = {} = {value}", u.name, words_in(&local(x, lang), w)),
                None => format!("{} = {value}", local(&u.name, lang)),
            },
        };
        out.push(line);
        let mut next: Vec<&str> = u.uses.iter().map(String::as_str).collect();
        for gr in &u.items {
            next.extend(gr.uses.iter().map(String::as_str));
        }
        for x in next.into_iter().rev() {
            todo.push(x);
        }
    }
    out
}

/// The engine's words inside a formula, in the letter's language.
fn words_in(text: &str, w: &Words) -> String {
    text.replace("rounded to whole euros", w.rounded_euros)
        .replace("rounded to cents", w.rounded_cents)
}

/// Numbers, dates and yes/no as the language writes them: in Finnish and
/// Swedish `1 234,56 €` and `2.3.2024`, in English `1,234.56 €` and
/// `2 March 2024`.
pub fn local(text: &str, lang: &str) -> String {
    let w = words(lang);
    match text {
        "true" => return w.yes.to_string(),
        "false" => return w.no.to_string(),
        _ => {}
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c.is_ascii_digit() && starts_word {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_digit() || chars[j] == '.' || chars[j] == '-')
            {
                j += 1;
            }
            // A number ends before a trailing dot or hyphen.
            while j > i && matches!(chars[j - 1], '.' | '-') {
                j -= 1;
            }
            let ends_word = j >= chars.len() || !(chars[j].is_alphanumeric() || chars[j] == '_');
            let token: String = chars[i..j].iter().collect();
            if ends_word {
                out.push_str(&local_token(&token, lang));
            } else {
                out.push_str(&token);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn local_token(token: &str, lang: &str) -> String {
    if token.len() == 10 && token.chars().filter(|c| *c == '-').count() == 2 {
        return local_date(token, lang);
    }
    if token.contains('-') || token.matches('.').count() > 1 {
        return token.to_string();
    }
    let (whole, fraction) = match token.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (token, None),
    };
    let (group, point) = match lang {
        "en" => (',', '.'),
        _ => ('\u{a0}', ','),
    };
    // Amounts group their thousands (`1 234,56`); a four-digit whole number
    // (a year, a count) stays together.
    let min_len = if fraction.is_some() { 4 } else { 5 };
    let mut s = String::new();
    for (k, ch) in whole.chars().enumerate() {
        if k > 0 && (whole.len() - k) % 3 == 0 && whole.len() >= min_len {
            s.push(group);
        }
        s.push(ch);
    }
    if let Some(f) = fraction {
        s.push(point);
        s.push_str(f);
    }
    s
}

fn local_date(iso: &str, lang: &str) -> String {
    let Ok(d) = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") else {
        return iso.to_string();
    };
    use chrono::Datelike;
    match lang {
        "en" => format!(
            "{} {} {}",
            d.day(),
            words("en")
                .months
                .get(d.month0() as usize)
                .copied()
                .unwrap_or(""),
            d.year()
        ),
        _ => format!("{}.{}.{}", d.day(), d.month(), d.year()),
    }
}

// ---- renderings ----------------------------------------------------------

fn in_parens(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}

pub fn to_text(l: &Letter) -> String {
    let w = words(&l.language);
    let mut s = format!(
        "{}\n{}\n\n{}: {}\n{}: {}\n",
        l.title,
        "=".repeat(l.title.chars().count()),
        w.decision_date,
        l.decision_date,
        w.decision,
        l.outcome
    );
    s.push_str(&format!("\n{}\n", w.reasons));
    for r in &l.refusals {
        s.push_str(&format!(
            "- {}: {}{}\n",
            w.not_met,
            r.reason,
            in_parens(&r.condition)
        ));
    }
    if !l.amounts.is_empty() {
        s.push_str(&format!("\n{}\n", w.amounts));
        for a in &l.amounts {
            s.push_str(&format!("- {}: {}\n", a.label, a.value));
            for h in &a.how {
                s.push_str(&format!("    {h}\n"));
            }
        }
    }
    if !l.facts.is_empty() {
        s.push_str(&format!("\n{}\n", w.facts));
        for f in &l.facts {
            s.push_str(&format!("- {}: {}\n", f.label, f.value));
        }
    }
    if !l.provisions.is_empty() {
        s.push_str(&format!("\n{}\n", w.provisions));
        for p in &l.provisions {
            s.push_str(&format!("- {p}\n"));
        }
    }
    s
}

pub fn to_markdown(l: &Letter) -> String {
    let w = words(&l.language);
    let mut s = format!(
        "# {}\n\n**{}:** {}  \n**{}:** {}\n\n## {}\n\n",
        l.title, w.decision_date, l.decision_date, w.decision, l.outcome, w.reasons
    );
    for r in &l.refusals {
        let c = if r.condition.is_empty() {
            String::new()
        } else {
            format!(" (`{}`)", r.condition)
        };
        s.push_str(&format!("- {}: {}{c}\n", w.not_met, r.reason));
    }
    if !l.amounts.is_empty() {
        s.push_str(&format!("\n### {}\n\n", w.amounts));
        for a in &l.amounts {
            s.push_str(&format!("- **{}: {}**\n", a.label, a.value));
            for h in &a.how {
                s.push_str(&format!("  - {h}\n"));
            }
        }
    }
    if !l.facts.is_empty() {
        s.push_str(&format!("\n### {}\n\n", w.facts));
        for f in &l.facts {
            s.push_str(&format!("- {}: {}\n", f.label, f.value));
        }
    }
    if !l.provisions.is_empty() {
        s.push_str(&format!("\n### {}\n\n", w.provisions));
        for p in &l.provisions {
            s.push_str(&format!("- {p}\n"));
        }
    }
    s
}

const LETTER_STYLE: &str = "body{font-family:Georgia,'Times New Roman',serif;max-width:42rem;margin:2rem auto;color:#111;line-height:1.45}\
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #999}\
h3{font-size:1rem;margin-top:1.2rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}\
dt{font-weight:bold}ul{padding-left:1.2rem}li{margin:.15rem 0}.how{font-size:.92rem;color:#333;list-style:none;padding-left:.8rem}\
.value{white-space:nowrap;font-variant-numeric:tabular-nums}\
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}li{break-inside:avoid}}";

pub fn to_html(l: &Letter) -> String {
    use crate::ops::diff::html_escape as e;
    let w = words(&l.language);
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{LETTER_STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>\n<h2>{}</h2>\n",
        e(&l.language),
        e(&l.title),
        e(&l.title),
        e(w.decision_date),
        e(&l.decision_date),
        e(w.decision),
        e(&l.outcome),
        e(w.reasons)
    );
    if !l.refusals.is_empty() {
        s.push_str("<ul>\n");
        for r in &l.refusals {
            s.push_str(&format!(
                "<li>{}: {} <span class=\"value\">{}</span></li>\n",
                e(w.not_met),
                e(&r.reason),
                e(&in_parens(&r.condition))
            ));
        }
        s.push_str("</ul>\n");
    }
    if !l.amounts.is_empty() {
        s.push_str(&format!("<h3>{}</h3>\n<ul>\n", e(w.amounts)));
        for a in &l.amounts {
            s.push_str(&format!(
                "<li><strong>{}: <span class=\"value\">{}</span></strong>",
                e(&a.label),
                e(&a.value)
            ));
            if !a.how.is_empty() {
                s.push_str("<ul class=\"how\">");
                for h in &a.how {
                    s.push_str(&format!("<li>{}</li>", e(h)));
                }
                s.push_str("</ul>");
            }
            s.push_str("</li>\n");
        }
        s.push_str("</ul>\n");
    }
    if !l.facts.is_empty() {
        s.push_str(&format!("<h3>{}</h3>\n<dl>\n", e(w.facts)));
        for f in &l.facts {
            s.push_str(&format!(
                "<dt>{}</dt><dd class=\"value\">{}</dd>\n",
                e(&f.label),
                e(&f.value)
            ));
        }
        s.push_str("</dl>\n");
    }
    if !l.provisions.is_empty() {
        s.push_str(&format!("<h3>{}</h3>\n<ul>\n", e(w.provisions)));
        for p in &l.provisions {
            s.push_str(&format!("<li>{}</li>\n", e(p)));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn numbers_and_dates_in_each_language() {
        assert_eq!(local("1234567.89 €", "fi"), "1\u{a0}234\u{a0}567,89 €");
        assert_eq!(local("32.18 €", "sv"), "32,18 €");
        assert_eq!(local("1234567.89 €", "en"), "1,234,567.89 €");
        assert_eq!(local("2024-03-02", "fi"), "2.3.2024");
        assert_eq!(local("2024-03-02", "en"), "2 March 2024");
        assert_eq!(
            local("min(31.60 €, 42.00 €) × 40", "fi"),
            "min(31,60 €, 42,00 €) × 40"
        );
        assert_eq!(local("true", "sv"), "ja");
        // Names with digits keep them.
        assert_eq!(local("level2 = 3", "fi"), "level2 = 3");
        assert_eq!(local("1000.00 €", "fi"), "1\u{a0}000,00 €");
        assert_eq!(local("year 2024", "fi"), "year 2024");
    }
}
