//! `rulebook serve`: the decision service, a thin HTTP layer (axum on
//! tokio) over the core. See docs/http-api.md and docs/openapi.json.

pub mod access;
pub mod bundle;
pub mod decision_log;
pub mod privacy;
pub mod studio;
pub mod transport;

use crate::decision_log::{DecisionLog, Record};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{MatchedPath, Path as UrlPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use rulebook::cases::input::decode_case;
use rulebook::diagnostic::Diagnostic;
use rulebook::eval::{decision_json, evaluate, Executable, Options};
use rulebook::ir::Program;
use rulebook::versions::{
    self,
    workspace::{rulebooks_below, Workspace},
};
use rulebook_files::Files;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use utoipa::{OpenApi, ToSchema};

// ---- the loaded rulebooks -------------------------------------------------

pub struct Entry {
    pub program: Executable,
    pub hash: String,
}

/// Every checked version, swapped in whole on reload.
pub struct Catalog {
    pub entries: Vec<Entry>,
    /// What the decision log keeps of each programme's inputs.
    pub privacy: privacy::Privacy,
    /// The release's id, in every logged decision: the SHA-256 of its
    /// files (rulebooks and `privacy.yaml`, by path), or a bundle's id.
    pub release: String,
    /// Versions left out of a lenient load (the Studio's), with why; empty
    /// for a release, which is accepted whole or not at all.
    pub refused: String,
    /// A bundle's files, as verified when it was loaded (the Studio reads
    /// them); `None` for a folder.
    pub bundle_files: Option<Arc<std::collections::BTreeMap<String, String>>>,
    fingerprint: Vec<(PathBuf, SystemTime, u64)>,
}

impl Catalog {
    fn versions<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.program.id == id)
    }
}

/// Where a bundle's files are, for the loader and in its findings.
pub const BUNDLE_ROOT: &str = "/bundle";

/// Where a release comes from.
pub enum ReleaseSource {
    /// Every rulebook below a folder, and its `privacy.yaml`.
    Folder(PathBuf),
    /// A signed bundle file, trusted if one of these keys signed it.
    Bundle {
        path: PathBuf,
        trusted: Arc<bundle::TrustedKeys>,
    },
}

impl std::fmt::Display for ReleaseSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReleaseSource::Folder(dir) => write!(f, "the rulebooks in {}", dir.display()),
            ReleaseSource::Bundle { path, .. } => write!(f, "the bundle {}", path.display()),
        }
    }
}

/// The files of a release as last seen: path, time of change and size.
fn fingerprint(source: &ReleaseSource) -> Vec<(PathBuf, SystemTime, u64)> {
    let files = match source {
        ReleaseSource::Folder(dir) => {
            let mut files = rulebooks_below(&Files, dir).unwrap_or_default();
            files.push(dir.join(privacy::FILE));
            files
        }
        ReleaseSource::Bundle { path, .. } => vec![path.clone()],
    };
    files
        .into_iter()
        .filter_map(|p| {
            let m = std::fs::metadata(&p).ok()?;
            Some((p, m.modified().ok()?, m.len()))
        })
        .collect()
}

/// Loads every rulebook below `dir` as one release (see [`load_source`]).
pub fn load_catalog(dir: &Path) -> Result<Catalog, String> {
    load_source(&ReleaseSource::Folder(dir.to_path_buf()))
}

/// Loads a release: it is accepted only if every version checks, every
/// example passes and `verify` finds no counterexample to any property
/// (the search `rulebook verify` makes), and, for a bundle, its signature
/// and files verify; otherwise the whole set is refused, with the reasons.
/// A fault inside the checker refuses the set too, rather than taking the
/// service down.
pub fn load_source(source: &ReleaseSource) -> Result<Catalog, String> {
    load_source_as(source, false)
}

/// As [`load_source`]; `lenient` (the Studio's) leaves out the versions
/// that do not check, fail an example or have a counterexample, and says
/// why in the catalog's `refused`, instead of refusing the whole set.
pub fn load_source_as(source: &ReleaseSource, lenient: bool) -> Result<Catalog, String> {
    match std::panic::catch_unwind(|| load_unguarded(source, lenient)) {
        Ok(result) => result,
        Err(_) => Err(format!(
            "checking {source} failed inside rulebook itself; the set is refused (please report this with the files)"
        )),
    }
}

