-- Packages (issue 16): one verdict for a bundle of documents of different types (an
-- invoice, its purchase order and its delivery note). A package config names, per document
-- type, the matching config that matches it and how present it must be, the pass criteria
-- and the cross-document checks; `body` is that JSON as the API shows it. A package run is
-- stored whole (`body`: its document results, input documents and checks) once decided.
CREATE TABLE IF NOT EXISTS package_configs (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS package_configs_by_workspace ON package_configs(workspace_id, seq);

CREATE TABLE IF NOT EXISTS package_runs (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    workspace_id       INTEGER NOT NULL REFERENCES workspaces(id),
    package_config_id  TEXT NOT NULL,
    -- passed, failed, review or error. A run is written `error` before its slots execute
    -- and updated once decided, so a process that stops half-way leaves an honest error.
    status             TEXT NOT NULL,
    body               TEXT NOT NULL,
    error              TEXT,
    created_at         TEXT NOT NULL,
    completed_at       TEXT
);
CREATE INDEX IF NOT EXISTS package_runs_by_workspace ON package_runs(workspace_id, seq);
CREATE INDEX IF NOT EXISTS package_runs_by_config ON package_runs(package_config_id, seq);

-- The documents a package run brought in are stored like any other (each slot is a real
-- matching run over them) but belong to that package run: they are not targets of `all`,
-- not in the documents list, and their caller's ids may repeat across package runs (the
-- same purchase order checked against many invoices). The column `documents.package_run_id`
-- and the external-id index that leaves those documents out are made by this migration's
-- Rust step (`migrate::package_documents`), which adds a column only where it is missing.
