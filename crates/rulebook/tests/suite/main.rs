//! The core library's integration tests: one test binary with a module per
//! area, so that two cores link it once rather than once per file.

use rulebook::versions::workspace::{rulebook_files, Workspace};
use rulebook_files::Files;
use std::path::{Path, PathBuf};

mod browser;
mod coverage;
mod diagnostics;
mod docs;
mod eval;
mod explanations;
mod format;
mod plan;
mod properties;
mod uses;
mod verify;
mod versions;

/// The repository's root, which holds `rulebooks/`, `docs/` and `bench/`.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every rulebook file below these folders (relative to the repository),
/// found by the loader's own walk.
pub fn files_below(folders: &[&str]) -> Vec<PathBuf> {
    let paths: Vec<PathBuf> = folders.iter().map(|f| repo().join(f)).collect();
    match rulebook_files(&Files, &paths) {
        Ok(files) => files,
        Err(e) => panic!("{e}"),
    }
}

/// The bundled rulebooks and the benchmark's, loaded as the CLI loads them
/// (each folder's versions checked together), one workspace per folder of
/// versions.
pub fn bundled_workspaces() -> Vec<Workspace> {
    let mut folders: Vec<PathBuf> = files_below(&["rulebooks", "bench/openfisca"])
        .into_iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    folders.dedup();
    folders
        .into_iter()
        .map(|f| match Workspace::load(&Files, &[f]) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        })
        .collect()
}

/// This suite's own data: diagnostic annotations and fixtures.
pub fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/suite"))
}