fn load_unguarded(source: &ReleaseSource, lenient: bool) -> Result<Catalog, String> {
    // Taken before reading and compared after: a set whose files changed
    // while it was read (a file rewritten in place) is refused, and loaded
    // once the files stay unchanged.
    let fp = fingerprint(source);
    let mut catalog = match source {
        ReleaseSource::Folder(dir) => {
            let privacy_path = dir.join(privacy::FILE);
            let privacy = if privacy_path.exists() {
                Some(rulebook_files::read_limited(&privacy_path).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let mut c = load_release(&Files, dir, privacy.as_deref(), lenient)?;
            c.release = format!("sha256:{}", c.release);
            c
        }
        ReleaseSource::Bundle { path, trusted } => {
            let text = rulebook_files::read_limited(path).map_err(|e| e.to_string())?;
            let release =
                bundle::open(&text, trusted).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut c = load_files_as(Path::new(BUNDLE_ROOT), &release.files, lenient)?;
            tracing::info!(bundle = %release.id, signer = %release.signer, "bundle verified");
            c.release = format!("bundle:{}", release.id);
            c.bundle_files = Some(Arc::new(release.files));
            c
        }
    };
    if fingerprint(source) != fp {
        return Err(format!(
            "{source} changed while they were read; they are loaded again once they stay unchanged"
        ));
    }
    catalog.fingerprint = fp;
    Ok(catalog)
}

/// Checks, tests and verifies a release held as texts by path (a bundle's
/// files, or a folder's as `rulebook bundle build` packs them), as the
/// service would before serving it; findings name the files below `root`.
pub fn load_files(
    root: &Path,
    files: &std::collections::BTreeMap<String, String>,
) -> Result<Catalog, String> {
    load_files_as(root, files, false)
}

fn load_files_as(
    root: &Path,
    files: &std::collections::BTreeMap<String, String>,
    lenient: bool,
) -> Result<Catalog, String> {
    let world = bundle::BundleWorld {
        root: root.to_path_buf(),
        files,
    };
    let privacy = files.get(privacy::FILE).map(String::as_str);
    load_release(&world, root, privacy, lenient)
}

/// Checks, tests and verifies the rulebooks below `root` in `world`; the
/// catalog's `release` is the SHA-256 of its files.
fn load_release(
    world: &dyn rulebook::versions::workspace::World,
    root: &Path,
    privacy_text: Option<&str>,
    lenient: bool,
) -> Result<Catalog, String> {
    let loaded = Workspace::load(world, &[root.to_path_buf()]).map_err(|e| e.to_string())?;
    if loaded.sources.is_empty() {
        return Err(format!("no .rulebook files below {}", root.display()));
    }
    let mut report = String::new();
    let mut entries = Vec::new();
    let errors: Vec<Vec<Diagnostic>> = (0..loaded.sources.len())
        .map(|i| {
            let mut d: Vec<Diagnostic> = loaded.diagnostics(i);
            d.retain(|d| d.is_error());
            d
        })
        .collect();
    // Each entry's file name and (written-out) text, for the tests below.
    let mut texts: Vec<(String, String)> = Vec::new();
    for ((src, v), diags) in loaded.sources.iter().zip(loaded.versions).zip(errors) {
        if !diags.is_empty() {
            report.push_str(&rulebook::diagnostic::render::render_diagnostics(
                &src.name, &src.text, &diags, false,
            ));
            continue;
        }
        let hash = format!("{:x}", Sha256::digest(v.text.as_bytes()));
        if let Some(p) = v.executable {
            entries.push(Entry { program: p, hash });
            texts.push((src.name.clone(), v.text));
        }
    }
    if !report.is_empty() && !lenient {
        return Err(report);
    }
    // A release is tested as well as checked.
    let mut failing = Vec::new();
    for (k, (e, (name, text))) in entries.iter().zip(&texts).enumerate() {
        let before = report.len();
        for r in rulebook::ops::examples::run_examples(&e.program) {
            if !r.passed() {
                report.push_str(&format!(
                    "{name}: example {:?} fails: {}\n",
                    r.name,
                    r.failures.join("; ")
                ));
            }
        }
        for r in rulebook::ops::verify::verify(&e.program, text, Default::default()) {
            if let rulebook::ops::verify::Outcome::Counterexample { why, .. } = &r.outcome {
                report.push_str(&format!(
                    "{name}: the property {} fails: {why} (see `rulebook verify`)\n",
                    r.property
                ));
            }
        }
        if report.len() > before {
            failing.push(k);
        }
    }
    if !report.is_empty() && !lenient {
        return Err(report);
    }
    for k in failing.into_iter().rev() {
        entries.remove(k);
        texts.remove(k);
    }
    let refused = report;
    let programs: Vec<&Program> = entries.iter().map(|e| e.program.program()).collect();
    let privacy = match privacy_text {
        Some(text) => privacy::Privacy::parse(text, &programs)
            .map_err(|e| format!("{}: {e}", root.join(privacy::FILE).display()))?,
        None => privacy::Privacy::default(),
    };
    let mut release = Sha256::new();
    let mut named: Vec<(&String, &String)> = texts.iter().map(|(n, t)| (n, t)).collect();
    named.sort();
    for (name, text) in named {
        release.update(format!("{name}\n{}\n", text.len()));
        release.update(text.as_bytes());
    }
    if let Some(p) = privacy_text {
        release.update(format!("{}\n{}\n", privacy::FILE, p.len()));
        release.update(p.as_bytes());
    }
    Ok(Catalog {
        entries,
        privacy,
        release: format!("{:x}", release.finalize()),
        refused,
        bundle_files: None,
        fingerprint: Vec::new(),
    })
}

// ---- metrics ----------------------------------------------------------------

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<HashMap<(String, String, u16), u64>>,
    latency: Mutex<HashMap<String, Histogram>>,
    decisions: Mutex<HashMap<(String, String), u64>>,
    reloads: AtomicU64,
    rejected_reloads: AtomicU64,
    /// Decision requests refused because `max_in_flight` were being worked on.
    shed: AtomicU64,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status))
                .or_insert(0) += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_string()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    if let Some(c) = h.counts.get_mut(i) {
                        *c += 1;
                    }
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }
    fn decided(&self, programme: &str, version: &str) {
        if let Ok(mut d) = self.decisions.lock() {
            *d.entry((programme.to_string(), version.to_string()))
                .or_insert(0) += 1;
        }
    }
    fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP rulebook_http_requests_total HTTP requests by method, route and status.\n# TYPE rulebook_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort();
            for ((method, route, status), n) in rows {
                s.push_str(&format!("rulebook_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"));
            }
        }
        s.push_str("# HELP rulebook_http_request_duration_seconds Time to answer a request.\n# TYPE rulebook_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            let mut rows: Vec<_> = l.iter().collect();
            rows.sort_by(|a, b| a.0.cmp(b.0));
            for (route, h) in rows {
                for (i, b) in BUCKETS.iter().enumerate() {
                    s.push_str(&format!(
                        "rulebook_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}\n",
                        h.counts.get(i).copied().unwrap_or(0)
                    ));
                }
                s.push_str(&format!("rulebook_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n", h.count));
                s.push_str(&format!(
                    "rulebook_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n",
                    h.sum
                ));
                s.push_str(&format!(
                    "rulebook_http_request_duration_seconds_count{{route=\"{route}\"}} {}\n",
                    h.count
                ));
            }
        }
        s.push_str("# HELP rulebook_decisions_total Decisions served by programme and version.\n# TYPE rulebook_decisions_total counter\n");
        if let Ok(d) = self.decisions.lock() {
            let mut rows: Vec<_> = d.iter().collect();
            rows.sort();
            for ((p, v), n) in rows {
                s.push_str(&format!(
                    "rulebook_decisions_total{{programme=\"{p}\",version=\"{v}\"}} {n}\n"
                ));
            }
        }
        s.push_str(&format!(
            "# HELP rulebook_reloads_total Rulebook sets swapped in.\n# TYPE rulebook_reloads_total counter\nrulebook_reloads_total {}\n\
             # HELP rulebook_rejected_reloads_total Rulebook sets refused because they did not check.\n# TYPE rulebook_rejected_reloads_total counter\nrulebook_rejected_reloads_total {}\n\
             # HELP rulebook_shed_requests_total Decision requests refused with 503 because the service was at --max-in-flight.\n# TYPE rulebook_shed_requests_total counter\nrulebook_shed_requests_total {}\n",
            self.reloads.load(Ordering::Relaxed),
            self.rejected_reloads.load(Ordering::Relaxed),
            self.shed.load(Ordering::Relaxed)
        ));
        s
    }
}

// ---- state --------------------------------------------------------------------

pub struct Config {
    /// The release served: a folder of rulebooks or a signed bundle.
    pub source: ReleaseSource,
    pub addr: SocketAddr,
    pub db: Option<PathBuf>,
    pub max_body: usize,
    pub max_batch: usize,
    pub reload_interval: Duration,
    /// The API keys requests must carry (see `access`); `None`: no
    /// authentication, which is allowed on a loopback address only, unless
    /// `allow_unauthenticated`.
    pub keys: Option<access::Keys>,
    pub allow_unauthenticated: bool,
    /// Host names (without port) requests may name in `Host`; empty: the
    /// loopback names when serving loopback, any name otherwise.
    pub allowed_hosts: Vec<String>,
    /// Origins (`https://portal.example`) whose pages may call the API;
    /// a request from any other page is refused.
    pub allowed_origins: Vec<String>,
    /// Connections: how many, how long a request head may take, how large.
    pub limits: transport::Limits,
    /// How long one request (other than a stream) may take, its body
    /// included; for a stream, the longest wait between two pieces of it.
    pub request_timeout: Duration,
    /// How many decision requests are worked on at once; more are answered
    /// `503 overloaded` at once, so health probes and the requests already
    /// taken stay fast.
    pub max_in_flight: usize,
    /// Decisions older than this are deleted from the log (at start and
    /// hourly); `None`: kept until purged or erased.
    pub retention: Option<Duration>,
    /// Serve HTTPS with this certificate and key (PEM); with `client_ca`,
    /// clients must show a certificate that authority signed (mutual TLS).
    pub tls: Option<Tls>,
    /// Rulebook Studio: off, read-only beside the API (`rulebook serve`), or
    /// editing the folder (`rulebook studio`), where the versions that check
    /// and pass their tests are served and the others are left out (not
    /// refusing the whole set), so that work in progress can be tried.
    pub studio: studio::Mode,
}

