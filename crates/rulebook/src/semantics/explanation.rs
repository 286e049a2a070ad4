//! The explanation graph of a decision: every value the decision used,
//! once, with its formula, the values substituted into it, its result, its
//! citation and links to what it used; inputs are leaves with their field
//! path. `eval` builds it; this module holds its data and its text.

use serde::Serialize;
use std::collections::HashMap;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A fact of the case, at `path`.
    Input,
    Parameter,
    /// An intermediate rule (`let`).
    Rule,
    Output,
    /// A table read with the given arguments; `rows` are the rows used.
    Table,
    Scale,
    /// A function called with the given arguments.
    Function,
    /// An aggregate over a list (`sum(... for m in members)`), item by item.
    Items,
    /// A failed eligibility criterion.
    Criterion,
    /// A value taken from a rulebook this one uses, in the version in force
    /// (`source` names both); a decision of it leads, through `uses`, into
    /// its own explanation, whose nodes' ids start with its alias and `/`.
    Used,
}

/// Items of a list that were worked out alike, folded into one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemGroup {
    /// The items' positions in the list, from 1.
    pub items: Vec<usize>,
    /// What each item contributed.
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplainNode {
    /// Unique within the graph: a definition's name, `input:PATH`,
    /// `table:NAME(ARGS)`, `scale:NAME(ARG)`, `function:NAME(ARGS)`,
    /// `items:RULE#N`, `criterion:NAME`.
    pub id: String,
    pub kind: NodeKind,
    pub name: String,
    /// An input's field path, such as `household.members[2].age`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The formula or condition as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The formula with the values it used in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substituted: Option<String>,
    pub value: String,
    /// The exception (`unless ...`) that decided the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A dated parameter's value: the date it is in force from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_force_from: Option<String>,
    /// A table's rows used, from 1.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<usize>,
    /// A failed criterion's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemGroup>,
    /// The ids of the nodes this one used, in the order used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<String>,
}

/// A decision's explanation: the outputs (eligible) or failed criteria
/// (not eligible) as roots, and every node they reach, each once.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ExplanationGraph {
    pub outputs: Vec<String>,
    pub failed_criteria: Vec<String>,
    pub nodes: Vec<ExplainNode>,
}

// ---- the text rendering --------------------------------------------------

/// The graph as text, top down: each root, then what it used, each value
/// once; the facts of the case last.
pub fn to_text(g: &ExplanationGraph) -> String {
    let by_id: HashMap<&str, &ExplainNode> = g.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let order = reached(g);
    let mut s = String::new();
    let mut facts = Vec::new();
    for n in order {
        if n.kind == NodeKind::Input {
            facts.push(format!("  {} = {}\n", n.name, n.value));
            continue;
        }
        s.push_str(&line(n));
        for gr in &n.items {
            let which: Vec<String> = gr.items.iter().map(usize::to_string).collect();
            let noun = if gr.items.len() == 1 { "item" } else { "items" };
            // What each item's value came from, by name (explained below).
            let from: Vec<&str> = gr
                .uses
                .iter()
                .filter_map(|u| by_id.get(u.as_str()))
                .filter(|u| u.kind != NodeKind::Input)
                .map(|u| u.name.as_str())
                .collect();
            let from = if from.is_empty() {
                String::new()
            } else {
                format!(" ({})", from.join(", "))
            };
            s.push_str(&format!(
                "    {noun} {}: {}{from}\n",
                which.join(", "),
                gr.value
            ));
        }
    }
    if !facts.is_empty() {
        s.push_str("facts of the case:\n");
        for f in facts {
            s.push_str(&f);
        }
    }
    s
}

/// The nodes the roots reach, each once, depth first in the order used: the
/// order of the text rendering and of a decision letter.
pub fn reached(g: &ExplanationGraph) -> Vec<&ExplainNode> {
    let by_id: HashMap<&str, &ExplainNode> = g.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut order: Vec<&ExplainNode> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut todo: Vec<&str> = g
        .outputs
        .iter()
        .chain(&g.failed_criteria)
        .rev()
        .map(String::as_str)
        .collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(n) = by_id.get(id) else { continue };
        order.push(n);
        let mut next: Vec<&str> = n.uses.iter().map(String::as_str).collect();
        for gr in &n.items {
            next.extend(gr.uses.iter().map(String::as_str));
        }
        for u in next.into_iter().rev() {
            if !seen.contains(u) {
                todo.push(u);
            }
        }
    }
    order
}

fn line(n: &ExplainNode) -> String {
    let cite = match (&n.section, &n.source) {
        (Some(sec), Some(src)) => format!(" (§ {sec}, {src})"),
        (Some(sec), None) => format!(" (§ {sec})"),
        (None, Some(src)) => format!(" ({src})"),
        (None, None) => String::new(),
    };
    match n.kind {
        NodeKind::Criterion => format!(
            "  {}: {} = {} = false{cite}\n    reason: {}\n",
            n.name,
            n.formula.as_deref().unwrap_or(""),
            n.substituted.as_deref().unwrap_or(""),
            n.reason.as_deref().unwrap_or("")
        ),
        NodeKind::Table => {
            let rows: Vec<String> = n.rows.iter().map(usize::to_string).collect();
            let inline = match (&n.section, &n.source) {
                (Some(sec), _) => format!(", § {sec}"),
                (None, Some(src)) => format!(", {src}"),
                (None, None) => String::new(),
            };
            format!(
                "  {} = {} (row {} of the table{inline})\n",
                n.name,
                n.value,
                rows.join(", ")
            )
        }
        NodeKind::Scale => format!(
            "  {} = {} ({})\n",
            n.name,
            n.value,
            n.formula.as_deref().unwrap_or("")
        ),
        _ => {
            let mut s = format!("  {}", n.name);
            if let Some(f) = n.formula.as_ref().filter(|f| **f != n.value) {
                s.push_str(&format!(" = {f}"));
            }
            if let Some(x) = &n.substituted {
                s.push_str(&format!(" = {x}"));
            }
            s.push_str(&format!(" = {}", n.value));
            if let Some(e) = &n.exception {
                s.push_str(&format!(" (the exception applies: {e})"));
            }
            s.push_str(&cite);
            if let Some(d) = &n.in_force_from {
                s.push_str(&format!(", in force from {d}"));
            }
            s.push('\n');
            s
        }
    }
}
