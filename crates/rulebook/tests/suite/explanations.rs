//! The explanation graph: each value once, every link resolved, its text
//! readable top down; snapshots of one eligible and one ineligible case of
//! every bundled programme.

use rulebook::eval::{evaluate, Case, Executable, Options};
use rulebook::ir::ExpectInfo;
use rulebook::ops::letter;
use rulebook::semantics::explanation::{to_text, ExplanationGraph, NodeKind};
use std::collections::HashSet;

/// Every bundled version with its file name, folders checked together.
fn versions() -> Vec<(String, Executable)> {
    let mut out = Vec::new();
    for w in crate::bundled_workspaces() {
        for (v, s) in w.versions.iter().zip(&w.sources) {
            if s.name.contains("bench/") {
                continue;
            }
            // Named from `rulebooks/`, whatever folder the checkout is in.
            let name = match s.name.find("rulebooks/") {
                Some(k) => s.name[k..].to_string(),
                None => s.name.clone(),
            };
            if let Some(p) = v.program() {
                out.push((name, p.clone()));
            }
        }
    }
    out
}

fn explained(p: &Executable, e: &rulebook::ir::ExampleInfo) -> Option<rulebook::eval::Decision> {
    let case = Case {
        decision_date: e.date,
        inputs: e.inputs.clone(),
    };
    evaluate(p, &case, &Options { explain: true }).ok()
}

/// The checks every graph must pass, with what failed.
fn check_graph(where_: &str, p: &Executable, g: &ExplanationGraph, eligible: bool) {
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{where_}: a node appears twice");
    for n in &g.nodes {
        for u in n.uses.iter().chain(n.items.iter().flat_map(|i| &i.uses)) {
            assert!(
                unique.contains(u.as_str()),
                "{where_}: {} uses {u}, which is not in the graph",
                n.id
            );
        }
        if n.kind == NodeKind::Input {
            assert!(n.path.is_some(), "{where_}: input {} has no path", n.id);
        }
    }
    if eligible {
        let names: Vec<String> = p
            .outputs
            .iter()
            .filter_map(|&o| p.defs.get(o as usize).map(|d| d.name.clone()))
            .collect();
        assert_eq!(g.outputs, names, "{where_}: the roots are the outputs");
    } else {
        assert!(
            !g.failed_criteria.is_empty(),
            "{where_}: no failed criterion"
        );
    }
    // Each value once in the text: one line per node that is not a fact,
    // and one line per fact.
    let text = to_text(g);
    for n in &g.nodes {
        let head = match n.kind {
            NodeKind::Criterion => format!("  {}: ", n.name),
            _ => format!("  {} = ", n.name),
        };
        let count = text.lines().filter(|l| l.starts_with(&head)).count();
        assert_eq!(
            count, 1,
            "{where_}: `{}` is shown {count} times in:\n{text}",
            n.name
        );
    }
}

#[test]
fn every_example_of_every_bundled_version_explains_each_value_once() {
    let mut checked = 0;
    for (name, p) in versions() {
        for e in &p.examples {
            if e.expects.iter().any(|x| matches!(x, ExpectInfo::Error(..))) {
                continue;
            }
            let Some(d) = explained(&p, e) else { continue };
            let g = d.graph.as_ref().expect("an explanation was asked for");
            check_graph(&format!("{name}: {}", e.name), &p, g, d.eligible);
            checked += 1;
        }
    }
    assert!(checked >= 200, "only {checked} examples explained");
}

