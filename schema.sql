-- The refmatch database, version 1. Applied by src/store/migrate.rs when PRAGMA user_version
-- is 0; later versions add numbered migrations there and never edit this text once shipped.
--
-- Conventions: every table that holds user data carries workspace_id and every query filters
-- on it. Public ids are UUID text; `seq` (INTEGER PRIMARY KEY) orders lists and backs the
-- pagination cursors. Timestamps are ISO 8601 UTC with milliseconds, as the API shows them.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    -- SHA-256 of the secret, hex. The secret itself is never stored.
    key_hash      TEXT NOT NULL UNIQUE,
    -- Comma-separated: read, write.
    scopes        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE TABLE reference_tables (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    workspace_id     INTEGER NOT NULL REFERENCES workspaces(id),
    name             TEXT NOT NULL,
    current_version  INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE INDEX reference_tables_by_workspace ON reference_tables(workspace_id, seq);

-- One upload of a table. Rows belong to a version, so a run that recorded its version keeps
-- reading the same rows whatever is uploaded later.
CREATE TABLE reference_versions (
    id            INTEGER PRIMARY KEY,
    table_id      TEXT NOT NULL REFERENCES reference_tables(id),
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    version       INTEGER NOT NULL,
    source_type   TEXT NOT NULL,
    -- JSON array of {"name", "type"}.
    columns       TEXT NOT NULL,
    row_count     INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (table_id, version)
);

-- `vals` is a JSON array of strings in the version's column order; "" is a missing value.
CREATE TABLE reference_rows (
    version_id  INTEGER NOT NULL REFERENCES reference_versions(id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    row_id      TEXT NOT NULL,
    vals        TEXT NOT NULL,
    PRIMARY KEY (version_id, ordinal)
) WITHOUT ROWID;
CREATE UNIQUE INDEX reference_rows_by_id ON reference_rows(version_id, row_id);

CREATE TABLE document_batches (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces(id),
    source_type     TEXT NOT NULL,
    document_count  INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE documents (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    -- The caller's id; unique per workspace while the document exists.
    external_id   TEXT,
    filename      TEXT,
    -- JSON object of string, number or null values.
    fields        TEXT NOT NULL,
    batch_id      TEXT NOT NULL REFERENCES document_batches(id),
    created_at    TEXT NOT NULL,
    -- Deleted documents stay for the results that point at them, out of lists and runs.
    deleted_at    TEXT
);
CREATE INDEX documents_by_workspace ON documents(workspace_id, seq);
CREATE INDEX documents_by_batch ON documents(batch_id, seq);
CREATE UNIQUE INDEX documents_external_id ON documents(workspace_id, external_id)
    WHERE external_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE configs (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    workspace_id       INTEGER NOT NULL REFERENCES workspaces(id),
    reference_data_id  TEXT NOT NULL REFERENCES reference_tables(id),
    name               TEXT,
    -- The config as the API shows it (field_mappings, threshold, ...), JSON.
    body               TEXT NOT NULL,
    target_type        TEXT NOT NULL,
    target_value       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
);
CREATE INDEX configs_by_workspace ON configs(workspace_id, seq);

CREATE TABLE runs (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    workspace_id          INTEGER NOT NULL REFERENCES workspaces(id),
    config_id             TEXT NOT NULL REFERENCES configs(id),
    -- Frozen at trigger time: later edits of the config or the table never change a run.
    config_snapshot       TEXT NOT NULL,
    reference_version_id  INTEGER NOT NULL REFERENCES reference_versions(id),
    reference_version     INTEGER NOT NULL,
    target_type           TEXT NOT NULL,
    target_value          TEXT NOT NULL,
    status                TEXT NOT NULL,
    phase                 TEXT NOT NULL,
    phase_progress        REAL NOT NULL DEFAULT 0,
    triggered_by          TEXT NOT NULL,
    rows_total            INTEGER,
    rows_processed        INTEGER,
    rows_matched          INTEGER,
    confidence_sum        REAL,
    avg_confidence        REAL,
    started_at            TEXT,
    started_ms            INTEGER,
    completed_at          TEXT,
    completed_ms          INTEGER,
    error                 TEXT,
    created_at            TEXT NOT NULL,
    -- The process executing the run and when it last said it is alive (unix ms).
    owner                 TEXT,
    heartbeat_ms          INTEGER,
    cancel_requested      INTEGER NOT NULL DEFAULT 0,
    -- A smart run: resolve the review band automatically once completed.
    auto_resolve          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_workspace ON runs(workspace_id, seq);
CREATE INDEX runs_by_status ON runs(status, seq);

CREATE TABLE results (
    seq                       INTEGER PRIMARY KEY,
    id                        TEXT NOT NULL UNIQUE,
    run_id                    TEXT NOT NULL REFERENCES runs(id),
    workspace_id              INTEGER NOT NULL REFERENCES workspaces(id),
    document_id               TEXT NOT NULL,
    document_external_id      TEXT,
    document_filename         TEXT,
    matched_reference_row_id  TEXT,
    confidence                REAL NOT NULL,
    status                    TEXT NOT NULL DEFAULT 'pending',
    -- JSON: the best candidate's evidence, and the top five candidates with theirs.
    evidence                  TEXT,
    candidates                TEXT NOT NULL,
    notes                     TEXT,
    reviewed_at               TEXT,
    reviewed_by               TEXT,
    resolved_by               TEXT,
    confidence_before         REAL
);
CREATE INDEX results_by_confidence ON results(run_id, confidence DESC, document_id);

-- Every review decision, oldest first: who decided what and when.
CREATE TABLE reviews (
    seq               INTEGER PRIMARY KEY,
    workspace_id      INTEGER NOT NULL REFERENCES workspaces(id),
    result_id         TEXT NOT NULL REFERENCES results(id),
    status            TEXT NOT NULL,
    reference_row_id  TEXT,
    notes             TEXT,
    reviewed_by       TEXT,
    created_at        TEXT NOT NULL
);

-- Rows a reviewer rejected for a document: later runs of the config never propose them.
-- Keyed by the result whose review made it, so setting that result back to pending lifts it.
-- Not a foreign key: pruning old runs keeps what their reviewers decided.
CREATE TABLE exclusions (
    result_id         TEXT PRIMARY KEY,
    workspace_id      INTEGER NOT NULL REFERENCES workspaces(id),
    config_id         TEXT NOT NULL,
    document_id       TEXT NOT NULL,
    reference_row_id  TEXT NOT NULL
);
CREATE INDEX exclusions_by_config ON exclusions(config_id, document_id);

-- Generated strategies: proposed mappings, weights and threshold with a rationale each.
-- `strategy` is JSON {field_mappings, threshold}; `version_hash` is the first 12 hex digits
-- of the SHA-256 of its canonical JSON (keys sorted).
CREATE TABLE strategies (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    workspace_id        INTEGER NOT NULL REFERENCES workspaces(id),
    reference_data_id   TEXT NOT NULL,
    name                TEXT,
    strategy            TEXT NOT NULL,
    version             INTEGER NOT NULL,
    version_hash        TEXT NOT NULL,
    metrics             TEXT,
    matching_config_id  TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