/// The files of `--tls-cert`, `--tls-key` and `--tls-client-ca`.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

pub struct AppState {
    catalog: RwLock<Arc<Catalog>>,
    log: Option<DecisionLog>,
    metrics: Metrics,
    config: Config,
    reloading: std::sync::Mutex<()>,
    /// Places for decision requests being worked on (`max_in_flight`).
    in_flight: tokio::sync::Semaphore,
}

type Shared = Arc<AppState>;

impl AppState {
    fn catalog(&self) -> Arc<Catalog> {
        match self.catalog.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
    /// A decision id: a UUID of version 7, ordered by time and unique
    /// across replicas, whose 74 random bits cannot be guessed from
    /// another decision's id.
    fn next_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
    /// Reloads the rulebooks; a set that does not check is refused and the
    /// old one keeps serving.
    fn reload(&self, why: &str) {
        // One reload at a time: SIGHUP and the file watch may ask together.
        let _one = match self.reloading.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match load_source_as(
            &self.config.source,
            self.config.studio == studio::Mode::Edit,
        ) {
            Ok(c) => {
                let versions = c.entries.len();
                match self.catalog.write() {
                    Ok(mut g) => *g = Arc::new(c),
                    Err(p) => *p.into_inner() = Arc::new(c),
                }
                self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(why, versions, "rulebooks reloaded");
            }
            Err(report) => {
                self.metrics
                    .rejected_reloads
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(why, reason = %report, "the new rulebooks are refused (a version does not check, an example fails or a property has a counterexample); the old ones keep serving");
            }
        }
    }
}

// ---- errors ---------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Where: a field path such as `inputs.household.size`, or `body`.
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// A stable code: `malformed-json`, `invalid-request`, `invalid-inputs`,
    /// `unknown-programme`, `unknown-version`, `no-version-in-force`,
    /// `off-period`, `unauthorized`, `forbidden`, `unsupported-media-type`,
    /// `host-not-allowed`, `origin-not-allowed`,
    /// `body-too-large`, `batch-too-large`, `evaluation-failed`,
    /// `not-found`, `method-not-allowed`, `decision-log-unavailable`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ApiError,
}

pub struct Fail(StatusCode, ApiError);

impl Fail {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Fail {
        Fail(
            status,
            ApiError {
                code: code.into(),
                message: message.into(),
                problems: Vec::new(),
            },
        )
    }
    pub(crate) fn with(
        mut self,
        path: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Fail {
        self.1.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            help,
        });
        self
    }
    fn json(&self) -> J {
        json!({ "error": self.1 })
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let body = self.json();
        (self.0, axum::Json(body)).into_response()
    }
}

pub(crate) fn body_error(e: BytesRejection, limit: usize) -> Fail {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Fail::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the request body is larger than {limit} bytes"),
        )
        .with(
            "body",
            "too large",
            Some(
                "send fewer cases at once, use the streaming endpoint, or raise --max-body".into(),
            ),
        )
    } else {
        Fail::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            format!("the request body could not be read: {e}"),
        )
    }
}

pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, Fail> {
    let v: J = rulebook::cases::document::json_from_slice(bytes).map_err(|e| {
        Fail::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            format!("the body is not valid JSON: {}", e.message),
        )
        .with(
            &format!("body (line {}, column {})", e.line, e.column),
            e.message,
            Some(e.help.unwrap_or_else(|| {
                "send a JSON object, with Content-Type: application/json".into()
            })),
        )
    })?;
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        Fail::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            format!("the request does not have the expected shape: {msg}"),
        )
        .with(
            "body",
            msg,
            Some("see the request schemas in /v1/openapi.json".into()),
        )
    })
}

// ---- requests and answers -------------------------------------------------------

/// One case to decide.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The decision date (YYYY-MM-DD); it chooses the version in force.
    pub decision_date: String,
    /// A version name; overrides the choice by date.
    #[serde(default)]
    pub version: Option<String>,
    /// One entry per input of the rulebook, as in the version's `input_schema`.
    #[schema(value_type = Object)]
    pub inputs: J,
    /// Include the explanation of every output.
    #[serde(default)]
    pub explain: bool,
    /// With `version`: apply that version even on a decision date outside
    /// its validity period (a what-if). Without it such a request is
    /// refused (`off-period`); with it the decision says so in `off_period`
    /// and the log keeps that.
    #[serde(default)]
    pub off_period: bool,
    /// Your reference for the person this decision is about: a pseudonym
    /// from your own system, never an identity code (at most 200
    /// characters). The log keeps it so that `rulebook log erase` can
    /// delete that person's decisions.
    #[serde(default)]
    pub subject: Option<String>,
    /// Also write the decision as the reasons part of a decision letter.
    #[serde(default)]
    pub letter: Option<LetterRequest>,
}

/// A decision letter: its language (one the rulebook declares) and format.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LetterRequest {
    /// fi, sv or en.
    pub language: String,
    /// text, markdown or html (a printable page); html when left out.
    #[serde(default)]
    pub format: Option<String>,
}

/// One case against alternatives: each alternative sets a few inputs by
/// path (`service.hourly_price`), such as each provider's price.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComparisonRequest {
    /// The case, as for a decision (its `letter` and `subject` are not used).
    #[serde(flatten)]
    pub case: DecisionRequest,
    pub alternatives: Vec<AlternativeRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlternativeRequest {
    /// Shown with its decision: a provider's name, for example.
    pub label: String,
    /// Inputs set otherwise, by path: `{"service.hourly_price": "38.00"}`.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Map<String, J>,
}

#[derive(Serialize, ToSchema)]
pub struct ComparisonAnswer {
    /// One per alternative, in order: its `label` and its decision, or its
    /// `label` and `error`.
    #[schema(value_type = Vec<Object>)]
    pub alternatives: Vec<J>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub cases: Vec<DecisionRequest>,
}

/// The explanation graph of a decision (the schema of what
/// `semantics::explanation::ExplanationGraph` serializes to).
#[allow(dead_code)] // a schema only
#[derive(ToSchema)]
pub struct ExplanationGraphDoc {
    /// Node ids of the outputs, in output order (eligible decisions).
    outputs: Vec<String>,
    /// Node ids of the failed criteria (decisions of not eligible).
    failed_criteria: Vec<String>,
    /// Every value the decision used, each once.
    nodes: Vec<ExplainNodeDoc>,
}

