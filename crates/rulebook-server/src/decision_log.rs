//! The decision log: every decision served, in an embedded SQLite database
//! or, for several replicas sharing one log, in PostgreSQL
//! (`--db postgres://...`).
//!
//! One writer thread takes decisions from a channel and writes them in
//! batches, one transaction each: in SQLite in WAL mode with `synchronous =
//! FULL`, in PostgreSQL with its default synchronous commit, so a commit is
//! on disk when it returns. A request waits for the commit of its batch
//! before it is answered: a decision a client has seen survives `kill -9`
//! (group commit keeps that cheap under load). Decision ids are UUIDs of
//! version 7, unique across replicas, so replicas never collide.

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Record {
    pub decision_id: String,
    /// When the decision was served (UTC, RFC 3339).
    pub served_at: String,
    pub programme: String,
    pub version: String,
    /// SHA-256 of the version's rulebook text (written out, for amendments).
    pub rulebook_hash: String,
    pub decision_date: String,
    /// The inputs as the client sent them.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    /// The decision as served.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// The client's reference for the person decided about (a pseudonym,
    /// not an identity code), by which `rulebook log erase` finds them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Whether `inputs` were masked by the release's `privacy.yaml`; such
    /// a decision cannot be replayed exactly.
    #[serde(default)]
    pub masked: bool,
    /// The release that decided: its bundle id, or the SHA-256 of its
    /// files when it was loaded from a folder.
    #[serde(default)]
    pub release: String,
}

type Ack = oneshot::Sender<Result<(), String>>;

enum Msg {
    Write(Box<Record>, Ack),
}

const MAX_BATCH: usize = 2048;
/// How often decisions past the retention period are deleted.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub struct DecisionLog {
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    reader: Mutex<Store>,
    /// The file, or the database's address without its password.
    pub location: String,
    healthy: Arc<AtomicBool>,
}

/// Where decisions are kept.
pub enum Store {
    Sqlite(Connection),
    Postgres {
        client: Box<postgres::Client>,
        url: String,
    },
}

/// Whether `db` names a PostgreSQL database rather than a file.
pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// A database address as it may be shown: without its password.
pub fn shown(db: &str) -> String {
    if !is_postgres(db) {
        return db.to_string();
    }
    match (db.find("://"), db.rfind('@')) {
        (Some(s), Some(at)) if at > s && db[s + 3..at].contains(':') => {
            let user = db[s + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &db[..s + 3], &db[at..])
        }
        _ => db.to_string(),
    }
}

const PG_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS decisions (
        id TEXT PRIMARY KEY,
        served_at TEXT NOT NULL,
        programme TEXT NOT NULL,
        version TEXT NOT NULL,
        rulebook_hash TEXT NOT NULL,
        decision_date TEXT NOT NULL,
        inputs TEXT NOT NULL,
        decision TEXT NOT NULL,
        subject TEXT,
        masked BOOLEAN NOT NULL DEFAULT FALSE,
        release TEXT NOT NULL DEFAULT ''
    );";

/// The indexes `log erase` and retention use, the same in both databases.
const INDEXES: &str =
    "CREATE INDEX IF NOT EXISTS decisions_subject ON decisions (subject) WHERE subject IS NOT NULL;
    CREATE INDEX IF NOT EXISTS decisions_served_at ON decisions (served_at);";

/// Replicas starting together create the table one at a time.
const PG_SCHEMA_LOCK: i64 = 0x7275_6c65_626f_6f6b;

