//! The decision log: every decision served, in an embedded SQLite database.
//!
//! One writer thread takes decisions from a channel and writes them in
//! batches, one transaction each, in WAL mode with `synchronous = FULL`, so
//! a commit is on disk when it returns. A request waits for the commit of
//! its batch before it is answered: a decision a client has seen survives
//! `kill -9` (group commit keeps that cheap under load).

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
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
    reader: Mutex<Connection>,
    pub path: PathBuf,
    healthy: Arc<AtomicBool>,
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
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS decisions_subject ON decisions (subject) WHERE subject IS NOT NULL;
         CREATE INDEX IF NOT EXISTS decisions_served_at ON decisions (served_at);",
    )?;
    Ok(conn)
}

/// Deletes the decisions served before `cutoff` (RFC 3339, UTC, as
/// `served_at` is written); returns how many.
pub fn purge_before(conn: &Connection, cutoff: &str) -> Result<usize, String> {
    conn.execute(
        "DELETE FROM decisions WHERE served_at < ?1",
        params![cutoff],
    )
    .map_err(|e| format!("purging the decision log failed: {e}"))
}

/// Deletes every decision about one subject (GDPR art. 17); returns how
/// many.
pub fn erase_subject(conn: &Connection, subject: &str) -> Result<usize, String> {
    conn.execute("DELETE FROM decisions WHERE subject = ?1", params![subject])
        .map_err(|e| format!("erasing from the decision log failed: {e}"))
}

/// Opens a decision log for purging or erasing (the service may be
/// running: SQLite serialises the writers).
pub fn open_for_deleting(path: &Path) -> Result<Connection, String> {
    if !path.exists() {
        return Err(format!("{}: no such decision log", path.display()));
    }
    open(path).map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))
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
    /// Opens (or creates) the log. With `retention`, decisions older than
    /// that are deleted at start and every hour after.
    pub fn open(
        path: &Path,
        retention: Option<std::time::Duration>,
    ) -> Result<DecisionLog, String> {
        let mut conn = open(path)
            .map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))?;
        let reader = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))?;
        // A damaged file is refused at start, not found by the first
        // decision that cannot be logged.
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| format!("cannot check the decision log {}: {e}", path.display()))?;
        if check != "ok" {
            return Err(format!(
                "the decision log {} is damaged ({check}); restore it from a backup or move it away",
                path.display()
            ));
        }
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
                            match purge_before(&conn, &cutoff(age)) {
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
                    let result = write_batch(&mut conn, &batch).map_err(|e| e.to_string());
                    writer_health.store(result.is_ok(), Ordering::Relaxed);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, decisions = batch.len(), "writing to the decision log failed");
                    }
                    for (_, ack) in batch {
                        let _ = ack.send(result.clone());
                    }
                }
                // The channel closed: every queued decision was written.
                let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            })
            .map_err(|e| format!("cannot start the decision log writer: {e}"))?;
        Ok(DecisionLog {
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            reader: Mutex::new(reader),
            path: path.to_path_buf(),
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
        let conn = self
            .reader
            .lock()
            .map_err(|_| "the decision log is unavailable".to_string())?;
        read_record(&conn, id)
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

pub fn read_record(conn: &Connection, id: &str) -> Result<Option<Record>, String> {
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

/// Opens a decision log file for reading only (for `rulebook replay`).
pub fn open_read_only(path: &Path) -> Result<Connection, String> {
    if !path.exists() {
        return Err(format!("{}: no such decision log", path.display()));
    }
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}
