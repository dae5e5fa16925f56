//! refmatch matches the fields extracted from business documents against a table of
//! known reference rows and says, per document, which row it is, how sure it is and why.
//!
//! - `parse`: pure parsers of text, dates, amounts and currencies, shared by everything.
//! - `config`: the JSON matching config as written, validated and compiled once.
//! - `matcher`: the pure, deterministic matching library: per-strategy scorers, candidate
//!   indexes, confidence and evidence. It knows nothing of files, SQLite or HTTP.
//! - `ingest`: the only code that reads CSV files (delimiter, encoding, ids).
//! - `evaluate`: offline metrics against labelled data (precision, recall, F1, sweep).
//! - `report`: renders `eval --report`, one self-contained HTML file (inline CSS and SVG)
//!   from what `evaluate` computed; no I/O.
//! - `strategy`: strategy generation without a language model: profiles both sides,
//!   proposes mappings, strategies, weights and a threshold with a rationale each, and fits
//!   weights and threshold to labels; pure, on top of `matcher` and `evaluate`. Its
//!   `calibrate` weighs a generated config from the data (an EM-fitted Fellegi-Sunter
//!   model, no labels) or fits it to labels with cross-validation.
//! - `synth`: seeded generator of vendor-invoice sets in the fixture formats; no matcher.
//! - `store`: SQLite (pool, schema, migrations, queries); rows come out as structs.
//! - `engine`: the matcher pool and the index cache, shared by runs and real-time matching.
//! - `resolve`: the review band's model; `resolve::run` applies it to a stored run.
//! - `runner`: the run lifecycle (queue, phases, cancel, heartbeats, recovery).
//! - `package`: package configs, the cross-document checks and the verdict of a bundle of
//!   documents (the three-way match); pure, over the slots' outcomes.
//! - `schedule`: configs' cron schedules (server time zone) and the scheduler thread.
//! - `service`: the use-cases the command line and the API share, over typed requests.
//! - `http`: the only code that knows HTTP: the route table, one handler module per
//!   resource, typed bodies, the socket side. `docs/ARCHITECTURE.md` draws the floors.
//! - `webhook`: signs and posts the webhook outbox's due deliveries on a background thread,
//!   with retries; the outbox itself is `store::webhooks`.
//! - `cli` and `cmd`: the command line, one file per subcommand.
//! - `error`: the one error type and its exit codes.
//! - `shard`: which documents a `match --shard I/N` takes: a stable hash of the id.
//! - `export`: what every CSV cell meant for a spreadsheet passes (formula neutralising).
//! - `fuzzing`: byte-input harnesses of every parser of untrusted input, shared by the
//!   fuzz targets in `fuzz/`, the corpus replay test and property tests; not an API.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod engine;
pub mod error;
pub mod evaluate;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod ingest;
pub mod llm;
pub mod matcher;
pub mod package;
pub mod parse;
pub mod report;
pub mod resolve;
pub mod runner;
pub mod schedule;
pub mod service;
pub mod shard;
pub mod store;
pub mod strategy;
pub mod synth;
#[cfg(test)]
pub(crate) mod testkit;
pub mod webhook;

pub use error::{Error, Result};