/// One value of an explanation.
#[allow(dead_code)] // a schema only
#[derive(ToSchema)]
pub struct ExplainNodeDoc {
    /// Unique in the graph: a definition's name, `input:PATH`,
    /// `table:NAME(ARGS)`, `scale:NAME(ARG)`, `function:NAME(ARGS)`,
    /// `items:...#N`, `criterion:NAME`, `used:ALIAS...` (a value taken from
    /// a used rulebook), or `ALIAS/ID` (a node of a used rulebook's own
    /// explanation).
    id: String,
    /// input, parameter, rule, output, table, scale, function, items,
    /// criterion or used.
    kind: String,
    name: String,
    /// An input's field path.
    path: Option<String>,
    /// The formula or condition as written.
    formula: Option<String>,
    /// The formula with the values it used in place.
    substituted: Option<String>,
    /// The value, as in outputs (amounts with their unit).
    value: String,
    /// The exception (`unless ...`) that decided the value.
    exception: Option<String>,
    section: Option<String>,
    source: Option<String>,
    /// A dated parameter: the date its value is in force from.
    in_force_from: Option<String>,
    /// A table's rows used, from 1.
    rows: Option<Vec<u32>>,
    /// A failed criterion's reason.
    reason: Option<String>,
    /// An aggregate's items, those worked out alike folded together.
    items: Option<Vec<ItemGroupDoc>>,
    /// Ids of the nodes this one used.
    uses: Option<Vec<String>>,
}

/// Items of a list worked out alike.
#[allow(dead_code)] // a schema only
#[derive(ToSchema)]
pub struct ItemGroupDoc {
    /// Positions in the list, from 1.
    items: Vec<u32>,
    value: String,
    uses: Option<Vec<String>>,
}

/// A decision: eligibility, failed criteria, outputs and, if asked, the
/// explanation; as `rulebook eval --format json`, plus its id in the log.
#[derive(Serialize, ToSchema)]
pub struct DecisionDoc {
    pub decision_id: String,
    pub rulebook: String,
    pub version: String,
    pub decision_date: String,
    pub eligible: bool,
    #[schema(value_type = Vec<Object>)]
    pub failed_criteria: J,
    #[schema(value_type = Object)]
    pub outputs: J,
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<J>,
    /// With `explain` and a case that is not eligible: for each failed
    /// criterion, its condition with the case's values, the facts of the
    /// case it read and how each value it used was reached.
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria_explanation: Option<J>,
    /// With `explain`: every value the decision used, once, with its
    /// formula, the values substituted, its result, its citation and the
    /// ids of what it used (docs/explanations.md).
    #[schema(value_type = Option<ExplanationGraphDoc>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation_graph: Option<J>,
    /// With `letter`: the decision letter's reasons part, in the format asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter: Option<String>,
    /// Present when the version was applied outside its validity period on
    /// request (`off_period: true`): why the date is outside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub off_period: Option<String>,
    /// The input line, in answers of the stream endpoint only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionDoc {
    pub version: String,
    pub in_force_from: String,
    pub in_force_to: Option<String>,
    pub title: Option<String>,
    pub source: Option<String>,
    pub amends: Option<String>,
    pub rulebook_hash: String,
    /// JSON Schema of `inputs` for this version.
    #[schema(value_type = Object)]
    pub input_schema: J,
    pub outputs: Vec<String>,
    /// Each output's type as the rulebook names it, by output name:
    /// `money` is in euros, written with two decimals ("32.18"); `percent`
    /// is written with its sign ("35 %"); `integer`, `decimal`, `bool`,
    /// `date`, `text`, `duration`, an enum's, a record's or `list of ...`.
    #[schema(value_type = Object)]
    pub output_types: J,
    /// Every parameter with its values and the dates they start, every
    /// table, every eligibility criterion with its reason, and the
    /// programmes this version uses, each with its citation.
    #[schema(value_type = Object)]
    pub outline: J,
}

#[derive(Serialize, ToSchema)]
pub struct ProgrammeDoc {
    pub id: String,
    pub versions: Vec<VersionDoc>,
}

fn version_doc(e: &Entry) -> VersionDoc {
    let p = &e.program;
    let mut schema = rulebook::cases::schema::case_schema(p);
    if let Some(props) = schema.get_mut("properties").and_then(|v| v.as_object_mut()) {
        props.remove("decision_date");
    }
    VersionDoc {
        version: p.version.clone(),
        in_force_from: p.in_force_from.to_string(),
        in_force_to: p.in_force_to.map(|d| d.to_string()),
        title: p.title.clone(),
        source: p.source.clone(),
        amends: p.amends.clone(),
        rulebook_hash: e.hash.clone(),
        input_schema: schema,
        outputs: p
            .outputs
            .iter()
            .filter_map(|o| p.defs.get(*o as usize).map(|d| d.name.clone()))
            .collect(),
        output_types: J::Object(
            p.outputs
                .iter()
                .filter_map(|o| p.defs.get(*o as usize))
                .map(|d| (d.name.clone(), J::String(p.type_name(&d.ty))))
                .collect(),
        ),
        outline: serde_json::to_value(rulebook::ops::outline::outline(p)).unwrap_or_default(),
    }
}

fn programmes_of(c: &Catalog) -> Vec<ProgrammeDoc> {
    let mut ids: Vec<&str> = c.entries.iter().map(|e| e.program.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let mut versions: Vec<VersionDoc> = c.versions(id).map(version_doc).collect();
            versions.sort_by(|a, b| a.in_force_from.cmp(&b.in_force_from));
            ProgrammeDoc {
                id: id.to_string(),
                versions,
            }
        })
        .collect()
}

// ---- handlers -------------------------------------------------------------------

#[utoipa::path(get, path = "/v1/health", responses((status = 200, description = "The process is up")))]
async fn health() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/v1/ready", responses((status = 200, description = "Rulebooks are loaded and decisions can be served")))]
async fn ready(State(s): State<Shared>) -> Response {
    let c = s.catalog();
    if s.log.as_ref().is_some_and(|l| !l.healthy()) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "not ready",
                "reason": "the last write to the decision log failed, so decisions cannot be served",
                "versions": c.entries.len()
            })),
        )
            .into_response();
    }
    axum::Json(json!({ "status": "ready", "versions": c.entries.len(), "release": c.release }))
        .into_response()
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics(State(s): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

#[utoipa::path(get, path = "/v1/programmes", responses((status = 200, body = Vec<ProgrammeDoc>)))]
async fn list_programmes(State(s): State<Shared>) -> impl IntoResponse {
    axum::Json(programmes_of(&s.catalog()))
}

#[utoipa::path(get, path = "/v1/programmes/{id}", params(("id" = String, Path, description = "Programme id")),
    responses((status = 200, body = ProgrammeDoc), (status = 404, body = ErrorBody)))]
