//! API keys: a random secret shown once, stored as its SHA-256. A request's key is hashed and
//! looked up by that hash, so the secret never sits in the database or in a log.

use r2d2_sqlite::rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{new_id, now_iso, Store, WorkspaceId};
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

    /// The live key with this secret, or `unauthorized`.
    pub fn authenticate(&self, secret: &str) -> Result<ApiKey> {
        let row = self
            .conn()?
            .query_row(
                "SELECT id, workspace_id, scopes FROM api_keys
                 WHERE key_hash = ?1 AND revoked_at IS NULL",
                [hash(secret)],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let (id, workspace, scopes) =
            row.ok_or_else(|| Error::Unauthorized("the API key is not valid".into()))?;
        Ok(ApiKey {
            id,
            workspace: WorkspaceId(workspace),
            scopes: Scopes::parse(&scopes)?,
        })
    }

    /// The workspace's keys, newest first, never with a secret.
    pub fn list_keys(&self, ws: WorkspaceId) -> Result<Vec<Value>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_keys
             WHERE workspace_id = ?1 ORDER BY seq DESC",
        )?;
        let rows = stmt.query_map([ws.0], |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "name": r.get::<_, String>(1)?,
                "scopes": r.get::<_, String>(2)?.split(',').collect::<Vec<_>>(),
                "created_at": r.get::<_, String>(3)?,
                "last_used_at": r.get::<_, Option<String>>(4)?,
                "revoked_at": r.get::<_, Option<String>>(5)?,
            }))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
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
    fn scopes_parse_strictly() {
        assert_eq!(Scopes::parse("read,write").unwrap().as_text(), "read,write");
        assert!(Scopes::parse("admin").is_err());
    }
}
