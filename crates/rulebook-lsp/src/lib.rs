//! The rulebook language server: a thin layer over `rulebook::editor`.
//!
//! It keeps the open documents, re-analyses a document on every change and
//! publishes the same diagnostics as `rulebook check`, plus one for each
//! failing example. Every handler runs under `catch_unwind`, so a fault in
//! one request answers that request with nothing and the server goes on.
//!
//! Changes may be handled concurrently, and analysing a large rulebook
//! takes a while, so each document keeps the latest text the client sent
//! apart from its latest analysis. A request waits until the analysis has
//! caught up with the text it is about (the positions it carries refer to
//! that text), and an analysis that finishes after a newer change is
//! dropped rather than taking the newer one's place.
//!
//! Everything that reads files or checks a rulebook runs on the blocking
//! pool, never on the runtime that answers requests: a version that amends
//! another is checked with the files beside it through the core's one
//! loading path (`Workspace::load`, over the open documents' unsaved texts),
//! and the versions it builds on are kept with its analysis, so that hover,
//! definition and completion answer for names it inherits. Workspace
//! symbols walk the folder with the loader's own walk and keep each unopened
//! file's analysis until the file changes.

use rulebook::diagnostic::{Diagnostic as RDiag, Severity, Span};
use rulebook::editor::{analyze, Analysis, CompletionKind, SymbolKind as RSym, TokenKind};
use rulebook::versions::workspace::{LoadError, Workspace, World};
use rulebook_files::{Files, Overlay};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// Runs `f`, turning a panic into `None` so that one bad request cannot
/// take the server down.
fn guarded<T>(f: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok().flatten()
}

// ---- positions: LSP counts UTF-16 code units --------------------------------

pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let character: usize = before
        .get(line_start..)
        .unwrap_or("")
        .chars()
        .map(|c| c.len_utf16())
        .sum();
    Position::new(line as u32, character as u32)
}

pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text.get(line_start..).and_then(|r| r.find('\n')) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0u32;
    for (i, c) in text.get(line_start..).unwrap_or("").char_indices() {
        if units >= pos.character || c == '\n' {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

fn range(text: &str, span: Span) -> Range {
    Range::new(position(text, span.start), position(text, span.end))
}

// ---- documents --------------------------------------------------------------

pub struct Document {
    pub text: String,
    pub analysis: Arc<Analysis>,
    /// For a version that amends another: the versions it builds on,
    /// nearest first, as the editor has them (unsaved text included), so
    /// that names it inherits can be hovered, followed and completed.
    bases: Vec<Base>,
    /// For a rulebook that uses others: the file of each used programme's
    /// version its names are typed against, by alias, so that a used name
    /// is followed into it.
    used: Vec<(String, Base)>,
    /// Properties `verify` found a counterexample to: the property's name,
    /// and the counterexample as an example to insert at the end.
    counterexamples: Vec<(Span, String)>,
    /// What the examples reach, for a version on its own that checks.
    coverage: Option<rulebook::ops::coverage::CoverageReport>,
}

/// A version an amendment builds on.
struct Base {
    uri: Uri,
    version: String,
    text: String,
    analysis: Analysis,
}

impl Document {
    fn alone(text: String, analysis: Analysis) -> Document {
        Document {
            text,
            analysis: Arc::new(analysis),
            bases: Vec::new(),
            used: Vec::new(),
            counterexamples: Vec::new(),
            coverage: None,
        }
    }

    /// The used programme's file and its symbol for a used name at `offset`.
    fn used_at(&self, offset: usize) -> Option<(&Base, &rulebook::editor::Symbol)> {
        let sym = self.analysis.symbol_at(offset)?;
        let Some(rulebook::check::SymKey::Used(alias, name)) = &sym.key else {
            return None;
        };
        let (_, base) = self.used.iter().find(|(a, _)| a == alias)?;
        Some((base, base.analysis.defined(name)?))
    }

    /// The base version defining the name written at `offset`, and its
    /// symbol there, when this file does not define it itself.
    fn inherited(&self, offset: usize) -> Option<(&Base, &rulebook::editor::Symbol)> {
        if self.analysis.symbol_at(offset).is_some() {
            return None;
        }
        let (_, name) = self.analysis.word_at(offset)?;
        self.bases
            .iter()
            .find_map(|b| Some((b, b.analysis.defined(name)?)))
    }
}

/// An open document: the latest text the client sent, and the latest
/// analysis, with the change whose analysis finished last (successfully or
/// not) so that waiting requests know when to stop waiting. Changes are
/// counted in the order they arrive (`change`), since clients do not all
/// number their versions apart.
struct Open {
    version: i32,
    change: u64,
    text: Arc<String>,
    analysed: watch::Sender<Analysed>,
}

#[derive(Clone, Default)]
struct Analysed {
    settled: Option<u64>,
    doc: Option<Arc<Document>>,
}

/// Cases `verify` tries on each change of a document with properties: a
/// quick look, where `rulebook verify` tries 5 000.
const EDITOR_VERIFY_CASES: usize = 300;

/// How long a request waits for the analysis of the latest text before it
/// answers from the latest analysis there is.
const ANALYSIS_WAIT: Duration = Duration::from_secs(20);

pub struct Backend {
    client: Client,
    docs: RwLock<HashMap<Uri, Open>>,
    root: RwLock<Option<PathBuf>>,
    on_disk: Arc<Mutex<DiskCache>>,
}

/// Analyses of rulebook files that are not open, by path, with the
/// modification time and length they were made from.
type DiskCache = HashMap<PathBuf, (Option<std::time::SystemTime>, u64, Arc<Document>)>;

/// The workspace's rulebook files that are not open, analysed (from the
/// cache when a file has not changed), found by the loader's own walk.
fn disk_documents(
    root: &Path,
    open: &[Uri],
    cache: &Mutex<DiskCache>,
) -> std::result::Result<Vec<(Uri, Arc<Document>)>, LoadError> {
    let paths = rulebook::versions::workspace::rulebooks_below(&Files, root)?;
    let Ok(mut cache) = cache.lock() else {
        return Ok(Vec::new());
    };
    cache.retain(|p, _| paths.contains(p));
    let mut out = Vec::new();
    for path in paths {
        let Some(uri) = Uri::from_file_path(&path) else {
            continue;
        };
        if open.contains(&uri) {
            continue;
        }
        let meta = std::fs::metadata(&path).ok();
        let stamp = (
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.as_ref().map_or(0, |m| m.len()),
        );
        let doc = match cache.get(&path) {
            Some((modified, len, doc)) if (*modified, *len) == stamp => doc.clone(),
            _ => {
                // A file that cannot be read or analysed has no symbols.
                let Ok(text) = Files.read(&path) else {
                    continue;
                };
                let Some(a) = guarded(|| Some(analyze(&text))) else {
                    continue;
                };
                let doc = Arc::new(Document::alone(text, a));
                cache.insert(path.clone(), (stamp.0, stamp.1, doc.clone()));
                doc
            }
        };
        out.push((uri, doc));
    }
    Ok(out)
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            docs: RwLock::new(HashMap::new()),
            root: RwLock::new(None),
            on_disk: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The analysed document, once its analysis has caught up with the
    /// latest text.
    async fn doc(&self, uri: &Uri) -> Option<Arc<Document>> {
        let (change, mut rx) = {
            let docs = self.docs.read().ok()?;
            let open = docs.get(uri)?;
            (open.change, open.analysed.subscribe())
        };
        let caught_up = rx.wait_for(|a| a.settled.is_some_and(|c| c >= change));
        if let Ok(Ok(a)) = tokio::time::timeout(ANALYSIS_WAIT, caught_up).await {
            return a.doc.clone();
        }
        let latest = rx.borrow().doc.clone();
        latest
    }

    /// The latest text the client sent.
    fn text(&self, uri: &Uri) -> Option<Arc<String>> {
        Some(self.docs.read().ok()?.get(uri)?.text.clone())
    }

    /// The latest analysis of every open document.
    fn all_docs(&self) -> Vec<(Uri, Arc<Document>)> {
        self.docs
            .read()
            .map(|d| {
                d.iter()
                    .filter_map(|(u, o)| Some((u.clone(), o.analysed.borrow().doc.clone()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn update(&self, uri: Uri, version: i32, text: String) {
        let text = Arc::new(text);
        let change = {
            let Ok(mut docs) = self.docs.write() else {
                return;
            };
            match docs.get_mut(&uri) {
                // A change older than one already received comes too late.
                Some(open) if open.version > version => return,
                Some(open) => {
                    open.version = version;
                    open.change += 1;
                    open.text = text.clone();
                    open.change
                }
                None => {
                    docs.insert(
                        uri.clone(),
                        Open {
                            version,
                            change: 0,
                            text: text.clone(),
                            analysed: watch::Sender::new(Analysed::default()),
                        },
                    );
                    0
                }
            }
        };
        let open = self.open_texts();
        let u = uri.clone();
        // Analysis, and for an amendment the reading and checking of the
        // versions beside it, run off the server's runtime.
        let analysed = tokio::task::spawn_blocking(move || {
            guarded(|| Some(in_context(&u, text.to_string(), open)))
        })
        .await
        .ok()
        .flatten();
        let (doc, diagnostics) = match analysed {
            Some((doc, diagnostics)) => (Some(Arc::new(doc)), Some(diagnostics)),
            None => (None, None),
        };
        let latest = {
            let Ok(docs) = self.docs.read() else {
                return;
            };
            let Some(open) = docs.get(&uri) else {
                return;
            };
            // Only the latest change's analysis is kept and published.
            let latest = open.change == change;
            if latest {
                open.analysed.send_modify(|a| {
                    a.settled = Some(change);
                    if doc.is_some() {
                        a.doc = doc.clone();
                    }
                });
            }
            latest
        };
        if !latest {
            return;
        }
        match diagnostics {
            Some(diagnostics) => {
                self.client
                    .publish_diagnostics(uri, diagnostics, Some(version))
                    .await
            }
            None => {
                self.client
                    .log_message(MessageType::ERROR, "the rulebook could not be analysed")
                    .await
            }
        }
    }

    /// The open documents' latest texts, by path.
    fn open_texts(&self) -> HashMap<PathBuf, Arc<String>> {
        let mut open = HashMap::new();
        if let Ok(docs) = self.docs.read() {
            for (u, o) in docs.iter() {
                if let Some(p) = u.to_file_path() {
                    open.insert(p.to_path_buf(), o.text.clone());
                }
            }
        }
        open
    }
}

/// A document with the diagnostics of `rulebook check` (a version that
/// amends another checked together with the files beside it, as the editor
/// has them) plus failing examples and properties with a counterexample,
/// and the versions it builds on: the core's `editor::context`, in the
/// protocol's terms.
fn in_context(
    uri: &Uri,
    text: String,
    mut open: HashMap<PathBuf, Arc<String>>,
) -> (Document, Vec<Diagnostic>) {
    let path = uri.to_file_path().map(|p| p.to_path_buf());
    if let Some(path) = &path {
        // The text analysed, which may be older than the latest the client
        // sent.
        open.insert(path.clone(), Arc::new(text.clone()));
    }
    let world = Overlay { open };
    let c =
        rulebook::editor::context::in_context(&world, path.as_deref(), &text, EDITOR_VERIFY_CASES);
    let mut out: Vec<Diagnostic> = c
        .diagnostics
        .iter()
        .map(|d| to_lsp(uri, &text, d))
        .collect();
    for r in c.examples.iter().filter(|r| !r.passed()) {
        out.push(Diagnostic {
            range: range(&text, r.span),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String("example-failed".into())),
            source: Some("rulebook".into()),
            message: format!("example {:?} fails: {}", r.name, r.failures.join("; ")),
            ..Default::default()
        });
    }
    // A failing property is shown on the property, with its counterexample
    // as a quick fix.
    let mut counterexamples = Vec::new();
    for x in c.counterexamples {
        out.push(Diagnostic {
            range: range(&text, x.span),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String("property-fails".into())),
            source: Some("rulebook verify".into()),
            message: format!(
                "the property {} fails: {}\n\ncounterexample:\n{}",
                x.property, x.why, x.example
            ),
            ..Default::default()
        });
        counterexamples.push((x.span, x.example));
    }
    let (bases, used) = match &c.loaded {
        Some(loaded) => (bases_of(loaded, 0), used_files(loaded, &c.analysis)),
        None => (Vec::new(), Vec::new()),
    };
    let doc = Document {
        text,
        analysis: Arc::new(c.analysis),
        bases,
        used,
        counterexamples,
        coverage: c.coverage,
    };
    (doc, out)
}

/// Edits renaming `name` of programme `id` where rulebooks that use it write
/// it (`alias.name`): every rulebook in the folders beside the renamed
/// file's folder (and below them) that names `id` in a `use`.
fn users_renamed(
    path: Option<&Path>,
    id: &str,
    name: &str,
    new_name: &str,
    open: HashMap<PathBuf, Arc<String>>,
) -> Vec<(Uri, Vec<TextEdit>)> {
    let Some(root) = path.and_then(Path::parent).and_then(Path::parent) else {
        return Vec::new();
    };
    let world = Overlay { open };
    let Ok(files) = rulebook::versions::workspace::rulebooks_below(&world, root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in files {
        if Some(f.as_path()) == path {
            continue;
        }
        let Ok(text) = world.read(&f) else { continue };
        if !rulebook::versions::used_programmes(&text)
            .iter()
            .any(|(used, _)| used == id)
        {
            continue;
        }
        let Ok(loaded) = Workspace::load(&world, std::slice::from_ref(&f)) else {
            continue;
        };
        let a = rulebook::editor::analyze_with(&text, &loaded.library());
        let edits: Vec<TextEdit> = a
            .checked
            .uses
            .iter()
            .filter(|(_, k)| {
                matches!(k, rulebook::check::SymKey::Used(alias, n)
                    if n == name && a.checked.partial.uses.iter().any(|u| u.alias == *alias && u.id == id))
            })
            .map(|(s, _)| TextEdit::new(range(&text, *s), new_name.to_string()))
            .collect();
        if let (false, Some(uri)) = (edits.is_empty(), Uri::from_file_path(&f)) {
            out.push((uri, edits));
        }
    }
    out
}

/// The files of the used programmes' versions a rulebook's names are typed
/// against, by alias.
fn used_files(loaded: &Workspace, a: &Analysis) -> Vec<(String, Base)> {
    let mut out = Vec::new();
    for u in &a.checked.partial.uses {
        let Some(reference) = u.versions.first() else {
            continue;
        };
        let found = loaded.versions.iter().zip(&loaded.sources).find(|(v, _)| {
            let p = &v.checked.partial;
            p.id == reference.id && p.version == reference.version
        });
        let Some((_, source)) = found else { continue };
        let Some(uri) = Uri::from_file_path(&source.name) else {
            continue;
        };
        out.push((
            u.alias.clone(),
            Base {
                uri,
                version: reference.version.clone(),
                text: source.text.clone(),
                analysis: analyze(&source.text),
            },
        ));
    }
    out
}

/// The versions source `i` of a workspace builds on, nearest first: the
/// version it amends, the one that amends, and so on.
fn bases_of(loaded: &Workspace, mut i: usize) -> Vec<Base> {
    let header = |k: usize| loaded.versions.get(k)?.checked.ast.header.as_ref();
    let mut out = Vec::new();
    while let Some(amends) = header(i).and_then(|h| h.amends.as_ref()) {
        let Some(id) = header(i).map(|h| h.id.name.clone()) else {
            break;
        };
        let next = (0..loaded.versions.len()).find(|&k| {
            header(k).is_some_and(|h| {
                h.id.name == id && h.version.as_ref().is_some_and(|v| v.name == amends.name)
            })
        });
        let Some(k) = next else { break };
        // An amendment that amends itself, or a circle, ends the chain.
        if k == i || out.len() > loaded.versions.len() {
            break;
        }
        let Some(source) = loaded.sources.get(k) else {
            break;
        };
        let Some(uri) = Uri::from_file_path(&source.name) else {
            break;
        };
        out.push(Base {
            uri,
            version: amends.name.clone(),
            text: source.text.clone(),
            analysis: analyze(&source.text),
        });
        i = k;
    }
    out
}

fn to_lsp(uri: &Uri, text: &str, d: &RDiag) -> Diagnostic {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    Diagnostic {
        range: range(text, d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("rulebook".into()),
        message,
        related_information: if d.related.is_empty() {
            None
        } else {
            Some(
                d.related
                    .iter()
                    .map(|l| DiagnosticRelatedInformation {
                        location: Location::new(uri.clone(), range(text, l.span)),
                        message: l.message.clone(),
                    })
                    .collect(),
            )
        },
        ..Default::default()
    }
}

fn symbol_kind(k: RSym) -> SymbolKind {
    match k {
        RSym::Enum => SymbolKind::ENUM,
        RSym::Variant => SymbolKind::ENUM_MEMBER,
        RSym::Record => SymbolKind::STRUCT,
        RSym::Field => SymbolKind::FIELD,
        RSym::Input => SymbolKind::VARIABLE,
        RSym::Parameter => SymbolKind::CONSTANT,
        RSym::Let => SymbolKind::VARIABLE,
        RSym::Output => SymbolKind::PROPERTY,
        RSym::Function => SymbolKind::FUNCTION,
        RSym::Table | RSym::Scale => SymbolKind::FUNCTION,
        RSym::Criterion => SymbolKind::BOOLEAN,
        RSym::Property => SymbolKind::PROPERTY,
        RSym::Example => SymbolKind::EVENT,
        RSym::Use => SymbolKind::MODULE,
    }
}

pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::TYPE,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::NUMBER,
    SemanticTokenType::STRING,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
];

fn token_index(k: TokenKind) -> u32 {
    match k {
        TokenKind::Keyword => 0,
        TokenKind::Type => 1,
        TokenKind::Variant => 2,
        TokenKind::Field => 3,
        TokenKind::Variable => 4,
        TokenKind::Function => 5,
        TokenKind::Number => 6,
        TokenKind::String => 7,
        TokenKind::Comment => 8,
        TokenKind::Operator => 9,
    }
}

fn full_edit(text: &str, new: String) -> TextEdit {
    TextEdit::new(
        Range::new(Position::new(0, 0), position(text, text.len())),
        new,
    )
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        #[allow(deprecated)]
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .and_then(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .or_else(|| {
                params
                    .root_uri
                    .as_ref()
                    .and_then(|u| u.to_file_path().map(|p| p.into_owned()))
            });
        if let Ok(mut r) = self.root.write() {
            *r = root;
        }
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "rulebook-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into()]),
                    ..Default::default()
                }),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: SemanticTokensLegend {
                                token_types: TOKEN_TYPES.to_vec(),
                                token_modifiers: Vec::new(),
                            },
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            ..Default::default()
                        },
                    ),
                ),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        self.update(d.uri, d.version, d.text).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // Full synchronisation: the last change holds the whole text.
        if let Some(change) = params.content_changes.into_iter().last() {
            let d = params.text_document;
            self.update(d.uri, d.version, change.text).await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        if let Ok(mut d) = self.docs.write() {
            d.remove(&params.text_document.uri);
        }
        self.client
            .publish_diagnostics(params.text_document.uri, Vec::new(), None)
            .await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let Some(doc) = self.doc(&p.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let at = offset(&doc.text, p.position);
            let (span, md) = match doc.analysis.hover(at) {
                Some(answer) => answer,
                None => {
                    let (base, sym) = doc.inherited(at)?;
                    let (span, _) = doc.analysis.word_at(at)?;
                    let md = rulebook::editor::hover_text(sym);
                    (
                        span,
                        format!("{md}\n\n*Defined in version {}.*", base.version),
                    )
                }
            };
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: md,
                }),
                range: Some(range(&doc.text, span)),
            })
        }))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let Some(doc) = self.doc(&p.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let at = offset(&doc.text, p.position);
            if let Some(span) = doc
                .analysis
                .definition(at)
                .filter(|_| doc.used_at(at).is_none())
            {
                return Some(GotoDefinitionResponse::Scalar(Location::new(
                    p.text_document.uri.clone(),
                    range(&doc.text, span),
                )));
            }
            let (base, sym) = doc.used_at(at).or_else(|| doc.inherited(at))?;
            Some(GotoDefinitionResponse::Scalar(Location::new(
                base.uri.clone(),
                range(&base.text, sym.name_span),
            )))
        }))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let Some(doc) = self.doc(&p.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let spans = doc.analysis.references(
                offset(&doc.text, p.position),
                params.context.include_declaration,
            );
            Some(
                spans
                    .into_iter()
                    .map(|s| Location::new(p.text_document.uri.clone(), range(&doc.text, s)))
                    .collect(),
            )
        }))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let Some(doc) = self.doc(&p.text_document.uri).await else {
            return Ok(None);
        };
        let at = offset(&doc.text, p.position);
        let result = guarded(|| Some(doc.analysis.rename(at, &params.new_name)));
        let edits = match result {
            Some(Ok(e)) => e,
            Some(Err(msg)) => return Err(tower_lsp_server::jsonrpc::Error::invalid_params(msg)),
            None => return Ok(None),
        };
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        changes.insert(
            p.text_document.uri.clone(),
            edits
                .into_iter()
                .map(|(s, t)| TextEdit::new(range(&doc.text, s), t))
                .collect(),
        );
        // The same programme's other open versions (an amendment and the
        // version it amends) share their definitions' names.
        let key = doc.analysis.symbol_at(at).and_then(|s| s.key.clone());
        let id = doc.analysis.checked.partial.id.clone();
        if let Some(key @ rulebook::check::SymKey::Global(_)) = key {
            for (uri, other) in self.all_docs() {
                if uri == p.text_document.uri || other.analysis.checked.partial.id != id {
                    continue;
                }
                let spans: Vec<Span> = other
                    .analysis
                    .symbols
                    .iter()
                    .filter(|s| s.key.as_ref() == Some(&key))
                    .map(|s| s.name_span)
                    .chain(
                        other
                            .analysis
                            .checked
                            .uses
                            .iter()
                            .filter(|(_, k)| *k == key)
                            .map(|(s, _)| *s),
                    )
                    .collect();
                if !spans.is_empty() {
                    changes.insert(
                        uri,
                        spans
                            .into_iter()
                            .map(|s| TextEdit::new(range(&other.text, s), params.new_name.clone()))
                            .collect(),
                    );
                }
            }
        }
        // Rulebooks that use this programme write its names after an alias:
        // open ones as the editor has them, the others beside this
        // programme's folder as saved.
        if let Some(rulebook::check::SymKey::Global(name)) =
            doc.analysis.symbol_at(at).and_then(|s| s.key.clone())
        {
            let open = self.open_texts();
            let path = p.text_document.uri.to_file_path().map(|p| p.to_path_buf());
            let new_name = params.new_name.clone();
            let users = tokio::task::spawn_blocking(move || {
                guarded(|| Some(users_renamed(path.as_deref(), &id, &name, &new_name, open)))
            })
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
            for (uri, edits) in users {
                changes.entry(uri).or_insert(edits);
            }
        }
        Ok(Some(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(doc) = self.doc(&params.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let a = &doc.analysis;
            let mut top: Vec<DocumentSymbol> = Vec::new();
            for s in &a.symbols {
                #[allow(deprecated)]
                let sym = DocumentSymbol {
                    name: s.name.clone(),
                    detail: Some(s.detail.lines().next().unwrap_or("").to_string()),
                    kind: symbol_kind(s.kind),
                    tags: None,
                    deprecated: None,
                    range: range(&doc.text, s.item_span),
                    selection_range: range(&doc.text, s.name_span),
                    children: None,
                };
                match (&s.container, s.kind) {
                    (Some(c), RSym::Field | RSym::Variant) => {
                        if let Some(parent) = top.iter_mut().rev().find(|t| t.name == *c) {
                            parent.children.get_or_insert_with(Vec::new).push(sym);
                            continue;
                        }
                        top.push(sym);
                    }
                    _ => top.push(sym),
                }
            }
            Some(DocumentSymbolResponse::Nested(top))
        }))
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let query = params.query.to_lowercase();
        let mut docs = self.all_docs();
        // Rulebooks of the workspace that are not open are read from disk,
        // off the runtime, and analysed again only when they change.
        let root = self.root.read().ok().and_then(|r| r.clone());
        if let Some(root) = root {
            let cache = self.on_disk.clone();
            let open: Vec<Uri> = docs.iter().map(|(u, _)| u.clone()).collect();
            let found = tokio::task::spawn_blocking(move || disk_documents(&root, &open, &cache))
                .await
                .ok();
            match found {
                Some(Ok(found)) => docs.extend(found),
                Some(Err(e)) => {
                    self.client
                        .log_message(MessageType::WARNING, format!("workspace symbols: {e}"))
                        .await
                }
                None => {}
            }
        }
        let mut out = Vec::new();
        for (uri, doc) in docs {
            for s in &doc.analysis.symbols {
                if s.kind == RSym::Example || !s.name.to_lowercase().contains(&query) {
                    continue;
                }
                out.push(WorkspaceSymbol {
                    name: s.name.clone(),
                    kind: symbol_kind(s.kind),
                    tags: None,
                    container_name: Some(s.container.clone().unwrap_or_else(|| {
                        let p = &doc.analysis.checked.partial;
                        format!("{} {}", p.id, p.version)
                    })),
                    location: OneOf::Left(Location::new(
                        uri.clone(),
                        range(&doc.text, s.name_span),
                    )),
                    data: None,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(WorkspaceSymbolResponse::Nested(out)))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let Some(doc) = self.doc(&p.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let at = offset(&doc.text, p.position);
            let mut completions = doc.analysis.completions(at);
            // Names an amendment inherits, unless it is completing a field.
            let after_dot = doc
                .analysis
                .word_at(at)
                .map_or(at, |(s, _)| s.start)
                .checked_sub(1)
                .and_then(|k| doc.text.get(k..k + 1))
                == Some(".");
            if !after_dot {
                for base in &doc.bases {
                    for c in base.analysis.completions(base.text.len()) {
                        if !completions.iter().any(|o| o.label == c.label) {
                            completions.push(c);
                        }
                    }
                }
            }
            let items = completions
                .into_iter()
                .map(|c| CompletionItem {
                    label: c.label,
                    kind: Some(match c.kind {
                        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                        CompletionKind::Snippet => CompletionItemKind::SNIPPET,
                        CompletionKind::Value => CompletionItemKind::VARIABLE,
                        CompletionKind::Function => CompletionItemKind::FUNCTION,
                        CompletionKind::Field => CompletionItemKind::FIELD,
                        CompletionKind::Variant => CompletionItemKind::ENUM_MEMBER,
                        CompletionKind::Type => CompletionItemKind::CLASS,
                        CompletionKind::Unit => CompletionItemKind::UNIT,
                    }),
                    detail: c.detail,
                    insert_text: Some(c.insert),
                    insert_text_format: Some(if c.snippet {
                        InsertTextFormat::SNIPPET
                    } else {
                        InsertTextFormat::PLAIN_TEXT
                    }),
                    ..Default::default()
                })
                .collect();
            Some(CompletionResponse::Array(items))
        }))
    }

    // Formatting needs only the text: the latest, never an older one,
    // since an edit of the whole text made from an older one would undo
    // the changes after it.
    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(text) = self.text(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let formatted = rulebook::ops::format::format(&text);
            Some(if formatted == *text {
                Vec::new()
            } else {
                vec![full_edit(&text, formatted)]
            })
        }))
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        let Some(text) = self.text(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let formatted = rulebook::ops::format::format(&text);
            let (old, new): (Vec<&str>, Vec<&str>) =
                (text.lines().collect(), formatted.lines().collect());
            if old.len() != new.len() {
                // Blank lines were merged: the lines no longer correspond.
                return Some(vec![full_edit(&text, formatted)]);
            }
            let (first, last) = (
                params.range.start.line as usize,
                params.range.end.line as usize,
            );
            let mut edits = Vec::new();
            for (i, (o, n)) in old
                .iter()
                .zip(&new)
                .enumerate()
                .filter(|(i, _)| *i >= first && *i <= last)
            {
                if o != n {
                    let end: u32 = o.chars().map(|c| c.len_utf16() as u32).sum();
                    edits.push(TextEdit::new(
                        Range::new(Position::new(i as u32, 0), Position::new(i as u32, end)),
                        n.to_string(),
                    ));
                }
            }
            Some(edits)
        }))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let Some(doc) = self.doc(&params.text_document.uri).await else {
            return Ok(None);
        };
        let uri = params.text_document.uri;
        Ok(guarded(|| {
            let a = &doc.analysis;
            let checks = a.checked.program.is_some();
            let lenses = a
                .symbols
                .iter()
                .filter(|s| s.kind == RSym::Example)
                .map(|s| {
                    let result = a.examples.iter().find(|r| r.span == s.name_span);
                    let title = match result {
                        Some(r) if r.passed() => "✓ example passes".to_string(),
                        Some(r) => format!(
                            "✗ example fails: {}",
                            r.failures.first().cloned().unwrap_or_default()
                        ),
                        None if checks => "example not run".to_string(),
                        None => "example not run: the rulebook has errors".to_string(),
                    };
                    CodeLens {
                        range: range(&doc.text, s.name_span),
                        command: Some(Command {
                            title,
                            command: "rulebook.runExamples".into(),
                            arguments: Some(vec![
                                serde_json::json!(uri.as_str()),
                                serde_json::json!(s.name),
                            ]),
                        }),
                        data: None,
                    }
                })
                .collect::<Vec<_>>();
            let mut lenses = lenses;
            // Coverage: the total at the header, and a lens on each line
            // no example reaches. These only inform; they run nothing.
            if let Some(report) = &doc.coverage {
                let at_line = |line: usize| {
                    let start = Position::new(line.saturating_sub(1) as u32, 0);
                    Range::new(start, start)
                };
                let info = |range: Range, title: String| CodeLens {
                    range,
                    command: Some(Command {
                        title,
                        command: String::new(),
                        arguments: None,
                    }),
                    data: None,
                };
                let header_line = a
                    .checked
                    .ast
                    .header
                    .as_ref()
                    .map_or(0, |h| position(&doc.text, h.span.start).line as usize + 1);
                lenses.push(info(
                    at_line(header_line),
                    format!(
                        "examples reach {:.1} % ({} of {})",
                        report.percent(),
                        report.covered,
                        report.total
                    ),
                ));
                for item in report
                    .items
                    .iter()
                    .filter(|i| !i.covered && i.excluded.is_none())
                {
                    lenses.push(info(
                        at_line(item.line),
                        format!("no example reaches: {}", item.what),
                    ));
                }
            }
            Some(lenses)
        }))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(doc) = self.doc(&params.text_document.uri).await else {
            return Ok(None);
        };
        let uri = params.text_document.uri;
        Ok(guarded(|| {
            let (from, to) = (
                offset(&doc.text, params.range.start),
                offset(&doc.text, params.range.end),
            );
            let actions = doc
                .analysis
                .checked
                .diagnostics
                .iter()
                .filter(|d| d.span.start <= to && from <= d.span.end.max(d.span.start))
                .filter_map(|d| {
                    let fix = d.fix.as_ref()?;
                    let mut changes = HashMap::new();
                    changes.insert(
                        uri.clone(),
                        vec![TextEdit::new(
                            range(&doc.text, fix.span),
                            fix.replacement.clone(),
                        )],
                    );
                    Some(CodeActionOrCommand::CodeAction(CodeAction {
                        title: fix.title.clone(),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![to_lsp(&uri, &doc.text, d)]),
                        edit: Some(WorkspaceEdit {
                            changes: Some(changes),
                            ..Default::default()
                        }),
                        is_preferred: Some(true),
                        ..Default::default()
                    }))
                })
                .collect::<Vec<_>>();
            let mut actions = actions;
            // A failing property: insert its counterexample as an example.
            for (span, example) in &doc.counterexamples {
                if !(span.start <= to && from <= span.end) {
                    continue;
                }
                let end = range(&doc.text, Span::new(doc.text.len(), doc.text.len()));
                let sep = if doc.text.ends_with("\n\n") {
                    ""
                } else if doc.text.ends_with('\n') {
                    "\n"
                } else {
                    "\n\n"
                };
                let mut changes = HashMap::new();
                changes.insert(
                    uri.clone(),
                    vec![TextEdit::new(end, format!("{sep}{example}"))],
                );
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: "insert the counterexample as an example".into(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    edit: Some(WorkspaceEdit {
                        changes: Some(changes),
                        ..Default::default()
                    }),
                    ..Default::default()
                }));
            }
            Some(actions)
        }))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let Some(doc) = self.doc(&params.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            Some(
                doc.analysis
                    .folding()
                    .into_iter()
                    .map(|(a, b)| FoldingRange {
                        start_line: a as u32,
                        end_line: b as u32,
                        kind: Some(FoldingRangeKind::Region),
                        ..Default::default()
                    })
                    .collect(),
            )
        }))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let Some(doc) = self.doc(&params.text_document.uri).await else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let mut data = Vec::new();
            let (mut last_line, mut last_char) = (0u32, 0u32);
            for (span, kind) in doc.analysis.tokens() {
                // A token never spans lines here except comments, which end at the line end.
                let start = position(&doc.text, span.start);
                let length: u32 = doc
                    .text
                    .get(span.start..span.end)
                    .unwrap_or("")
                    .chars()
                    .map(|c| c.len_utf16() as u32)
                    .sum();
                let delta_line = start.line - last_line;
                let delta_start = if delta_line == 0 {
                    start.character - last_char
                } else {
                    start.character
                };
                data.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length,
                    token_type: token_index(kind),
                    token_modifiers_bitset: 0,
                });
                last_line = start.line;
                last_char = start.character;
            }
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data,
            }))
        }))
    }
}