async fn get_programme(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<String>,
) -> Result<impl IntoResponse, Fail> {
    let c = s.catalog();
    programmes_of(&c)
        .into_iter()
        .find(|p| p.id == id)
        .map(axum::Json)
        .ok_or_else(|| unknown_programme(&c, &id))
}

fn unknown_programme(c: &Catalog, id: &str) -> Fail {
    let ids: Vec<String> = programmes_of(c).into_iter().map(|p| p.id).collect();
    let help = match rulebook::check::suggest(id, ids.iter().map(|s| s.as_str())) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the programmes are {}", ids.join(", ")),
    };
    Fail::new(
        StatusCode::NOT_FOUND,
        "unknown-programme",
        format!("there is no programme `{id}`"),
    )
    .with("programme", "unknown", Some(help))
}

/// Chooses the version and decides one case; the error is the HTTP answer.
fn decide(
    s: &AppState,
    c: &Catalog,
    id: &str,
    req: &DecisionRequest,
) -> Result<(DecisionDoc, Option<Record>), Fail> {
    if req
        .subject
        .as_ref()
        .is_some_and(|x| x.chars().count() > 200 || x.trim().is_empty())
    {
        return Err(Fail::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "the subject is empty or longer than 200 characters",
        )
        .with(
            "subject",
            "not a usable reference",
            Some(
                "send your own short pseudonymous reference for the person, or leave it out".into(),
            ),
        ));
    }
    let date = rulebook::cases::input::parse_date(req.decision_date.trim()).ok_or_else(|| {
        Fail::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "the decision date is not a date",
        )
        .with(
            "decision_date",
            format!(
                "expected a date such as \"2021-03-01\", found {:?}",
                req.decision_date
            ),
            None,
        )
    })?;
    if c.versions(id).next().is_none() {
        return Err(unknown_programme(c, id));
    }
    let entry = match &req.version {
        Some(v) => c
            .versions(id)
            .find(|e| e.program.version == *v)
            .ok_or_else(|| {
                let names: Vec<String> =
                    c.versions(id).map(|e| e.program.version.clone()).collect();
                Fail::new(
                    StatusCode::NOT_FOUND,
                    "unknown-version",
                    format!("`{id}` has no version {v}"),
                )
                .with(
                    "version",
                    "unknown",
                    Some(format!("the versions are {}", names.join(", "))),
                )
            })?,
        None => {
            let family: Vec<&Entry> = c.versions(id).collect();
            let programs: Vec<&Program> = family.iter().map(|e| e.program.program()).collect();
            let i = versions::select(&programs, Some(id), date).map_err(|m| {
                Fail::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "no-version-in-force",
                    m.to_string(),
                )
                .with("decision_date", "no version in force", None)
            })?;
            family
                .get(i)
                .copied()
                .ok_or_else(|| Fail::new(StatusCode::NOT_FOUND, "unknown-version", "no version"))?
        }
    };
    let p = &entry.program;
    // A version named in the request decides only dates in its period.
    let siblings: Vec<&Program> = c.versions(id).map(|e| e.program.program()).collect();
    let outside = versions::within_period(p, date, &siblings).err();
    if let Some(why) = &outside {
        if !req.off_period {
            return Err(Fail::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "off-period",
                why.to_string(),
            )
            .with(
                "decision_date",
                "outside the version's validity period",
                Some("leave out `version` to use the version in force, or send `off_period: true` to apply this version anyway".into()),
            ));
        }
    }
    let case = decode_case(p, &req.inputs, Some(date)).map_err(|errors| {
        let mut f = Fail::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-inputs",
            format!(
                "{} problem(s) in the inputs for {} {}",
                errors.len(),
                p.id,
                p.version
            ),
        );
        for e in errors {
            let path = if e.path.is_empty() {
                "inputs".to_string()
            } else {
                format!("inputs.{}", e.path)
            };
            f = f.with(&path, e.message, e.help);
        }
        f
    })?;
    let letter_format = match req
        .letter
        .as_ref()
        .map(|l| l.format.as_deref().unwrap_or("html"))
    {
        None => None,
        Some(f @ ("text" | "markdown" | "html")) => Some(f),
        Some(other) => {
            return Err(Fail::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                format!("letter.format: `{other}` is not a letter format"),
            )
            .with("letter.format", "expected text, markdown or html", None));
        }
    };
    let d = evaluate(
        p,
        &case,
        &Options {
            explain: req.explain || req.letter.is_some(),
        },
    )
    .map_err(|e| {
        let mut f = Fail::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "evaluation-failed",
            e.to_string(),
        );
        f.1.problems.push(Problem {
            path: format!("rule {}", e.rule),
            message: format!("[{}] {}", e.code, e.message),
            help: e.help.clone(),
        });
        f
    })?;
    let letter = match (&req.letter, letter_format) {
        (Some(l), Some(format)) => {
            let written = rulebook::ops::letter::letter(p, &case, &d, &l.language).map_err(
                |rulebook::ops::letter::NoLetter(why)| {
                    Fail::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "letter-unavailable",
                        why.clone(),
                    )
                    .with("letter.language", why, None)
                },
            )?;
            Some(match format {
                "text" => rulebook::ops::letter::to_text(&written),
                "markdown" => rulebook::ops::letter::to_markdown(&written),
                _ => rulebook::ops::letter::to_html(&written),
            })
        }
        _ => None,
    };
    let mut j = decision_json(p, &case, &d);
    if let (Some(why), Some(o)) = (&outside, j.as_object_mut()) {
        o.insert("off_period".into(), J::String(why.to_string()));
    }
    // A letter needs the explanation; the answer has it only when asked.
    if !req.explain {
        if let Some(o) = j.as_object_mut() {
            for k in ["explanation", "criteria_explanation", "explanation_graph"] {
                o.shift_remove(k);
            }
        }
    }
    let id_ = s.next_id();
    // Without a decision log the parts of the decision move into the
    // answer; with one, the log keeps the whole decision too.
    let logged = s.log.is_some();
    let mut part = |name: &str| match j.as_object_mut() {
        Some(m) if !logged => m.shift_remove(name),
        _ => j.get(name).cloned(),
    };
    let doc = DecisionDoc {
        decision_id: id_.clone(),
        rulebook: p.id.clone(),
        version: p.version.clone(),
        decision_date: case.decision_date.to_string(),
        eligible: d.eligible,
        failed_criteria: part("failed_criteria").unwrap_or(J::Null),
        outputs: part("outputs").unwrap_or(J::Null),
        explanation: part("explanation"),
        criteria_explanation: part("criteria_explanation"),
        explanation_graph: part("explanation_graph"),
        letter,
        off_period: outside.as_ref().map(|w| w.to_string()),
        line: None,
    };
    let record = logged.then(|| {
        let (inputs, masked) = match c.privacy.policy(&p.id) {
            Some(policy) => policy.apply(&req.inputs),
            None => (req.inputs.clone(), false),
        };
        Record {
            decision_id: id_,
            served_at: decision_log::utc_timestamp(SystemTime::now()),
            programme: p.id.clone(),
            version: p.version.clone(),
            rulebook_hash: entry.hash.clone(),
            decision_date: case.decision_date.to_string(),
            inputs,
            decision: j,
            subject: req.subject.clone(),
            masked,
            release: c.release.clone(),
        }
    });
    s.metrics.decided(&p.id, &p.version);
    Ok((doc, record))
}

