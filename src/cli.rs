//! Command-line definitions (clap). No logic: `cmd` runs what is parsed here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ingest::Encoding;
use crate::synth::SynthProfile;

/// `refmatch --version`: the release and the commit it was built from (`build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("REFMATCH_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "refmatch",
    version = VERSION,
    about = "Match extracted document fields to reference data",
    propagate_version = true
)]
pub struct Cli {
    /// Database file of the commands that use one (default: refmatch.db; `demo`: a new
    /// temporary file).
    #[arg(long, global = true, env = "REFMATCH_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Workspace of the commands that read or write the database.
    #[arg(
        long,
        global = true,
        env = "REFMATCH_WORKSPACE",
        value_name = "NAME",
        default_value = "default"
    )]
    pub workspace: String,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub fn db_path(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| PathBuf::from("refmatch.db"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Match documents against a reference table offline, without a database.
    Match(MatchArgs),
    /// Index snapshots: a reference table indexed once for a config's mappings, loaded by
    /// `match --index` and `eval --index` instead of the CSV.
    #[command(subcommand)]
    Index(IndexCommand),
    /// The one-to-one assignment over the candidate files of `match --shard` runs: writes
    /// the final results, equal to one unsharded `match`.
    Assign(AssignArgs),
    /// Evaluate a config offline against labelled data (precision, recall, F1).
    Eval(EvalArgs),
    /// Write a generated vendor-invoice set (reference, documents, truth, config) to a directory.
    Synth(SynthArgs),
    /// Propose a config for a reference table and sample documents; with --truth, fit
    /// weights and threshold to labelled data.
    GenerateConfig(GenerateArgs),
    /// Serve the HTTP API from the database.
    Serve(ServeArgs),
    /// Seed a new database from the built-in fixtures, run the matcher once and serve it.
    Demo(DemoArgs),
    /// API keys of the workspace.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Reference tables.
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Documents to match.
    #[command(subcommand)]
    Documents(DocumentsCommand),
    /// Matching configs.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run a config in this process, with a progress bar, and print the run id and summary.
    Run(RunArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Copy the whole database to FILE, consistently, while a server may be running.
    Backup {
        /// The copy to write; must not exist.
        file: PathBuf,
    },
    /// Delete the workspace's finished runs older than a duration (with their results),
    /// and reference versions nothing uses any more.
    Prune {
        /// Age such as 90d, 12h, 30m or 45s.
        #[arg(long, value_name = "DURATION")]
        older_than: String,
    },
    /// Ask a running server's /healthz; exit 0 when it answers 200 within the timeout,
    /// else 1 (a container's HEALTHCHECK, with no curl in the image).
    Healthcheck {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
        addr: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 5, value_name = "SECS")]
        timeout_secs: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Read and index a reference table for a config's mappings and write the snapshot
    /// (versioned and checksummed) to one file.
    Build(IndexBuildArgs),
}

#[derive(Debug, Args)]
pub struct IndexBuildArgs {
    /// Reference table (CSV).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// Matching config (JSON): its mappings decide what is indexed; weights, threshold and
    /// document fields may change later without a new snapshot.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The snapshot to write (by convention `.rmidx`); replaced atomically.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Id column of the reference (default: `id` or `row_id`, else row_1, row_2, ...).
    #[arg(long, value_name = "COL")]
    pub id_column: Option<String>,
    /// Encoding of the reference: utf-8 (default) or windows-1252.
    #[arg(long, value_name = "NAME", default_value = "utf-8")]
    pub encoding: Encoding,
    /// Indexing threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Candidate files (JSON Lines) written by `match --shard I/N` with a one-to-one config.
    #[arg(required = true, value_name = "CANDIDATES")]
    pub candidates: Vec<PathBuf>,
    /// Output file: CSV, or JSON Lines when it ends in `.jsonl` (default: CSV on stdout).
    /// Results follow the candidate files' order.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// A bounded HTTP load loop on 127.0.0.1: requests per second and latency percentiles.
    Http(HttpBenchArgs),
    /// The offline path on a generated set: read, index, match, metrics; peak memory;
    /// agreement with a full scan on a sample; one-document latency.
    Eval(DataBenchArgs),
    /// The server path on a generated set: import, a run with every result stored, run
    /// detail over HTTP.
    Server(DataBenchArgs),
    /// The quality table: hand-written, generated and fitted configs, each with and
    /// without one-to-one assignment, on the fixtures, the public benchmarks and a
    /// generated realistic set; F1 at the config's threshold and the best F1.
    Quality(QualityBenchArgs),
}

#[derive(Debug, Args)]
pub struct QualityBenchArgs {
    /// Folder of the public benchmarks (`dblp-acm/`, `amazon-google/`); a set that is
    /// absent is skipped with a message.
    #[arg(long, value_name = "DIR", default_value = "../shared/benchmarks")]
    pub benchmarks: PathBuf,
    /// Reference rows of the generated realistic set.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub synth_rows: u64,
    /// Documents of the generated realistic set.
    #[arg(long, value_name = "M", default_value_t = 2_000)]
    pub synth_documents: u64,
    #[arg(long, value_name = "S", default_value_t = 7)]
    pub seed: u64,
    /// Matcher threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct DataBenchArgs {
    /// Reference rows to generate.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub reference_rows: u64,
    /// Documents to generate.
    #[arg(long, value_name = "M", default_value_t = 10_000)]
    pub documents: u64,
    #[arg(long, value_name = "S", default_value_t = 7)]
    pub seed: u64,
    /// Keep the generated set here (and reuse it if its files exist); default: a
    /// temporary directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Matcher threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Documents compared with a full scan and timed one by one (eval).
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub sample: usize,
    /// Seconds of run-detail requests (server).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub detail_seconds: f64,
}

#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Server to load (127.0.0.1 or localhost only). Default: the demo, seeded in-process.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// API key (with --url).
    #[arg(long)]
    pub key: Option<String>,
    /// Path to GET (default with the demo: its run detail). Repeat it to spread the
    /// clients over several paths: client i loads path i modulo their number.
    #[arg(long)]
    pub path: Vec<String>,
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// How long to load, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// HTTP worker threads of the in-process demo server.
    #[arg(long, default_value_t = 8)]
    pub http_workers: usize,
}

