//! The SQLite store: an r2d2 pool over one database file in WAL mode, the schema applied by
//! migrations keyed on `PRAGMA user_version`, and the queries of each concept (one file each).
//!
//! Every query takes the workspace and filters on it, so nothing crosses workspaces; a
//! resource of another workspace is simply not found. Every write runs in one transaction
//! (`Store::write`): an import or a review is stored entirely or not at all. The store knows
//! nothing of scoring or HTTP. Results keep their candidates in a compact form (`compact`)
//! that reads back as the very JSON the matcher wrote.

pub mod compact;
pub mod configs;
pub mod documents;
pub mod keys;
mod migrate;
pub mod packages;
pub mod reference;
pub mod results;
pub mod runs;
pub mod strategies;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::rusqlite::{self, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use r2d2_sqlite::SqliteConnectionManager;

use crate::error::{Error, Result};

pub use migrate::SCHEMA_VERSION;

pub type Pool = r2d2::Pool<SqliteConnectionManager>;
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

/// How long a statement waits for another writer before the store reports `unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A workspace's row id, as every query takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkspaceId(pub i64);

#[derive(Clone)]
pub struct Store {
    pool: Pool,
    path: PathBuf,
    read_only: bool,
    /// Totals of results pages, kept per run and filter with the run's `results_version`
    /// they were counted at (`results::results_page`).
    pub(crate) page_counts: Arc<std::sync::Mutex<results::PageCounts>>,
}

fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )
}

/// How a server opens its database.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    /// Cap the file at this many pages, as a full disk would (for tests of what a user sees
    /// then).
    pub max_pages: Option<u64>,
    /// Serve reads only; every write answers `unavailable`. Chosen by itself when the file
    /// cannot be written (read-only storage or permissions).
    pub read_only: bool,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrates it and starts a pool of
    /// `connections`. A database written by a newer refmatch is refused.
    pub fn open(path: &Path, connections: u32) -> Result<Store> {
        Self::open_with(path, connections, OpenOptions::default())
    }

    /// Like `open`, with a server's options.
    pub fn open_with(path: &Path, connections: u32, options: OpenOptions) -> Result<Store> {
        if options.read_only {
            return Self::open_read_only(path, connections);
        }
        let mut conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        // SQLite opens a write-protected file read-only without saying so; migrating would
        // then fail on its first write.
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            drop(conn);
            log::warn!("{} cannot be written; serving it read-only", path.display());
            return Self::open_read_only(path, connections);
        }
        configure(&mut conn).map_err(|e| open_error(path, e))?;
        migrate::migrate(&mut conn, path)?;
        drop(conn);
        let max_pages = options.max_pages;
        let manager = SqliteConnectionManager::file(path).with_init(move |conn| {
            configure(conn)?;
            if let Some(pages) = max_pages {
                conn.pragma_update(None, "max_page_count", pages.min(i64::MAX as u64) as i64)?;
            }
            Ok(())
        });
        Self::pool(path, connections, manager, false)
    }

    fn open_read_only(path: &Path, connections: u32) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
        migrate::check_identity(&conn, path)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| open_error(path, e))?;
        if version != SCHEMA_VERSION {
            return Err(Error::invalid(
                path.display().to_string(),
                "",
                format!(
                    "has schema version {version} and this refmatch needs {SCHEMA_VERSION}; \
                     a read-only database cannot be migrated"
                ),
            ));
        }
        drop(conn);
        let manager = SqliteConnectionManager::file(path)
            .with_flags(flags)
            .with_init(|conn| {
                conn.busy_timeout(BUSY_TIMEOUT)?;
                conn.pragma_update(None, "foreign_keys", true)
            });
        Self::pool(path, connections, manager, true)
    }

    fn pool(
        path: &Path,
        connections: u32,
        manager: SqliteConnectionManager,
        read_only: bool,
    ) -> Result<Store> {
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(2))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| Error::Internal(format!("cannot open {}: {e}", path.display())))?;
        Ok(Store {
            pool,
            path: path.to_path_buf(),
            read_only,
            page_counts: Arc::default(),
        })
    }

    /// Whether writes are refused (`--read-only` or a file that cannot be written).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one IMMEDIATE transaction and commits when it returns `Ok`; any error rolls
    /// everything back. IMMEDIATE takes the write lock up front, so two writers queue on the
    /// busy timeout instead of failing on a lock upgrade.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Marks row `id` of `table` deleted (configs, documents, reference tables keep their
    /// rows for the runs and results that point at them); `not_found` when there is no live
    /// row. `table` is one of this module's table names, never user input.
    fn soft_delete(
        &self,
        table: &'static str,
        what: &'static str,
        ws: WorkspaceId,
        id: &str,
    ) -> Result<()> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                &format!(
                    "UPDATE {table} SET deleted_at = ?1
                     WHERE id = ?2 AND workspace_id = ?3 AND deleted_at IS NULL"
                ),
                rusqlite::params![now_iso(), id, ws.0],
            )?)
        })?;
        if changed == 0 {
            return Err(Error::NotFound {
                what,
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// The workspace named `name`, created when `create` is set and it does not exist yet.
    pub fn workspace(&self, name: &str, create: bool) -> Result<WorkspaceId> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(Error::invalid(
                "--workspace",
                "",
                "a workspace name is 1 to 100 characters",
            ));
        }
        let find = |conn: &Connection| -> Result<Option<WorkspaceId>> {
            Ok(conn
                .query_row("SELECT id FROM workspaces WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?
                .map(WorkspaceId))
        };
        if let Some(id) = find(&*self.conn()?)? {
            return Ok(id);
        }
        if !create {
            return Err(Error::NotFound {
                what: "workspace",
                id: name.to_string(),
            });
        }
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?1, ?2)",
                rusqlite::params![name, now_iso()],
            )?;
            find(tx)?.ok_or_else(|| Error::Internal("workspace vanished after insert".into()))
        })
    }
}

