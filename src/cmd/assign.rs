//! `refmatch assign`: the one-to-one assignment over the candidate files that
//! `match --shard I/N` (or `match --candidates`) writes with a one-to-one config. Each
//! line is a document's result before the assignment plus its `assignable` rows; the
//! assignment over all of them (`matcher::assign::assign_by_id`, the rule `match` applies
//! in one process) decides each document's matched row, and the lines are written again
//! as `match` would have written them.
//!
//! Two passes over the files: the first keeps only each document's id, confidence and
//! assignable rows (a few rows per document: the candidate graph), the second streams the
//! lines, with their candidates and evidence, to the output. Memory holds the graph, never
//! the evidence. Needs neither the reference table nor the index.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::match_::{Line, Output};
use crate::cli::AssignArgs;
use crate::error::{Error, Result};
use crate::matcher::assign::assign_by_id;
use crate::matcher::CandidateEvidence;

/// What the assignment needs of a candidates line; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Head {
    document_id: String,
    confidence: f64,
    assignable: Option<Vec<(String, f64)>>,
}

/// The candidates of a line, written through unchanged.
#[derive(Deserialize)]
struct Candidates {
    candidates: Vec<CandidateEvidence>,
}

/// One document in the candidate graph.
struct Node {
    id: String,
    confidence: f64,
    assignable: Vec<(String, f64)>,
}

pub fn run(args: &AssignArgs) -> Result<()> {
    let mut nodes: Vec<Node> = Vec::new();
    for path in &args.candidates {
        for_each_line(path, |n, line| {
            let head: Head = serde_json::from_str(line).map_err(|e| {
                bad(
                    path,
                    n,
                    &format!("is not a candidates line of `match --shard` ({e})"),
                )
            })?;
            let assignable = head.assignable.ok_or_else(|| {
                bad(
                    path,
                    n,
                    "has no assignable rows: write it with `match --shard` and a one-to-one config",
                )
            })?;
            nodes.push(Node {
                id: head.document_id,
                confidence: head.confidence,
                assignable,
            });
            Ok(())
        })?;
    }
    let mut seen = HashSet::new();
    for node in &nodes {
        if !seen.insert(node.id.as_str()) {
            return Err(Error::invalid(
                "candidates",
                "document_id",
                format!(
                    "\"{}\" is in more than one line: is a shard's file given twice?",
                    crate::error::loggable(&node.id)
                ),
            ));
        }
    }
    drop(seen);
    let graph: Vec<(&str, Vec<(&str, f64)>)> = nodes
        .iter()
        .map(|d| {
            let rows = d.assignable.iter().map(|(r, c)| (r.as_str(), *c)).collect();
            (d.id.as_str(), rows)
        })
        .collect();
    let chosen = assign_by_id(&graph);
    drop(graph);

    let mut out = Output::open(args.out.as_deref())?;
    let mut next = nodes.iter().zip(chosen);
    for path in &args.candidates {
        for_each_line(path, |n, line| {
            let (node, got) = next
                .next()
                .ok_or_else(|| bad(path, n, "appeared while assign was reading the files"))?;
            let read: Candidates = serde_json::from_str(line)
                .map_err(|_| bad(path, n, "changed while assign was reading the files"))?;
            let own = node.assignable.first().map(|(row, _)| row.as_str());
            let row = got.and_then(|i| node.assignable.get(i));
            let matched = row.map(|(id, _)| id.as_str());
            out.write(&Line {
                document_id: Some(&node.id),
                matched,
                confidence: row.map_or(node.confidence, |&(_, c)| c),
                candidates: read.candidates,
                assigned: Some(matched != own),
                assignable: None,
            })
        })?;
    }
    out.finish()
}

fn bad(path: &Path, n: usize, what: &str) -> Error {
    Error::invalid(path.display().to_string(), format!("line {n}"), what)
}

/// Calls `f` with each non-empty line of `path` and its 1-based number.
fn for_each_line(path: &Path, mut f: impl FnMut(usize, &str) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if !line.trim().is_empty() {
            f(n + 1, &line)?;
        }
    }
    Ok(())
}
