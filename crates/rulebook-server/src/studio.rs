//! Rulebook Studio's server side: the page and its assets (built in
//! `crates/rulebook-server/studio`, embedded in the binary), and what the
//! page asks for beyond the decision API (`/v1`), which it uses for
//! decisions, letters and comparisons: the rulebook files with each
//! version's status, a file laid out for reading, the editor's analysis
//! (the same as the language server's, `rulebook::editor::context`), saving
//! a file (`rulebook studio` only), a version diff with the impact on an
//! uploaded population, and a tried case written as an example.
//!
//! Every answer is computed from the files as they are now, through the one
//! loading path; nothing the page sends is kept, except a file saved.

use crate::{Fail, Shared};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rulebook::diagnostic::{Diagnostic, Severity, Span};
use rulebook::editor::context::checked_in_context;
use rulebook::versions::workspace::{Workspace, World};
use rulebook_files::{Files, Overlay};
use serde::Deserialize;
use serde_json::{json, Value as J};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What the Studio may do on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not served.
    Off,
    /// `rulebook serve`: read, try, compare; nothing is saved.
    ReadOnly,
    /// `rulebook studio DIR`: also edit and save the folder's rulebooks.
    Edit,
}

/// Cases the editor's quick property search tries on each change, as in
/// the language server.
const EDITOR_VERIFY_CASES: usize = 300;

/// The largest population uploaded for an impact, in bytes.
pub const MAX_POPULATION: usize = 32 << 20;

const INDEX: &str = include_str!("../studio/index.html");
const SCRIPT: &str = include_str!("../studio/dist/studio.js");
const STYLE: &str = include_str!("../studio/studio.css");

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/studio", get(index))
        .route("/studio/", get(index))
        .route("/studio/assets/studio.js", get(script))
        .route("/studio/assets/studio.css", get(style))
        .route("/studio/api/overview", get(overview))
        .route("/studio/api/file", get(file))
        .route("/studio/api/analyze", post(analyze))
        .route("/studio/api/hover", post(hover))
        .route("/studio/api/completions", post(completions))
        .route("/studio/api/save", post(save))
        .route("/studio/api/example", post(example))
        .route(
            "/studio/api/diff",
            post(diff).layer(axum::extract::DefaultBodyLimit::max(MAX_POPULATION)),
        )
}

/// The page may load only its own script and style, and talk only to this
/// service; a letter is shown in a sandboxed frame of its own text.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self' about:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}

// ---- files ------------------------------------------------------------------------

fn bad(path: &str, message: impl Into<String>, help: &str) -> Fail {
    let message = message.into();
    Fail::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-request",
        message.clone(),
    )
    .with(path, message, Some(help.into()))
}

/// The folder the Studio reads, and the files below it: the folder served,
/// or a bundle's files as it holds them.
struct Root {
    dir: PathBuf,
    bundle: Option<Arc<std::collections::BTreeMap<String, String>>>,
}

