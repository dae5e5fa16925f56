-- Webhooks (issue 16): a URL, the events it wants and the secret its deliveries are signed
-- with (kept to sign; shown once, when created). `events` is a JSON array of names.
CREATE TABLE IF NOT EXISTS webhooks (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret        TEXT NOT NULL,
    description   TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_by_workspace ON webhooks(workspace_id, seq);

-- The outbox. A delivery is written in the same transaction as the change it reports (a
-- run's end, a package run's decision), so a crash can neither lose it nor report a change
-- that was rolled back. `body` is the exact JSON POSTed, every attempt the same bytes; the
-- delivery's `id` is in it and in a header, for receivers to de-duplicate. A sender leases
-- a due delivery (`lease_until_ms`) while it posts, so two servers on one database never
-- post it at once, and a server killed mid-post leaves it to be posted again.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    workspace_id     INTEGER NOT NULL REFERENCES workspaces(id),
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id),
    event            TEXT NOT NULL,
    body             TEXT NOT NULL,
    -- pending, delivered or failed (every attempt used).
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,
    lease_until_ms   INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, seq);

-- Every attempt of a delivery: when, what the receiver answered or why it could not.
CREATE TABLE IF NOT EXISTS webhook_attempts (
    seq          INTEGER PRIMARY KEY,
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempted_at TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_delivery ON webhook_attempts(delivery_id, seq);
