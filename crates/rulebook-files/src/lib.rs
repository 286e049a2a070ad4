//! The file system as the rulebook loader's [`World`]: what the command
//! line, the decision service and the language server read rulebooks
//! through, so that all three read them alike and within the same limits.

use rulebook::versions::workspace::{LoadError, PathKind, World};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest rulebook or case file read, in bytes (16 MiB).
pub const MAX_FILE: u64 = 16 << 20;

/// Reads a file of at most [`MAX_FILE`] bytes as UTF-8 text. The limit is
/// enforced while reading, so it holds for pipes and devices too, whose
/// size is not known in advance.
pub fn read_limited(path: &Path) -> Result<String, LoadError> {
    let fail = |message: String| LoadError {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(fail(format!(
            "it is larger than {MAX_FILE} bytes (16 MiB), the limit for one file; for large populations use --cases, which streams"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "it is not UTF-8 text (byte {} is not valid); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The file system itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct Files;

impl World for Files {
    fn read(&self, path: &Path) -> Result<String, LoadError> {
        read_limited(path)
    }

    fn kind(&self, path: &Path) -> PathKind {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => PathKind::Folder,
            Ok(_) => PathKind::File,
            Err(_) => PathKind::Missing,
        }
    }

    fn list(&self, folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let fail = |e: std::io::Error| LoadError {
            path: folder.to_path_buf(),
            message: format!("cannot read the folder: {e}"),
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(folder).map_err(fail)? {
            out.push(entry.map_err(fail)?.path());
        }
        Ok(out)
    }
}
