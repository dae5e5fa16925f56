//! `refmatch match`: one result per document, in input order, as CSV or JSON Lines. With a
//! one-to-one assignment `matched_reference_row_id` is the assigned row, `confidence` its
//! confidence (the first candidate's when nothing is matched) and JSON Lines add `assigned`.

use crate::export::spreadsheet_safe;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::json;

use crate::cli::MatchArgs;
use crate::error::{Error, Result};
use crate::matcher::Mode;

pub fn run(args: &MatchArgs) -> Result<()> {
    let offline = super::load_offline(&args.inputs)?;
    let mode = if args.inputs.exhaustive {
        Mode::Exhaustive
    } else {
        Mode::Indexed
    };
    let matcher = &offline.matcher;
    let bar = super::progress_bar(offline.documents.ids.len() * offline.passes(), "matching");
    let ids = &offline.documents.ids;

    let jsonl = args
        .out
        .as_deref()
        .and_then(Path::extension)
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    let (sink, path): (Box<dyn Write>, &Path) = match &args.out {
        Some(path) => (
            Box::new(File::create(path).map_err(|e| Error::io(path, e))?),
            path,
        ),
        None => (Box::new(std::io::stdout().lock()), Path::new("<stdout>")),
    };
    let io_err = |e: std::io::Error| Error::io(path, e);
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        other => Error::Internal(format!("{other:?}")),
    };
    let reference = matcher.reference();
    let one_to_one = matcher.config().assignment == crate::config::Assignment::OneToOne;
    if jsonl {
        let mut out = BufWriter::new(sink);
        offline.for_each_chunk(mode, &|| bar.inc(1), |first, values, outcomes| {
            for (i, (doc, outcome)) in values.iter().zip(outcomes).enumerate() {
                let doc: Vec<Option<&str>> = doc.iter().map(|v| v.as_deref()).collect();
                let mut line = json!({
                    "document_id": ids.get(first + i),
                    "matched_reference_row_id": outcome.matched.map(|row| reference.id(row as usize)),
                    "confidence": outcome.confidence,
                    "candidates": matcher.candidates_json(&doc, outcome),
                });
                // Only a one-to-one assignment can move a match, so only it says whether it did.
                if let (true, Some(object)) = (one_to_one, line.as_object_mut()) {
                    object.insert("assigned".into(), json!(outcome.assigned));
                }
                writeln!(out, "{line}").map_err(io_err)?;
            }
            Ok(())
        })?;
        bar.finish_and_clear();
        return out.flush().map_err(io_err);
    }
    let mut out = csv::Writer::from_writer(sink);
    out.write_record([
        "document_id",
        "matched_reference_row_id",
        "confidence",
        "candidates",
    ])
    .map_err(csv_err)?;
    offline.for_each_chunk(mode, &|| bar.inc(1), |first, values, outcomes| {
        for (i, (doc, outcome)) in values.iter().zip(outcomes).enumerate() {
            let doc: Vec<Option<&str>> = doc.iter().map(|v| v.as_deref()).collect();
            let matched = outcome.matched.map(|row| reference.id(row as usize));
            // People open this file in a spreadsheet: ids that read as formulas are
            // neutralised as exports are (the JSON cell starts with `[`).
            out.write_record([
                &*spreadsheet_safe(ids.get(first + i).map_or("", String::as_str)),
                &*spreadsheet_safe(matched.unwrap_or("")),
                &json!(outcome.confidence).to_string(),
                &matcher.candidates_json(&doc, outcome).to_string(),
            ])
            .map_err(csv_err)?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    out.flush().map_err(io_err)
}
