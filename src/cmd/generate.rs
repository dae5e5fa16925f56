//! `refmatch generate-config`: a proposed config for a reference table and sample documents
//! (the strategy generator), fitted to labelled data when `--truth` is given.

use std::collections::HashSet;
use std::sync::Arc;

use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::ingest;
use crate::strategy::calibrate;
use crate::strategy::{self, DocumentSample};

pub fn run(args: &GenerateArgs) -> Result<()> {
    let pool = crate::matcher::thread_pool(args.threads)?;
    let reference = pool.install(|| {
        ingest::read_reference(&args.reference, args.encoding, args.id_column.as_deref())
    })?;
    let (sample, scan) = DocumentSample::read(
        &args.documents,
        args.encoding,
        args.document_id_column.as_deref(),
    )?;
    let reference = Arc::new(reference);
    let mut proposal = pool.install(|| strategy::propose(&reference, &sample))?;
    proposal = calibrate::calibrate(proposal, Arc::clone(&reference), &sample, &pool)?;
    if let Some(c) = &proposal.calibration {
        eprintln!(
            "calibrated without labels: {:.0}% of documents expected to match, expected F1 {:.4} at threshold {:.2}",
            c.expected_match_rate * 100.0,
            c.expected_f1,
            c.threshold
        );
    }
    if let Some(truth_path) = &args.truth {
        let truth_csv = ingest::read_csv(truth_path, args.encoding)?;
        let document_ids: HashSet<&str> = scan.ids.iter().map(String::as_str).collect();
        let reference_ids: HashSet<&str> = reference.ids.iter().collect();
        let mut labels =
            ingest::truth_from_csv(truth_csv, &document_ids, &|id| reference_ids.contains(id))?;
        // the truth-file rule (docs/CONTRACT.md, Command line): a document absent from the file has no true row.
        for id in &sample.ids {
            labels.entry(id.clone()).or_insert(None);
        }
        proposal = calibrate::fit(proposal, Arc::clone(&reference), &sample, &labels, &pool)?;
        if let Some(m) = &proposal.metrics {
            eprintln!(
                "fitted to {}: F1 {:.4} before, {:.4} after (cross-validated {:.4}), threshold {:.2}",
                truth_path.display(),
                m.f1_before,
                m.f1_after,
                m.f1_cross_validated,
                m.threshold
            );
        }
    }
    let text = serde_json::to_string_pretty(&proposal.config)
        .map_err(|e| Error::Internal(format!("cannot encode the config: {e}")))?;
    super::print_stdout(&format!("{text}\n"))
}
