//! What the commands that read case files and write output files share,
//! below both the line-based batch (`batch.rs`) and the columnar files
//! (`columnar.rs`): the CSV header of a case file, and the name an output
//! file has while it is being written.

use crate::EXIT_INPUT;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where a file being written waits until it is whole: `NAME.partial`,
/// renamed to `NAME` at the end, so that an interrupted run never leaves a
/// file that looks complete.
pub fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// The header of a CSV file of cases, its names trimmed.
pub fn csv_header<R: Read>(
    reader: &mut csv::Reader<R>,
    shown: &dyn std::fmt::Display,
) -> Result<Vec<String>, (u8, String)> {
    Ok(reader
        .headers()
        .map_err(|e| {
            (
                EXIT_INPUT,
                format!("{shown}: cannot read the CSV header: {e}"),
            )
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect())
}
