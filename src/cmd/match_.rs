//! `refmatch match`: one result per document, in input order, as CSV or JSON Lines. With a
//! one-to-one assignment `matched_reference_row_id` is the assigned row, `confidence` its
//! confidence (the first candidate's when nothing is matched) and JSON Lines add `assigned`.
//!
//! `--shard I/N` matches only the documents of one shard (`crate::shard`); with a
//! one-to-one config the shard cannot assign (the rows its documents compete for are also
//! wanted by other shards' documents), so it writes each result before the assignment
//! with the document's `assignable` rows, and `refmatch assign` finishes the job.

use crate::export::spreadsheet_safe;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::cli::MatchArgs;
use crate::error::{Error, Result};
use crate::matcher::{CandidateEvidence, Mode};

pub fn run(args: &MatchArgs) -> Result<()> {
    let mut offline = super::load_offline(&args.inputs)?;
    offline.shard = args.shard;
    offline.defer_assignment = args.candidates;
    let mode = if args.inputs.exhaustive {
        Mode::Exhaustive
    } else {
        Mode::Indexed
    };
    let matcher = &offline.matcher;
    let one_to_one = matcher.config().assignment == crate::config::Assignment::OneToOne;
    // A shard of a one-to-one config writes candidates for `refmatch assign`.
    let candidates_out = one_to_one && !offline.assigns_here();
    let mut out = Output::open(args.out.as_deref())?;
    if candidates_out && !out.is_jsonl() {
        return Err(Error::invalid(
            "arguments",
            "--out",
            "with a one-to-one config a shard (or --candidates) writes candidates for \
             `refmatch assign` as JSON Lines: give a file ending in .jsonl",
        ));
    }
    let bar = super::progress_bar(offline.documents.ids.len() * offline.passes(), "matching");
    let ids = &offline.documents.ids;
    let reference = matcher.reference();
    offline.for_each_chunk(mode, &|| bar.inc(1), |positions, values, outcomes| {
        // `assign` cannot match a document again, so a shard writes each document's
        // complete list where matching found only its head (see `Matcher::settle`); the
        // candidates stay those of the unsharded run.
        let lists: Vec<Option<Vec<(u32, f64)>>> = if candidates_out {
            offline.pool.install(|| {
                values
                    .par_iter()
                    .zip(outcomes)
                    .map(|(doc, outcome)| {
                        Some(if outcome.complete {
                            outcome.assignable.clone()
                        } else {
                            let doc: Vec<Option<&str>> = doc.iter().map(|v| v.as_deref()).collect();
                            matcher.full_assignable(&doc, &[])
                        })
                    })
                    .collect()
            })
        } else {
            vec![None; outcomes.len()]
        };
        for (((doc, outcome), &at), list) in values.iter().zip(outcomes).zip(positions).zip(lists) {
            let doc: Vec<Option<&str>> = doc.iter().map(|v| v.as_deref()).collect();
            let assignable = list.map(|list| {
                list.iter()
                    .map(|&(row, c)| (reference.id(row as usize), c))
                    .collect()
            });
            out.write(&Line {
                document_id: ids.get(at).map(String::as_str),
                matched: outcome.matched.map(|row| reference.id(row as usize)),
                confidence: outcome.confidence,
                candidates: matcher.candidates(&doc, outcome),
                // Only a one-to-one assignment can move a match, so only it says whether
                // it did.
                assigned: one_to_one.then_some(outcome.assigned),
                assignable,
            })?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    out.finish()
}

/// One result as `match` and `assign` write it (a JSON Lines line; CSV takes the first
/// four as columns).
#[derive(Serialize)]
pub(super) struct Line<'a> {
    pub document_id: Option<&'a str>,
    #[serde(rename = "matched_reference_row_id")]
    pub matched: Option<&'a str>,
    pub confidence: f64,
    pub candidates: Vec<CandidateEvidence>,
    /// Present with a one-to-one config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned: Option<bool>,
    /// `[[row id, confidence], ...]`: what a shard's document brings to `refmatch assign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignable: Option<Vec<(&'a str, f64)>>,
}

/// Where results go: CSV, or JSON Lines for a path ending in `.jsonl`; stdout by default.
pub(super) enum Output {
    Jsonl(BufWriter<Box<dyn Write>>, PathBuf),
    Csv(Box<csv::Writer<Box<dyn Write>>>, PathBuf),
}

impl Output {
    pub fn open(out: Option<&Path>) -> Result<Output> {
        let jsonl = out
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
        let (sink, path): (Box<dyn Write>, PathBuf) = match out {
            Some(path) => (
                Box::new(File::create(path).map_err(|e| Error::io(path, e))?),
                path.to_path_buf(),
            ),
            None => (
                Box::new(std::io::stdout().lock()),
                PathBuf::from("<stdout>"),
            ),
        };
        if jsonl {
            return Ok(Output::Jsonl(BufWriter::new(sink), path));
        }
        let mut out = csv::Writer::from_writer(sink);
        out.write_record([
            "document_id",
            "matched_reference_row_id",
            "confidence",
            "candidates",
        ])
        .map_err(|e| csv_error(&path, e))?;
        Ok(Output::Csv(Box::new(out), path))
    }

    pub fn is_jsonl(&self) -> bool {
        matches!(self, Output::Jsonl(..))
    }

    pub fn write(&mut self, line: &Line) -> Result<()> {
        match self {
            Output::Jsonl(out, path) => serde_json::to_writer(&mut *out, line)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
                .map_err(|e| Error::io(path, e)),
            // People open this file in a spreadsheet: ids that read as formulas are
            // neutralised as exports are (the JSON cell starts with `[`).
            Output::Csv(out, path) => out
                .write_record([
                    &*spreadsheet_safe(line.document_id.unwrap_or("")),
                    &*spreadsheet_safe(line.matched.unwrap_or("")),
                    &json!(line.confidence).to_string(),
                    &serde_json::to_string(&line.candidates).unwrap_or_default(),
                ])
                .map_err(|e| csv_error(path, e)),
        }
    }

    pub fn finish(self) -> Result<()> {
        match self {
            Output::Jsonl(mut out, path) => out.flush().map_err(|e| Error::io(&path, e)),
            Output::Csv(mut out, path) => out.flush().map_err(|e| Error::io(&path, e)),
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        other => Error::Internal(format!("{other:?}")),
    }
}
