//! Command-line definitions (clap). No logic: `cmd` runs what is parsed here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ingest::Encoding;

#[derive(Debug, Parser)]
#[command(
    name = "refmatch",
    version,
    about = "Match extracted document fields to reference data",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Match documents against a reference table offline, without a database.
    Match(MatchArgs),
    /// Evaluate a config offline against labelled data (precision, recall, F1).
    Eval(EvalArgs),
    /// Write a generated vendor-invoice set (reference, documents, truth, config) to a directory.
    Synth(SynthArgs),
}

/// The inputs shared by the offline commands.
#[derive(Debug, Args)]
pub struct OfflineInputs {
    /// Reference table (CSV).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
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
    /// Output directory, created if absent; its four files are overwritten.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}
