//! API keys: a random secret shown once, stored as its SHA-256. A request's key is hashed and
//! looked up by that hash, so the secret never sits in the database or in a log.

use r2d2_sqlite::rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::{cursor_page, new_id, now_iso, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes {
    pub read: bool,
    pub write: bool,
}

impl Scopes {
    /// `read`, `write` or `read,write`; anything else is a validation error.
    pub fn parse(text: &str) -> Result<Scopes> {
        let mut scopes = Scopes {
            read: false,
            write: false,
        };
        for scope in text.split(',').map(str::trim) {
            match scope {
                "read" => scopes.read = true,
                "write" => scopes.write = true,
                other => {
                    return Err(Error::invalid(
                        "--scopes",
                        "",
                        format!("unknown scope \"{other}\" (scopes: read, write)"),
                    ))
                }
            }
        }
        Ok(scopes)
    }

    pub fn as_text(self) -> &'static str {
        match (self.read, self.write) {
            (true, true) => "read,write",
            (false, true) => "write",
            _ => "read",
        }
    }
}

/// The key a request authenticated with.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub id: String,
    pub workspace: WorkspaceId,
    pub scopes: Scopes,
}

/// A newly created key; `secret` exists only here.
/// A key as listed: never its secret or hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

pub struct NewKey {
    pub id: String,
    pub secret: String,
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal bytes, compared without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a key: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("rmk_{hex}"))
}

impl Store {
    pub fn create_key(&self, ws: WorkspaceId, name: &str, scopes: Scopes) -> Result<NewKey> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid(
                "--name",
                "",
                "a key name is 1 to 200 characters",
            ));
        }
        let secret = random_secret()?;
        let id = new_id();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO api_keys (id, workspace_id, name, key_hash, scopes, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, ws.0, name, hash(&secret), scopes.as_text(), now_iso()],
            )?;
            Ok(())
        })?;
        Ok(NewKey { id, secret })
    }

    /// The live key with this secret, or `unauthorized`. The secret is looked up by its
    /// SHA-256, so lookup timing says nothing about the secret; the stored hash is then
    /// compared in constant time as well.
    pub fn authenticate(&self, secret: &str) -> Result<ApiKey> {
        let wanted = hash(secret);
        let row = self
            .conn()?
            .query_row(
                "SELECT id, workspace_id, scopes, key_hash FROM api_keys
                 WHERE key_hash = ?1 AND revoked_at IS NULL",
                [&wanted],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let invalid = || Error::Unauthorized("the API key is not valid".into());
        let (id, workspace, scopes, stored) = row.ok_or_else(invalid)?;
        if !constant_time_eq(stored.as_bytes(), wanted.as_bytes()) {
            return Err(invalid());
        }
        Ok(ApiKey {
            id,
            workspace: WorkspaceId(workspace),
            scopes: Scopes::parse(&scopes)?,
        })
    }

    /// The workspace's keys, newest first, never with a secret.
    pub fn list_keys(
        &self,
        ws: WorkspaceId,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<KeyRow>> {
        let (before, offset) = at.bounds()?;
        let conn = self.conn()?;
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM api_keys WHERE workspace_id = ?1",
            [ws.0],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(
            "SELECT seq, id, name, scopes, created_at, last_used_at, revoked_at FROM api_keys
             WHERE workspace_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt
            .query_map(params![ws.0, before, limit as i64 + 1, offset], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    KeyRow {
                        id: r.get(1)?,
                        name: r.get(2)?,
                        scopes: r
                            .get::<_, String>(3)?
                            .split(',')
                            .map(String::from)
                            .collect(),
                        created_at: r.get(4)?,
                        last_used_at: r.get(5)?,
                        revoked_at: r.get(6)?,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// Revokes a key of the workspace; it stops authenticating at once.
    pub fn revoke_key(&self, ws: WorkspaceId, id: &str) -> Result<()> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE api_keys SET revoked_at = ?1
                 WHERE id = ?2 AND workspace_id = ?3 AND revoked_at IS NULL",
                params![now_iso(), id, ws.0],
            )?)
        })?;
        if changed == 0 {
            return Err(Error::NotFound {
                what: "API key",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Records that a key was used, at most once a minute per key (a write per request
    /// would serialise every reader on the database's write lock).
    pub fn touch_key(&self, id: &str) -> Result<()> {
        static LAST: std::sync::Mutex<Option<std::collections::HashMap<String, i64>>> =
            std::sync::Mutex::new(None);
        let now = super::now_ms();
        {
            let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
            let map = last.get_or_insert_with(Default::default);
            if map.get(id).is_some_and(|&t| now - t < 60_000) {
                return Ok(());
            }
            map.insert(id.to_string(), now);
        }
        // Best effort without waiting: a reader must not queue behind another writer (or a
        // locked database) for a timestamp.
        let conn = self.conn()?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let touched = conn.execute(
            "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2",
            params![super::iso(now), id],
        );
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        touched?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_authenticate_by_hash_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db"), 2).unwrap();
        let ws = store.workspace("w", true).unwrap();
        let key = store
            .create_key(ws, "ci", Scopes::parse("read").unwrap())
            .unwrap();
        let found = store.authenticate(&key.secret).unwrap();
        assert_eq!(found.id, key.id);
        assert!(found.scopes.read && !found.scopes.write);
        assert!(matches!(
            store.authenticate("rmk_wrong"),
            Err(Error::Unauthorized(_))
        ));
        let stored: i64 = store
            .conn()
            .unwrap()
            .query_row(
                "SELECT count(*) FROM api_keys WHERE key_hash = ?1",
                [&key.secret],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 0, "the secret itself is never stored");
    }

    #[test]
    fn constant_time_comparison_compares_everything() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(Scopes::parse("read,write").unwrap().as_text(), "read,write");
        assert!(Scopes::parse("admin").is_err());
    }
}
