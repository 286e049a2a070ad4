//! The explanation graph: every value a decision used, once, with its
//! formula, the values substituted into it, its result, its citation and
//! links to what it used. Inputs are leaves with their field path; function
//! calls and list items are explained inside, and a call with the same
//! arguments is one node however often it is made.
//!
//! Built by the interpreter after the decision, so that it costs nothing
//! when no explanation is asked for.

use super::{cite_inline, cited, scale_value, with_stack, Evaluator, Slot};
use crate::ir::value::Value;
use crate::ir::{CriterionInfo, DefBody, Expr, ExprKind, UsedItem};
pub use crate::semantics::explanation::{ExplainNode, ExplanationGraph, ItemGroup, NodeKind};
use crate::syntax::ast::ScaleKind;
use std::collections::HashMap;

/// Nodes beyond this are left out (and the graph says so in its last node).
const MAX_NODES: usize = 20_000;

#[derive(Default)]
struct Builder {
    nodes: Vec<ExplainNode>,
    index: HashMap<String, usize>,
    /// Items nodes per rule, to number them.
    items_seen: HashMap<String, usize>,
    /// The rule, function or criterion being explained, innermost last: an
    /// aggregate is named after where it is.
    owners: Vec<String>,
    truncated: bool,
}

impl Builder {
    fn has(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }
    /// Reserves a node's place before its uses are explained, so that the
    /// graph lists it before them and a cycle through it cannot recur.
    fn reserve(&mut self, node: ExplainNode) -> Option<usize> {
        if self.nodes.len() >= MAX_NODES {
            self.truncated = true;
            return None;
        }
        let k = self.nodes.len();
        self.index.insert(node.id.clone(), k);
        self.nodes.push(node);
        Some(k)
    }
    fn set_uses(&mut self, k: Option<usize>, uses: Vec<String>) {
        if let Some(n) = k.and_then(|k| self.nodes.get_mut(k)) {
            n.uses = uses;
        }
    }
}

fn node(id: String, kind: NodeKind, name: String, value: String) -> ExplainNode {
    ExplainNode {
        id,
        kind,
        name,
        path: None,
        formula: None,
        substituted: None,
        value,
        exception: None,
        section: None,
        source: None,
        in_force_from: None,
        rows: Vec::new(),
        reason: None,
        items: Vec::new(),
        uses: Vec::new(),
    }
}

impl<'p> Evaluator<'p> {
    /// The graph of a decision: outputs when eligible, else the criteria
    /// that failed.
    pub(crate) fn explanation_graph(
        &mut self,
        outputs: &[u32],
        failed: &[&CriterionInfo],
    ) -> ExplanationGraph {
        let mut g = Builder::default();
        let mut roots = Vec::new();
        for &o in outputs {
            roots.push(self.graph_def(&mut g, o));
        }
        let mut criteria = Vec::new();
        for c in failed {
            criteria.push(self.graph_criterion(&mut g, c));
        }
        let mut nodes = g.nodes;
        if g.truncated {
            nodes.push(node(
                "truncated".into(),
                NodeKind::Rule,
                "…".into(),
                format!("the explanation stops at {MAX_NODES} values"),
            ));
        }
        ExplanationGraph {
            outputs: roots,
            failed_criteria: criteria,
            nodes,
        }
    }

    fn graph_criterion(&mut self, g: &mut Builder, c: &CriterionInfo) -> String {
        let id = format!("criterion:{}", c.name);
        if g.has(&id) {
            return id;
        }
        let mut n = node(
            id.clone(),
            NodeKind::Criterion,
            c.name.clone(),
            "false".into(),
        );
        n.formula = Some(c.formula.clone());
        n.substituted = Some(self.substitute_condition(&c.condition));
        n.reason = Some(c.reason.clone());
        n.section = c.citation.section.clone();
        n.source = c.citation.source.clone();
        let k = g.reserve(n);
        let mut uses = Vec::new();
        g.owners.push(c.name.clone());
        self.graph_uses(g, &c.condition, &mut uses);
        g.owners.pop();
        g.set_uses(k, uses);
        id
    }

