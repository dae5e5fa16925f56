//! Webhooks and their outbox. `enqueue` is called inside the transaction of the change an
//! event reports (a run's end in `runs`, a package run's decision in `packages`), so the
//! delivery exists exactly when the change does. Senders take due deliveries with a lease
//! (`claim_due_deliveries`) and record each attempt (`record_attempt`); a delivery is posted
//! at least once and carries its id for receivers to de-duplicate.

use r2d2_sqlite::rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::{json, Value};

use super::{cursor_page, iso, new_id, now_iso, now_ms, CursorPage, Position, Store, WorkspaceId};
use crate::error::{Error, Result};

/// Every event a webhook can ask for.
pub const EVENTS: [&str; 4] = [
    "run.completed",
    "run.failed",
    "run.cancelled",
    "package_run.completed",
];

/// A webhook as shown: never its secret.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredWebhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub created_at: String,
}

/// One attempt at posting a delivery.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Attempt {
    pub attempted_at: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery as shown: what was (or will be) posted and how each attempt went.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempt_count: i64,
    /// When the next attempt is due; null unless pending.
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// The body posted.
    pub payload: Value,
    pub attempts: Vec<Attempt>,
}

/// A due delivery leased to a sender.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// How one attempt went, and what comes next.
#[derive(Clone, Debug)]
pub struct AttemptOutcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub delivered: bool,
    /// When to try again; `None` after a failure means every attempt is used.
    pub next_attempt_ms: Option<i64>,
}

const WEBHOOK_SELECT: &str = "SELECT seq, id, url, events, description, created_at FROM webhooks";
const DELIVERY_SELECT: &str = "SELECT seq, id, webhook_id, event, status, attempts,
    next_attempt_ms, last_status_code, last_error, created_at, delivered_at, body
    FROM webhook_deliveries";

fn webhook_from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredWebhook)> {
    let events: String = r.get(3)?;
    Ok((
        r.get(0)?,
        StoredWebhook {
            id: r.get(1)?,
            url: r.get(2)?,
            events: serde_json::from_str(&events).unwrap_or_default(),
            description: r.get(4)?,
            created_at: r.get(5)?,
        },
    ))
}

fn delivery_from_row(r: &Row<'_>) -> r2d2_sqlite::rusqlite::Result<(i64, StoredDelivery)> {
    let status: String = r.get(4)?;
    let next: i64 = r.get(6)?;
    let body: String = r.get(11)?;
    Ok((
        r.get(0)?,
        StoredDelivery {
            id: r.get(1)?,
            webhook_id: r.get(2)?,
            event: r.get(3)?,
            next_attempt_at: (status == "pending").then(|| iso(next)),
            status,
            attempt_count: r.get(5)?,
            last_status_code: r.get(7)?,
            last_error: r.get(8)?,
            created_at: r.get(9)?,
            delivered_at: r.get(10)?,
            payload: serde_json::from_str(&body).unwrap_or(Value::Null),
            attempts: Vec::new(),
        },
    ))
}

fn webhook_not_found(id: &str) -> Error {
    Error::NotFound {
        what: "webhook",
        id: id.to_string(),
    }
}

fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a webhook secret: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("whsec_{hex}"))
}

/// Writes one delivery per webhook of the workspace that asked for `event`, inside the
/// caller's transaction; returns how many. The body is `{id, event, timestamp, data}`.
pub(super) fn enqueue(
    tx: &Transaction<'_>,
    ws: WorkspaceId,
    event: &str,
    data: &impl serde::Serialize,
) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "SELECT id FROM webhooks WHERE workspace_id = ?1
         AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?2)
         ORDER BY seq",
    )?;
    let hooks = stmt
        .query_map(params![ws.0, event], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let data = serde_json::to_value(data)
        .map_err(|e| Error::Internal(format!("cannot encode an event: {e}")))?;
    let now = now_ms();
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, event, body, status,
             next_attempt_ms, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
    )?;
    for hook in &hooks {
        let id = new_id();
        let body = json!({"id": id, "event": event, "timestamp": iso(now), "data": data});
        insert.execute(params![
            id,
            ws.0,
            hook,
            event,
            body.to_string(),
            now,
            iso(now)
        ])?;
    }
    Ok(hooks.len())
}