impl Root {
    fn of(s: &crate::AppState) -> Result<Root, Fail> {
        match &s.config.source {
            crate::ReleaseSource::Folder(dir) => Ok(Root {
                dir: dir.clone(),
                bundle: None,
            }),
            // The files of the bundle being served, as verified when it
            // was loaded.
            crate::ReleaseSource::Bundle { .. } => Ok(Root {
                dir: PathBuf::from(crate::BUNDLE_ROOT),
                bundle: Some(s.catalog().bundle_files.clone().unwrap_or_default()),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&dyn World) -> T) -> T {
        match &self.bundle {
            None => f(&Files),
            Some(files) => f(&crate::bundle::BundleWorld {
                root: self.dir.clone(),
                files: files.as_ref(),
            }),
        }
    }

    /// As [`Root::with`], with the editor's `text` in place of the file at
    /// `path`. A bundle's files cannot be edited; they are read as they are.
    fn with_text<T>(&self, path: &Path, text: &str, f: impl FnOnce(&dyn World) -> T) -> T {
        match &self.bundle {
            Some(_) => self.with(f),
            None => {
                let mut open = std::collections::HashMap::new();
                open.insert(path.to_path_buf(), Arc::new(text.to_string()));
                f(&Overlay { open })
            }
        }
    }

    /// A path the page names, relative to the root, as a file below it:
    /// a `.rulebook` file, with no `..`, absolute or hidden part.
    fn file(&self, rel: &str) -> Result<PathBuf, Fail> {
        let p = Path::new(rel);
        let plain = p.components().all(|c| match c {
            Component::Normal(s) => !s.to_string_lossy().starts_with('.'),
            _ => false,
        });
        if rel.is_empty() || !plain || !rulebook::versions::workspace::is_rulebook(p) {
            return Err(bad(
                "path",
                format!("`{rel}` is not a rulebook file below the folder"),
                "name a .rulebook file by its path inside the folder, such as helsinki-home-care/2024-25.rulebook",
            ));
        }
        Ok(self.dir.join(p))
    }

    fn relative(&self, p: &Path) -> String {
        p.strip_prefix(&self.dir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }
}

/// Runs blocking work (loading, checking) off the runtime; a fault inside
/// it answers this request with an error.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Fail> + Send + 'static,
) -> Result<T, Fail> {
    match tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    })
    .await
    {
        Ok(Ok(r)) => r,
        _ => Err(Fail::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the Studio could not answer this request (a fault inside rulebook; please report it)",
        )),
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    max: usize,
) -> Result<T, Fail> {
    let body = body.map_err(|e| crate::body_error(e, max))?;
    crate::parse_json(&body)
}

// ---- positions ----------------------------------------------------------------