async fn log(s: &AppState, record: Option<Record>) -> Result<(), Fail> {
    match (&s.log, record) {
        (Some(l), Some(record)) => l.write(record).await.map_err(|e| {
            tracing::error!(error = %e, "decision not logged");
            Fail::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "decision-log-unavailable",
                "the decision could not be logged; try again",
            )
        }),
        _ => Ok(()),
    }
}

#[utoipa::path(post, path = "/v1/programmes/{id}/decisions", params(("id" = String, Path, description = "Programme id")),
    request_body = DecisionRequest,
    responses((status = 200, body = DecisionDoc), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn post_decision(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let body = body.map_err(|e| body_error(e, s.config.max_body))?;
    let req: DecisionRequest = parse_json(&body)?;
    let c = s.catalog();
    let (doc, record) = decide(&s, &c, &id, &req)?;
    log(&s, record).await?;
    Ok(axum::Json(doc).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct BatchAnswer {
    /// One entry per case, in order: a decision, or `{ "error": ... }`.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<J>,
}

/// A request with more items (`what.1`, such as cases) in its `what.0`
/// than `max` is refused, naming the field and how to stay within it.
fn at_most(n: usize, max: usize, what: (&str, &str), help: &str) -> Result<(), Fail> {
    if n <= max {
        return Ok(());
    }
    let (whole, items) = what;
    Err(Fail::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "batch-too-large",
        format!("the {whole} has {n} {items}; at most {max} are accepted"),
    )
    .with(items, "too many", Some(help.into())))
}

/// What the customer and the city would pay at each alternative: not
/// decisions of record, so they are not logged.
#[utoipa::path(post, path = "/v1/programmes/{id}/comparisons", params(("id" = String, Path, description = "Programme id")),
    request_body = ComparisonRequest,
    responses((status = 200, body = ComparisonAnswer), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_comparison(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let body = body.map_err(|e| body_error(e, s.config.max_body))?;
    let req: ComparisonRequest = parse_json(&body)?;
    at_most(
        req.alternatives.len(),
        s.config.max_batch,
        ("comparison", "alternatives"),
        "compare fewer alternatives per request",
    )?;
    let c = s.catalog();
    if c.versions(&id).next().is_none() {
        return Err(unknown_programme(&c, &id));
    }
    let mut out = Vec::with_capacity(req.alternatives.len());
    for (k, alt) in req.alternatives.iter().enumerate() {
        let changes: Vec<(String, J)> = alt
            .inputs
            .iter()
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect();
        let mut entry = serde_json::Map::new();
        entry.insert("label".into(), J::String(alt.label.clone()));
        match rulebook::cases::alternatives::with_changes(&req.case.inputs, &changes) {
            Err(why) => {
                let f = Fail::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", why).with(
                    &format!("alternatives[{k}].inputs"),
                    "unknown path",
                    Some("name an input by its path, such as service.hourly_price".into()),
                );
                entry.insert("error".into(), f.json()["error"].clone());
            }
            Ok(inputs) => {
                let case = DecisionRequest {
                    inputs,
                    letter: None,
                    subject: None,
                    ..req.case.clone()
                };
                match decide(&s, &c, &id, &case) {
                    Ok((doc, _not_logged)) => {
                        if let J::Object(m) = serde_json::to_value(&doc).unwrap_or(J::Null) {
                            entry.extend(m);
                        }
                    }
                    Err(f) => {
                        entry.insert("error".into(), f.json()["error"].clone());
                    }
                }
            }
        }
        out.push(J::Object(entry));
    }
    Ok(axum::Json(ComparisonAnswer { alternatives: out }).into_response())
}

#[utoipa::path(post, path = "/v1/programmes/{id}/decisions/batch", params(("id" = String, Path, description = "Programme id")),
    request_body = BatchRequest,
    responses((status = 200, body = BatchAnswer), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_batch(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Fail> {
    let body = body.map_err(|e| body_error(e, s.config.max_body))?;
    let req: BatchRequest = parse_json(&body)?;
    at_most(
        req.cases.len(),
        s.config.max_batch,
        ("batch", "cases"),
        "split the batch, or use the streaming endpoint .../decisions/stream",
    )?;
    let c = s.catalog();
    if c.versions(&id).next().is_none() {
        return Err(unknown_programme(&c, &id));
    }
    let mut results = Vec::with_capacity(req.cases.len());
    let mut pending = Vec::new();
    for case in &req.cases {
        match decide(&s, &c, &id, case) {
            Ok((doc, record)) => {
                results.push(serde_json::to_value(&doc).unwrap_or(J::Null));
                pending.extend(record);
            }
            Err(f) => results.push(f.json()),
        }
    }
    if let Some(l) = &s.log {
        let writes: Vec<_> = pending.into_iter().map(|r| l.write(r)).collect();
        for w in futures_util::future::join_all(writes).await {
            w.map_err(|_| {
                Fail::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "decision-log-unavailable",
                    "the decisions could not be logged; try again",
                )
            })?;
        }
    }
    Ok(axum::Json(BatchAnswer { results }).into_response())
}

#[utoipa::path(post, path = "/v1/programmes/{id}/decisions/stream", params(("id" = String, Path, description = "Programme id")),
    request_body(content = String, content_type = "application/x-ndjson", description = "One DecisionRequest per line"),
    responses((status = 200, content_type = "application/x-ndjson", description = "One line per case, in order: a decision with its `line`, or `{ \"line\": N, \"error\": ... }`")))]
async fn post_stream(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: Body,
) -> Result<Response, Fail> {
    let c = s.catalog();
    if c.versions(&id).next().is_none() {
        return Err(unknown_programme(&c, &id));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let state = s.clone();
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        // Unanswered input; `start` is where its first unread line begins,
        // so taking a line moves no bytes. The answers to one input chunk
        // go out together, which keeps a large stream from becoming one
        // HTTP chunk per line while a slow client still gets each answer
        // as soon as its line has arrived.
        let mut buf: Vec<u8> = Vec::new();
        let mut line_no: u64 = 0;
        let max_line = state.config.max_body;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Ok(chunk) = tokio::time::timeout(state.config.request_timeout, stream.next()).await
            else {
                let _ = tx.send(Ok(Bytes::from(format!("{}\n", json!({ "error": { "code": "request-timeout", "message": format!("nothing arrived for {} s; the stream is closed", state.config.request_timeout.as_secs()) } }))))).await;
                return;
            };
            let done = chunk.is_none();
            match chunk {
                Some(Ok(bytes)) => buf.extend_from_slice(&bytes),
                Some(Err(e)) => {
                    let _ = tx.send(Ok(Bytes::from(format!("{}\n", json!({ "error": { "code": "invalid-request", "message": e.to_string() } }))))).await;
                    return;
                }
                None => {}
            }
            let mut start = 0;
            while start < buf.len() {
                let rest = buf.get(start..).unwrap_or_default();
                let end = match rest.iter().position(|b| *b == b'\n') {
                    Some(n) => start + n,
                    None if done => buf.len(),
                    None => break,
                };
                let line = buf.get(start..end).unwrap_or_default();
                start = end + 1;
                line_no += 1;
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                let answer = match parse_json::<DecisionRequest>(line)
                    .and_then(|r| decide(&state, &c, &id, &r))
                {
                    Ok((doc, record)) => match log(&state, record).await {
                        Ok(()) => serde_json::to_writer(
                            &mut out,
                            &DecisionDoc {
                                line: Some(line_no),
                                ..doc
                            },
                        ),
                        Err(f) => serde_json::to_writer(
                            &mut out,
                            &json!({ "line": line_no, "error": f.1 }),
                        ),
                    },
                    Err(f) => {
                        serde_json::to_writer(&mut out, &json!({ "line": line_no, "error": f.1 }))
                    }
                };
                if answer.is_err() {
                    return;
                }
                out.push(b'\n');
                if out.len() >= 1 << 16
                    && tx
                        .send(Ok(Bytes::from(std::mem::take(&mut out))))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            buf.drain(..start.min(buf.len()));
            if !out.is_empty()
                && tx
                    .send(Ok(Bytes::from(std::mem::take(&mut out))))
                    .await
                    .is_err()
            {
                return;
            }
            if buf.len() > max_line {
                let _ = tx
                    .send(Ok(Bytes::from(format!(
                        "{}\n",
                        json!({ "line": line_no + 1, "error": { "code": "body-too-large", "message": format!("a line is longer than {max_line} bytes") } })
                    ))))
                    .await;
                return;
            }
            if done {
                return;
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        Body::from_stream(stream),
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/decisions/{id}", params(("id" = String, Path, description = "Decision id")),
    responses((status = 200, body = Record), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn get_decision(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<String>,
    caller: Option<axum::Extension<access::Caller>>,
) -> Result<Response, Fail> {
    // A logged decision holds personal data: every read is itself logged.
    let reader = caller
        .as_ref()
        .map_or("(no key: loopback)", |c| c.name.as_str());
    tracing::info!(reader, decision_id = %id, "decision read");
    if s.log.is_none() {
        return Err(Fail::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "decisions are not logged by this service (it runs with --no-log)",
        ));
    }
    // Reading blocks (a database round trip): off the runtime.
    let state = s.clone();
    let wanted = id.clone();
    let read = tokio::task::spawn_blocking(move || match &state.log {
        Some(log) => log.get(&wanted),
        None => Ok(None),
    })
    .await
    .unwrap_or_else(|_| Err("the decision log reader stopped".to_string()));
    let found = read.map_err(|e| {
        tracing::error!(error = %e, "reading the decision log failed");
        Fail::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "decision-log-unavailable",
            "the decision log could not be read; try again",
        )
    })?;
    found.map(|r| axum::Json(r).into_response()).ok_or_else(|| {
        Fail::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("there is no decision `{id}`"),
        )
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rulebook decision service",
        description = "Eligibility, voucher values, self-fees and compensation from service-voucher rulebooks."
    ),
    paths(
        health,
        ready,
        metrics,
        list_programmes,
        get_programme,
        post_decision,
        post_batch,
        post_stream,
        post_comparison,
        get_decision
    ),
    components(schemas(
        DecisionRequest,
        LetterRequest,
        BatchRequest,
        ComparisonRequest,
        AlternativeRequest,
        ComparisonAnswer,
        DecisionDoc,
        ExplanationGraphDoc,
        ExplainNodeDoc,
        ItemGroupDoc,
        BatchAnswer,
        ProgrammeDoc,
        VersionDoc,
        ErrorBody,
        ApiError,
        Problem,
        Record
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document, as served at /v1/openapi.json and checked in as docs/openapi.json.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default() + "\n"
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

async fn not_found() -> Fail {
    Fail::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint").with(
        "path",
        "unknown",
        Some("the endpoints are listed in /v1/openapi.json".into()),
    )
}

async fn not_allowed() -> Fail {
    Fail::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take that method",
    )
}

/// Checks the caller's key against the role the request needs, and the
/// media type of a body. Health probes need no key.
async fn authorize(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    // A page on another site that resolves its own name to this machine
    // (DNS rebinding) names that site in `Host`; a page calling from a
    // browser names its site in `Origin`.
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(host_name);
    if !host_allowed(&s.config, host.as_deref()) {
        return Fail::new(
            StatusCode::FORBIDDEN,
            "host-not-allowed",
            format!(
                "the Host header {:?} is not a name of this service; use its address, or start it with --allowed-host NAME",
                host.unwrap_or_default()
            ),
        )
        .into_response();
    }
    if let Some(origin) = req
        .headers()
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        // The Studio's own page calls from the service's own origin.
        let own = req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|h| origin.split_once("://").is_some_and(|(_, o)| o == h));
        if !own && !s.config.allowed_origins.iter().any(|o| o == origin) {
            return Fail::new(
                StatusCode::FORBIDDEN,
                "origin-not-allowed",
                format!("requests from pages of {origin:?} are not allowed; start the service with --allowed-origin to allow a portal"),
            )
            .into_response();
        }
    }
    if req.method() == axum::http::Method::POST {
        let media = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let accepted = matches!(
            media.as_deref(),
            Some("application/json" | "application/x-ndjson" | "application/jsonl")
        );
        if !accepted {
            return Fail::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send JSON with `Content-Type: application/json` (JSON lines to the stream: application/x-ndjson)",
            )
            .into_response();
        }
    }
    let Some(keys) = &s.config.keys else {
        return next.run(req).await;
    };
    let Some(role) = access::required(req.method().as_str(), req.uri().path()) else {
        return next.run(req).await;
    };
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(caller) = presented.and_then(|k| keys.check(k)) else {
        let mut resp = Fail::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this request needs an API key: send `Authorization: Bearer KEY`",
        )
        .into_response();
        resp.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        return resp;
    };
    if caller.role != role {
        return Fail::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the key `{}` has the role {}; this request needs {}",
                caller.name,
                caller.role.as_str(),
                role.as_str()
            ),
        )
        .into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// The name in a `Host` header, without its port (`[::1]:80` → `::1`).
fn host_name(h: &str) -> String {
    let h = h.trim();
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_ascii_lowercase();
    }
    h.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(h, |(name, _)| name)
        .to_ascii_lowercase()
}

