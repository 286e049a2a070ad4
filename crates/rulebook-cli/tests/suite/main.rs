//! The command line's integration tests, run against the real `rulebook`
//! binary: one test binary with a module per command.

use std::path::Path;

mod cli;
mod columnar;
mod hostile;
mod impact;
mod privacy;
mod releases;
mod replicas;
mod serve;
mod studio;

/// The repository's root, which holds `rulebooks/` and `docs/`.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
