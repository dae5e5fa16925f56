//! `refmatch eval`: precision, recall and F1 of a config against labelled data.

use std::collections::HashSet;
use std::time::Instant;

use crate::cli::EvalArgs;
use crate::error::{Error, Result};
use crate::evaluate::{self, Prediction, Report};
use crate::ingest;
use crate::matcher::Mode;

pub fn run(args: &EvalArgs) -> Result<()> {
    let started = Instant::now();
    let offline = super::load_offline(&args.inputs)?;
    let matcher = &offline.matcher;
    let reference = matcher.reference();
    let documents = &offline.documents;

    let document_ids: HashSet<&str> = documents.ids.iter().map(String::as_str).collect();
    let truth_csv = ingest::read_csv(&args.truth, args.inputs.encoding)?;
    let truth =
        ingest::truth_from_csv(truth_csv, &document_ids, &|id| matcher.row_of(id).is_some())?;

    let mode = if args.inputs.exhaustive {
        Mode::Exhaustive
    } else {
        Mode::Indexed
    };
    let bar = super::progress_bar(documents.ids.len(), "matching");
    let mut tops: Vec<Option<(u32, f64)>> = Vec::with_capacity(documents.ids.len());
    offline.for_each_chunk(mode, &|| bar.inc(1), |_, _, outcomes| {
        tops.extend(
            outcomes
                .iter()
                .map(|o| o.candidates.first().map(|c| (c.row, c.confidence))),
        );
        Ok(())
    })?;
    bar.finish_and_clear();
    let predictions: Vec<Prediction> = documents
        .ids
        .iter()
        .zip(&tops)
        .map(|(id, top)| Prediction {
            document_id: id,
            top: top.map(|(row, confidence)| (reference.id(row as usize), confidence)),
        })
        .collect();
    let mut report = evaluate::evaluate(
        &predictions,
        &truth,
        matcher.config().threshold,
        reference.len(),
        args.sweep,
    );
    report.elapsed_ms = started.elapsed().as_millis() as u64;

    let text = if args.json {
        serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))? + "\n"
    } else {
        summary(&report)
    };
    crate::cmd::print_stdout(&text)
}

fn summary(r: &Report) -> String {
    let mut s = format!(
        "documents        {}\nreference rows   {}\nthreshold        {:.2}\n\
         true positives   {}\nfalse positives  {}\nfalse negatives  {}\n\
         precision        {:.4}\nrecall           {:.4}\nf1               {:.4}\n\
         best threshold   {:.2} (f1 {:.4})\nelapsed          {} ms\n",
        r.documents,
        r.reference_rows,
        r.threshold,
        r.tp,
        r.fp,
        r.fn_,
        r.precision,
        r.recall,
        r.f1,
        r.best_threshold,
        r.best_f1,
        r.elapsed_ms
    );
    if let Some(sweep) = &r.sweep {
        s.push_str("\nthreshold     tp     fp     fn  precision  recall      f1\n");
        for p in sweep {
            s.push_str(&format!(
                "{:>9.2} {:>6} {:>6} {:>6} {:>10.4} {:>7.4} {:>7.4}\n",
                p.threshold, p.tp, p.fp, p.fn_, p.precision, p.recall, p.f1
            ));
        }
    }
    s
}