/// Options of the server, shared by `serve` and `demo`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed first).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Matcher threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Threads answering HTTP requests.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub http_workers: usize,
    /// Largest request body accepted, in MiB.
    #[arg(long, value_name = "MB", default_value_t = 64)]
    pub max_body_mb: u64,
    /// Seconds a keep-alive connection may idle, and a write to a client may wait.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub read_timeout_secs: u64,
    /// Seconds a new connection may wait before its first byte, and a request's line and
    /// headers may take to arrive; a body gets as long again plus its size at
    /// --min-body-rate-kb.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// KiB per second a request body must arrive at, on average.
    #[arg(long, value_name = "KB", default_value_t = 32)]
    pub min_body_rate_kb: u64,
    /// Open connections at most; the extra ones are answered 503 and closed at once
    /// (default 0: half the file-descriptor limit less 64, between 16 and 4096).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_connections: usize,
    /// Uploads (bodies over 64 KiB) read and handled at once; more wait up to 5 s, then 503.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_uploads: usize,
    /// Memory the uploads read and handled at once may take, in MiB, each counted at six
    /// times its body size; an upload over the whole budget runs alone.
    #[arg(long, value_name = "MB", default_value_t = 384)]
    pub upload_memory_mb: u64,
    /// Do not write an access log line per request to stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Memory for indexes kept between runs (per reference version and mapped columns).
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    pub index_cache_mb: u64,
    /// Requests per minute per API key (a token bucket of that size); 0 turns it off.
    #[arg(long, value_name = "N", default_value_t = 600)]
    pub rate_limit: u32,
    /// Serve /metrics without an API key.
    #[arg(long)]
    pub metrics_open: bool,
    /// Let a browser app on ORIGIN (https://app.example.com; * for any) call the API;
    /// repeat for more origins. None by default.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,
    /// An OpenAI-compatible chat endpoint (http://host:port/v1/chat/completions) asked
    /// about the review band by ai-resolve; the built-in model is the fallback.
    #[arg(long, value_name = "URL")]
    pub resolver_url: Option<String>,
    /// The model name sent to the resolver endpoint.
    #[arg(long, value_name = "NAME", default_value = "local")]
    pub resolver_model: String,
    /// Seconds to wait for one answer of the resolver endpoint.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub resolver_timeout_secs: u64,
    /// Most documents one run asks the resolver endpoint about.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub resolver_max_calls: usize,
    /// Seconds a webhook receiver has to answer one delivery (connect, send, answer).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// Seconds without a heartbeat after which a running run counts as lost.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, hide = true)]
    pub stale_after_secs: f64,
    /// Milliseconds to pause after each batch of a run (for tests of running runs).
    #[arg(long, value_name = "MS", default_value_t = 0, hide = true)]
    pub run_batch_pause_ms: u64,
    /// Cap the database at this many pages, as a full disk would (for tests); 0: no cap.
    #[arg(long, value_name = "N", default_value_t = 0, hide = true)]
    pub max_db_pages: u64,
    /// Serve the database read-only: reads work, every write answers 503 `unavailable`
    /// (chosen by itself when the file cannot be written).
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret (shown once; only its hash is stored).
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: read, write.
        #[arg(long, default_value = "read,write")]
        scopes: String,
    },
    /// List the workspace's keys (never their secrets).
    List,
    /// Revoke a key: it stops working at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Import a CSV file as a reference table (or as a new version of one); prints its id.
    Import {
        file: PathBuf,
        /// Table name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// Id column (default: `id` or `row_id`, else row_1, row_2, ...).
        #[arg(long, value_name = "COL")]
        id_column: Option<String>,
        /// Upload a new version of this table instead of a new table.
        #[arg(long, value_name = "ID")]
        replace: Option<String>,
        /// utf-8 (default) or windows-1252.
        #[arg(long, value_name = "NAME", default_value = "utf-8")]
        encoding: Encoding,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// Import documents from CSV or JSON Lines (`.jsonl`) as one batch; prints the batch id.
    Import {
        file: PathBuf,
        /// Column that becomes the document's external id (default: document_id or id).
        #[arg(long, value_name = "COL")]
        id_column: Option<String>,
        /// Column holding the source file name (default: filename).
        #[arg(long, value_name = "COL")]
        filename_column: Option<String>,
        /// utf-8 (default) or windows-1252 (CSV only).
        #[arg(long, value_name = "NAME", default_value = "utf-8")]
        encoding: Encoding,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Create a config from a JSON file (with `reference_data_id`); prints its id.
    Create { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config to run.
    pub config_id: String,
    /// Wait for the run to end (the only mode; accepted for scripts that pass it).
    #[arg(long)]
    pub wait: bool,
    /// Matcher threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// The inputs shared by the offline commands.
#[derive(Debug, Args)]
pub struct OfflineInputs {
    /// Reference table (CSV).
    #[arg(long, value_name = "FILE", required_unless_present = "index")]
    pub reference: Option<PathBuf>,
    /// An index snapshot (`refmatch index build`) to load instead of reading and indexing
    /// the reference table.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["reference", "id_column"])]
    pub index: Option<PathBuf>,
    /// Extracted documents (CSV).
    #[arg(long, value_name = "FILE")]
    pub documents: PathBuf,
    /// Matching config (JSON).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Id column of the reference (default: `id` or `row_id`, else row_1, row_2, ...).
    #[arg(long, value_name = "COL")]
    pub id_column: Option<String>,
    /// Id column of the documents (default: `document_id` or `id`, else doc_1, doc_2, ...).
    #[arg(long, value_name = "COL")]
    pub document_id_column: Option<String>,
    /// Encoding of the input files: utf-8 (default) or windows-1252.
    #[arg(long, value_name = "NAME", default_value = "utf-8")]
    pub encoding: Encoding,
    /// Matcher threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Score every reference row instead of the index's candidates (to check the index).
    #[arg(long)]
    pub exhaustive: bool,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    #[command(flatten)]
    pub inputs: OfflineInputs,
    /// Output file: CSV, or JSON Lines when it ends in `.jsonl` (default: CSV on stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Match only the documents of shard I of N (0 <= I < N), chosen by a stable hash of
    /// the document id (FNV-1a): the N outputs together are the unsharded output. With a
    /// one-to-one config a shard writes candidates (JSON Lines) for `refmatch assign`.
    #[arg(long, value_name = "I/N", value_parser = crate::shard::Shard::parse)]
    pub shard: Option<crate::shard::Shard>,
    /// With a one-to-one config, do not assign: write each result before the assignment
    /// with its assignable rows (JSON Lines) for `refmatch assign`, as a shard does. For
    /// engines that split the documents themselves (a Spark partition is a shard).
    #[arg(long)]
    pub candidates: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub inputs: OfflineInputs,
    /// Truth CSV with columns document_id,row_id (empty row_id: no true row).
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// Also report precision, recall and F1 for thresholds 0.00 to 1.00.
    #[arg(long)]
    pub sweep: bool,
    /// Also write a self-contained HTML report: precision-recall curve, threshold sweep,
    /// counts, and the worst false positives and negatives with their evidence.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Reference table (CSV).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// Sample documents (CSV).
    #[arg(long, value_name = "FILE")]
    pub documents: PathBuf,
    /// Truth CSV (document_id,row_id) to fit weights and threshold to.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Id column of the reference (default: `id` or `row_id`, else row_1, row_2, ...).
    #[arg(long, value_name = "COL")]
    pub id_column: Option<String>,
    /// Id column of the documents (default: `document_id` or `id`, else doc_1, ...).
    #[arg(long, value_name = "COL")]
    pub document_id_column: Option<String>,
    /// utf-8 (default) or windows-1252.
    #[arg(long, value_name = "NAME", default_value = "utf-8")]
    pub encoding: Encoding,
    /// Matcher threads for fitting (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Reference rows to generate (the accounts-payable ledger); one vendor per 50 rows.
    #[arg(long, value_name = "N")]
    pub reference_rows: u64,
    /// Documents to generate: about 90% with a true row, 10% without.
    #[arg(long, value_name = "M")]
    pub documents: u64,
    /// Seed: the same arguments always write the same bytes.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// How messy the documents are: `realistic` (default) has the noise real extraction
    /// produces (OCR confusions, misread digits, missing fields, shifted dates, short
    /// invoice numbers that vendors share; rates in docs/synth.md); `clean` writes the
    /// sets of before, with the hand-made fixtures' noise.
    #[arg(long, value_name = "NAME", default_value = "realistic")]
    pub profile: SynthProfile,
    /// Output directory, created if absent; its four files are overwritten.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}