fn host_allowed(config: &Config, host: Option<&str>) -> bool {
    if !config.allowed_hosts.is_empty() {
        return host.is_some_and(|h| {
            config
                .allowed_hosts
                .iter()
                .any(|a| a.eq_ignore_ascii_case(h))
        });
    }
    if config.addr.ip().is_loopback() {
        return host.is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    }
    true
}

async fn observe(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // Only the methods the API knows become labels: any other text would
    // grow the metrics without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "OPTIONS" | "PATCH") => m.to_string(),
        _ => "other".to_string(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let took = start.elapsed();
    s.metrics
        .observe(&method, &route, status, took.as_secs_f64());
    tracing::debug!(%method, %route, status, micros = took.as_micros() as u64, "request");
    resp
}

/// Load shedding and deadlines. Decision requests take a place among
/// `max_in_flight`, or are refused at once with `503 overloaded` (and
/// `Retry-After`) rather than queueing behind others; every request but a
/// stream must end within `request_timeout`, its body included, or is
/// answered `408 request-timeout`.
async fn shed_and_time(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let deciding = req.method() == axum::http::Method::POST;
    let streaming = req.uri().path().ends_with("/decisions/stream");
    let _place = if deciding {
        match s.in_flight.try_acquire() {
            Ok(p) => Some(p),
            Err(_) => {
                s.metrics.shed.fetch_add(1, Ordering::Relaxed);
                let mut r = Fail::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    format!(
                        "{} decision requests are being worked on, the most this service takes at once",
                        s.config.max_in_flight
                    ),
                )
                .with(
                    "request",
                    "not taken",
                    Some("try again in a moment, or send the cases as one batch or stream".into()),
                )
                .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
        }
    } else {
        None
    };
    if streaming {
        return next.run(req).await;
    }
    match tokio::time::timeout(s.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => Fail::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            format!(
                "the request did not complete within {} s",
                s.config.request_timeout.as_secs()
            ),
        )
        .with(
            "request",
            "too slow",
            Some(
                "send the whole request at once; large populations go through the stream endpoint"
                    .into(),
            ),
        )
        .into_response(),
    }
}