/// What `prune` removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: usize,
    pub results: usize,
    pub reference_versions: usize,
}

impl Store {
    /// A consistent copy of the whole database in `target` (which must not exist), taken
    /// with `VACUUM INTO`: safe while a server reads and writes.
    pub fn backup(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(Error::invalid(
                target.display().to_string(),
                "",
                "already exists; a backup never overwrites a file",
            ));
        }
        let target = target
            .to_str()
            .ok_or_else(|| Error::invalid("backup", "FILE", "the path must be valid UTF-8"))?;
        self.conn()?.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// Deletes the workspace's finished runs created before `cutoff_ms` with their results
    /// and reviews (rejections stay in force), then reference versions that are neither
    /// current nor used by a remaining run. One transaction.
    pub fn prune(&self, ws: WorkspaceId, cutoff_ms: i64) -> Result<Pruned> {
        let cutoff = iso(cutoff_ms);
        self.write(|tx| {
            let old = "SELECT id FROM runs WHERE workspace_id = ?1 AND created_at < ?2
                       AND status IN ('completed', 'failed', 'cancelled')";
            tx.execute(
                &format!(
                    "DELETE FROM reviews WHERE result_id IN
                         (SELECT id FROM results WHERE run_id IN ({old}))"
                ),
                rusqlite::params![ws.0, cutoff],
            )?;
            let results = tx.execute(
                &format!("DELETE FROM results WHERE run_id IN ({old})"),
                rusqlite::params![ws.0, cutoff],
            )?;
            let runs = tx.execute(
                "DELETE FROM runs WHERE workspace_id = ?1 AND created_at < ?2
                 AND status IN ('completed', 'failed', 'cancelled')",
                rusqlite::params![ws.0, cutoff],
            )?;
            let reference_versions = tx.execute(
                "DELETE FROM reference_versions WHERE workspace_id = ?1
                 AND id NOT IN (SELECT reference_version_id FROM runs)
                 AND NOT EXISTS (SELECT 1 FROM reference_tables t
                     WHERE t.id = reference_versions.table_id
                       AND t.current_version = reference_versions.version
                       AND t.deleted_at IS NULL)",
                rusqlite::params![ws.0],
            )?;
            Ok(Pruned {
                runs,
                results,
                reference_versions,
            })
        })
    }
}

