//! The `rulebook` command: a thin layer over the core library.
//!
//! Exit codes (also in `docs/cli.md`):
//! 0 success; 1 the rulebook has errors, an example failed or a file is not
//! formatted; 2 the command line is wrong; 3 the case file is invalid;
//! 4 evaluation failed; 5 a file could not be read or written.

mod batch;
mod case_files;
mod columnar;
mod coverage;
mod impact;
mod verify;

use rulebook_server::{self as serve, decision_log};

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use rulebook::cases::input::{decode_case, parse_document, Format as InputFormat};
use rulebook::diagnostic::render::render_diagnostics;
use rulebook::eval::{decision_json, evaluate, Options};
use rulebook::versions::workspace::{rulebook_files, Workspace};
use rulebook_files::{read_limited, Files};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;
pub(crate) const EXIT_INPUT: u8 = 3;
pub(crate) const EXIT_EVAL: u8 = 4;
pub(crate) const EXIT_IO: u8 = 5;
pub(crate) const EXIT_OFF_PERIOD: u8 = 6;

#[derive(Parser)]
#[command(
    name = "rulebook",
    version,
    about = "Check, run and test service-voucher rulebooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Print a new random key on standard output, and on standard error the
    /// line (its hash, never the key) to add to the keys file.
    New {
        /// decide, audit or operate.
        role: String,
        /// Whose key it is, as it appears in the log.
        name: String,
    },
}