pub fn router(state: Shared) -> Router {
    let limit = state.config.max_body;
    let studio = match state.config.studio {
        studio::Mode::Off => Router::new(),
        _ => studio::routes(),
    };
    studio
        .route("/v1/health", get(health))
        .route("/v1/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/programmes", get(list_programmes))
        .route("/v1/programmes/{id}", get(get_programme))
        .route("/v1/programmes/{id}/decisions", post(post_decision))
        .route("/v1/programmes/{id}/decisions/batch", post(post_batch))
        .route("/v1/programmes/{id}/comparisons", post(post_comparison))
        .route("/v1/programmes/{id}/decisions/stream", post(post_stream))
        .route("/v1/decisions/{id}", get(get_decision))
        .fallback(not_found)
        .method_not_allowed_fallback(not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            shed_and_time,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Why the service stopped with a failure; the command maps each to its
/// exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The rulebooks do not check, so nothing is served.
    RulebooksRejected,
    /// A file, socket or the runtime could not be opened.
    Io,
    /// Serving as configured would be unsafe (no keys on an address other
    /// machines reach).
    Refused,
}

/// Runs the service until SIGINT or SIGTERM.
pub fn run(config: Config) -> Result<(), Stopped> {
    if config.keys.is_none() && !config.addr.ip().is_loopback() {
        if !config.allow_unauthenticated {
            eprintln!(
                "error: {} is reachable from other machines, and without --keys anyone there could request decisions and read the decision log; give --keys FILE (see `rulebook keys new`), bind a loopback address, or pass --allow-unauthenticated if a proxy in front authenticates",
                config.addr
            );
            return Err(Stopped::Refused);
        }
        eprintln!(
            "warning: serving on {} without authentication (--allow-unauthenticated)",
            config.addr
        );
    }
    let tls = match &config.tls {
        None => {
            if !config.addr.ip().is_loopback() {
                eprintln!(
                    "warning: serving plain HTTP on {}: keys and personal data cross the network readable; give --tls-cert and --tls-key, or put a TLS proxy in front",
                    config.addr
                );
            }
            None
        }
        Some(t) => match transport::tls_acceptor(&transport::TlsFiles {
            cert: &t.cert,
            key: &t.key,
            client_ca: t.client_ca.as_deref(),
        }) {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(Stopped::Refused);
            }
        },
    };
    let catalog = match load_source_as(&config.source, config.studio == studio::Mode::Edit) {
        Ok(c) => c,
        Err(report) => {
            eprint!("{report}");
            eprintln!(
                "error: {} are refused (a version does not check, an example fails, a property has a counterexample, or a bundle does not verify); the service does not start",
                config.source
            );
            return Err(Stopped::RulebooksRejected);
        }
    };
    let log = match &config.db {
        None => None,
        Some(path) => match DecisionLog::open(&path.to_string_lossy(), config.retention) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(Stopped::Io);
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return Err(Stopped::Io);
        }
    };
    let state = Arc::new(AppState {
        catalog: RwLock::new(Arc::new(catalog)),
        log,
        metrics: Metrics::default(),
        in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
        config,
        reloading: std::sync::Mutex::new(()),
    });
    let code = runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(state.config.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", state.config.addr);
                return Err(Stopped::Io);
            }
        };
        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(%addr, versions = state.catalog().entries.len(), log = ?state.log.as_ref().map(|l| l.location.clone()), "listening");
        let scheme = if tls.is_some() { "https" } else { "http" };
        // Written, not printed: a caller that read the first line and
        // closed the pipe must not stop the service.
        {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "listening on {scheme}://{addr}");
            if state.config.studio != studio::Mode::Off {
                let _ = writeln!(out, "Rulebook Studio: open {scheme}://{addr}/studio/ in a browser");
            }
            let _ = out.flush();
        }
        // Reload on SIGHUP and when a rulebook file changes.
        #[cfg(unix)]
        {
            let s = state.clone();
            tokio::spawn(async move {
                let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
                while hup.recv().await.is_some() {
                    let s2 = s.clone();
                    let _ = tokio::task::spawn_blocking(move || s2.reload("SIGHUP")).await;
                }
            });
        }
        {
            let s = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(s.config.reload_interval);
                // The files as last seen: a refused set is not retried until
                // they change again.
                let mut last = s.catalog().fingerprint.clone();
                // The files as seen at the previous tick: a set is loaded
                // only once it has stayed the same for a whole interval, so
                // a file being rewritten in place is not read half-written.
                let mut previous = last.clone();
                loop {
                    tick.tick().await;
                    let s3 = s.clone();
                    let now = tokio::task::spawn_blocking(move || fingerprint(&s3.config.source)).await.unwrap_or_default();
                    let settled = now == previous;
                    previous = now.clone();
                    if settled && now != last {
                        last = now;
                        let s2 = s.clone();
                        let _ = tokio::task::spawn_blocking(move || s2.reload("a rulebook file changed")).await;
                    }
                }
            });
        }
        let app = router(state.clone());
        transport::serve(listener, app, tls, state.config.limits.clone(), shutdown_signal()).await;
        Ok(())
    });
    if let Some(l) = &state.log {
        l.close();
        tracing::info!("decision log flushed and closed");
    }
    code
}