    fn graph_def(&mut self, g: &mut Builder, i: u32) -> String {
        let p = self.p;
        let Some(d) = p.defs.get(i as usize) else {
            return String::new();
        };
        let id = d.name.clone();
        if g.has(&id) {
            return id;
        }
        let value = match self.def(i) {
            Ok(v) => p.render(&v, &d.ty),
            Err(e) => format!("could not be computed: {}", e.message),
        };
        let applied = self.applied_override(d);
        let citation = cited(d, applied);
        let kind = match (&d.body, p.outputs.contains(&i)) {
            (_, true) => NodeKind::Output,
            (DefBody::Dated(_), _) => NodeKind::Parameter,
            _ => NodeKind::Rule,
        };
        let mut n = node(id.clone(), kind, d.name.clone(), value.clone());
        n.section = citation.section.clone();
        n.source = citation.source.clone();
        match &d.body {
            DefBody::Dated(values) => {
                n.in_force_from = values
                    .iter()
                    .rev()
                    .find(|(f, _)| f.is_none_or(|f| f <= self.date))
                    .and_then(|(f, _)| *f)
                    .map(|f| f.to_string());
                g.reserve(n);
            }
            DefBody::Rule { base, .. } => {
                let expr = match applied {
                    Some(o) => {
                        n.exception = Some(format!("unless {}", o.text));
                        &o.value
                    }
                    None => {
                        n.formula = Some(d.formula.clone());
                        base
                    }
                };
                let substituted = self.substitute(expr, 0);
                if substituted != value {
                    n.substituted = Some(substituted);
                }
                let k = g.reserve(n);
                let mut uses = Vec::new();
                g.owners.push(d.name.clone());
                // Every exception's condition was decided, applied or not:
                // what it read affected the value.
                if let DefBody::Rule { overrides, .. } = &d.body {
                    for o in overrides {
                        self.graph_uses(g, &o.condition, &mut uses);
                    }
                }
                with_stack(|| self.graph_uses(g, expr, &mut uses));
                g.owners.pop();
                g.set_uses(k, uses);
            }
        }
        id
    }

    /// The nodes an expression uses, in the order it uses them, each once.
    fn graph_uses(&mut self, g: &mut Builder, e: &Expr, out: &mut Vec<String>) {
        let push = |out: &mut Vec<String>, id: String| {
            if !id.is_empty() && !out.contains(&id) {
                out.push(id);
            }
        };
        if let Some(path) = self.p.input_path(e) {
            let id = self.graph_input(g, e, path);
            push(out, id);
            return;
        }
        match &e.kind {
            ExprKind::Def(i) => {
                let id = self.graph_def(g, *i);
                push(out, id);
            }
            ExprKind::Table(t, args) => {
                for a in args {
                    self.graph_uses(g, a, out);
                }
                let id = self.graph_table(g, *t, args);
                push(out, id);
            }
            ExprKind::Scale(s, arg) => {
                self.graph_uses(g, arg, out);
                let id = self.graph_scale(g, *s, arg);
                push(out, id);
            }
            ExprKind::Call(f, args) => {
                for a in args {
                    self.graph_uses(g, a, out);
                }
                let id = self.graph_call(g, *f, args);
                push(out, id);
            }
            ExprKind::Aggregate { list, .. } => {
                self.graph_uses(g, list, out);
                let id = self.graph_items(g, e);
                push(out, id);
            }
            ExprKind::Used { args, .. } => {
                for a in args {
                    self.graph_uses(g, a, out);
                }
                let id = self.graph_used(g, e);
                push(out, id);
            }
            // The key is read per item; what the list is made of counts.
            ExprKind::Sorted { list, .. } => self.graph_uses(g, list, out),
            // Only the branch taken counts.
            ExprKind::If(c, t, f) => {
                self.graph_uses(g, c, out);
                let taken = if self.holds(c).unwrap_or(false) { t } else { f };
                self.graph_uses(g, taken, out);
            }
            _ => {
                let mut children = Vec::new();
                crate::ir::each_child(e, &mut |c| children.push(c));
                for c in children {
                    // Deeply nested expressions grow the stack as evaluation does.
                    with_stack(|| self.graph_uses(g, c, out));
                }
            }
        }
    }

    fn graph_input(&mut self, g: &mut Builder, e: &Expr, path: String) -> String {
        let id = format!("input:{path}");
        if !g.has(&id) {
            let value = self
                .eval(e)
                .map(|v| self.p.render(&v, &e.ty))
                .unwrap_or_else(|_| "?".into());
            let mut n = node(id.clone(), NodeKind::Input, path.clone(), value);
            n.path = Some(path);
            g.reserve(n);
        }
        id
    }