impl Store {
    /// Stores a webhook; returns it with its secret (shown this once).
    pub fn insert_webhook(
        &self,
        ws: WorkspaceId,
        url: &str,
        events: &[String],
        description: Option<&str>,
    ) -> Result<(StoredWebhook, String)> {
        let id = new_id();
        let secret = random_secret()?;
        let events_json = Value::from(events.to_vec()).to_string();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO webhooks (id, workspace_id, url, events, secret, description, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, ws.0, url, events_json, secret, description, now_iso()],
            )?;
            Ok(())
        })?;
        Ok((self.get_webhook(ws, &id)?, secret))
    }

    pub fn get_webhook(&self, ws: WorkspaceId, id: &str) -> Result<StoredWebhook> {
        self.conn()?
            .query_row(
                &format!("{WEBHOOK_SELECT} WHERE id = ?1 AND workspace_id = ?2"),
                params![id, ws.0],
                webhook_from_row,
            )
            .optional()?
            .map(|(_, w)| w)
            .ok_or_else(|| webhook_not_found(id))
    }

    pub fn list_webhooks(
        &self,
        ws: WorkspaceId,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredWebhook>> {
        let (before, offset) = at.bounds()?;
        let conn = self.conn()?;
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM webhooks WHERE workspace_id = ?1",
            [ws.0],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "{WEBHOOK_SELECT} WHERE workspace_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map(
                params![ws.0, before, limit as i64 + 1, offset],
                webhook_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor_page(rows, limit, total))
    }

    /// Deletes a webhook with its secret and its deliveries (those not yet made are not
    /// made), in one transaction.
    pub fn delete_webhook(&self, ws: WorkspaceId, id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM webhook_attempts WHERE delivery_id IN
                     (SELECT id FROM webhook_deliveries WHERE webhook_id = ?1 AND workspace_id = ?2)",
                params![id, ws.0],
            )?;
            tx.execute(
                "DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND workspace_id = ?2",
                params![id, ws.0],
            )?;
            let deleted = tx.execute(
                "DELETE FROM webhooks WHERE id = ?1 AND workspace_id = ?2",
                params![id, ws.0],
            )?;
            if deleted == 0 {
                return Err(webhook_not_found(id));
            }
            Ok(())
        })
    }

    fn with_attempts(&self, mut deliveries: Vec<StoredDelivery>) -> Result<Vec<StoredDelivery>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT attempted_at, status_code, error, duration_ms FROM webhook_attempts
             WHERE delivery_id = ?1 ORDER BY seq",
        )?;
        for delivery in &mut deliveries {
            delivery.attempts = stmt
                .query_map([&delivery.id], |r| {
                    Ok(Attempt {
                        attempted_at: r.get(0)?,
                        status_code: r.get(1)?,
                        error: r.get(2)?,
                        duration_ms: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
        }
        Ok(deliveries)
    }

    /// A webhook's deliveries, newest first, each with its attempts.
    pub fn list_deliveries(
        &self,
        ws: WorkspaceId,
        webhook_id: &str,
        at: Position<'_>,
        limit: usize,
    ) -> Result<CursorPage<StoredDelivery>> {
        self.get_webhook(ws, webhook_id)?;
        let (before, offset) = at.bounds()?;
        let page = {
            let conn = self.conn()?;
            let total: i64 = conn.query_row(
                "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?1 AND workspace_id = ?2",
                params![webhook_id, ws.0],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare(&format!(
                "{DELIVERY_SELECT} WHERE webhook_id = ?1 AND workspace_id = ?2 AND seq < ?3
                 ORDER BY seq DESC LIMIT ?4 OFFSET ?5"
            ))?;
            let rows = stmt
                .query_map(
                    params![webhook_id, ws.0, before, limit as i64 + 1, offset],
                    delivery_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            cursor_page(rows, limit, total)
        };
        let items = self.with_attempts(page.items)?;
        Ok(CursorPage {
            items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    pub fn get_delivery(
        &self,
        ws: WorkspaceId,
        webhook_id: &str,
        id: &str,
    ) -> Result<StoredDelivery> {
        let found = self
            .conn()?
            .query_row(
                &format!(
                    "{DELIVERY_SELECT} WHERE id = ?1 AND webhook_id = ?2 AND workspace_id = ?3"
                ),
                params![id, webhook_id, ws.0],
                delivery_from_row,
            )
            .optional()?
            .map(|(_, d)| d)
            .ok_or_else(|| Error::NotFound {
                what: "delivery",
                id: id.to_string(),
            })?;
        Ok(self.with_attempts(vec![found])?.remove(0))
    }

    /// Makes a delivery due again now, with a fresh budget of attempts (its id and body
    /// stay, so a receiver that kept the first copy sees the same id).
    pub fn redeliver(&self, ws: WorkspaceId, webhook_id: &str, id: &str) -> Result<StoredDelivery> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
                     next_attempt_ms = ?1, lease_until_ms = NULL
                 WHERE id = ?2 AND webhook_id = ?3 AND workspace_id = ?4",
                params![now_ms(), id, webhook_id, ws.0],
            )?)
        })?;
        if changed == 0 {
            return Err(Error::NotFound {
                what: "delivery",
                id: id.to_string(),
            });
        }
        self.get_delivery(ws, webhook_id, id)
    }

    /// Leases up to `limit` due deliveries (oldest due first) for `lease_ms`.
    pub fn claim_due_deliveries(&self, lease_ms: i64, limit: usize) -> Result<Vec<DueDelivery>> {
        let now = now_ms();
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.body, d.attempts
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1
                   AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= ?1)
                 ORDER BY d.next_attempt_ms, d.seq LIMIT ?2",
            )?;
            let due = stmt
                .query_map(params![now, limit as i64], |r| {
                    Ok(DueDelivery {
                        id: r.get(0)?,
                        webhook_id: r.get(1)?,
                        url: r.get(2)?,
                        secret: r.get(3)?,
                        event: r.get(4)?,
                        body: r.get(5)?,
                        attempts: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut lease = tx.prepare_cached(
                "UPDATE webhook_deliveries SET lease_until_ms = ?1 WHERE id = ?2",
            )?;
            for delivery in &due {
                lease.execute(params![now + lease_ms, delivery.id])?;
            }
            Ok(due)
        })
    }

    /// Records an attempt and what follows it: delivered, due again, or failed for good.
    pub fn record_attempt(&self, delivery_id: &str, outcome: &AttemptOutcome) -> Result<()> {
        let now = now_ms();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    delivery_id,
                    iso(now - outcome.duration_ms),
                    outcome.status_code,
                    outcome.error,
                    outcome.duration_ms
                ],
            )?;
            let status = if outcome.delivered {
                "delivered"
            } else if outcome.next_attempt_ms.is_some() {
                "pending"
            } else {
                "failed"
            };
            tx.execute(
                "UPDATE webhook_deliveries SET status = ?1, attempts = attempts + 1,
                     next_attempt_ms = coalesce(?2, next_attempt_ms), lease_until_ms = NULL,
                     last_status_code = ?3, last_error = ?4,
                     delivered_at = CASE WHEN ?1 = 'delivered' THEN ?5 ELSE delivered_at END
                 WHERE id = ?6",
                params![
                    status,
                    outcome.next_attempt_ms,
                    outcome.status_code,
                    outcome.error,
                    iso(now),
                    delivery_id
                ],
            )?;
            Ok(())
        })
    }
}
