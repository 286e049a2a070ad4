//! One loading path from rulebook files to checked versions, shared by the
//! command line, the decision service and the language server.
//!
//! The core does no I/O: a front end hands it a [`World`], which reads files
//! and lists folders (from the disk, or from an editor's unsaved buffers
//! over the disk), and [`Workspace::load`] does the rest the same way for
//! all of them: which files belong together, amendments written out
//! against their bases, versions checked, validity periods compared.

use super::{load, NoVersion, Source, Version};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::Program;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    File,
    Folder,
    Missing,
}

/// File access for the loader.
pub trait World {
    /// The text of a file.
    fn read(&self, path: &Path) -> Result<String, LoadError>;
    /// Whether a path is a file, a folder or nothing.
    fn kind(&self, path: &Path) -> PathKind;
    /// The paths directly inside a folder, in any order.
    fn list(&self, folder: &Path) -> Result<Vec<PathBuf>, LoadError>;
}

/// A file or folder that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for LoadError {}

/// Whether a path names a rulebook file.
pub fn is_rulebook(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rulebook")
}

/// How deep below a folder named to load rulebook files are looked for.
pub const MAX_FOLDER_DEPTH: usize = 32;

/// Folders a walk does not enter: hidden ones (`.git`) and the build and
/// package folders of tools (`target`, `node_modules`), which hold no
/// rulebooks of their own and can be very large.
pub fn is_skipped_folder(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n == "target" || n == "node_modules")
}