#[derive(Subcommand)]
enum BundleAction {
    /// Make a signing key: the secret goes to --secret (created readable by
    /// you only), the line for the services' trust file to standard output.
    Keygen {
        /// Whose key it is, as decisions and logs name the signer.
        name: String,
        #[arg(long)]
        secret: PathBuf,
    },
    /// Pack every rulebook below a folder, and its privacy.yaml, into one
    /// signed bundle; the folder must pass check, examples and verify.
    Build {
        /// The release folder.
        folder: PathBuf,
        /// The signing key's secret file.
        #[arg(long)]
        key: PathBuf,
        /// The signer's name (as in the trust file).
        #[arg(long)]
        signer: String,
        /// The release's id, in every decision it makes (for example 2026-12-02.1).
        #[arg(long)]
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a bundle's signature and files, and check, test and verify
    /// its rulebooks as the service would before serving it.
    Verify {
        bundle: PathBuf,
        #[arg(long)]
        trust: PathBuf,
    },
}

#[derive(Subcommand)]
enum LogAction {
    /// Delete the decisions served more than DAYS days ago.
    Purge {
        /// The decision log: a SQLite file or a PostgreSQL address.
        #[arg(long, default_value = "decisions.sqlite")]
        db: PathBuf,
        /// Keep the decisions of the last DAYS days.
        #[arg(long)]
        older_than_days: u32,
    },
    /// Delete every decision about one person (GDPR art. 17), found by the
    /// `subject` the client sent with the request.
    Erase {
        /// The decision log: a SQLite file or a PostgreSQL address.
        #[arg(long, default_value = "decisions.sqlite")]
        db: PathBuf,
        #[arg(long)]
        subject: String,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum EvalFormat {
    /// Readable text (one case).
    Text,
    /// One JSON document (one case).
    Json,
    /// One JSON record per line (many cases).
    Jsonl,
    /// A header and one row per case (many cases).
    Csv,
    /// Parquet, with typed columns (many cases; needs --output).
    Parquet,
    /// The Arrow IPC file format (many cases; needs --output).
    Arrow,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
    Html,
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Check rulebooks for errors and warnings.
    Check {
        /// Rulebook files or folders (default: rulebooks/).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Evaluate one case (--input) or many (--cases) against a rulebook.
    Eval {
        /// The rulebook file, or a programme's folder of versions (the
        /// decision date picks the version).
        rulebook: PathBuf,
        /// One case: a JSON or YAML file with one entry per input.
        #[arg(long, required_unless_present = "cases", conflicts_with = "cases")]
        input: Option<PathBuf>,
        /// Many cases: JSON Lines (one record per line), CSV (.csv, columns
        /// named by input path such as household.size), Parquet (.parquet) or
        /// Arrow IPC (.arrow, .feather; .arrows for a stream); `-` reads JSON
        /// Lines from standard input.
        #[arg(long, conflicts_with = "explain")]
        cases: Option<PathBuf>,
        /// Where to write the decisions of --cases (default: standard output).
        #[arg(long, requires = "cases")]
        output: Option<PathBuf>,
        /// The decision date (YYYY-MM-DD); overrides the case's `decision_date`.
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// Apply a single version file even on a date outside its validity
        /// period (a what-if); the decision says so. Without it, such a date
        /// is refused with exit code 6.
        #[arg(long)]
        off_period: bool,
        /// text or json for one case (default text); jsonl, csv, parquet or
        /// arrow for --cases (default: by the --output file's ending, else
        /// jsonl).
        #[arg(long, value_enum)]
        format: Option<EvalFormat>,
        /// Show how each output was reached.
        #[arg(long)]
        explain: bool,
        /// Write the decision as the reasons part of a decision letter in
        /// this language (fi, sv or en; one the rulebook declares).
        #[arg(long, value_name = "LANG", conflicts_with = "cases")]
        letter: Option<String>,
        /// The letter as text, Markdown or a printable HTML page.
        #[arg(long, value_enum, default_value = "text", requires = "letter")]
        letter_format: LetterFormat,
        /// Decide the case at each alternative of a JSON file, such as each
        /// provider's price: `[{"label": "A", "inputs": {"service.hourly_price": "38.00"}}]`.
        #[arg(long, value_name = "FILE", requires = "input", conflicts_with_all = ["letter", "explain"])]
        compare: Option<PathBuf>,
    },
    /// Write cases (JSON Lines or CSV) as Parquet or Arrow IPC, with the
    /// rulebook's typed columns: money as decimal128, records as structs,
    /// lists of records as lists of structs.
    Convert {
        /// The rulebook file (or folder: its newest version) whose inputs
        /// type the columns.
        rulebook: PathBuf,
        /// The cases: JSON Lines, or CSV when the name ends in .csv.
        #[arg(long)]
        cases: PathBuf,
        /// The file to write: .parquet, .arrow (IPC file) or .arrows (IPC stream).
        #[arg(long)]
        output: PathBuf,
        /// The decision date of cases that do not give their own.
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
    },
    /// Run the examples of rulebooks.
    Test {
        /// Rulebook files or folders (default: rulebooks/).
        paths: Vec<PathBuf>,
        /// Also report what the examples reached: criteria passing and
        /// failing, table rows, scale brackets, branches, dated values and
        /// cited sections, with the ones not reached and their lines.
        #[arg(long)]
        coverage: bool,
        /// With --coverage: fail (exit 1) when a version's coverage is
        /// below this per cent.
        #[arg(long, requires = "coverage", value_parser = clap::value_parser!(u8).range(0..=100))]
        min: Option<u8>,
        /// With --coverage: text, or json for programs.
        #[arg(long, value_enum, default_value = "text", requires = "coverage")]
        format: OutputFormat,
    },
    /// Search every property of rulebooks for a counterexample.
    Verify {
        /// Rulebook files or folders (default: rulebooks/).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// Cases to try per version, beyond its examples.
        #[arg(long, default_value_t = 5000)]
        cases: usize,
        /// Seed of the random part of the search (the same seed repeats a run).
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
    },
    /// Compare two versions of a rulebook by meaning; with --cases, also
    /// run a population through both and report whom the change affects.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
        /// Cases to run through both versions: JSON Lines (.jsonl) or CSV (.csv).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// The decision date for cases that do not give their own.
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// How many of the largest changes to show.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Break the impact down by an input (an enum, integer or yes/no),
        /// or by bands of a number or amount (`PATH:WIDTH`); repeatable.
        #[arg(long = "by", value_name = "FIELD[:WIDTH]")]
        by: Vec<String>,
        /// The output whose change the breakdowns count and sum (default:
        /// the first money output).
        #[arg(long)]
        measure: Option<String>,
        /// Write every changed case (id, inputs, both outcomes, what changed
        /// it) to this file: CSV when it ends in .csv, else JSON Lines.
        #[arg(long, value_name = "FILE")]
        changes: Option<PathBuf>,
        /// Run only shard I of N of the cases (every N-th case from the I-th).
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Write the run's summary (to merge with other shards' summaries).
        #[arg(long, value_name = "FILE")]
        save_summary: Option<PathBuf>,
        /// Report on shard summaries merged, instead of running cases.
        #[arg(long, value_name = "SUMMARY", num_args = 1.., conflicts_with = "cases")]
        merge: Vec<PathBuf>,
        /// Compare versions of two different programmes.
        #[arg(long)]
        allow_programme_change: bool,
    },
    /// Serve decisions over HTTP (see docs/http-api.md).
    Serve {
        /// The folder of rulebooks to serve.
        #[arg(long, default_value = "rulebooks")]
        rulebooks: PathBuf,
        /// The address to listen on; loopback by default.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The decision log: a SQLite file, or a PostgreSQL database
        /// (`postgres://USER@HOST:PORT/DB`) that several replicas share.
        #[arg(long, default_value = "decisions.sqlite")]
        db: PathBuf,
        /// Do not log decisions.
        #[arg(long)]
        no_log: bool,
        /// The largest request body, in bytes.
        #[arg(long, default_value_t = 1 << 20)]
        max_body: usize,
        /// The most cases in one batch request.
        #[arg(long, default_value_t = 1000)]
        max_batch: usize,
        /// How often to look for changed rulebook files, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        reload_interval_ms: u64,
        /// Log lines as JSON instead of text.
        #[arg(long)]
        log_json: bool,
        /// The API keys file (lines `ROLE NAME SHA256`, made with `rulebook
        /// keys new`); every request but the health probes then needs a key.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Serve a non-loopback address without keys (only behind a proxy
        /// that authenticates).
        #[arg(long)]
        allow_unauthenticated: bool,
        /// A host name clients use for the service (repeatable); by default
        /// only loopback names are accepted on a loopback address.
        #[arg(long = "allowed-host")]
        allowed_hosts: Vec<String>,
        /// A web origin (`https://portal.example`) whose pages may call the
        /// API (repeatable); by default requests from web pages are refused.
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Mutual TLS: accept only clients whose certificate this authority
        /// (PEM) signed.
        #[arg(long, requires = "tls_cert")]
        tls_client_ca: Option<PathBuf>,
        /// The most connections open at once; more are answered 503 and
        /// closed.
        #[arg(long, default_value_t = 512)]
        max_connections: usize,
        /// Seconds a client has to send a request's head (and to finish the
        /// TLS handshake); also how long an idle connection stays open.
        #[arg(long, default_value_t = 10)]
        header_timeout: u64,
        /// Seconds one request may take, its body included (for a stream:
        /// the longest pause between two pieces of it).
        #[arg(long, default_value_t = 30)]
        request_timeout: u64,
        /// The most decision requests worked on at once; more are answered
        /// 503 overloaded at once.
        #[arg(long, default_value_t = 64)]
        max_in_flight: usize,
        /// Delete logged decisions older than this many days (at start and
        /// hourly). Without it decisions are kept until `rulebook log purge`.
        #[arg(long)]
        retention_days: Option<u32>,
        /// Serve the release in this signed bundle (`rulebook bundle build`)
        /// instead of a folder; needs --trust.
        #[arg(long, requires = "trust")]
        bundle: Option<PathBuf>,
        /// The trusted signing keys for --bundle: lines `NAME ed25519:HEX`.
        #[arg(long, requires = "bundle")]
        trust: Option<PathBuf>,
        /// Do not serve Rulebook Studio (read-only, at /studio/) beside the API.
        #[arg(long)]
        no_studio: bool,
    },
    /// Rulebook Studio on a folder: read, try, compare and edit its
    /// rulebooks in the browser, on this machine only (see docs/studio.md).
    Studio {
        /// The folder of rulebooks.
        #[arg(default_value = "rulebooks")]
        dir: PathBuf,
        /// The loopback address to listen on.
        #[arg(long, default_value = "127.0.0.1:8300")]
        addr: std::net::SocketAddr,
    },
    /// Signed release bundles: make a signing key, pack a folder, verify.
    Bundle {
        #[command(subcommand)]
        action: BundleAction,
    },
    /// Delete decisions from the decision log: past a retention period, or
    /// every decision about one person.
    Log {
        #[command(subcommand)]
        action: LogAction,
    },
    /// Make an API key for the decision service.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Re-evaluate a logged decision under its own version and another.
    Replay {
        /// The decision id.
        id: String,
        /// The decision log: a SQLite file or a PostgreSQL address.
        #[arg(long, default_value = "decisions.sqlite")]
        db: PathBuf,
        #[arg(long, default_value = "rulebooks")]
        rulebooks: PathBuf,
        /// Another version to compare with (default: the newest version).
        #[arg(long)]
        against: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
    },
    /// Print the HTTP API's OpenAPI document.
    Openapi,
    /// Format rulebooks in place.
    Fmt {
        /// Rulebook files or folders (default: rulebooks/).
        paths: Vec<PathBuf>,
        /// Only report files that are not formatted; change nothing.
        #[arg(long)]
        check: bool,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date; write YYYY-MM-DD, such as 2021-03-01"))
}

/// Output piped into a reader that stops early (`rulebook eval ... | head`)
/// makes `println!` panic with "Broken pipe"; that is no fault of the
/// program: it ends quietly with exit code 5 (could not write).
fn end_quietly_on_a_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(i32::from(EXIT_IO));
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    end_quietly_on_a_closed_pipe();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => cmd_check(&paths, format, deny_warnings),
        Command::Convert {
            rulebook,
            cases,
            output,
            date,
        } => cmd_convert(&rulebook, &cases, &output, date),
        Command::Eval {
            rulebook,
            input,
            cases,
            output,
            date,
            format,
            explain,
            off_period,
            letter,
            letter_format,
            compare,
        } => match (input, cases) {
            (_, Some(cases)) => cmd_eval_cases(&rulebook, cases, output, date, format, off_period),
            (Some(input), None) => {
                let format = match format {
                    None | Some(EvalFormat::Text) => OutputFormat::Text,
                    Some(EvalFormat::Json) => OutputFormat::Json,
                    Some(_) => {
                        eprintln!("error: --format jsonl, csv, parquet and arrow are for many cases (--cases); for one case use text or json");
                        return ExitCode::from(EXIT_USAGE);
                    }
                };
                let letter = letter.map(|l| (l, letter_format));
                let how = EvalHow {
                    format,
                    explain,
                    off_period,
                    letter,
                    compare,
                };
                cmd_eval(&rulebook, &input, date, how)
            }
            (None, None) => EXIT_USAGE,
        },
        Command::Test {
            paths,
            coverage,
            min,
            format,
        } => {
            let tested = if format == OutputFormat::Json {
                0
            } else {
                cmd_test(&paths)
            };
            if coverage {
                tested.max(coverage::cmd_coverage(&paths, min, format))
            } else {
                tested
            }
        }
        Command::Verify {
            paths,
            format,
            cases,
            seed,
        } => verify::cmd_verify(
            &paths,
            format,
            rulebook::ops::verify::Settings { cases, seed },
        ),
        Command::Fmt { paths, check } => cmd_fmt(&paths, check),
        Command::Serve {
            rulebooks,
            addr,
            db,
            no_log,
            max_body,
            max_batch,
            reload_interval_ms,
            log_json,
            keys,
            allow_unauthenticated,
            allowed_hosts,
            allowed_origins,
            tls_cert,
            tls_key,
            tls_client_ca,
            max_connections,
            header_timeout,
            request_timeout,
            max_in_flight,
            retention_days,
            bundle,
            trust,
            no_studio,
        } => {
            init_tracing(log_json);
            let keys = match keys.map(|k| serve::access::Keys::load(&k)).transpose() {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            };
            let source = match bundle.zip(trust) {
                None => serve::ReleaseSource::Folder(rulebooks),
                Some((path, trust)) => match serve::bundle::TrustedKeys::load(&trust) {
                    Ok(keys) => serve::ReleaseSource::Bundle {
                        path,
                        trusted: std::sync::Arc::new(keys),
                    },
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(EXIT_USAGE);
                    }
                },
            };
            match serve::run(serve::Config {
                source,
                addr,
                db: (!no_log).then_some(db),
                max_body,
                max_batch,
                reload_interval: std::time::Duration::from_millis(reload_interval_ms.max(50)),
                keys,
                allow_unauthenticated,
                allowed_hosts,
                allowed_origins,
                limits: serve::transport::Limits {
                    max_connections: max_connections.max(1),
                    header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
                    ..Default::default()
                },
                request_timeout: std::time::Duration::from_secs(request_timeout.max(1)),
                max_in_flight,
                retention: retention_days
                    .map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400)),
                tls: tls_cert.zip(tls_key).map(|(cert, key)| serve::Tls {
                    cert,
                    key,
                    client_ca: tls_client_ca,
                }),
                studio: if no_studio {
                    serve::studio::Mode::Off
                } else {
                    serve::studio::Mode::ReadOnly
                },
            }) {
                Ok(()) => 0,
                Err(serve::Stopped::RulebooksRejected) => EXIT_FAILED,
                Err(serve::Stopped::Io) => EXIT_IO,
                Err(serve::Stopped::Refused) => EXIT_USAGE,
            }
        }
        Command::Studio { dir, addr } => cmd_studio(dir, addr),
        Command::Log { action } => cmd_log(action),
        Command::Bundle { action } => cmd_bundle(action),
        Command::Keys {
            action: KeysAction::New { role, name },
        } => {
            let Some(role) = serve::access::Role::parse(&role) else {
                eprintln!("error: unknown role `{role}`; the roles are decide, audit and operate");
                return ExitCode::from(EXIT_USAGE);
            };
            match serve::access::new_key(role, &name) {
                Ok((key, line)) => {
                    println!("{key}");
                    eprintln!("the key is shown once; give it to `{name}` and add this line to the keys file:\n{line}");
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_IO
                }
            }
        }
        Command::Replay {
            id,
            db,
            rulebooks,
            against,
            format,
        } => cmd_replay(&id, &db, &rulebooks, against.as_deref(), format),
        Command::Openapi => {
            print!("{}", serve::openapi_json());
            0
        }
        Command::Diff {
            old,
            new,
            format,
            cases,
            date,
            top,
            by,
            measure,
            changes,
            shard,
            save_summary,
            merge,
            allow_programme_change,
        } => cmd_diff(DiffRequest {
            old: &old,
            new: &new,
            format,
            cases: cases.as_deref(),
            date,
            top,
            by: &by,
            measure,
            changes: changes.as_deref(),
            shard: shard.as_deref(),
            save_summary: save_summary.as_deref(),
            merge: &merge,
            allow_programme_change,
        }),
    };
    ExitCode::from(code)
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The paths a command was given, or `rulebooks/` when none.
fn or_default(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("rulebooks")]
    } else {
        paths.to_vec()
    }
}

