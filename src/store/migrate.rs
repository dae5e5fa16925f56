//! Schema migrations keyed on `PRAGMA user_version`. `MIGRATIONS[i]` takes a database from
//! version `i` to `i + 1`; shipped migrations are never edited, new ones are appended. A
//! database with a higher version than this binary knows is refused rather than guessed at.

use std::path::Path;

use r2d2_sqlite::rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

/// One step: its SQL, then, for a change of stored form SQL cannot compute, Rust.
struct Migration {
    sql: &'static str,
    then: Option<fn(&Transaction<'_>) -> Result<()>>,
}

const fn sql(sql: &'static str) -> Migration {
    Migration { sql, then: None }
}

const MIGRATIONS: &[Migration] = &[
    sql(include_str!("../../schema.sql")),
    sql(include_str!("migrations/0002_results_filter_index.sql")),
    sql(include_str!("migrations/0003_results_assigned.sql")),
    Migration {
        sql: include_str!("migrations/0004_results_compact.sql"),
        then: Some(super::results::compact_stored_results),
    },
    Migration {
        sql: include_str!("migrations/0005_packages.sql"),
        then: Some(package_documents),
    },
    sql(include_str!("migrations/0006_webhooks.sql")),
    Migration {
        sql: include_str!("migrations/0007_schedules.sql"),
        then: Some(schedule_columns),
    },
    Migration {
        sql: include_str!("migrations/0008_results_version.sql"),
        then: Some(super::results::add_results_version),
    },
];

/// Adds a column unless the table has it. SQLite has no `ADD COLUMN IF NOT EXISTS`, and a
/// database whose `user_version` was set back by hand (the storage tests do, to replay an
/// old form) has the columns of the migrations it replays.
fn add_column(tx: &Transaction<'_>, table: &str, column: &str, declaration: &str) -> Result<()> {
    let exists: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
        [table, column],
        |r| r.get(0),
    )?;
    if !exists {
        tx.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN {column} {declaration};"
        ))?;
    }
    Ok(())
}

/// 0005: documents belong to the package run that brought them, and their caller's ids
/// may repeat across package runs (the unique index leaves them out).
fn package_documents(tx: &Transaction<'_>) -> Result<()> {
    add_column(tx, "documents", "package_run_id", "TEXT")?;
    tx.execute_batch(
        "DROP INDEX IF EXISTS documents_external_id;
         CREATE UNIQUE INDEX documents_external_id ON documents(workspace_id, external_id)
             WHERE external_id IS NOT NULL AND deleted_at IS NULL AND package_run_id IS NULL;",
    )?;
    Ok(())
}

/// 0007: a config's schedule, its next slot and whether a new table version re-matches.
fn schedule_columns(tx: &Transaction<'_>) -> Result<()> {
    add_column(tx, "configs", "schedule", "TEXT")?;
    add_column(tx, "configs", "schedule_next_ms", "INTEGER")?;
    add_column(
        tx,
        "configs",
        "rematch_on_new_version",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS configs_by_schedule ON configs(schedule_next_ms)
             WHERE schedule IS NOT NULL;",
    )?;
    Ok(())
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of a refmatch database ("RfMt"), so that `--db` pointed at
/// another application's SQLite file is refused instead of getting refmatch's tables.
pub const APPLICATION_ID: i32 = 0x5266_4d74;

/// Checks that the database at `path` is refmatch's, or new: `application_id` is ours, or
/// it is unset on an empty database or on one this refmatch's tables already fill (written
/// before the id existed). A `user_version` below zero or past ours is refused in one line.
pub fn check_identity(conn: &Connection, path: &Path) -> Result<Identity> {
    let refuse = |message: String| Error::invalid(path.display().to_string(), "", message);
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if application_id != APPLICATION_ID && application_id != 0 {
        return Err(refuse(format!(
            "is not a refmatch database (its PRAGMA application_id is {application_id:#x}, \
             refmatch's is {APPLICATION_ID:#x}); point --db at a refmatch database or a new file"
        )));
    }
    if version < 0 {
        return Err(refuse(format!(
            "has schema version {version} (PRAGMA user_version), which no refmatch writes; \
             is it a refmatch database?"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(refuse(format!(
            "the database has schema version {version}, newer than this refmatch knows \
             ({SCHEMA_VERSION}); use the refmatch release that wrote it or a later one"
        )));
    }
    if application_id == APPLICATION_ID {
        return Ok(Identity::Ours);
    }
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        [],
        |r| r.get(0),
    )?;
    let ours: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'api_keys')",
        [],
        |r| r.get(0),
    )?;
    match (version, tables) {
        (0, 0) => Ok(Identity::New),
        (1.., _) if ours == 2 => Ok(Identity::Unmarked),
        _ => Err(refuse(format!(
            "is not a refmatch database (PRAGMA application_id is 0, schema version {version}, \
             {tables} tables of another application); point --db at a refmatch database or a \
             new file"
        ))),
    }
}

/// What `check_identity` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    Ours,
    /// An empty database: refmatch's from now on.
    New,
    /// A refmatch database written before `application_id` was set.
    Unmarked,
}

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let identity = check_identity(&tx, path)?;
    if identity != Identity::Ours {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(step.sql)?;
        if let Some(then) = step.then {
            then(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_16_migrations_replay_on_a_database_that_has_them() {
        // Regression: the storage test sets user_version back to 3 to replay the compact
        // results migration, and ADD COLUMN failed on columns the database already had.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        conn.pragma_update(None, "user_version", 4).unwrap();
        migrate(&mut conn, &path).unwrap();
        let columns: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('configs')
                 WHERE name IN ('schedule', 'schedule_next_ms', 'rematch_on_new_version')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(columns, 3);
    }

    #[test]
    fn migrates_once_and_refuses_newer_databases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        migrate(&mut conn, &path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn, &path).unwrap_err().to_string();
        assert!(err.contains("newer than this refmatch"), "{err}");
        let id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
    }

    #[test]
    fn foreign_and_impossible_databases_are_refused_in_one_line() {
        // Regression (issue 13): another application's file got refmatch's tables, and a
        // user_version of -1 printed the whole schema as the error.
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str, setup: &str| {
            let path = dir.path().join(name);
            let mut conn = Connection::open(&path).unwrap();
            conn.execute_batch(setup).unwrap();
            let result = migrate(&mut conn, &path).map_err(|e| e.to_string());
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            (result, tables)
        };
        let (err, tables) = open("other.db", "PRAGMA application_id = 42; CREATE TABLE t(x);");
        let err = err.unwrap_err();
        assert!(
            err.contains("application_id is 0x2a") && !err.contains('\n'),
            "{err}"
        );
        assert_eq!(tables, 1);
        let (err, tables) = open(
            "plain.db",
            "CREATE TABLE notes(x); PRAGMA user_version = 3;",
        );
        assert!(err.unwrap_err().contains("not a refmatch database"));
        assert_eq!(tables, 1);
        let (err, _) = open("minus.db", "PRAGMA user_version = -1;");
        let err = err.unwrap_err();
        assert!(
            err.contains("schema version -1") && !err.contains("CREATE"),
            "{err}"
        );
        // A refmatch database from before application_id is adopted.
        let (ok, _) = open("old.db", "");
        ok.unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0).unwrap();
        drop(conn);
        let (ok, _) = open("old.db", "");
        ok.unwrap();
    }
}