    /// Arguments as shown in a node's id: `income_limit(5)`.
    fn shown_args(&mut self, args: &[Expr]) -> String {
        let shown: Vec<String> = args
            .iter()
            .map(|a| match self.eval(a) {
                Ok(v) => self.p.render(&v, &a.ty),
                Err(_) => "?".into(),
            })
            .collect();
        shown.join(", ")
    }

    fn graph_table(&mut self, g: &mut Builder, t: u32, args: &[Expr]) -> String {
        let p = self.p;
        let Some(table) = p.tables.get(t as usize) else {
            return String::new();
        };
        let name = format!("{}({})", table.name, self.shown_args(args));
        let id = format!("table:{name}");
        if g.has(&id) {
            return id;
        }
        let Ok(frame) = self.frame(args) else {
            return String::new();
        };
        let saved = std::mem::replace(&mut self.base, frame);
        let mut rows = Vec::new();
        let result = self.table(table, e_span(args), &mut rows);
        self.stack.truncate(frame);
        self.base = saved;
        let value = match result {
            Ok(v) => p.render(&v, &table.ret),
            Err(e) => format!("could not be computed: {}", e.message),
        };
        let mut n = node(id.clone(), NodeKind::Table, name, value);
        n.rows = rows.iter().map(|r| r + 1).collect();
        n.section = table.citation.section.clone();
        n.source = table.citation.source.clone();
        g.reserve(n);
        id
    }

    fn graph_scale(&mut self, g: &mut Builder, s: u32, arg: &Expr) -> String {
        let p = self.p;
        let Some(sc) = p.scales.get(s as usize) else {
            return String::new();
        };
        let Ok(x) = self.eval(arg) else {
            return String::new();
        };
        let name = format!("{}({})", sc.name, p.render(&x, &sc.param.1));
        let id = format!("scale:{name}");
        if g.has(&id) {
            return id;
        }
        let value = scale_value(sc, &x, arg.span)
            .map(|v| p.render(&v, &sc.ret))
            .unwrap_or_else(|e| format!("could not be computed: {}", e.message));
        let mut n = node(id.clone(), NodeKind::Scale, name, value);
        n.formula = Some(format!(
            "{} scale{}",
            if sc.kind == ScaleKind::Marginal {
                "marginal"
            } else {
                "single-amount"
            },
            cite_inline(&sc.citation)
        ));
        n.section = sc.citation.section.clone();
        n.source = sc.citation.source.clone();
        g.reserve(n);
        id
    }

    /// A function call, explained inside: its body with the arguments'
    /// values in place, and what the body used.
    fn graph_call(&mut self, g: &mut Builder, f: u32, args: &[Expr]) -> String {
        let p = self.p;
        let Some(func) = p.functions.get(f as usize) else {
            return String::new();
        };
        let name = format!("{}({})", func.name, self.shown_args(args));
        let id = format!("function:{name}");
        if g.has(&id) {
            return id;
        }
        let Ok(frame) = self.frame(args) else {
            return String::new();
        };
        let saved = std::mem::replace(&mut self.base, frame);
        let value = match with_stack(|| self.function_body(func)) {
            Ok(v) => p.render(&v, &func.ret),
            Err(e) => format!("could not be computed: {}", e.message),
        };
        let applied = self.winning_override(&func.overrides).ok().flatten();
        let mut n = node(id.clone(), NodeKind::Function, name, value.clone());
        let expr = match applied {
            Some(o) => {
                n.exception = Some(format!("unless {}", o.text));
                &o.value
            }
            None => {
                n.formula = Some(func.formula.clone());
                &func.body
            }
        };
        let substituted = self.substitute(expr, 0);
        if substituted != value {
            n.substituted = Some(substituted);
        }
        // An exception with a citation of its own is what decided the value.
        let citation = match applied {
            Some(o) if o.citation.section.is_some() || o.citation.source.is_some() => &o.citation,
            _ => &func.citation,
        };
        n.section = citation.section.clone();
        n.source = citation.source.clone();
        let k = g.reserve(n);
        let mut uses = Vec::new();
        g.owners.push(func.name.clone());
        for o in &func.overrides {
            self.graph_uses(g, &o.condition, &mut uses);
        }
        with_stack(|| self.graph_uses(g, expr, &mut uses));
        g.owners.pop();
        g.set_uses(k, uses);
        self.stack.truncate(frame);
        self.base = saved;
        id
    }