/// Every rulebook file below a folder, sorted.
pub fn rulebooks_below(world: &dyn World, folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut folders = vec![(folder.to_path_buf(), 0)];
    while let Some((f, depth)) = folders.pop() {
        // A symbolic link to a folder above would make the walk endless.
        if depth > MAX_FOLDER_DEPTH {
            return Err(LoadError {
                path: f,
                message: format!(
                    "folders nest more than {MAX_FOLDER_DEPTH} deep here; is there a symbolic link to a folder above it?"
                ),
            });
        }
        for p in world.list(&f)? {
            match world.kind(&p) {
                PathKind::Folder if !is_skipped_folder(&p) => folders.push((p, depth + 1)),
                PathKind::File if is_rulebook(&p) => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The rulebook files the given paths name, in the order given: a folder
/// gives every rulebook below it (sorted), a file itself.
pub fn rulebook_files(world: &dyn World, paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        match world.kind(p) {
            PathKind::Folder => out.extend(rulebooks_below(world, p)?),
            PathKind::File => out.push(p.clone()),
            PathKind::Missing => {
                return Err(LoadError {
                    path: p.clone(),
                    message: "no such file or folder".into(),
                })
            }
        }
    }
    Ok(out)
}

/// How many folders `use ... from` may bring into one load.
pub const MAX_USED_FOLDERS: usize = 64;

/// A path with `.` and `folder/..` taken out, without asking the file
/// system, so that one folder named two ways is read once.
/// `p` with `.` parts dropped and each `..` taking away the part before
/// it, without asking the file system: the form in which paths are
/// compared.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Rulebook files read together and checked as versions of their
/// programmes.
pub struct Workspace {
    pub sources: Vec<Source>,
    /// One per source, in the same order.
    pub versions: Vec<Version>,
    /// Findings about how versions sit among each other (overlapping or
    /// missing periods, amendments), by source position.
    pub findings: Vec<(usize, Diagnostic)>,
    /// The positions of the files asked for; the others were read because
    /// a requested file may amend them.
    pub requested: Vec<usize>,
}

impl Workspace {
    /// Loads files and folders: a folder gives every rulebook below it
    /// (sorted), and a file comes with the rulebooks beside it (an
    /// amendment needs the version it amends), which are read but not
    /// requested. The requested files keep the order they were given in.
    pub fn load(world: &dyn World, paths: &[PathBuf]) -> Result<Workspace, LoadError> {
        let requested = rulebook_files(world, paths)?;
        let mut all = requested.clone();
        // Files beside each file named on its own, named the way that file
        // is (a bare name for a bare name). A folder's files are all
        // requested already.
        let mut parents: Vec<PathBuf> = paths
            .iter()
            .filter(|p| world.kind(p) == PathKind::File)
            .map(|f| f.parent().map(Path::to_path_buf).unwrap_or_default())
            .collect();
        parents.sort();
        parents.dedup();
        for parent in parents {
            let listed = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent.as_path()
            };
            let mut beside: Vec<PathBuf> = world
                .list(listed)?
                .into_iter()
                .filter(|p| is_rulebook(p) && world.kind(p) == PathKind::File)
                .filter_map(|p| p.file_name().map(|n| parent.join(n)))
                .filter(|p| !all.contains(p))
                .collect();
            beside.sort();
            all.extend(beside);
        }
        let mut sources = Vec::with_capacity(all.len());
        for f in &all {
            sources.push(Source {
                name: f.display().to_string(),
                text: world.read(f)?,
            });
        }
        // The folders named by `use ... from "FOLDER"`, relative to the file
        // that names them, and the folders those name in turn.
        let mut followed: Vec<PathBuf> = Vec::new();
        let mut k = 0;
        while let Some(f) = all.get(k).cloned() {
            let text = sources.get(k).map(|s| s.text.clone()).unwrap_or_default();
            k += 1;
            for (_, from) in super::used_programmes(&text) {
                let Some(from) = from else { continue };
                let folder = f
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
                    .join(&from);
                let folder = normalize(&folder);
                if followed.contains(&folder) {
                    continue;
                }
                if followed.len() >= MAX_USED_FOLDERS {
                    return Err(LoadError {
                        path: folder,
                        message: format!("more than {MAX_USED_FOLDERS} folders are named by `use ... from`; is there a circle of folders?"),
                    });
                }
                followed.push(folder.clone());
                if world.kind(&folder) != PathKind::Folder {
                    return Err(LoadError {
                        path: folder,
                        message: format!(
                            "`use ... from \"{from}\"` in {} names no folder",
                            f.display()
                        ),
                    });
                }
                for p in rulebooks_below(world, &folder)? {
                    let p = normalize(&p);
                    if all.iter().any(|a| normalize(a) == p) {
                        continue;
                    }
                    sources.push(Source {
                        name: p.display().to_string(),
                        text: world.read(&p)?,
                    });
                    all.push(p);
                }
            }
        }
        Ok(Workspace::from_sources(sources, requested.len()))
    }

    /// Checks sources already read; the first `requested` are the ones
    /// asked for.
    pub fn from_sources(sources: Vec<Source>, requested: usize) -> Workspace {
        let (versions, findings) = load(&sources);
        Workspace {
            requested: (0..requested.min(sources.len())).collect(),
            sources,
            versions,
            findings,
        }
    }

    /// Every programme loaded, as a rulebook that uses them is checked
    /// against them: the versions without errors, by programme id.
    pub fn library(&self) -> crate::check::Library {
        let mut library = crate::check::Library::default();
        for v in &self.versions {
            let id = v.checked.partial.id.clone();
            if id.is_empty() {
                continue;
            }
            match v.program() {
                Some(p) => library
                    .programmes
                    .entry(id)
                    .or_default()
                    .push(std::sync::Arc::new(p.program().clone())),
                None => {
                    library.with_errors.insert(id);
                }
            }
        }
        library
    }

    /// Every diagnostic of a version, in its own file's text, in order.
    pub fn diagnostics(&self, i: usize) -> Vec<Diagnostic> {
        let own = self.sources.get(i).map(|s| s.text.as_str()).unwrap_or("");
        let mut d = self
            .versions
            .get(i)
            .map(|v| v.own_diagnostics(own))
            .unwrap_or_default();
        d.extend(
            self.findings
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, d)| d.clone()),
        );
        d.sort_by_key(|d| d.span.start);
        d
    }

    pub fn has_errors(&self, i: usize) -> bool {
        self.diagnostics(i).iter().any(|d| d.is_error())
    }

    /// Errors of the file itself, leaving out findings about how it sits
    /// among other versions (a diff compares any two versions).
    pub fn own_errors(&self, i: usize) -> Vec<Diagnostic> {
        self.diagnostics(i)
            .into_iter()
            .filter(|d| d.is_error() && !matches!(d.code, Code::VersionOverlap | Code::VersionGap))
            .collect()
    }

    /// Among the requested versions, the position of the one in force on
    /// `date` (of programme `id`, when several are requested).
    pub fn in_force(&self, id: Option<&str>, date: NaiveDate) -> Result<usize, NoVersion> {
        let (positions, programs): (Vec<usize>, Vec<&Program>) = self
            .requested
            .iter()
            .filter_map(|i| self.versions.get(*i).map(|v| (*i, &v.checked.partial)))
            .unzip();
        let j = super::select(&programs, id, date)?;
        positions.get(j).copied().ok_or(NoVersion::Empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// Files in memory, counting how often each folder is listed.
    struct Memory {
        files: BTreeMap<PathBuf, String>,
        listed: RefCell<Vec<PathBuf>>,
    }

    impl Memory {
        fn new(files: &[(&str, &str)]) -> Memory {
            Memory {
                files: files
                    .iter()
                    .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                    .collect(),
                listed: RefCell::new(Vec::new()),
            }
        }
    }

    /// `./a` and `a` are the same file, as on a disk.
    fn norm(p: &Path) -> &Path {
        p.strip_prefix(".").unwrap_or(p)
    }

    impl World for Memory {
        fn read(&self, path: &Path) -> Result<String, LoadError> {
            self.files
                .get(norm(path))
                .cloned()
                .ok_or_else(|| LoadError {
                    path: path.to_path_buf(),
                    message: "missing".into(),
                })
        }
        fn kind(&self, path: &Path) -> PathKind {
            let path = norm(path);
            if self.files.contains_key(path) {
                PathKind::File
            } else if self.files.keys().any(|f| f.starts_with(path)) {
                PathKind::Folder
            } else {
                PathKind::Missing
            }
        }
        fn list(&self, folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
            self.listed.borrow_mut().push(folder.to_path_buf());
            let mut out: Vec<PathBuf> = Vec::new();
            for f in self.files.keys() {
                let Ok(rest) = f.strip_prefix(norm(folder)) else {
                    continue;
                };
                let Some(first) = rest.components().next() else {
                    continue;
                };
                let child = folder.join(first);
                if !out.contains(&child) {
                    out.push(child);
                }
            }
            Ok(out)
        }
    }

    const BASE: &str = "rulebook t.w \"W\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\ninput h { income: money }\n\noutput fee: money = h.income\n";
    const AMENDING: &str = "rulebook t.w \"W\"\n  version 2\n  in force 2022-01-01\n  amends 1\n";

    fn load(world: &Memory, path: &str) -> Workspace {
        match Workspace::load(world, &[PathBuf::from(path)]) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_bare_file_name_is_loaded_with_the_files_beside_it() {
        let world = Memory::new(&[("1.rulebook", BASE), ("2.rulebook", AMENDING)]);
        let w = load(&world, "2.rulebook");
        assert_eq!(w.requested, vec![0]);
        let names: Vec<&str> = w.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["2.rulebook", "1.rulebook"]);
        assert_eq!(*world.listed.borrow(), vec![PathBuf::from(".")]);
        assert!(!w.has_errors(0), "{:?}", w.diagnostics(0));
    }

    #[test]
    fn a_folder_is_listed_once_and_its_files_are_all_requested() {
        let world = Memory::new(&[("p/1.rulebook", BASE), ("p/2.rulebook", AMENDING)]);
        let w = load(&world, "p");
        assert_eq!(w.requested, vec![0, 1]);
        assert_eq!(*world.listed.borrow(), vec![PathBuf::from("p")]);
        assert!(!w.has_errors(1), "{:?}", w.diagnostics(1));
        let Ok(date) = "2022-06-01".parse::<NaiveDate>() else {
            panic!("a date")
        };
        assert_eq!(w.in_force(None, date), Ok(1));
    }

    #[test]
    fn a_missing_path_is_named() {
        let world = Memory::new(&[]);
        let Err(e) = Workspace::load(&world, &[PathBuf::from("nope")]) else {
            panic!("loaded a missing path")
        };
        assert_eq!(e.to_string(), "nope: no such file or folder");
    }
}