/// Connects to the PostgreSQL log at `url`, over TLS when its `sslmode`
/// (libpq's parameter) asks for it.
///
/// - `sslmode=require`, `verify-ca` or `verify-full`: TLS with `rustls`,
///   always verifying the server's certificate chain against
///   `sslrootcert=FILE` (PEM, required) and its name against the host, as
///   libpq's `verify-full` does.
/// - `sslmode=disable`: no TLS.
/// - No `sslmode`: no TLS on loopback (`127.0.0.1`, `::1`, `localhost`, a
///   socket folder); refused for any other host, since the log holds
///   personal data.
/// - `allow` and `prefer`, which fall back to plain text silently, are
///   refused.
pub fn connect_postgres(url: &str) -> Result<postgres::Client, String> {
    let fail = |e: String| format!("cannot open the decision log {}: {e}", shown(url));
    let target = PgTarget::parse(url).map_err(fail)?;
    let client = match &target.roots {
        None => postgres::Client::connect(&target.url, postgres::NoTls),
        Some(ca) => {
            let roots = pg_roots(ca).map_err(fail)?;
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| fail(e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            postgres::Client::connect(
                &target.url,
                tokio_postgres_rustls::MakeRustlsConnect::new(config),
            )
        }
    };
    client.map_err(|e| fail(pg_error(&e)))
}

/// A PostgreSQL error with the server's own words when it gave some
/// (`postgres::Error` shows only "db error").
pub fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

/// A PostgreSQL address split into what tokio-postgres reads and the CA
/// file of its TLS, if it is to use TLS.
#[derive(Debug, PartialEq)]
struct PgTarget {
    url: String,
    roots: Option<String>,
}

impl PgTarget {
    fn parse(url: &str) -> Result<PgTarget, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let (mut mode, mut root) = (None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", v)) => mode = Some(v.to_string()),
                Some(("sslrootcert", v)) => root = Some(v.to_string()),
                _ => kept.push(pair),
            }
        }
        let host = base
            .split_once("://")
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split('/').next())
            .map(|authority| authority.rsplit('@').next().unwrap_or(authority))
            .unwrap_or("");
        let host_only = if host.starts_with('[') {
            host.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host.split(':').next().unwrap_or("")
        };
        let loopback = matches!(host_only, "127.0.0.1" | "::1" | "localhost" | "")
            || host_only.starts_with("%2F")
            || host_only.starts_with('/');
        let tls = match mode.as_deref() {
            Some("require" | "verify-ca" | "verify-full") => true,
            Some("disable") => false,
            None if loopback => false,
            None => {
                return Err(format!(
                    "the decision log holds personal data, and {host_only} is not this machine: add ?sslmode=verify-full&sslrootcert=CA.pem for TLS, or sslmode=disable on a network you trust"
                ))
            }
            Some(m @ ("allow" | "prefer")) => {
                return Err(format!(
                    "sslmode={m} may fall back to an unencrypted connection: use sslmode=verify-full with sslrootcert=CA.pem, or sslmode=disable"
                ))
            }
            Some(other) => {
                return Err(format!(
                    "sslmode={other} is not known: use verify-full (with sslrootcert=CA.pem) or disable"
                ))
            }
        };
        if tls && root.is_none() {
            return Err(
                "TLS needs the certificate authority of the server's certificate: add sslrootcert=CA.pem (a PEM file) to the address"
                    .into(),
            );
        }
        kept.push(if tls {
            "sslmode=require"
        } else {
            "sslmode=disable"
        });
        Ok(PgTarget {
            url: format!("{base}?{}", kept.join("&")),
            roots: if tls { root } else { None },
        })
    }
}

