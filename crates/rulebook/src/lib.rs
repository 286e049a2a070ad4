//! `rulebook`: a rules-as-code engine for public service vouchers.
//!
//! The core is pure: it takes text and values and returns values and
//! diagnostics, and does no file, network or terminal I/O. The CLI, the
//! HTTP service and the language server are thin layers over it. Its
//! modules are the stages of the pipeline, each importing only the stages
//! below it (see docs/architecture.md):
//!
//! - [`diagnostic`]: findings with their place, and their rendering;
//! - [`syntax`]: text to syntax tree (pest), with the tree's types;
//! - [`ir`]: the checked program every later stage reads, and its values;
//! - [`check`]: syntax tree to program (names, types, units, cycles,
//!   decision-table gaps and overlaps);
//! - [`semantics`]: what both evaluators share: arithmetic, rounding,
//!   dates, parameters in force, finding table rows and scale brackets,
//!   and the decision they return;
//! - [`plan`]: evaluation plans, a program compiled to typed steps;
//! - [`eval`]: the interpreter, explanations, and the [`eval::Executable`]
//!   that decides by plan where it can and by the interpreter otherwise;
//! - [`versions`]: a programme's versions, amendments, validity periods and
//!   choosing the version in force;
//! - [`cases`]: case files in (JSON, YAML, CSV), decisions out;
//! - [`ops`]: what is done with checked versions: formatting, diffs,
//!   impact on a population, running examples;
//! - [`editor`]: the analysis behind the language server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod cases;
pub mod check;
pub mod diagnostic;
pub mod editor;
pub mod eval;
pub mod ir;
pub mod ops;
pub mod plan;
pub mod semantics;
pub mod syntax;
pub mod versions;