/// The requested files and folders, checked together with the other
/// rulebooks in their folders (an amendment needs the version it amends).
fn load(paths: &[PathBuf]) -> Result<Workspace, String> {
    Workspace::load(&Files, paths).map_err(|e| e.to_string())
}

/// The rulebook files below the given files and folders, sorted.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = rulebook_files(&Files, paths).map_err(|e| e.to_string())?;
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String, String> {
    read_limited(path).map_err(|e| e.to_string())
}

fn cmd_check(paths: &[PathBuf], format: OutputFormat, deny_warnings: bool) -> u8 {
    let loaded = match load(&or_default(paths)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let mut errors = 0;
    let mut warnings = 0;
    let mut json_files = Vec::new();
    for &i in &loaded.requested {
        let (Some(src), diags) = (loaded.sources.get(i), loaded.diagnostics(i)) else {
            continue;
        };
        let (name, text) = (&src.name, &src.text);
        errors += diags.iter().filter(|d| d.is_error()).count();
        warnings += diags.iter().filter(|d| !d.is_error()).count();
        match format {
            OutputFormat::Text => eprint!("{}", render_diagnostics(name, text, &diags, color())),
            OutputFormat::Json => {
                let index = rulebook::diagnostic::LineIndex::new(text);
                let diags: Vec<serde_json::Value> = diags
                    .iter()
                    .map(|d| {
                        let (line, column) = index.position(text, d.span.start);
                        serde_json::json!({
                            "code": d.code, "severity": d.severity, "message": d.message,
                            "line": line + 1, "column": column + 1, "span": d.span,
                            "label": d.label, "help": d.help, "related": d.related,
                        })
                    })
                    .collect();
                json_files.push(serde_json::json!({ "file": name, "diagnostics": diags }));
            }
        }
    }
    let files = loaded.requested.len();
    match format {
        OutputFormat::Text => {
            println!(
                "checked {} file{}: {errors} error{}, {warnings} warning{}",
                files,
                if files == 1 { "" } else { "s" },
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" }
            );
        }
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({ "files": json_files, "errors": errors, "warnings": warnings })
        ),
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        EXIT_FAILED
    } else {
        0
    }
}