    /// An aggregate over a list, item by item: what each item contributed
    /// and what it used; items worked out alike are folded.
    fn graph_items(&mut self, g: &mut Builder, e: &Expr) -> String {
        let ExprKind::Aggregate {
            kind,
            slot,
            list,
            projection,
            filter,
            position,
            ..
        } = &e.kind
        else {
            return String::new();
        };
        let p = self.p;
        let over = p
            .input_path(list)
            .or_else(|| match &list.kind {
                ExprKind::Def(i) => p.defs.get(*i as usize).map(|d| d.name.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "a list".into());
        let mut label = format!("{} over {over}", format!("{kind:?}").to_lowercase());
        if let Some(owner) = g.owners.last() {
            label.push_str(&format!(" in {owner}"));
        }
        let n_seen = g.items_seen.entry(label.clone()).or_insert(0);
        *n_seen += 1;
        let id = format!("items:{label}#{n_seen}");
        if *n_seen > 1 {
            label.push_str(&format!(" #{n_seen}"));
        }
        let value = self
            .eval(e)
            .map(|v| p.render(&v, &e.ty))
            .unwrap_or_else(|_| "?".into());
        let items: Vec<Value> = match self.eval(list) {
            Ok(Value::List(items)) => items.iter().cloned().collect(),
            _ => Vec::new(),
        };
        let k = g.reserve(node(id.clone(), NodeKind::Items, label, value));
        let at = self.base + *slot as usize;
        // Values computed above this frame wait aside, as in evaluation.
        let waiting = if self.stack.len() > at {
            self.stack.split_off(at)
        } else {
            Vec::new()
        };
        let mut groups: Vec<ItemGroup> = Vec::new();
        for (pos, item) in items.into_iter().enumerate() {
            if pos >= 1000 {
                break;
            }
            self.stack.truncate(at);
            while self.stack.len() < at {
                self.stack.push(Slot::Owned(Value::Bool(false)));
            }
            self.stack.push(Slot::Owned(item));
            if *position {
                self.stack.push(Slot::Owned(Value::Int(pos as i64 + 1)));
            }
            let kept = match filter {
                Some(f) => self.holds(f).unwrap_or(false),
                None => true,
            };
            let mut uses = Vec::new();
            if let Some(f) = filter {
                self.graph_uses(g, f, &mut uses);
            }
            let shown = if !kept {
                "left out".to_string()
            } else if let Some(proj) = projection {
                self.graph_uses(g, proj, &mut uses);
                self.eval(proj)
                    .map(|v| p.render(&v, &proj.ty))
                    .unwrap_or_else(|_| "?".into())
            } else {
                "counted".to_string()
            };
            match groups
                .iter_mut()
                .find(|gr| gr.value == shown && gr.uses == uses)
            {
                Some(gr) => gr.items.push(pos + 1),
                None => groups.push(ItemGroup {
                    items: vec![pos + 1],
                    value: shown,
                    uses,
                }),
            }
        }
        self.stack.truncate(at);
        self.stack.extend(waiting);
        if let Some(n) = k.and_then(|k| g.nodes.get_mut(k)) {
            n.items = groups;
        }
        id
    }
}

impl<'p> Evaluator<'p> {
    /// A value from a used rulebook: its version in force, its citation
    /// there and, for a decision of it, its own explanation inside.
    // Kept out of the recursive caller, whose frame every level of nesting pays for.
    #[inline(never)]
    fn graph_used(&mut self, g: &mut Builder, e: &Expr) -> String {
        let ExprKind::Used { used, item, args } = &e.kind else {
            return String::new();
        };
        let p = self.p;
        let Some(u) = p.uses.get(*used as usize) else {
            return String::new();
        };
        let shown = match item {
            UsedItem::Decide { paths, .. } => {
                let values: Vec<String> = args
                    .iter()
                    .map(|a| match self.eval(a) {
                        Ok(v) => p.render(&v, &a.ty),
                        Err(_) => "?".into(),
                    })
                    .collect();
                let given: Vec<String> = paths
                    .iter()
                    .zip(values)
                    .map(|(p, v)| format!("{p}: {v}"))
                    .collect();
                format!("{}({}).{}", u.alias, given.join(", "), item.name())
            }
            UsedItem::Def(n) => format!("{}.{n}", u.alias),
            _ => format!("{}.{}({})", u.alias, item.name(), self.shown_args(args)),
        };
        let id = format!("used:{shown}");
        if g.has(&id) {
            return id;
        }
        let value = match self.eval(e) {
            Ok(v) => p.render(&v, &e.ty),
            Err(err) => format!("could not be computed: {}", err.message),
        };
        let mut n = node(id.clone(), NodeKind::Used, shown, value);
        let Some(version) = u.in_force(self.date) else {
            g.reserve(n);
            return id;
        };
        let citation = match item {
            UsedItem::Def(name) => version
                .def_index(name)
                .and_then(|i| version.defs.get(i as usize))
                .map(|d| d.citation.clone()),
            UsedItem::Function(name) => version
                .functions
                .iter()
                .find(|f| *f.name == **name)
                .map(|f| f.citation.clone()),
            UsedItem::Table(name) => version
                .tables
                .iter()
                .find(|t| *t.name == **name)
                .map(|t| t.citation.clone()),
            UsedItem::Scale(name) => version
                .scales
                .iter()
                .find(|s| *s.name == **name)
                .map(|s| s.citation.clone()),
            UsedItem::Decide { .. } => None,
        }
        .unwrap_or_default();
        n.section = citation.section;
        n.source = Some(match citation.source {
            Some(s) => format!("{} version {}: {s}", u.id, version.version),
            None => format!("{} version {}", u.id, version.version),
        });
        let k = g.reserve(n);
        let UsedItem::Decide { paths, result } = item else {
            return id;
        };
        // The used rulebook's own explanation, its ids under the alias.
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            match self.eval(a) {
                Ok(v) => values.push(v),
                Err(_) => return id,
            }
        }
        let Ok(inputs) = super::used::inputs_by_path(version, paths, values) else {
            return id;
        };
        let mut sub = Evaluator::new(version, &inputs, self.date);
        let Ok(d) = with_stack(|| super::evaluate_in(&mut sub, &super::Options { explain: true }))
        else {
            return id;
        };
        let Some(sub_graph) = d.graph else {
            return id;
        };
        let prefix = format!("{}/", u.alias);
        let roots: Vec<String> = match result {
            Some(r) => vec![r.to_string()],
            None => sub_graph.failed_criteria.clone(),
        };
        // Only what the result used: the used rulebook's other outputs are
        // not part of this decision.
        let by_id: HashMap<&str, &ExplainNode> =
            sub_graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut reached: Vec<&str> = Vec::new();
        let mut todo: Vec<&str> = roots.iter().map(|r| r.as_str()).collect();
        while let Some(x) = todo.pop() {
            if reached.contains(&x) {
                continue;
            }
            let Some(n) = by_id.get(x) else { continue };
            reached.push(x);
            todo.extend(n.uses.iter().map(|u| u.as_str()));
            for gr in &n.items {
                todo.extend(gr.uses.iter().map(|u| u.as_str()));
            }
        }
        for sn in &sub_graph.nodes {
            if !reached.contains(&sn.id.as_str()) {
                continue;
            }
            let mut sn = sn.clone();
            sn.id = format!("{prefix}{}", sn.id);
            sn.uses = sn.uses.iter().map(|x| format!("{prefix}{x}")).collect();
            for gr in &mut sn.items {
                gr.uses = gr.uses.iter().map(|x| format!("{prefix}{x}")).collect();
            }
            if sn.kind == NodeKind::Input {
                // Given by this rulebook, not by the case.
                sn.kind = NodeKind::Used;
                sn.name = format!("{} {}", u.alias, sn.name);
                sn.path = None;
            }
            if !g.has(&sn.id) {
                g.reserve(sn);
            }
        }
        let into: Vec<String> = roots.iter().map(|r| format!("{prefix}{r}")).collect();
        let mut uses = g
            .nodes
            .get(k.unwrap_or(usize::MAX))
            .map(|n| n.uses.clone())
            .unwrap_or_default();
        uses.extend(into);
        g.set_uses(k, uses);
        id
    }
}

fn e_span(args: &[Expr]) -> crate::diagnostic::Span {
    args.first().map(|a| a.span).unwrap_or_default()
}