fn pg_roots(path: &str) -> Result<rustls::RootCertStore, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let pem = std::fs::read(path).map_err(|e| format!("sslrootcert {path}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&pem) {
        let c = c.map_err(|e| format!("sslrootcert {path}: not a PEM certificate: {e}"))?;
        roots
            .add(c)
            .map_err(|e| format!("sslrootcert {path}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("sslrootcert {path}: no certificate in the file"));
    }
    Ok(roots)
}

fn open_postgres(url: &str) -> Result<Store, String> {
    let fail = |e: postgres::Error| {
        format!(
            "cannot open the decision log {}: {}",
            shown(url),
            pg_error(&e)
        )
    };
    let mut client = connect_postgres(url)?;
    client
        .batch_execute(&format!("SELECT pg_advisory_lock({PG_SCHEMA_LOCK})"))
        .map_err(fail)?;
    let created = client
        .batch_execute(&format!(
            "SET client_min_messages TO warning; {PG_SCHEMA} {INDEXES}"
        ))
        .map_err(fail);
    let _ = client.batch_execute(&format!("SELECT pg_advisory_unlock({PG_SCHEMA_LOCK})"));
    created?;
    Ok(Store::Postgres {
        client: Box::new(client),
        url: url.to_string(),
    })
}

impl Store {
    /// Opens the log `db` (a file, created if missing, or a PostgreSQL
    /// address), creating its table.
    pub fn open(db: &str) -> Result<Store, String> {
        if is_postgres(db) {
            return open_postgres(db);
        }
        let path = Path::new(db);
        open(path)
            .map(Store::Sqlite)
            .map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))
    }

    /// Opens a log that must exist already (for purging, erasing and
    /// replaying).
    pub fn open_existing(db: &str) -> Result<Store, String> {
        if !is_postgres(db) && !Path::new(db).exists() {
            return Err(format!("{db}: no such decision log"));
        }
        Store::open(db)
    }

    /// A PostgreSQL connection that broke (the server restarted) is made
    /// again before the next write.
    fn reconnect_if_closed(&mut self) {
        if let Store::Postgres { client, url } = self {
            if client.is_closed() {
                if let Ok(c) = connect_postgres(url) {
                    **client = c;
                }
            }
        }
    }

    fn write_batch(&mut self, batch: &[(Box<Record>, Ack)]) -> Result<(), String> {
        self.reconnect_if_closed();
        match self {
            Store::Sqlite(conn) => write_batch(conn, batch).map_err(|e| e.to_string()),
            Store::Postgres { client, .. } => {
                // One statement per batch (one round trip), whatever its size.
                let col = |f: &dyn Fn(&Record) -> String| -> Vec<String> {
                    batch.iter().map(|(r, _)| f(r)).collect()
                };
                let ids = col(&|r| r.decision_id.clone());
                let served = col(&|r| r.served_at.clone());
                let programmes = col(&|r| r.programme.clone());
                let versions = col(&|r| r.version.clone());
                let hashes = col(&|r| r.rulebook_hash.clone());
                let dates = col(&|r| r.decision_date.clone());
                let inputs = col(&|r| r.inputs.to_string());
                let decisions = col(&|r| r.decision.to_string());
                let releases = col(&|r| r.release.clone());
                let subjects: Vec<Option<String>> =
                    batch.iter().map(|(r, _)| r.subject.clone()).collect();
                let masked: Vec<bool> = batch.iter().map(|(r, _)| r.masked).collect();
                client
                    .execute(
                        "INSERT INTO decisions (id, served_at, programme, version, rulebook_hash, decision_date, inputs, decision, subject, masked, release)
                         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[], $11::text[])",
                        &[&ids, &served, &programmes, &versions, &hashes, &dates, &inputs, &decisions, &subjects, &masked, &releases],
                    )
                    .map(|_| ())
                    .map_err(|e| pg_error(&e))
            }
        }
    }

    /// Deletes the decisions served before `cutoff` (RFC 3339, UTC, as
    /// `served_at` is written); returns how many.
    pub fn purge_before(&mut self, cutoff: &str) -> Result<usize, String> {
        let fail = |e: String| format!("purging the decision log failed: {e}");
        match self {
            Store::Sqlite(conn) => purge_before(conn, cutoff),
            Store::Postgres { client, .. } => client
                .execute("DELETE FROM decisions WHERE served_at < $1", &[&cutoff])
                .map(|n| n as usize)
                .map_err(|e| fail(pg_error(&e))),
        }
    }

    /// Deletes every decision about one subject (GDPR art. 17); returns
    /// how many.
    pub fn erase_subject(&mut self, subject: &str) -> Result<usize, String> {
        match self {
            Store::Sqlite(conn) => erase_subject(conn, subject),
            Store::Postgres { client, .. } => client
                .execute("DELETE FROM decisions WHERE subject = $1", &[&subject])
                .map(|n| n as usize)
                .map_err(|e| format!("erasing from the decision log failed: {}", pg_error(&e))),
        }
    }

    pub fn read_record(&mut self, id: &str) -> Result<Option<Record>, String> {
        self.reconnect_if_closed();
        match self {
            Store::Sqlite(conn) => read_record(conn, id),
            Store::Postgres { client, .. } => {
                let row = client
                    .query_opt(
                        "SELECT id, served_at, programme, version, rulebook_hash, decision_date, inputs, decision, subject, masked, release FROM decisions WHERE id = $1",
                        &[&id],
                    )
                    .map_err(|e| format!("reading the decision log failed: {}", pg_error(&e)))?;
                Ok(row.map(|row| {
                    let inputs: String = row.get(6);
                    let decision: String = row.get(7);
                    Record {
                        decision_id: row.get(0),
                        served_at: row.get(1),
                        programme: row.get(2),
                        version: row.get(3),
                        rulebook_hash: row.get(4),
                        decision_date: row.get(5),
                        inputs: serde_json::from_str(&inputs).unwrap_or(serde_json::Value::Null),
                        decision: serde_json::from_str(&decision)
                            .unwrap_or(serde_json::Value::Null),
                        subject: row.get(8),
                        masked: row.get(9),
                        release: row.get(10),
                    }
                }))
            }
        }
    }
}

