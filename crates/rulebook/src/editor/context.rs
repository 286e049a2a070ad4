//! A document as an editor has it, checked in its context: a version that
//! amends another or uses other programmes is loaded with them through the
//! one loading path (`Workspace::load` over a `World` that holds the
//! editor's unsaved texts), its examples are run, and a version on its own
//! is searched briefly for counterexamples and measured for coverage. The
//! language server and the Studio both show what this returns.

use super::{Analysis, SymbolKind};
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ops::coverage::CoverageReport;
use crate::ops::examples::ExampleResult;
use crate::ops::verify::{verify, Outcome, Settings};
use crate::versions::workspace::{Workspace, World};
use std::path::Path;

/// A property `verify` found a counterexample to.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The property, in this document's text.
    pub span: Span,
    pub property: String,
    pub why: String,
    /// The counterexample as an example block to paste.
    pub example: String,
}

pub struct InContext {
    pub analysis: Analysis,
    /// The checker's findings and the loader's, in this document's text.
    pub diagnostics: Vec<Diagnostic>,
    /// Each example's result, at the example's name in this text.
    pub examples: Vec<ExampleResult>,
    pub counterexamples: Vec<Counterexample>,
    /// What the examples reach, for a version on its own that checks.
    pub coverage: Option<CoverageReport>,
    /// The rulebooks loaded with it, when it amends or uses others; the
    /// document is source 0.
    pub loaded: Option<Workspace>,
}

/// Checks `text`, the editor's text of the file at `path` (which `world`
/// must give back for that path), in its context, and for a version on its
/// own also searches its properties and measures its coverage;
/// `verify_cases` bounds the search (an editor's quick look tries a few
/// hundred cases).
pub fn in_context(
    world: &dyn World,
    path: Option<&Path>,
    text: &str,
    verify_cases: usize,
) -> InContext {
    let mut c = checked_in_context(world, path, text);
    // Properties of a version on its own (an amendment's spans are of its
    // written-out text), searched briefly.
    if context_at(&c.analysis).is_some() {
        return c;
    }
    if let Some(program) = c.analysis.checked.program.clone() {
        let exe = crate::eval::Executable::new(program);
        c.coverage = Some(crate::ops::coverage::coverage(&exe, text));
        let settings = Settings {
            cases: verify_cases,
            ..Settings::default()
        };
        for r in verify(&exe, text, settings) {
            if let Outcome::Counterexample { why, example, .. } = r.outcome {
                c.counterexamples.push(Counterexample {
                    span: r.span,
                    property: r.property,
                    why,
                    example,
                });
            }
        }
    }
    c
}

/// Where a rulebook names the others it is checked with: its `amends`, or
/// else its first `use`.
fn context_at(a: &Analysis) -> Option<Span> {
    let amends = a
        .checked
        .ast
        .header
        .as_ref()
        .and_then(|h| h.amends.as_ref());
    amends.map(|a| a.span).or_else(|| {
        a.checked
            .ast
            .items
            .iter()
            .find(|i| matches!(i.kind, crate::syntax::ast::ItemKind::Use(_)))
            .map(|i| i.span)
    })
}

/// As [`in_context`] without the property search and the coverage: the
/// analysis, findings and examples, which hover, completion and reading
/// need.
pub fn checked_in_context(world: &dyn World, path: Option<&Path>, text: &str) -> InContext {
    // A rulebook that uses others is loaded with them first and analysed
    // once, with what it uses, rather than also alone (where every used
    // name is unknown).
    let mut preloaded = match path {
        Some(p) if !crate::versions::used_programmes(text).is_empty() => {
            Some(Workspace::load(world, &[p.to_path_buf()]))
        }
        _ => None,
    };
    let amends_another = |l: &Workspace| {
        l.versions
            .first()
            .and_then(|v| v.checked.ast.header.as_ref())
            .is_some_and(|h| h.amends.is_some())
    };
    let mut with_library = false;
    let mut a = match &preloaded {
        Some(Ok(loaded)) if !amends_another(loaded) => {
            with_library = true;
            super::analyze_with(text, &loaded.library())
        }
        _ => super::analyze(text),
    };
    let amends = a.checked.ast.header.as_ref().and_then(|h| h.amends.clone());
    let mut own: Vec<Diagnostic> = a.checked.diagnostics.clone();
    let mut examples = a.examples.clone();
    let mut loaded_out = None;
    // A rulebook that amends or uses others is checked with them: the
    // loader reads the versions beside it and the folders its `use`s name.
    if let (Some(at), Some(path)) = (context_at(&a), path) {
        let result = preloaded
            .take()
            .unwrap_or_else(|| Workspace::load(world, &[path.to_path_buf()]));
        match result {
            Ok(loaded) => {
                // What it takes from the programmes it uses is hovered,
                // completed and followed like its own names.
                if amends.is_none() && !with_library {
                    a = super::analyze_with(text, &loaded.library());
                }
                if let Some(v) = loaded.versions.first() {
                    own = loaded.diagnostics(0);
                    // Example spans point into the written-out text; show
                    // them at the example's name.
                    examples = v
                        .program()
                        .map(crate::ops::examples::run_examples)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|mut r| {
                            r.span = a
                                .symbols
                                .iter()
                                .find(|s| s.kind == SymbolKind::Example && s.name == r.name)
                                .map(|s| s.name_span)
                                .unwrap_or(r.span);
                            r
                        })
                        .collect();
                }
                loaded_out = Some(loaded);
            }
            Err(e) if amends.is_some() => own.push(
                Diagnostic::error(
                    Code::InvalidAmendment,
                    at,
                    format!("the version this amends could not be read: {e}"),
                )
                .with_help("make the files beside this one readable rulebooks, or remove `amends`"),
            ),
            Err(e) => own.push(
                Diagnostic::error(
                    Code::InvalidUse,
                    at,
                    format!("the rulebooks this one uses could not be read: {e}"),
                )
                .with_help("check the folder after `from`"),
            ),
        }
    }
    InContext {
        analysis: a,
        diagnostics: own,
        examples,
        counterexamples: Vec::new(),
        coverage: None,
        loaded: loaded_out,
    }
}
