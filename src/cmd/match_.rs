//! `refmatch match`: one result per document, in input order, as CSV or JSON Lines.

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
    let values = offline.documents.values_for(matcher.sources());
    let outcomes = {
        let bar = super::progress_bar(values.len(), "matching");
        let outcomes = matcher.match_many(&values, mode, &offline.pool, &|| bar.inc(1));
        bar.finish_and_clear();
        outcomes
    };

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
    let rows = offline.documents.ids.iter().zip(&values).zip(&outcomes);
    if jsonl {
        let mut out = BufWriter::new(sink);
        for ((id, doc), outcome) in rows {
            let line = json!({
                "document_id": id,
                "matched_reference_row_id": outcome.matched.map(|row| reference.id(row as usize)),
                "confidence": outcome.confidence,
                "candidates": matcher.candidates_json(doc, outcome),
            });
            writeln!(out, "{line}").map_err(io_err)?;
        }
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
    for ((id, doc), outcome) in rows {
        let matched = outcome.matched.map(|row| reference.id(row as usize));
        out.write_record([
            id.as_str(),
            matched.unwrap_or(""),
            &json!(outcome.confidence).to_string(),
            &matcher.candidates_json(doc, outcome).to_string(),
        ])
        .map_err(csv_err)?;
    }
    out.flush().map_err(io_err)
}
