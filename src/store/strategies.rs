//! Generated strategies as stored: the proposal (`{field_mappings, threshold}`), its
//! version and hash, the fitting metrics and the config created from it, if any.

use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{new_id, now_iso, Store, WorkspaceId};
use crate::error::{Error, Result};

/// `value` with every object's keys sorted, as compact JSON: the text a hash is taken of.
pub fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&map[k]));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// The first 12 hex digits of the SHA-256 of the canonical JSON.
pub fn version_hash(strategy: &Value) -> String {
    Sha256::digest(canonical(strategy).as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A stored strategy. `strategy` is the proposal as JSON (`{field_mappings, threshold, ...}`):
/// a merge patch edits it key by key, so it is kept as the client's JSON.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredStrategy {
    pub id: String,
    pub name: Option<String>,
    pub reference_data_id: String,
    pub matching_config_id: Option<String>,
    pub strategy: Value,
    pub version: i64,
    pub version_hash: String,
    pub metrics: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

fn from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<StoredStrategy> {
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str::<Value>(&t).ok());
    Ok(StoredStrategy {
        id: r.get(0)?,
        name: r.get(1)?,
        reference_data_id: r.get(2)?,
        matching_config_id: r.get(3)?,
        strategy: parse(r.get(4)?).unwrap_or(Value::Null),
        version: r.get(5)?,
        version_hash: r.get(6)?,
        metrics: parse(r.get(7)?).filter(|m| !m.is_null()),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

const SELECT: &str = "SELECT id, name, reference_data_id, matching_config_id, strategy, version,
    version_hash, metrics, created_at, updated_at FROM strategies";

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "strategy",
        id: id.to_string(),
    }
}

impl Store {
    pub fn insert_strategy(
        &self,
        ws: WorkspaceId,
        reference_data_id: &str,
        name: Option<&str>,
        strategy: &Value,
        metrics: Option<&Value>,
    ) -> Result<StoredStrategy> {
        let id = new_id();
        let now = now_iso();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO strategies (id, workspace_id, reference_data_id, name, strategy,
                     version, version_hash, metrics, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?8)",
                params![
                    id,
                    ws.0,
                    reference_data_id,
                    name,
                    strategy.to_string(),
                    version_hash(strategy),
                    metrics.map(Value::to_string),
                    now
                ],
            )?;
            Ok(())
        })?;
        self.get_strategy(ws, &id)
    }

    pub fn get_strategy(&self, ws: WorkspaceId, id: &str) -> Result<StoredStrategy> {
        self.conn()?
            .query_row(
                &format!("{SELECT} WHERE id = ?1 AND workspace_id = ?2"),
                params![id, ws.0],
                from_row,
            )
            .optional()?
            .ok_or_else(|| not_found(id))
    }

    /// Replaces the strategy's proposal, bumping its version; returns the strategy.
    pub fn update_strategy(
        &self,
        ws: WorkspaceId,
        id: &str,
        strategy: &Value,
    ) -> Result<StoredStrategy> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE strategies SET strategy = ?1, version = version + 1, version_hash = ?2,
                     updated_at = ?3
                 WHERE id = ?4 AND workspace_id = ?5",
                params![
                    strategy.to_string(),
                    version_hash(strategy),
                    now_iso(),
                    id,
                    ws.0
                ],
            )?)
        })?;
        if changed == 0 {
            return Err(not_found(id));
        }
        self.get_strategy(ws, id)
    }

    /// Records the config created from a strategy.
    pub fn link_strategy(&self, ws: WorkspaceId, id: &str, config_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE strategies SET matching_config_id = ?1, updated_at = ?2
                 WHERE id = ?3 AND workspace_id = ?4",
                params![config_id, now_iso(), id, ws.0],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_ignores_key_order_and_changes_with_content() {
        let a = json!({"threshold": 0.8, "field_mappings": [{"source": "a", "weight": 1.0}]});
        let b = json!({"field_mappings": [{"weight": 1.0, "source": "a"}], "threshold": 0.8});
        assert_eq!(version_hash(&a), version_hash(&b));
        assert_eq!(version_hash(&a).len(), 12);
        let c = json!({"threshold": 0.7, "field_mappings": [{"source": "a", "weight": 1.0}]});
        assert_ne!(version_hash(&a), version_hash(&c));
    }
}
