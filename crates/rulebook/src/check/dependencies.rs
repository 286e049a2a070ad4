//! Dependencies between definitions: cycles, chains too long to evaluate within the stack, and definitions nothing uses.

use super::*;
use crate::diagnostic::{Code, Diagnostic, Span};
use std::collections::{HashMap, HashSet};

impl<'a> Checker<'a> {
    pub(super) fn node_name(&self, n: Node) -> String {
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
    pub(super) fn use_graph(&self) -> (UseGraph, Vec<Node>) {
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

    pub(super) fn find_cycles(&mut self, adj: &UseGraph, nodes: &[Node]) {
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
    pub(super) fn find_long_chains(&mut self, adj: &UseGraph, nodes: &[Node]) {
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

    pub(super) fn report_cycle(&mut self, cycle: &[(Node, Span)]) {
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

    pub(super) fn warn_unused(&mut self) {
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
        // With a syntax error, the item that did not parse may be the one
        // that uses these: fix it first, then see what is really unused.
        if !self.parse_errors.is_empty() {
            return;
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
}
