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
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::invalid(
            path.display().to_string(),
            "",
            format!(
                "the database has schema version {version}, newer than this refmatch knows \
                 ({SCHEMA_VERSION}); use the refmatch release that wrote it or a later one"
            ),
        ));
    }
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
    }
}