/// The first eligible and the first ineligible example of each programme's
/// latest version, as text and JSON.
#[test]
fn explanations_of_each_bundled_programme() {
    let mut latest: Vec<(String, Executable)> = Vec::new();
    for (name, p) in versions() {
        match latest.iter_mut().find(|(_, q)| q.id == p.id) {
            Some(slot) if slot.1.in_force_from < p.in_force_from => *slot = (name, p),
            Some(_) => {}
            None => latest.push((name, p)),
        }
    }
    assert!(latest.len() >= 9, "only {} programmes", latest.len());
    for (name, p) in &latest {
        for want in [true, false] {
            let found = p.examples.iter().find_map(|e| {
                let d = explained(p, e)?;
                (d.eligible == want).then_some((e, d))
            });
            let Some((e, d)) = found else { continue };
            let g = d.graph.unwrap();
            let label = format!(
                "{}-{}",
                p.id.replace('.', "_"),
                if want { "eligible" } else { "not_eligible" }
            );
            let text = format!("{name}: {}\n\n{}", e.name, to_text(&g));
            insta::assert_snapshot!(format!("explain_{label}_text"), text);
            insta::assert_json_snapshot!(format!("explain_{label}_json"), g);
            // The letter in each language the programme declares.
            let case = Case {
                decision_date: e.date,
                inputs: e.inputs.clone(),
            };
            let d = explained(p, e).unwrap();
            for lang in &p.languages {
                let l = letter::letter(p, &case, &d, lang).unwrap();
                insta::assert_snapshot!(format!("letter_{label}_{lang}"), letter::to_text(&l));
                if lang == "fi" {
                    insta::assert_snapshot!(
                        format!("letter_{label}_{lang}_markdown"),
                        letter::to_markdown(&l)
                    );
                }
            }
        }
    }
}

/// Calls and list items are explained inside, and a call made with the
/// same arguments for two members is one node.
#[test]
fn list_items_and_calls_are_explained_inside_and_folded() {
    let text = "rulebook t.members \"T\"\n  version 1\n  in force from 2024-01-01\n  source \"illustrative\"\n\n\
        record Member { age: integer 0 or more, income: money 0 € or more }\n\
        input household { members: list of Member }\n\n\
        parameter share = 10 % source \"illustrative\"\n\n\
        function part(m: Member) -> money = m.income * share rounded to cents\n\n\
        output total: money = sum(part(m) for m in household.members)\n  source \"illustrative\"\n";
    let (versions, findings) = rulebook::versions::load(&[rulebook::versions::Source {
        name: "t.rulebook".into(),
        text: text.into(),
    }]);
    assert!(findings.iter().all(|(_, d)| !d.is_error()), "{findings:#?}");
    let p = versions[0].program().unwrap();
    let doc = serde_json::json!({
        "decision_date": "2024-05-01",
        "household": { "members": [
            { "age": 40, "income": "1000.00" },
            { "age": 38, "income": "2000.00" },
            { "age": 40, "income": "1000.00" }
        ]}
    });
    let case = rulebook::cases::input::decode_case(p, &doc, None).unwrap();
    let d = evaluate(p, &case, &Options { explain: true }).unwrap();
    let g = d.graph.unwrap();
    check_graph("members", p, &g, true);
    let items = g.nodes.iter().find(|n| n.kind == NodeKind::Items).unwrap();
    // Members 1 and 3 are alike, so their part is one call and one group.
    assert_eq!(items.items.len(), 2, "{items:#?}");
    assert_eq!(items.items[0].items, vec![1, 3]);
    assert_eq!(items.items[0].value, "100.00 €");
    let calls: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Function)
        .map(|n| n.substituted.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls.contains(&"1000.00 € × 10 % rounded to cents"),
        "{calls:?}"
    );
    let text = to_text(&g);
    assert!(text.contains("items 1, 3: 100.00 €"), "{text}");
    assert!(text.contains("share = 10 %"), "{text}");
}

/// A letter is refused, with what to do, for a language the rulebook does
/// not declare and for a rulebook that declares none.
#[test]
fn letters_only_in_declared_languages() {
    let all = versions();
    let (_, home_care) = all
        .iter()
        .find(|(n, _)| n.ends_with("helsinki-home-care/2021.rulebook"))
        .unwrap();
    let (_, fees) = all
        .iter()
        .find(|(n, _)| n.ends_with("dental-client-fees/2018-21.rulebook"))
        .unwrap();
    for (p, lang, says) in [
        (home_care, "de", "not a letter language"),
        (fees, "fi", "declares no languages"),
    ] {
        let e = &p.examples[0];
        let d = explained(p, e).unwrap();
        let case = Case {
            decision_date: e.date,
            inputs: e.inputs.clone(),
        };
        let err = letter::letter(p, &case, &d, lang).unwrap_err();
        assert!(err.0.contains(says), "{}", err.0);
    }
}
