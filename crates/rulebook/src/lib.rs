//! `rulebook`: a rules-as-code engine for public service vouchers.
//!
//! The core is pure: it takes text and values and returns values and
//! diagnostics. The CLI, the HTTP service and the language server are thin
//! layers over it.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod analysis;
pub mod ast;
pub mod batch;
pub mod check;
pub mod dates;
pub mod diagnostic;
pub mod diff;
pub mod eval;
pub mod examples;
pub mod family;
pub mod format;
pub mod impact;
pub mod input;
pub mod ir;
pub mod plan;
pub mod render;
pub mod schema;
pub mod syntax;
pub mod tables;
pub mod value;