/// The rulebook file, or every version in a programme's folder.
fn load_for_eval(path: &Path) -> Result<Workspace, u8> {
    load(&[path.to_path_buf()]).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_IO
    })
}

/// Prints the errors of a version that cannot be evaluated; true if any.
fn refuse_with_errors(loaded: &Workspace, i: usize) -> bool {
    if !loaded.has_errors(i) {
        return false;
    }
    print_errors(loaded, i);
    true
}

/// Renders version `i`'s errors to standard error; how many there were.
fn render_errors(loaded: &Workspace, i: usize) -> usize {
    let Some(src) = loaded.sources.get(i) else {
        return 0;
    };
    let errors: Vec<_> = loaded
        .diagnostics(i)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    eprint!(
        "{}",
        render_diagnostics(&src.name, &src.text, &errors, color())
    );
    errors.len()
}

/// Prints a version's errors and asks for them to be fixed first.
fn print_errors(loaded: &Workspace, i: usize) {
    let count = render_errors(loaded, i);
    if let Some(src) = loaded.sources.get(i) {
        eprintln!(
            "error: {} has {count} error(s); fix them first (see `rulebook check`)",
            src.name
        );
    }
}

fn cmd_eval_cases(
    path: &Path,
    cases: PathBuf,
    output: Option<PathBuf>,
    date: Option<NaiveDate>,
    format: Option<EvalFormat>,
    off_period: bool,
) -> u8 {
    let format = match format {
        Some(EvalFormat::Csv) => batch::Format::Csv,
        Some(EvalFormat::Parquet) => batch::Format::Columnar(columnar::Kind::Parquet),
        Some(EvalFormat::Arrow) => batch::Format::Columnar(columnar::Kind::ArrowFile),
        Some(EvalFormat::Jsonl) | Some(EvalFormat::Json) => batch::Format::Jsonl,
        Some(EvalFormat::Text) => {
            eprintln!(
                "error: --format text is for one case (--input); for --cases use jsonl, csv, parquet or arrow"
            );
            return EXIT_USAGE;
        }
        None if output
            .as_ref()
            .is_some_and(|o| o.extension().is_some_and(|e| e == "csv")) =>
        {
            batch::Format::Csv
        }
        None if output.as_deref().and_then(columnar::Kind::of).is_some() => {
            match output.as_deref().and_then(columnar::Kind::of) {
                Some(kind) => batch::Format::Columnar(kind),
                None => batch::Format::Jsonl,
            }
        }
        None => batch::Format::Jsonl,
    };
    let loaded = match load_for_eval(path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut programs = Vec::new();
    for &i in &loaded.requested {
        if refuse_with_errors(&loaded, i) {
            return EXIT_FAILED;
        }
        if let Some(p) = loaded.versions.get(i).and_then(|v| v.program()) {
            programs.push(p);
        }
    }
    if programs.is_empty() {
        eprintln!("error: {}: no rulebook to evaluate", path.display());
        return EXIT_FAILED;
    }
    // Oldest first, so that the newest version names the CSV columns.
    programs.sort_by_key(|p| p.in_force_from);
    batch::run(batch::Config {
        programs,
        cases,
        output,
        format,
        date,
        off_period,
    })
}

fn cmd_convert(path: &Path, cases: &Path, output: &Path, date: Option<NaiveDate>) -> u8 {
    let loaded = match load_for_eval(path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // The newest version requested types the columns.
    let newest = loaded
        .requested
        .iter()
        .copied()
        .filter_map(|i| {
            loaded
                .versions
                .get(i)
                .and_then(|v| v.program())
                .map(|p| (i, p))
        })
        .max_by_key(|(_, p)| p.in_force_from);
    let Some((i, program)) = newest else {
        eprintln!(
            "error: {}: no rulebook to convert cases for",
            path.display()
        );
        return EXIT_FAILED;
    };
    if refuse_with_errors(&loaded, i) {
        return EXIT_FAILED;
    }
    match columnar::convert(program.program(), cases, output, date) {
        Ok(n) => {
            eprintln!("{n} case(s) written to {}", output.display());
            0
        }
        Err((code, message)) => {
            eprintln!("error: {message}");
            code
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LetterFormat {
    Text,
    Markdown,
    Html,
}

/// How one case is evaluated and shown.
struct EvalHow {
    format: OutputFormat,
    explain: bool,
    off_period: bool,
    letter: Option<(String, LetterFormat)>,
    /// Alternatives to decide the case at, instead of the case alone.
    compare: Option<PathBuf>,
}

/// The case decided at each alternative: one line each in text (its label
/// and outputs, or why it is not eligible), or the list as JSON. An
/// alternative whose case is invalid or cannot be decided says so in its
/// place; the exit code is then that of the worst.
fn cmd_compare(
    p: &rulebook::eval::Executable,
    doc: &serde_json::Value,
    date: Option<NaiveDate>,
    file: &Path,
    format: OutputFormat,
) -> u8 {
    let text = match read(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let alternatives: Vec<serde_json::Value> = match serde_json::from_str(&text) {
        Ok(serde_json::Value::Array(a)) => a,
        _ => {
            eprintln!("error: {}: expected a JSON list of alternatives such as [{{\"label\": \"A\", \"inputs\": {{\"service.hourly_price\": \"38.00\"}}}}]", file.display());
            return EXIT_INPUT;
        }
    };
    let mut code = 0u8;
    let mut out = Vec::new();
    let mut lines = Vec::new();
    for (k, alt) in alternatives.iter().enumerate() {
        let label = alt["label"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{}", k + 1));
        let changes: Vec<(String, serde_json::Value)> = alt["inputs"]
            .as_object()
            .map(|m| m.iter().map(|(p, v)| (p.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut entry = serde_json::Map::new();
        entry.insert("label".into(), serde_json::Value::String(label.clone()));
        let decided = rulebook::cases::alternatives::with_changes(doc, &changes)
            .map_err(|why| {
                (
                    EXIT_INPUT,
                    format!("{}: [{k}].inputs: {why}", file.display()),
                )
            })
            .and_then(|changed| {
                decode_case(p, &changed, date).map_err(|errors| {
                    let why: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                    (
                        EXIT_INPUT,
                        format!("{}: [{k}]: {}", file.display(), why.join("; ")),
                    )
                })
            })
            .and_then(|case| {
                evaluate(p, &case, &Options { explain: false })
                    .map(|d| (case, d))
                    .map_err(|e| (EXIT_EVAL, format!("{}: [{k}]: {e}", file.display())))
            });
        let line = match decided {
            Ok((case, d)) => {
                if let serde_json::Value::Object(m) = rulebook::eval::decision_json(p, &case, &d) {
                    entry.extend(m);
                }
                if d.eligible {
                    let shown: Vec<String> = d
                        .outputs
                        .iter()
                        .filter_map(|(i, v)| {
                            p.defs
                                .get(*i as usize)
                                .map(|def| format!("{} {}", def.name, p.render(v, &def.ty)))
                        })
                        .collect();
                    format!("{label}: {}", shown.join(", "))
                } else {
                    let why: Vec<&str> = d
                        .failed_criteria
                        .iter()
                        .map(|f| f.reason.as_str())
                        .collect();
                    format!("{label}: not eligible: {}", why.join("; "))
                }
            }
            Err((c, why)) => {
                code = code.max(c);
                entry.insert("error".into(), serde_json::Value::String(why.clone()));
                format!("{label}: error: {why}")
            }
        };
        out.push(serde_json::Value::Object(entry));
        lines.push(line);
    }
    match format {
        OutputFormat::Json => println!("{}", serde_json::Value::Array(out)),
        OutputFormat::Text => lines.iter().for_each(|l| println!("{l}")),
    }
    code
}

fn cmd_eval(path: &Path, input: &Path, date: Option<NaiveDate>, how: EvalHow) -> u8 {
    let EvalHow {
        format,
        explain,
        off_period,
        letter,
        compare,
    } = how;
    if let Some((lang, _)) = &letter {
        if !rulebook::ops::letter::LETTER_LANGUAGES.contains(&lang.as_str()) {
            eprintln!("error: --letter {lang}: write fi, sv or en");
            return EXIT_USAGE;
        }
    }
    let explain = explain || letter.is_some();
    let loaded = match load_for_eval(path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let case_text = match read(input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let fmt = match input.extension().and_then(|e| e.to_str()) {
        Some("json") => InputFormat::Json,
        _ => InputFormat::Yaml,
    };
    let doc = match parse_document(&case_text, fmt) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", input.display());
            return EXIT_INPUT;
        }
    };
    // A folder is a programme: the decision date picks the version.
    let chosen = if path.is_dir() {
        let Some(when) = date.or_else(|| {
            doc.get("decision_date")
                .and_then(|d| d.as_str())
                .and_then(|d| parse_date(d).ok())
        }) else {
            eprintln!("error: {}: decision_date: no decision date to choose a version by (help: add `decision_date: YYYY-MM-DD` to the case, or pass --date)", input.display());
            return EXIT_INPUT;
        };
        match loaded.in_force(None, when) {
            Ok(i) => Some(i),
            Err(e) => {
                eprintln!("error: {e}");
                return match e {
                    rulebook::versions::NoVersion::NotInForce { .. } => EXIT_OFF_PERIOD,
                    _ => EXIT_FAILED,
                };
            }
        }
    } else {
        Some(0)
    };
    let Some(i) = chosen else { return EXIT_FAILED };
    let (Some(src), Some(version)) = (loaded.sources.get(i), loaded.versions.get(i)) else {
        return EXIT_FAILED;
    };
    if refuse_with_errors(&loaded, i) {
        return EXIT_FAILED;
    }
    let Some(p) = version.program() else {
        return EXIT_FAILED;
    };
    if let Some(file) = &compare {
        return cmd_compare(p, &doc, date, file, format);
    }
    let case = match decode_case(p, &doc, date) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {}: {e}", input.display());
            }
            eprintln!("{} problem(s) in {}", errors.len(), input.display());
            return EXIT_INPUT;
        }
    };
    // A version decides only dates in its own period, unless asked to.
    let others: Vec<&rulebook::ir::Program> =
        loaded.versions.iter().map(|v| &v.checked.partial).collect();
    let outside = rulebook::versions::within_period(p, case.decision_date, &others).err();
    if let Some(why) = &outside {
        if !off_period {
            eprintln!("error: {}: {why}", src.name);
            eprintln!("  help: evaluate the programme's folder to use the version in force, or pass --off-period to apply this version anyway");
            return EXIT_OFF_PERIOD;
        }
    }
    let decision = match evaluate(p, &case, &Options { explain }) {
        Ok(d) => d,
        Err(e) => {
            let mut d = rulebook::diagnostic::Diagnostic::error(e.code, e.span, e.to_string())
                .with_label(format!("while evaluating `{}`", e.rule));
            if let Some(h) = &e.help {
                d = d.with_help(h.clone());
            }
            eprint!(
                "{}",
                render_diagnostics(&src.name, &version.text, &[d], color())
            );
            return EXIT_EVAL;
        }
    };
    if let Some((lang, letter_format)) = &letter {
        return match rulebook::ops::letter::letter(p, &case, &decision, lang) {
            Ok(l) => {
                let out = match letter_format {
                    LetterFormat::Text => rulebook::ops::letter::to_text(&l),
                    LetterFormat::Markdown => rulebook::ops::letter::to_markdown(&l),
                    LetterFormat::Html => rulebook::ops::letter::to_html(&l),
                };
                print!("{out}");
                0
            }
            Err(rulebook::ops::letter::NoLetter(why)) => {
                eprintln!("error: --letter {lang}: {why}");
                EXIT_USAGE
            }
        };
    }
    if format == OutputFormat::Json {
        let mut json = decision_json(p, &case, &decision);
        if let (Some(why), Some(o)) = (&outside, json.as_object_mut()) {
            o.insert(
                "off_period".into(),
                serde_json::Value::String(why.to_string()),
            );
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
        return 0;
    }
    println!("{} {} on {}", p.id, p.version, case.decision_date);
    if let Some(why) = &outside {
        println!("off period (--off-period): {why}");
    }
    if decision.eligible {
        println!("eligible: yes");
    } else {
        println!("eligible: no");
        for c in &decision.failed_criteria {
            let sec = c
                .section
                .as_ref()
                .map(|s| format!(" (§ {s})"))
                .unwrap_or_default();
            println!("  - {}{sec}: {}", c.criterion, c.reason);
        }
    }
    if !decision.outputs.is_empty() {
        let width = decision
            .outputs
            .iter()
            .filter_map(|(i, _)| p.defs.get(*i as usize).map(|d| d.name.chars().count()))
            .max()
            .unwrap_or(0);
        println!("outputs:");
        for (i, v) in &decision.outputs {
            if let Some(d) = p.defs.get(*i as usize) {
                println!("  {:width$}  {}", d.name, p.render(v, &d.ty));
            }
        }
    }
    // With --explain: every value the decision used, once, top down; for a
    // refusal, the failed criteria and the facts they were decided on.
    if let Some(g) = &decision.graph {
        println!(
            "{}:",
            if decision.eligible {
                "explanation"
            } else {
                "why"
            }
        );
        print!("{}", rulebook::semantics::explanation::to_text(g));
    }
    0
}

/// The program of version `i`, or `None` after printing its errors and a
/// line saying it does not check and what was skipped (`skipped`).
pub(crate) fn program_or_errors<'w>(
    loaded: &'w Workspace,
    i: usize,
    skipped: &str,
) -> Option<&'w rulebook::eval::Executable> {
    let (src, version) = (loaded.sources.get(i)?, loaded.versions.get(i)?);
    if let Some(p) = version.program().filter(|_| !loaded.has_errors(i)) {
        return Some(p);
    }
    let count = render_errors(loaded, i);
    println!("{}: does not check ({count} error(s)); {skipped}", src.name);
    None
}

fn cmd_test(paths: &[PathBuf]) -> u8 {
    let loaded = match load(&or_default(paths)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for &i in &loaded.requested {
        let (Some(src), Some(version)) = (loaded.sources.get(i), loaded.versions.get(i)) else {
            continue;
        };
        let name = &src.name;
        let Some(p) = program_or_errors(&loaded, i, "its examples were not run") else {
            broken += 1;
            continue;
        };
        // Example spans point into the written-out text of an amendment:
        // its own examples are placed back in the file's own text.
        let index = rulebook::diagnostic::LineIndex::new(&src.text);
        for r in rulebook::ops::examples::run_examples(p) {
            let place = match version.own_span(r.span) {
                Some(s) => format!("{name}:{}", index.position(&src.text, s.start).0 + 1),
                None => name.clone(),
            };
            if r.passed() {
                passed += 1;
                println!("ok    {place} {}", r.name);
            } else {
                failed += 1;
                println!("FAIL  {place} {}", r.name);
                for msg in &r.failures {
                    println!("        {msg}");
                }
            }
        }
    }
    let broken_note = if broken > 0 {
        format!(", {broken} rulebook(s) with errors")
    } else {
        String::new()
    };
    println!("examples: {passed} passed, {failed} failed{broken_note}");
    if failed > 0 || broken > 0 {
        EXIT_FAILED
    } else {
        0
    }
}

fn cmd_fmt(paths: &[PathBuf], check_only: bool) -> u8 {
    let files = match collect(&or_default(paths)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let mut unformatted = 0;
    for f in &files {
        let text = match read(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_IO;
            }
        };
        // Formatting text that does not parse could move what the author
        // meant; such a file is left as it is and reported.
        let (_, parsed) = rulebook::syntax::parse(&text);
        if parsed.iter().any(|d| d.is_error()) {
            eprintln!(
                "error: {}: not formatted, because it does not parse; `rulebook check` shows where",
                f.display()
            );
            unformatted += 1;
            continue;
        }
        let formatted = rulebook::ops::format::format(&text);
        if formatted == text {
            continue;
        }
        if check_only {
            println!("not formatted: {}", f.display());
            unformatted += 1;
        } else if let Err(e) = write_atomically(f, &formatted) {
            eprintln!("error: cannot write {}: {e}", f.display());
            return EXIT_IO;
        } else {
            println!("formatted {}", f.display());
        }
    }
    if unformatted > 0 {
        println!("{unformatted} file(s) need `rulebook fmt`");
        EXIT_FAILED
    } else {
        0
    }
}

/// Writes through a temporary file and a rename, so an interrupted write
/// never leaves a half-written rulebook.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("rulebook.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

struct DiffRequest<'a> {
    old: &'a Path,
    new: &'a Path,
    format: DiffFormat,
    cases: Option<&'a Path>,
    date: Option<NaiveDate>,
    top: usize,
    by: &'a [String],
    measure: Option<String>,
    changes: Option<&'a Path>,
    shard: Option<&'a str>,
    save_summary: Option<&'a Path>,
    merge: &'a [PathBuf],
    allow_programme_change: bool,
}

fn cmd_diff(r: DiffRequest<'_>) -> u8 {
    let (old, new) = (r.old, r.new);
    for p in [old, new] {
        if !p.is_file() {
            eprintln!("error: {}: no such rulebook file", p.display());
            return EXIT_IO;
        }
    }
    let wants_cases = !r.by.is_empty()
        || r.measure.is_some()
        || r.changes.is_some()
        || r.shard.is_some()
        || r.save_summary.is_some();
    if wants_cases && r.cases.is_none() && r.merge.is_empty() {
        eprintln!(
            "error: --by, --measure, --changes, --shard and --save-summary need --cases FILE"
        );
        return EXIT_USAGE;
    }
    if !r.merge.is_empty() && (r.changes.is_some() || r.shard.is_some()) {
        eprintln!("error: --merge reports on summaries already made; --changes and --shard belong to the runs that made them");
        return EXIT_USAGE;
    }
    let shard = match r.shard.map(impact::Shard::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --shard {e}");
            return EXIT_USAGE;
        }
    };
    let loaded = match load(&[old.to_path_buf(), new.to_path_buf()]) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let mut sides = Vec::new();
    for i in [0, 1] {
        let Some(v) = loaded.versions.get(i) else {
            return EXIT_FAILED;
        };
        match v.program().filter(|_| loaded.own_errors(i).is_empty()) {
            Some(p) => sides.push(rulebook::ops::diff::Side {
                text: &v.text,
                checked: &v.checked,
                program: p,
            }),
            None => {
                print_errors(&loaded, i);
                return EXIT_FAILED;
            }
        }
    }
    let (Some(a), Some(b)) = (sides.first(), sides.get(1)) else {
        return EXIT_FAILED;
    };
    if a.program.id != b.program.id && !r.allow_programme_change {
        eprintln!(
            "error: {} is programme `{}` and {} is programme `{}`: a diff compares two versions of one programme\n  help: pass --allow-programme-change to compare them anyway",
            old.display(),
            a.program.id,
            new.display(),
            b.program.id
        );
        return EXIT_USAGE;
    }
    let mut by = Vec::new();
    for spec in r.by {
        match rulebook::ops::impact::ByField::parse(spec, a.program, b.program) {
            Ok(f) => by.push(f),
            Err(e) => {
                eprintln!("error: --by {spec}: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let settings = rulebook::ops::impact::Settings {
        top: r.top,
        by,
        measure: r.measure.clone(),
    };
    let d = rulebook::ops::diff::diff(a, b);
    let summary = if !r.merge.is_empty() {
        match impact::merge(r.merge) {
            Ok(s) if s.old_version != a.program.version || s.new_version != b.program.version => {
                eprintln!(
                    "error: the summaries are of versions {} → {}, not {} → {}",
                    s.old_version, s.new_version, a.program.version, b.program.version
                );
                return EXIT_INPUT;
            }
            Ok(s) => Some(s),
            Err((code, msg)) => {
                eprintln!("error: {msg}");
                return code;
            }
        }
    } else {
        match r.cases {
            None => None,
            Some(path) => {
                let request = impact::Request {
                    cases: path,
                    date: r.date,
                    settings,
                    shard,
                    changes: r.changes,
                    diff: &d,
                };
                match impact::run(a.program, b.program, request) {
                    Ok(s) => Some(s),
                    Err((code, msg)) => {
                        eprintln!("error: {msg}");
                        return code;
                    }
                }
            }
        }
    };
    if let (Some(s), Some(path)) = (&summary, r.save_summary) {
        let text = serde_json::to_string(s).unwrap_or_default() + "\n";
        if let Err(e) = write_atomically(path, &text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_IO;
        }
    }
    let impact = summary
        .as_ref()
        .map(|s| rulebook::ops::impact::finish(s, a.program, b.program, r.date));
    let out = match r.format {
        DiffFormat::Text => {
            let mut s = rulebook::ops::diff::to_text(&d);
            if let Some(i) = &impact {
                s.push('\n');
                s.push_str(&rulebook::ops::impact::to_text(i));
            }
            s
        }
        DiffFormat::Markdown => {
            let mut s = rulebook::ops::diff::to_markdown(&d);
            if let Some(i) = &impact {
                s.push('\n');
                s.push_str(&rulebook::ops::impact::to_markdown(i));
            }
            s
        }
        DiffFormat::Json => {
            let mut v = rulebook::ops::diff::to_json(&d);
            if let (Some(i), Some(map)) = (&impact, v.as_object_mut()) {
                map.insert("impact".into(), serde_json::json!(i));
            }
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        DiffFormat::Html => rulebook::ops::diff::to_html(
            &d,
            impact
                .as_ref()
                .map(rulebook::ops::impact::to_html)
                .as_deref(),
        ),
    };
    print!("{out}");
    match &summary {
        Some(s) if s.undecidable > 0 => EXIT_EVAL,
        Some(s) if s.invalid > 0 => EXIT_INPUT,
        _ => 0,
    }
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RULEBOOK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn cmd_bundle(action: BundleAction) -> u8 {
    match action {
        BundleAction::Keygen { name, secret } => {
            let (secret_text, trust_line) = match serve::bundle::keygen(&name) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_IO;
                }
            };
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options.open(&secret).and_then(|mut f| {
                std::io::Write::write_all(&mut f, format!("{secret_text}\n").as_bytes())
            });
            if let Err(e) = written {
                eprintln!(
                    "error: cannot write {} (an existing key is never overwritten): {e}",
                    secret.display()
                );
                return EXIT_IO;
            }
            println!("{trust_line}");
            eprintln!(
                "the secret is in {}; add the line above to the services' trust file",
                secret.display()
            );
            0
        }
        BundleAction::Build {
            folder,
            key,
            signer,
            id,
            out,
        } => {
            let mut files = std::collections::BTreeMap::new();
            let mut paths =
                rulebook::versions::workspace::rulebooks_below(&rulebook_files::Files, &folder)
                    .unwrap_or_default();
            paths.push(folder.join(serve::privacy::FILE));
            for p in paths {
                if !p.exists() {
                    continue;
                }
                let text = match rulebook_files::read_limited(&p) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return EXIT_IO;
                    }
                };
                let inside = p.strip_prefix(&folder).unwrap_or(&p);
                let name = inside
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(name, text);
            }
            // A bundle is only made of a release the service would take:
            // the very texts packed are the ones tested.
            if let Err(report) = serve::load_files(&folder, &files) {
                eprintln!("{}", report.trim_end());
                eprintln!(
                    "error: {} is not a release the service would take; no bundle made",
                    folder.display()
                );
                return EXIT_FAILED;
            }
            let secret = match rulebook_files::read_limited(&key) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_IO;
                }
            };
            let n = files.len();
            let created = decision_log::utc_timestamp(std::time::SystemTime::now());
            let text = match serve::bundle::build(files, &id, &created, &secret, &signer) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", key.display());
                    return EXIT_USAGE;
                }
            };
            // Written beside and renamed: a service watching `out` never
            // sees it half-written (and would refuse it if it did).
            let partial = out.with_extension("partial");
            if let Err(e) =
                std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, &out))
            {
                eprintln!("error: cannot write {}: {e}", out.display());
                return EXIT_IO;
            }
            println!(
                "bundle {id}: {n} file(s), signed by {signer}, written to {}",
                out.display()
            );
            0
        }
        BundleAction::Verify { bundle, trust } => {
            let trusted = match serve::bundle::TrustedKeys::load(&trust) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_USAGE;
                }
            };
            match serve::load_source(&serve::ReleaseSource::Bundle {
                path: bundle.clone(),
                trusted: std::sync::Arc::new(trusted),
            }) {
                Ok(c) => {
                    println!(
                        "{}: {}, {} version(s); signature, files, checks, examples and properties verified",
                        bundle.display(),
                        c.release,
                        c.entries.len()
                    );
                    0
                }
                Err(report) => {
                    eprintln!("{report}");
                    eprintln!("error: {} is refused", bundle.display());
                    EXIT_FAILED
                }
            }
        }
    }
}

