//! The core library's integration tests: one test binary with a module per
//! area, so that two cores link it once rather than once per file.

use std::path::Path;

mod browser;
mod diagnostics;
mod docs;
mod eval;
mod format;
mod plan;
mod properties;
mod versions;

/// The repository's root, which holds `rulebooks/`, `docs/` and `bench/`.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// This suite's own data: diagnostic annotations and fixtures.
pub fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/suite"))
}