/// Byte offsets to the page's offsets (UTF-16 code units, as JavaScript
/// strings count), and back.
struct Offsets {
    utf16: Vec<u32>,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let mut utf16 = vec![0u32; text.len() + 1];
        let mut n = 0u32;
        for (i, c) in text.char_indices() {
            for k in 0..c.len_utf8() {
                utf16[i + k] = n;
            }
            n += c.len_utf16() as u32;
        }
        utf16[text.len()] = n;
        Offsets { utf16 }
    }
    fn at(&self, byte: usize) -> u32 {
        self.utf16
            .get(byte)
            .copied()
            .unwrap_or_else(|| self.utf16.last().copied().unwrap_or(0))
    }
    fn span(&self, s: Span) -> (u32, u32) {
        (self.at(s.start), self.at(s.end))
    }
    /// The byte offset of a page offset (the start of the character there).
    fn byte(&self, unit: u32) -> usize {
        self.utf16
            .partition_point(|&u| u < unit)
            .min(self.utf16.len() - 1)
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn diagnostic_json(text: &str, o: &Offsets, d: &Diagnostic) -> J {
    let (from, to) = o.span(d.span);
    json!({
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "code": d.code.as_str(),
        "message": d.message,
        "label": d.label,
        "help": d.help,
        "from": from,
        "to": to,
        "line": line_of(text, d.span.start),
    })
}

// ---- the programmes and their status ---------------------------------------------

/// Every rulebook file below the folder, each version with its status: its
/// findings, its examples, its properties (searched as `rulebook verify`
/// does) and its coverage; and whether the service decides with it.
async fn overview(State(s): State<Shared>) -> Result<Response, Fail> {
    let root = Root::of(&s)?;
    let catalog = s.catalog();
    let mode = s.config.studio;
    let answer = blocking(move || {
        let loaded = root
            .with(|w| Workspace::load(w, std::slice::from_ref(&root.dir)))
            .map_err(|e| Fail::new(StatusCode::SERVICE_UNAVAILABLE, "unreadable", e.to_string()))?;
        // Examples, properties and coverage are worked out once per set of
        // texts; whether the service decides with a version is not cached.
        let key = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for s in &loaded.sources {
                h.update(format!("{}\n{}\n", s.name, s.text.len()));
                h.update(s.text.as_bytes());
            }
            format!("{:x}", h.finalize())
        };
        let cache = OVERVIEW.get_or_init(|| std::sync::Mutex::new(None));
        let cached = cache.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, f)| f.clone())
        });
        let mut files = match cached {
            Some(files) => files,
            None => {
                let files = statuses(&loaded, &root);
                if let Ok(mut c) = cache.lock() {
                    *c = Some((key, files.clone()));
                }
                files
            }
        };
        for f in &mut files {
            let served = catalog.entries.iter().any(|e| {
                f["programme"] == e.program.id.as_str()
                    && f["version"] == e.program.version.as_str()
            });
            if let Some(o) = f.as_object_mut() {
                o.insert("served".into(), J::Bool(served));
            }
        }
        Ok(json!({
            "editable": mode == Mode::Edit,
            "refused": catalog.refused,
            "files": files,
        }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

/// The last overview's statuses, by the SHA-256 of the texts they are of.
static OVERVIEW: std::sync::OnceLock<std::sync::Mutex<Option<Statuses>>> =
    std::sync::OnceLock::new();

/// The key of a set of texts and their versions' statuses.
type Statuses = (String, Vec<J>);

/// Each version's findings, examples, properties and coverage.
fn statuses(loaded: &Workspace, root: &Root) -> Vec<J> {
    let mut files = Vec::new();
    for (i, (src, v)) in loaded.sources.iter().zip(&loaded.versions).enumerate() {
        let diags = loaded.diagnostics(i);
        let errors = diags.iter().filter(|d| d.is_error()).count();
        let p = &v.checked.partial;
        let mut doc = json!({
            "path": root.relative(Path::new(&src.name)),
            "programme": p.id,
            "version": p.version,
            "errors": errors,
            "warnings": diags.len() - errors,
        });
        if let Some(exe) = v.program().filter(|_| errors == 0) {
            let program = exe.program();
            let results = rulebook::ops::examples::run_examples(exe);
            let passed = results.iter().filter(|r| r.passed()).count();
            // A quick look, as in the editor; a release the service loads
            // is searched fully (`rulebook verify`'s 5 000 cases).
            let settings = rulebook::ops::verify::Settings {
                cases: EDITOR_VERIFY_CASES,
                ..Default::default()
            };
            let props = rulebook::ops::verify::verify(exe, &v.text, settings);
            let failed = props.iter().filter(|r| r.failed()).count();
            let coverage = rulebook::ops::coverage::coverage(exe, &v.text);
            let texts: serde_json::Map<String, J> = program
                .texts
                .iter()
                .map(|(k, t)| {
                    let mut m = serde_json::Map::new();
                    // A rulebook without declared languages has its texts
                    // under `_`.
                    let first = program.languages.first().map_or("_", String::as_str);
                    m.insert(first.to_string(), J::String(t.first.clone()));
                    for (l, x) in &t.translations {
                        m.insert(l.clone(), J::String(x.clone()));
                    }
                    (k.clone(), J::Object(m))
                })
                .collect();
            let extra = json!({
                "title": program.title,
                "texts": texts,
                "languages": program.languages,
                "in_force_from": program.in_force_from.to_string(),
                "in_force_to": program.in_force_to.map(|d| d.to_string()),
                "source": program.source,
                "amends": program.amends,
                "examples": { "passed": passed, "total": results.len() },
                "properties": { "searched": props.len(), "failed": failed },
                "coverage": { "reached": coverage.covered, "total": coverage.total, "percent": coverage.percent() },
                "outline": rulebook::ops::outline::outline(program),
                "tables": table_cells(program, &v.text),
            });
            if let (Some(d), J::Object(e)) = (doc.as_object_mut(), extra) {
                d.extend(e);
            }
        }
        files.push(doc);
    }
    files
}

/// The rows shown of one table, at most: a table read from a large file
/// is looked at in the editor, not charted.
const MAX_ROWS_SHOWN: usize = 500;

/// Each table's rows as written: the cells of its inputs (the row's key)
/// and of its result, so that a cell's values can be followed across
/// versions.
fn table_cells(p: &rulebook::ir::Program, text: &str) -> Vec<J> {
    p.tables
        .iter()
        .map(|t| {
            let inputs = t.params.len();
            let rows: Vec<J> = t
                .rows
                .iter()
                .take(MAX_ROWS_SHOWN)
                .filter_map(|r| {
                    let written = text.get(r.span.start..r.span.end)?;
                    let cells: Vec<&str> = written
                        .trim()
                        .trim_matches('|')
                        .split('|')
                        .map(str::trim)
                        .collect();
                    let k = inputs.min(cells.len().saturating_sub(1));
                    Some(json!({ "key": cells[..k].join(" · "), "result": cells[k..].join(" · ") }))
                })
                .collect();
            json!({
                "name": t.name,
                "inputs": t.params.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>(),
                "source": t.citation.source,
                "section": t.citation.section,
                "rows": rows,
                "more_rows": t.rows.len().saturating_sub(MAX_ROWS_SHOWN),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct FileQuery {
    path: String,
}

/// A file laid out for reading: its text, its items with their doc
/// comments in each language, every definition and every use of a name
/// (offsets in the page's units), and its findings.
async fn file(State(s): State<Shared>, Query(q): Query<FileQuery>) -> Result<Response, Fail> {
    let root = Root::of(&s)?;
    let path = root.file(&q.path)?;
    let editable = s.config.studio == Mode::Edit;
    let answer = blocking(move || {
        let text = root.with(|w| w.read(&path)).map_err(|e| {
            Fail::new(StatusCode::NOT_FOUND, "unknown-file", e.to_string())
                .with("path", "no such rulebook", Some("choose a file from the overview".into()))
        })?;
        let c = root.with(|w| checked_in_context(w, Some(&path), &text));
        let o = Offsets::new(&text);
        let a = &c.analysis;
        let items: Vec<J> = a
            .checked
            .ast
            .items
            .iter()
            .map(|item| {
                let (from, to) = o.span(item.span);
                let kind = format!("{:?}", item.kind);
                let kind = kind.split(['(', ' ']).next().unwrap_or("").to_ascii_lowercase();
                let doc_in: serde_json::Map<String, J> = item
                    .doc_in
                    .iter()
                    .map(|(l, t)| (l.clone(), J::String(t.clone())))
                    .collect();
                json!({ "kind": kind, "from": from, "to": to, "line": line_of(&text, item.span.start), "doc": item.doc, "doc_in": doc_in })
            })
            .collect();
        let key = |k: &rulebook::check::SymKey| format!("{k:?}");
        let definitions: Vec<J> = a
            .symbols
            .iter()
            .filter_map(|sym| {
                let (from, to) = o.span(sym.name_span);
                Some(json!({
                    "key": key(sym.key.as_ref()?),
                    "name": sym.name,
                    "kind": format!("{:?}", sym.kind).to_ascii_lowercase(),
                    "container": sym.container,
                    "detail": sym.detail,
                    "doc": sym.doc,
                    "from": from, "to": to,
                    "line": line_of(&text, sym.name_span.start),
                }))
            })
            .collect();
        let references: Vec<J> = a
            .checked
            .uses
            .iter()
            .map(|(span, k)| {
                let (from, to) = o.span(*span);
                json!({ "key": key(k), "from": from, "to": to, "line": line_of(&text, span.start) })
            })
            .collect();
        let diagnostics: Vec<J> = c.diagnostics.iter().map(|d| diagnostic_json(&text, &o, d)).collect();
        Ok(json!({
            "path": q.path,
            "text": text,
            "editable": editable,
            "languages": a.checked.partial.languages,
            "items": items,
            "definitions": definitions,
            "references": references,
            "diagnostics": diagnostics,
        }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

// ---- the editor -----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditorRequest {
    /// The file being edited, relative to the folder.
    path: String,
    /// Its text in the editor, saved or not.
    text: String,
    /// A position in the text (UTF-16 code units), for hover and completion.
    #[serde(default)]
    offset: Option<u32>,
}

/// The editor's text checked in place of the file, with the files beside
/// it as they are on disk.
fn edited(s: &crate::AppState, req: &EditorRequest) -> Result<(Root, PathBuf), Fail> {
    let root = Root::of(s)?;
    let path = root.file(&req.path)?;
    Ok((root, path))
}

/// Findings, examples and properties of the editor's text: what the
/// language server publishes.
async fn analyze(
    State(s): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let req: EditorRequest = parse(body, s.config.max_body)?;
    let (root, path) = edited(&s, &req)?;
    let answer = blocking(move || {
        let c = root.with_text(&path, &req.text, |w| {
            rulebook::editor::context::in_context(w, Some(&path), &req.text, EDITOR_VERIFY_CASES)
        });
        let text = &req.text;
        let o = Offsets::new(text);
        let mut diagnostics: Vec<J> = c.diagnostics.iter().map(|d| diagnostic_json(text, &o, d)).collect();
        for r in c.examples.iter().filter(|r| !r.passed()) {
            let (from, to) = o.span(r.span);
            diagnostics.push(json!({
                "severity": "error", "code": "example-failed",
                "message": format!("example {:?} fails: {}", r.name, r.failures.join("; ")),
                "from": from, "to": to, "line": line_of(text, r.span.start),
            }));
        }
        for x in &c.counterexamples {
            let (from, to) = o.span(x.span);
            diagnostics.push(json!({
                "severity": "error", "code": "property-fails",
                "message": format!("the property {} fails: {}", x.property, x.why),
                "help": format!("counterexample:\n{}", x.example),
                "from": from, "to": to, "line": line_of(text, x.span.start),
            }));
        }
        let examples: Vec<J> = c
            .examples
            .iter()
            .map(|r| json!({ "name": r.name, "passed": r.passed(), "failures": r.failures, "line": line_of(text, r.span.start) }))
            .collect();
        Ok(json!({
            "diagnostics": diagnostics,
            "examples": examples,
            "coverage": c.coverage.as_ref().map(|r| json!({ "reached": r.covered, "total": r.total, "percent": r.percent() })),
        }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

/// Hover and completion: the editor's text analysed in its context, and
/// the answer at the cursor (`offset`), worked out by `answer` from the
/// analysis, the page's offsets and the cursor's byte offset.
async fn at_cursor(
    s: &crate::AppState,
    body: Result<Bytes, BytesRejection>,
    answer: impl FnOnce(&rulebook::editor::Analysis, &Offsets, usize) -> J + Send + 'static,
) -> Result<Response, Fail> {
    let req: EditorRequest = parse(body, s.config.max_body)?;
    let (root, path) = edited(s, &req)?;
    let at = req.offset.ok_or_else(|| {
        bad(
            "offset",
            "no offset",
            "send the cursor's position in the text",
        )
    })?;
    let answer = blocking(move || {
        let c = root.with_text(&path, &req.text, |w| {
            checked_in_context(w, Some(&path), &req.text)
        });
        let o = Offsets::new(&req.text);
        Ok(answer(&c.analysis, &o, o.byte(at)))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

async fn hover(
    State(s): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    at_cursor(&s, body, |a, o, byte| {
        match a.expect_explanation(byte).or_else(|| a.hover(byte)) {
            Some((span, text)) => {
                let (from, to) = o.span(span);
                json!({ "from": from, "to": to, "text": text })
            }
            None => J::Null,
        }
    })
    .await
}

async fn completions(
    State(s): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    at_cursor(&s, body, |a, _, byte| {
        let list = a.completions(byte).into_iter().map(|x| {
            json!({
                "label": x.label,
                "kind": format!("{:?}", x.kind).to_ascii_lowercase(),
                "detail": x.detail,
                "insert": x.insert,
                "snippet": x.snippet,
            })
        });
        J::Array(list.collect())
    })
    .await
}

/// Saves the editor's text to its file (`rulebook studio` only), whole or
/// not at all: written beside it and renamed over it. A text with errors
/// is saved too (work in progress); the service keeps deciding with the
/// versions that check, and the answer says how many findings it has.
async fn save(
    State(s): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let req: EditorRequest = parse(body, s.config.max_body)?;
    if s.config.studio != Mode::Edit {
        return Err(Fail::new(
            StatusCode::FORBIDDEN,
            "read-only",
            "this Studio is read-only: rulebooks are saved only in `rulebook studio DIR`",
        ));
    }
    let (root, path) = edited(&s, &req)?;
    let answer = blocking(move || {
        let fail = |e: std::io::Error| {
            Fail::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not-saved",
                format!(
                    "{} could not be saved: {e}; the file on disk is unchanged",
                    req.path
                ),
            )
        };
        let folder = path.parent().unwrap_or(&root.dir);
        if !folder.is_dir() {
            return Err(bad(
                "path",
                format!("the folder of `{}` does not exist", req.path),
                "save into an existing programme folder",
            ));
        }
        let tmp = folder.join(format!(".{}.studio-save", std::process::id()));
        std::fs::write(&tmp, req.text.as_bytes()).map_err(fail)?;
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        let c = checked_in_context(&Files, Some(&path), &req.text);
        let errors = c.diagnostics.iter().filter(|d| d.is_error()).count();
        tracing::info!(file = %req.path, errors, "saved from the Studio");
        Ok(json!({ "saved": req.path, "errors": errors }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleRequest {
    programme: String,
    version: String,
    /// The example's name.
    name: String,
    decision_date: String,
    inputs: J,
}

/// A tried case written as an example block, expecting what it decided.
async fn example(
    State(s): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let req: ExampleRequest = parse(body, s.config.max_body)?;
    let c = s.catalog();
    let entry = c
        .entries
        .iter()
        .find(|e| e.program.id == req.programme && e.program.version == req.version)
        .ok_or_else(|| {
            Fail::new(
                StatusCode::NOT_FOUND,
                "unknown-version",
                format!(
                    "`{}` has no version {} that is served",
                    req.programme, req.version
                ),
            )
            .with("version", "unknown", None)
        })?;
    let date = rulebook::cases::input::parse_date(req.decision_date.trim()).ok_or_else(|| {
        bad(
            "decision_date",
            "not a date",
            "write a date such as 2024-03-01",
        )
    })?;
    let p = &entry.program;
    let case =
        rulebook::cases::input::decode_case(p, &req.inputs, Some(date)).map_err(|errors| {
            let mut f = Fail::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-inputs",
                "the inputs are not a case of this version",
            );
            for e in errors {
                f = f.with(&format!("inputs.{}", e.path), e.message, e.help);
            }
            f
        })?;
    let d = rulebook::eval::evaluate(p, &case, &rulebook::eval::Options { explain: false })
        .map_err(|e| {
            Fail::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "evaluation-failed",
                e.to_string(),
            )
        })?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 200 || name.contains(['"', '\n']) {
        return Err(bad(
            "name",
            "the example's name is empty, too long or has a quote or line break",
            "give a short name in plain words",
        ));
    }
    let text = rulebook::ops::examples::example_block(p, name, &case, &d);
    Ok(axum::Json(json!({ "text": text })).into_response())
}

// ---- versions compared ------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffRequest {
    /// The older and newer version's files, relative to the folder.
    old: String,
    new: String,
    /// A population: JSON Lines (one case per line) or CSV with a header.
    #[serde(default)]
    cases: Option<String>,
    /// `jsonl` or `csv`; JSON Lines when left out.
    #[serde(default)]
    format: Option<String>,
    /// Breakdowns, as `--by` of `rulebook diff`: `household.size`.
    #[serde(default)]
    by: Vec<String>,
}

/// The most cases one impact request decides here; larger populations go
/// through `rulebook diff --cases`, which streams on every core.
const MAX_POPULATION_CASES: usize = 200_000;

/// The semantic diff of two versions, and with a population its impact: as
/// `rulebook diff --format html`, the report's body.
async fn diff(
    State(s): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let req: DiffRequest = parse(body, MAX_POPULATION)?;
    let root = Root::of(&s)?;
    let (old_path, new_path) = (root.file(&req.old)?, root.file(&req.new)?);
    let answer = blocking(move || {
        let loaded = root
            .with(|w| Workspace::load(w, &[old_path.clone(), new_path.clone()]))
            .map_err(|e| Fail::new(StatusCode::NOT_FOUND, "unknown-file", e.to_string()))?;
        let find = |p: &Path, field: &str| {
            let i = loaded
                .sources
                .iter()
                .position(|s| Path::new(&s.name) == p)
                .ok_or_else(|| bad(field, "no such rulebook", "choose a file from the overview"))?;
            let v = &loaded.versions[i];
            match v.program().filter(|_| !loaded.has_errors(i)) {
                Some(program) => Ok(rulebook::ops::diff::Side {
                    text: &v.text,
                    checked: &v.checked,
                    program,
                }),
                None => Err(bad(
                    field,
                    format!("{} has errors; fix them before comparing", root.relative(p)),
                    "open it in the editor to see its findings",
                )),
            }
        };
        let (a, b) = (find(&old_path, "old")?, find(&new_path, "new")?);
        let d = rulebook::ops::diff::diff(&a, &b);
        let mut impact_html = None;
        if let Some(cases) = req.cases.as_deref().filter(|c| !c.trim().is_empty()) {
            let by = req
                .by
                .iter()
                .map(|f| {
                    rulebook::ops::impact::ByField::parse(f, a.program, b.program)
                        .map_err(|e| bad("by", e, "name an input, such as household.size"))
                })
                .collect::<Result<Vec<_>, Fail>>()?;
            let settings = rulebook::ops::impact::Settings {
                top: 5,
                by,
                measure: None,
            };
            let mut acc =
                rulebook::ops::impact::Accumulator::new(a.program, b.program, None, settings)
                    .map_err(|e| bad("new", e, "compare two versions of one programme"))?
                    .with_changed_items(&d);
            let mut n = 0usize;
            let count = |n: &mut usize| {
                *n += 1;
                if *n > MAX_POPULATION_CASES {
                    Err(bad(
                        "cases",
                        format!("more than {MAX_POPULATION_CASES} cases"),
                        "use `rulebook diff --cases FILE` for larger populations",
                    ))
                } else {
                    Ok(*n as u64)
                }
            };
            if req.format.as_deref() == Some("csv") {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(false)
                    .from_reader(cases.as_bytes());
                let header: Vec<String> = reader
                    .headers()
                    .map_err(|e| {
                        bad(
                            "cases",
                            format!("the CSV header cannot be read: {e}"),
                            "the first line names the inputs by path",
                        )
                    })?
                    .iter()
                    .map(str::to_string)
                    .collect();
                for row in reader.records() {
                    let line = count(&mut n)?;
                    match row {
                        Ok(r) => {
                            acc.add(
                                line,
                                rulebook::cases::batch::csv_case(b.program, &header, &r),
                            );
                        }
                        Err(e) => acc.add_unreadable(line, e.to_string()),
                    }
                }
            } else {
                for l in cases.lines().filter(|l| !l.trim().is_empty()) {
                    let line = count(&mut n)?;
                    match rulebook::cases::document::json_from_str(l) {
                        Ok(doc) => {
                            acc.add(line, doc);
                        }
                        Err(e) => {
                            acc.add_unreadable(line, format!("column {}: {}", e.column, e.message))
                        }
                    }
                }
            }
            let impact =
                rulebook::ops::impact::finish(&acc.into_summary(), a.program, b.program, None);
            impact_html = Some(rulebook::ops::impact::to_html(&impact));
        }
        let mut html = rulebook::ops::diff::to_html_fragment(&d);
        if let Some(i) = impact_html {
            html.push_str(&i);
        }
        Ok(json!({ "html": html, "changes": rulebook::ops::diff::to_json(&d) }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}
