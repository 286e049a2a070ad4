//! The file system as the rulebook loader's [`World`]: what the command
//! line, the decision service and the language server read rulebooks
//! through, so that all three read them alike and within the same limits.

use rulebook::versions::workspace::{LoadError, PathKind, World};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    // A byte-order mark (from some Windows editors) is not part of the text.
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
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

/// The files as an editor has them: its texts, saved or not, over the
/// files on disk (the language server's open documents, the Studio's
/// editor).
#[derive(Debug, Default, Clone)]
pub struct Overlay {
    pub open: HashMap<PathBuf, Arc<String>>,
}

impl World for Overlay {
    fn read(&self, path: &Path) -> Result<String, LoadError> {
        match self.open.get(path) {
            Some(text) => Ok(text.to_string()),
            None => Files.read(path),
        }
    }

    fn kind(&self, path: &Path) -> PathKind {
        if self.open.contains_key(path) {
            PathKind::File
        } else {
            Files.kind(path)
        }
    }

    fn list(&self, folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let mut out = Files.list(folder).unwrap_or_default();
        for p in self.open.keys() {
            if p.parent() == Some(folder) && !out.contains(p) {
                out.push(p.clone());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rulebook-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_refused() {
        let at = scratch("at-limit.rulebook", &vec![b' '; MAX_FILE as usize]);
        assert_eq!(read_limited(&at).unwrap().len() as u64, MAX_FILE);
        let over = scratch("over-limit.rulebook", &vec![b' '; MAX_FILE as usize + 1]);
        let e = read_limited(&over).unwrap_err();
        assert_eq!(e.path, over);
        assert!(e.message.contains("larger than 16777216 bytes"), "{e}");
        let _ = std::fs::remove_file(at);
        let _ = std::fs::remove_file(over);
    }

    /// The limit holds while reading, for a device whose size is unknown.
    #[cfg(unix)]
    #[test]
    fn an_endless_device_stops_at_the_limit() {
        let e = read_limited(Path::new("/dev/zero")).unwrap_err();
        assert!(e.message.contains("larger than"), "{e}");
    }

    #[test]
    fn text_that_is_not_utf8_names_the_first_bad_byte() {
        let path = scratch("latin1.rulebook", b"-- caf\xe9\n");
        let e = read_limited(&path).unwrap_err();
        assert!(e.message.contains("byte 6 is not valid"), "{e}");
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
        let _ = std::fs::remove_file(path);
    }

    /// A link to a folder above makes the folder endless; the walk stops
    /// with an error naming the place instead of running until the path is
    /// too long (or, with two such links, for an exponential time).
    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_loop_is_an_error_not_an_endless_walk() {
        let dir = std::env::temp_dir().join(format!("rulebook-files-loop-{}", std::process::id()));
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.join("a.rulebook"), "").unwrap();
        let _ = std::fs::remove_file(sub.join("up"));
        let _ = std::fs::remove_file(sub.join("up2"));
        std::os::unix::fs::symlink("..", sub.join("up")).unwrap();
        std::os::unix::fs::symlink("..", sub.join("up2")).unwrap();
        let e = rulebook::versions::workspace::rulebooks_below(&Files, &dir).unwrap_err();
        assert!(e.message.contains("symbolic link"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let path = std::env::temp_dir().join("rulebook-files-no-such.rulebook");
        let e = read_limited(&path).unwrap_err();
        assert_eq!(e.path, path);
        assert!(e.message.starts_with("cannot read it"), "{e}");
        assert_eq!(Files.kind(&path), PathKind::Missing);
    }
}