/// Creates the log file readable and writable by its owner only (0600), as
/// it holds personal data; SQLite gives its journal files the same mode.
fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // An existing file is left as it is; opening fails later if needed.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    create_private(path);
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Deleted decisions (purged or erased) are overwritten, not left in
    // free pages of the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS decisions (
            id TEXT PRIMARY KEY,
            served_at TEXT NOT NULL,
            programme TEXT NOT NULL,
            version TEXT NOT NULL,
            rulebook_hash TEXT NOT NULL,
            decision_date TEXT NOT NULL,
            inputs TEXT NOT NULL,
            decision TEXT NOT NULL
        ) STRICT;",
    )?;
    // Logs written before these columns existed gain them.
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('decisions')")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for (name, ddl) in [
        ("subject", "ALTER TABLE decisions ADD COLUMN subject TEXT"),
        (
            "masked",
            "ALTER TABLE decisions ADD COLUMN masked INTEGER NOT NULL DEFAULT 0",
        ),
        (
            "release",
            "ALTER TABLE decisions ADD COLUMN release TEXT NOT NULL DEFAULT ''",
        ),
    ] {
        if !columns.iter().any(|c| c == name) {
            conn.execute_batch(ddl)?;
        }
    }
    conn.execute_batch(INDEXES)?;
    Ok(conn)
}

/// Deletes the decisions served before `cutoff` (RFC 3339, UTC, as
/// `served_at` is written); returns how many.
fn purge_before(conn: &Connection, cutoff: &str) -> Result<usize, String> {
    conn.execute(
        "DELETE FROM decisions WHERE served_at < ?1",
        params![cutoff],
    )
    .map_err(|e| format!("purging the decision log failed: {e}"))
}

/// Deletes every decision about one subject (GDPR art. 17); returns how
/// many.
fn erase_subject(conn: &Connection, subject: &str) -> Result<usize, String> {
    conn.execute("DELETE FROM decisions WHERE subject = ?1", params![subject])
        .map_err(|e| format!("erasing from the decision log failed: {e}"))
}

/// A moment as `served_at` is written (UTC, RFC 3339, microseconds), so
/// that such texts sort as the moments do.
pub fn utc_timestamp(t: std::time::SystemTime) -> String {
    let since = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    chrono::DateTime::from_timestamp(since.as_secs() as i64, since.subsec_nanos())
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}

/// `served_at` of the moment `age` ago, for purging.
pub fn cutoff(age: std::time::Duration) -> String {
    utc_timestamp(
        std::time::SystemTime::now()
            .checked_sub(age)
            .unwrap_or(std::time::UNIX_EPOCH),
    )
}

fn write_batch(conn: &mut Connection, batch: &[(Box<Record>, Ack)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO decisions (id, served_at, programme, version, rulebook_hash, decision_date, inputs, decision, subject, masked, release)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for (r, _) in batch {
            stmt.execute(params![
                r.decision_id,
                r.served_at,
                r.programme,
                r.version,
                r.rulebook_hash,
                r.decision_date,
                r.inputs.to_string(),
                r.decision.to_string(),
                r.subject,
                r.masked,
                r.release
            ])?;
        }
    }
    tx.commit()
}

impl DecisionLog {
    /// Opens (or creates) the log: a SQLite file, or a PostgreSQL address.
    /// With `retention`, decisions older than that are deleted at start and
    /// every hour after (by each replica; deleting twice is harmless).
    pub fn open(db: &str, retention: Option<std::time::Duration>) -> Result<DecisionLog, String> {
        let mut store = Store::open(db)?;
        let reader = match &store {
            Store::Sqlite(conn) => {
                // A damaged file is refused at start, not found by the
                // first decision that cannot be logged.
                let check: String = conn
                    .query_row("PRAGMA quick_check", [], |r| r.get(0))
                    .map_err(|e| format!("cannot check the decision log {db}: {e}"))?;
                if check != "ok" {
                    return Err(format!(
                        "the decision log {db} is damaged ({check}); restore it from a backup or move it away"
                    ));
                }
                Store::Sqlite(
                    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
                        .map_err(|e| format!("cannot open the decision log {db}: {e}"))?,
                )
            }
            Store::Postgres { .. } => Store::open(db)?,
        };
        let healthy = Arc::new(AtomicBool::new(true));
        let writer_health = healthy.clone();
        let (tx, rx) = mpsc::channel::<Msg>();
        let writer = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || {
                let mut purged_at: Option<std::time::Instant> = None;
                loop {
                    if let Some(age) = retention {
                        if purged_at.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                            match store.purge_before(&cutoff(age)) {
                                Ok(n) => tracing::info!(deleted = n, "decisions past the retention period deleted"),
                                Err(e) => tracing::error!(error = %e, "purging the decision log failed"),
                            }
                            purged_at = Some(std::time::Instant::now());
                        }
                    }
                    let first = match rx.recv_timeout(PURGE_EVERY) {
                        Ok(m) => m,
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    let mut batch: Vec<(Box<Record>, Ack)> = Vec::new();
                    let Msg::Write(r, ack) = first;
                    batch.push((r, ack));
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(Msg::Write(r, ack)) => batch.push((r, ack)),
                            Err(_) => break,
                        }
                    }
                    let result = store.write_batch(&batch);
                    writer_health.store(result.is_ok(), Ordering::Relaxed);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, decisions = batch.len(), "writing to the decision log failed");
                    }
                    for (_, ack) in batch {
                        let _ = ack.send(result.clone());
                    }
                }
                // The channel closed: every queued decision was written.
                if let Store::Sqlite(conn) = &store {
                    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                }
            })
            .map_err(|e| format!("cannot start the decision log writer: {e}"))?;
        Ok(DecisionLog {
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            reader: Mutex::new(reader),
            location: shown(db),
            healthy,
        })
    }

    /// Whether the last write succeeded: a service whose log cannot be
    /// written cannot serve decisions, and says so in readiness.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Queues a decision and waits until it is committed to disk.
    pub async fn write(&self, record: Record) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        {
            let guard = self
                .tx
                .lock()
                .map_err(|_| "the decision log is unavailable".to_string())?;
            let tx = guard.as_ref().ok_or("the decision log is closed")?;
            tx.send(Msg::Write(Box::new(record), ack))
                .map_err(|_| "the decision log writer stopped".to_string())?;
        }
        done.await
            .map_err(|_| "the decision log writer stopped".to_string())?
    }

    pub fn get(&self, id: &str) -> Result<Option<Record>, String> {
        let mut store = self
            .reader
            .lock()
            .map_err(|_| "the decision log is unavailable".to_string())?;
        store.read_record(id)
    }

    /// Stops taking decisions, writes what is queued and closes the file.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(h) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
    }
}