fn cmd_log(action: LogAction) -> u8 {
    let (db, deleted, what) = match &action {
        LogAction::Purge {
            db,
            older_than_days,
        } => {
            let age = std::time::Duration::from_secs(u64::from(*older_than_days) * 86_400);
            let cutoff = decision_log::cutoff(age);
            (
                db,
                decision_log::Store::open_existing(&db.to_string_lossy())
                    .and_then(|mut c| c.purge_before(&cutoff)),
                format!("served before {cutoff}"),
            )
        }
        LogAction::Erase { db, subject } => (
            db,
            decision_log::Store::open_existing(&db.to_string_lossy())
                .and_then(|mut c| c.erase_subject(subject)),
            format!("about subject `{subject}`"),
        ),
    };
    match deleted {
        Ok(n) => {
            println!(
                "deleted {n} decision(s) {what} from {}",
                decision_log::shown(&db.to_string_lossy())
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_IO
        }
    }
}

fn cmd_replay(
    id: &str,
    db: &Path,
    rulebooks: &Path,
    against: Option<&str>,
    format: OutputFormat,
) -> u8 {
    let mut conn = match decision_log::open_read_only(&db.to_string_lossy()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let record = match conn.read_record(id) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!(
                "error: there is no decision `{id}` in {}",
                decision_log::shown(&db.to_string_lossy())
            );
            return EXIT_FAILED;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    if record.masked {
        eprintln!(
            "error: the log keeps only part of the inputs of `{id}` (masked by privacy.yaml when it was served), so it cannot be replayed exactly"
        );
        return EXIT_FAILED;
    }
    let catalog = match serve::load_catalog(rulebooks) {
        Ok(c) => c,
        Err(report) => {
            eprint!("{report}");
            eprintln!(
                "error: the rulebooks in {} do not check",
                rulebooks.display()
            );
            return EXIT_FAILED;
        }
    };
    let family: Vec<&serve::Entry> = catalog
        .entries
        .iter()
        .filter(|e| e.program.id == record.programme)
        .collect();
    let Some(own) = family.iter().find(|e| e.program.version == record.version) else {
        eprintln!(
            "error: version {} of `{}` is no longer in {}",
            record.version,
            record.programme,
            rulebooks.display()
        );
        return EXIT_FAILED;
    };
    let other = match against {
        Some(v) => match family.iter().find(|e| e.program.version == v) {
            Some(e) => *e,
            None => {
                eprintln!("error: `{}` has no version {v}", record.programme);
                return EXIT_FAILED;
            }
        },
        None => match family.iter().max_by_key(|e| e.program.in_force_from) {
            Some(e) => *e,
            None => return EXIT_FAILED,
        },
    };
    let Ok(date) = NaiveDate::parse_from_str(&record.decision_date, "%Y-%m-%d") else {
        eprintln!(
            "error: the logged decision date {:?} is not a date",
            record.decision_date
        );
        return EXIT_FAILED;
    };
    let run = |e: &serve::Entry| -> Result<serde_json::Value, String> {
        let case = decode_case(&e.program, &record.inputs, Some(date)).map_err(|es| {
            es.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let d =
            evaluate(&e.program, &case, &Options { explain: false }).map_err(|x| x.to_string())?;
        Ok(decision_json(&e.program, &case, &d))
    };
    let same_text = own.hash == record.rulebook_hash;
    let again = run(own);
    let compared = run(other);
    let strip = |v: &serde_json::Value| json_decision_core(v);
    let reproduced = again
        .as_ref()
        .map(|a| strip(a) == strip(&record.decision))
        .unwrap_or(false);
    let differences = match (&again, &compared) {
        (Ok(a), Ok(b)) => decision_differences(a, b),
        _ => Vec::new(),
    };
    if format == OutputFormat::Json {
        let out = serde_json::json!({
            "decision_id": record.decision_id,
            "programme": record.programme,
            "logged_version": record.version,
            "rulebook_text_unchanged": same_text,
            "reproduced": reproduced,
            "logged": record.decision,
            "replayed": again.as_ref().ok(),
            "replay_error": again.as_ref().err(),
            "against_version": other.program.version,
            "against": compared.as_ref().ok(),
            "against_error": compared.as_ref().err(),
            "differences": differences,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return 0;
    }
    println!(
        "decision {} of {} {} on {} (served {})",
        record.decision_id,
        record.programme,
        record.version,
        record.decision_date,
        record.served_at
    );
    if !same_text {
        println!("note: the text of version {} has changed since the decision was served (hash {} then, {} now)", record.version, record.rulebook_hash, own.hash);
    }
    match &again {
        Ok(_) if reproduced => println!(
            "under its own version {}: the same decision",
            record.version
        ),
        Ok(a) => {
            println!(
                "under its own version {}: a different decision",
                record.version
            );
            for d in decision_differences(&record.decision, a) {
                println!("  {d}");
            }
        }
        Err(e) => println!(
            "under its own version {}: evaluation failed: {e}",
            record.version
        ),
    }
    match &compared {
        Ok(_) if differences.is_empty() => {
            println!("under version {}: the same decision", other.program.version)
        }
        Ok(_) => {
            println!("under version {}:", other.program.version);
            for d in &differences {
                println!("  {d}");
            }
        }
        Err(e) => println!(
            "under version {}: evaluation failed: {e}",
            other.program.version
        ),
    }
    0
}

/// The parts of a decision that replay compares.
/// `rulebook studio DIR`: the service on a loopback address with the
/// Studio editing the folder; trial decisions are not logged.
fn cmd_studio(dir: PathBuf, addr: std::net::SocketAddr) -> u8 {
    if !addr.ip().is_loopback() {
        eprintln!("error: the Studio edits files and has no keys, so it listens on this machine only; give a loopback address such as 127.0.0.1:8300 (to share rulebooks read-only, use `rulebook serve`)");
        return EXIT_USAGE;
    }
    if !dir.is_dir() {
        eprintln!("error: {} is not a folder; name the folder of rulebooks, such as `rulebook studio rulebooks`", dir.display());
        return EXIT_IO;
    }
    init_tracing(false);
    match serve::run(serve::Config {
        source: serve::ReleaseSource::Folder(dir),
        addr,
        db: None,
        max_body: 4 << 20,
        max_batch: 1000,
        reload_interval: std::time::Duration::from_millis(500),
        keys: None,
        allow_unauthenticated: false,
        allowed_hosts: Vec::new(),
        allowed_origins: Vec::new(),
        limits: serve::transport::Limits::default(),
        request_timeout: std::time::Duration::from_secs(120),
        max_in_flight: 16,
        retention: None,
        tls: None,
        studio: serve::studio::Mode::Edit,
    }) {
        Ok(()) => 0,
        Err(serve::Stopped::RulebooksRejected) => EXIT_FAILED,
        Err(serve::Stopped::Io) => EXIT_IO,
        Err(serve::Stopped::Refused) => EXIT_USAGE,
    }
}

fn json_decision_core(v: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "eligible": v.get("eligible"),
        "failed_criteria": v.get("failed_criteria"),
        "outputs": v.get("outputs"),
    })
}

fn decision_differences(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if a.get("eligible") != b.get("eligible") {
        out.push(format!("eligible: {} → {}", a["eligible"], b["eligible"]));
    }
    if a.get("failed_criteria") != b.get("failed_criteria") {
        out.push(format!(
            "failed criteria: {} → {}",
            a["failed_criteria"], b["failed_criteria"]
        ));
    }
    let empty = serde_json::Map::new();
    let (oa, ob) = (
        a.get("outputs")
            .and_then(|o| o.as_object())
            .unwrap_or(&empty),
        b.get("outputs")
            .and_then(|o| o.as_object())
            .unwrap_or(&empty),
    );
    let mut names: Vec<&String> = oa.keys().chain(ob.keys()).collect();
    names.sort();
    names.dedup();
    for n in names {
        let (x, y) = (oa.get(n), ob.get(n));
        if x != y {
            let show = |v: Option<&serde_json::Value>| {
                v.map(|v| v.to_string()).unwrap_or_else(|| "(none)".into())
            };
            out.push(format!("{n}: {} → {}", show(x), show(y)));
        }
    }
    out
}
