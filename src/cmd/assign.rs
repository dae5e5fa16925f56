//! `refmatch assign`: the one-to-one assignment over the candidate files that
//! `match --shard I/N` writes with a one-to-one config. Each line is a document's result
//! before the assignment plus its `assignable` rows; the assignment over all of them
//! (`matcher::assign::assign_by_id`, the rule `match` applies in one process) decides each
//! document's matched row, and the lines are written as `match` would have written them.
//! Needs neither the reference table nor the index: the candidate graph is small.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::match_::{Line, Output};
use crate::cli::AssignArgs;
use crate::error::{Error, Result};
use crate::matcher::assign::assign_by_id;

/// One document of a candidate file.
struct Pending {
    id: String,
    confidence: f64,
    candidates: Value,
    assignable: Vec<(String, f64)>,
}

pub fn run(args: &AssignArgs) -> Result<()> {
    let mut documents: Vec<Pending> = Vec::new();
    for path in &args.candidates {
        read_candidates(path, &mut documents)?;
    }
    let mut seen = HashSet::new();
    for d in &documents {
        if !seen.insert(d.id.as_str()) {
            return Err(Error::invalid(
                "candidates",
                "document_id",
                format!(
                    "\"{}\" is in more than one line: is a shard's file given twice?",
                    crate::error::loggable(&d.id)
                ),
            ));
        }
    }
    let graph: Vec<(&str, Vec<(&str, f64)>)> = documents
        .iter()
        .map(|d| {
            let rows = d.assignable.iter().map(|(r, c)| (r.as_str(), *c)).collect();
            (d.id.as_str(), rows)
        })
        .collect();
    let chosen = assign_by_id(&graph);
    let mut out = Output::open(args.out.as_deref())?;
    for (d, got) in documents.iter().zip(chosen) {
        let own = d.assignable.first().map(|(row, _)| row.as_str());
        let row = got.and_then(|i| d.assignable.get(i));
        let matched = row.map(|(id, _)| id.as_str());
        out.write(&Line {
            document_id: Some(&d.id),
            matched,
            confidence: row.map_or(d.confidence, |&(_, c)| c),
            candidates: d.candidates.clone(),
            assigned: Some(matched != own),
            assignable: None,
        })?;
    }
    out.finish()
}

fn read_candidates(path: &Path, documents: &mut Vec<Pending>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| Error::invalid(name.clone(), format!("line {}", n + 1), what);
        let value: Value = serde_json::from_str(&line)
            .map_err(|_| bad("is not a JSON object (a candidates line of `match --shard`)"))?;
        let id = value
            .get("document_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("has no document_id"))?;
        let assignable = value
            .get("assignable")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad("has no assignable rows: write it with `match --shard` and a one-to-one config")
            })?
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(row), c]) => c.as_f64().map(|c| (row.clone(), c)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("assignable is not a list of [row id, confidence]"))?;
        documents.push(Pending {
            id: id.to_string(),
            confidence: value
                .get("confidence")
                .and_then(Value::as_f64)
                .ok_or_else(|| bad("has no confidence"))?,
            candidates: value.get("candidates").cloned().unwrap_or(Value::Null),
            assignable,
        });
    }
    Ok(())
}