fn read_record(conn: &Connection, id: &str) -> Result<Option<Record>, String> {
    conn.query_row(
        "SELECT id, served_at, programme, version, rulebook_hash, decision_date, inputs, decision, subject, masked, release FROM decisions WHERE id = ?1",
        params![id],
        |row| {
            let inputs: String = row.get(6)?;
            let decision: String = row.get(7)?;
            Ok(Record {
                decision_id: row.get(0)?,
                served_at: row.get(1)?,
                programme: row.get(2)?,
                version: row.get(3)?,
                rulebook_hash: row.get(4)?,
                decision_date: row.get(5)?,
                inputs: serde_json::from_str(&inputs).unwrap_or(serde_json::Value::Null),
                decision: serde_json::from_str(&decision).unwrap_or(serde_json::Value::Null),
                subject: row.get(8)?,
                masked: row.get(9)?,
                release: row.get(10)?,
            })
        },
    )
    .optional()
    .map_err(|e| format!("reading the decision log failed: {e}"))
}

/// Opens a decision log for reading only (for `rulebook replay`): a file
/// is not changed, a PostgreSQL log is read as it is.
pub fn open_read_only(db: &str) -> Result<Store, String> {
    if is_postgres(db) {
        return Store::open(db);
    }
    let path = Path::new(db);
    if !path.exists() {
        return Err(format!("{}: no such decision log", path.display()));
    }
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map(Store::Sqlite)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::PgTarget;

    #[test]
    fn postgres_addresses_say_whether_tls_is_used() {
        let t = PgTarget::parse(
            "postgres://u@db.example:5432/decisions?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        )
        .unwrap();
        assert_eq!(
            t.url,
            "postgres://u@db.example:5432/decisions?sslmode=require"
        );
        assert_eq!(t.roots.as_deref(), Some("/etc/ca.pem"));
        // Loopback without sslmode stays plain, as before.
        let t = PgTarget::parse("postgres://rulebook@127.0.0.1:5432/decisions").unwrap();
        assert_eq!(t.roots, None);
        assert!(t.url.ends_with("?sslmode=disable"));
        // Another host without sslmode is refused: the log holds personal data.
        let e = PgTarget::parse("postgres://u:secret@db.example/decisions").unwrap_err();
        assert!(e.contains("sslmode=verify-full"), "{e}");
        // Modes that may fall back to plain text, and TLS without a CA.
        assert!(PgTarget::parse("postgres://u@db.example/d?sslmode=prefer").is_err());
        assert!(PgTarget::parse("postgres://u@db.example/d?sslmode=require")
            .unwrap_err()
            .contains("sslrootcert"));
        // An explicit `disable` is a choice, and other parameters stay.
        let t =
            PgTarget::parse("postgres://u@db.example/d?sslmode=disable&connect_timeout=5").unwrap();
        assert_eq!(
            t.url,
            "postgres://u@db.example/d?connect_timeout=5&sslmode=disable"
        );
    }
}