fn open_error(path: &Path, e: rusqlite::Error) -> Error {
    match Error::from(e) {
        Error::Database(e) => Error::Io {
            path: path.to_path_buf(),
            error: std::io::Error::other(e),
        },
        other => other,
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `ms` as ISO 8601 UTC with milliseconds, the only timestamp format refmatch writes.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn now_iso() -> String {
    iso(now_ms())
}

/// An id as the store keeps it: a UUID in any case becomes lower case (ids are generated
/// lower case, and clients copy them from systems that print them upper case); anything
/// else is left as written.
pub fn canonical_id(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let shaped = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if shaped && b.iter().any(u8::is_ascii_uppercase) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A fresh UUID (v4) for a public id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A list page's position: rows with `seq` below the cursor come next (newest first).
pub fn decode_cursor(cursor: Option<&str>) -> Result<i64> {
    match cursor {
        None | Some("") => Ok(i64::MAX),
        Some(c) => c
            .strip_prefix('c')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::invalid("query", "cursor", "is not a cursor this server gave")),
    }
}

/// Where a list page starts: the first page, after a cursor this server gave
/// (`?cursor=`), or at a 1-based page number (`?page=`, as clients of the hosted APIs
/// page), each newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Position<'a> {
    #[default]
    First,
    Cursor(&'a str),
    /// Page `n` (1-based) of pages of `limit` rows.
    Page {
        page: usize,
        limit: usize,
    },
}

impl Position<'_> {
    /// The `seq` the page lies below and how many rows to skip first.
    pub fn bounds(self) -> Result<(i64, i64)> {
        match self {
            Position::First => Ok((i64::MAX, 0)),
            Position::Cursor(cursor) => Ok((decode_cursor(Some(cursor))?, 0)),
            Position::Page { page, limit } => {
                let skip = (page.saturating_sub(1) as i64).saturating_mul(limit as i64);
                Ok((i64::MAX, skip))
            }
        }
    }
}

pub fn encode_cursor(seq: i64) -> String {
    format!("c{seq}")
}

/// One page of a cursor-paginated list.
#[derive(Debug)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

impl<T> CursorPage<T> {
    /// The same page with each item turned into another value (a response type).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> CursorPage<U> {
        CursorPage {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            next_cursor: self.next_cursor,
        }
    }
}

/// Cuts `limit + 1` fetched rows (with their `seq`) into a page.
pub fn cursor_page<T>(mut rows: Vec<(i64, T)>, limit: usize, total: i64) -> CursorPage<T> {
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if has_more {
        rows.last().map(|(seq, _)| encode_cursor(*seq))
    } else {
        None
    };
    CursorPage {
        items: rows.into_iter().map(|(_, t)| t).collect(),
        total,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_utc() {
        assert_eq!(iso(1_772_442_901_204), "2026-03-02T09:15:01.204Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(Some(&encode_cursor(42))).ok(), Some(42));
        assert_eq!(decode_cursor(None).ok(), Some(i64::MAX));
        assert!(decode_cursor(Some("42")).is_err());
        assert!(decode_cursor(Some("c-1")).is_err());
    }

    #[test]
    fn opens_migrates_and_scopes_workspaces() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), 2).unwrap();
        let a = store.workspace("a", true).unwrap();
        assert_eq!(store.workspace("a", false).unwrap(), a);
        assert!(matches!(
            store.workspace("b", false),
            Err(Error::NotFound { .. })
        ));
        let mode: String = store
            .conn()
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
