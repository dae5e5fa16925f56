//! `refmatch eval`: precision, recall and F1 of a config against labelled data.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::EvalArgs;
use crate::error::{Error, Result};
use crate::evaluate::{self, Prediction, Report};
use crate::ingest::{self, Truth};
use crate::matcher::{Candidate, MatchOutcome, Matcher, Mode};
use crate::report::{self, Case, HtmlReport, MappingView, RowView};

pub fn run(args: &EvalArgs) -> Result<()> {
    let started = Instant::now();
    // Checked before any matching: an unwritable report path fails at once, not after
    // minutes of work.
    let report_file = args
        .report
        .as_deref()
        .map(PendingFile::create)
        .transpose()?;
    let offline = super::load_offline(&args.inputs)?;
    let matcher = &offline.matcher;
    let reference = matcher.reference();
    let documents = &offline.documents;

    let document_ids: HashSet<&str> = documents.ids.iter().map(String::as_str).collect();
    let truth_csv = ingest::read_csv(&args.truth, args.inputs.encoding)?;
    let known = matcher.reference_ids(ingest::truth_row_ids(&truth_csv));
    let truth = ingest::truth_from_csv(truth_csv, &document_ids, &|id| known.contains(id))?;

    let mode = if args.inputs.exhaustive {
        Mode::Exhaustive
    } else {
        Mode::Indexed
    };
    let mut worst = report_file.as_ref().map(|_| Worst::default());
    let tops = match worst.as_mut() {
        // Only the report needs each document's candidates and evidence.
        None => {
            let bar = super::progress_bar(documents.ids.len(), "matching");
            let tops = offline.predictions(mode, &|| bar.inc(1))?;
            bar.finish_and_clear();
            tops
        }
        Some(worst) => {
            let bar = super::progress_bar(documents.ids.len() * offline.passes(), "matching");
            let mut tops = Vec::with_capacity(documents.ids.len());
            offline.for_each_chunk(mode, &|| bar.inc(1), |positions, values, outcomes| {
                tops.extend(outcomes.iter().map(MatchOutcome::prediction));
                let first = positions.first().copied().unwrap_or(0);
                worst.add(matcher, &truth, &documents.ids, first, values, outcomes);
                Ok(())
            })?;
            bar.finish_and_clear();
            tops
        }
    };
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
        args.sweep || report_file.is_some(),
    );
    // The report needs the sweep; stdout shows it only with --sweep, as before.
    let sweep = if args.sweep {
        report.sweep.clone()
    } else {
        report.sweep.take()
    };
    if let (Some(file), Some(worst)) = (report_file, worst) {
        let html = report::render(&HtmlReport {
            inputs: report::Inputs {
                reference: args
                    .inputs
                    .index
                    .as_deref()
                    .or(args.inputs.reference.as_deref())
                    .map(file_name)
                    .unwrap_or_default(),
                documents: file_name(&args.inputs.documents),
                config: file_name(&args.inputs.config),
                truth: file_name(&args.truth),
                exhaustive: args.inputs.exhaustive,
            },
            report: &report,
            sweep: sweep.as_deref().unwrap_or(&[]),
            confusion: evaluate::confusion(&predictions, &truth, matcher.config().threshold),
            mappings: matcher
                .config()
                .mappings
                .iter()
                .map(|m| MappingView {
                    name: m.name.clone(),
                    source: m.source.clone(),
                    target: m.target.clone(),
                    weight: m.weight,
                })
                .collect(),
            false_positives: worst
                .false_positives
                .iter()
                .map(|k| k.case(matcher, &documents.ids))
                .collect(),
            false_negatives: worst
                .false_negatives
                .iter()
                .map(|k| k.case(matcher, &documents.ids))
                .collect(),
            false_positives_total: worst.false_positives_total,
            false_negatives_total: worst.false_negatives_total,
        });
        file.commit(html.as_bytes())?;
    }
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

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// A document kept as one of the worst cases, with what it takes to explain it.
struct Kept {
    /// Smaller is worse: minus the predicted confidence for a false positive, the true
    /// row's confidence for a false negative.
    badness: f64,
    position: usize,
    values: Vec<Option<String>>,
    top: Option<Candidate>,
    predicted: bool,
    true_row: Option<Candidate>,
}

impl Kept {
    fn case(&self, matcher: &Matcher, ids: &[String]) -> Case {
        let values: Vec<Option<&str>> = self.values.iter().map(|v| v.as_deref()).collect();
        let reference = matcher.reference();
        let row_view = |c: &Candidate| RowView {
            id: reference.id(c.row as usize).to_string(),
            confidence: c.confidence,
            values: reference
                .columns
                .iter()
                .zip(&reference.values)
                .map(|(name, column)| (name.clone(), column.get(c.row as usize).to_string()))
                .collect(),
            evidence: matcher.evidence(&values, c),
        };
        Case {
            document_id: ids.get(self.position).cloned().unwrap_or_default(),
            values: self.values.clone(),
            top: self.top.as_ref().map(row_view),
            predicted: self.predicted,
            true_row: self.true_row.as_ref().map(row_view),
        }
    }
}

/// The worst false positives and false negatives, gathered chunk by chunk so that memory
/// holds a few documents whatever the size of the input.
#[derive(Default)]
struct Worst {
    false_positives: Vec<Kept>,
    false_negatives: Vec<Kept>,
    false_positives_total: u64,
    false_negatives_total: u64,
}

impl Worst {
    /// Judges one chunk as `evaluate` does (the matched row is the prediction: the top
    /// candidate when its confidence reaches the threshold, or the row a one-to-one
    /// assignment gave) and keeps the worst of each kind.
    fn add(
        &mut self,
        matcher: &Matcher,
        truth: &Truth,
        ids: &[String],
        first: usize,
        values: &[Vec<Option<String>>],
        outcomes: &[MatchOutcome],
    ) {
        for (i, (doc, outcome)) in values.iter().zip(outcomes).enumerate() {
            let position = first + i;
            let true_row = ids
                .get(position)
                .and_then(|id| truth.get(id.as_str()))
                .and_then(|row| row.as_deref())
                .and_then(|row| matcher.row_of(row));
            let predicted = outcome.matched;
            let false_positive = predicted.is_some_and(|row| Some(row) != true_row);
            let false_negative = true_row.is_some() && predicted != true_row;
            if !false_positive && !false_negative {
                continue;
            }
            let refs: Vec<Option<&str>> = doc.iter().map(|v| v.as_deref()).collect();
            // The row shown as the document's answer: the matched one (an assignment may
            // have matched a row below the first candidate), else the first candidate.
            let first = outcome.candidates.first();
            let top = match predicted {
                Some(row) if first.is_some_and(|c| c.row != row) => {
                    Some(matcher.score_row(&refs, row))
                }
                _ => first.cloned(),
            };
            // The true row is scored on its own: it may be outside the top five, or not
            // reached by the index at all, and its evidence is what explains the miss.
            let true_candidate = true_row.map(|row| matcher.score_row(&refs, row));
            let kept = |badness: f64| Kept {
                badness,
                position,
                values: doc.clone(),
                top: top.clone(),
                predicted: predicted.is_some(),
                true_row: true_candidate.clone(),
            };
            if false_positive {
                self.false_positives_total += 1;
                let confidence = top.as_ref().map_or(0.0, |c| c.confidence);
                self.false_positives.push(kept(-confidence));
            }
            if false_negative {
                self.false_negatives_total += 1;
                let confidence = true_candidate.as_ref().map_or(0.0, |c| c.confidence);
                self.false_negatives.push(kept(confidence));
            }
        }
        for list in [&mut self.false_positives, &mut self.false_negatives] {
            list.sort_by(|a, b| {
                a.badness
                    .total_cmp(&b.badness)
                    .then(a.position.cmp(&b.position))
            });
            list.truncate(report::WORST_CASES);
        }
    }
}

/// The report is written to a temporary file beside its destination and renamed over it
/// at the end, so a failed eval never leaves a half-written or stale-looking report.
struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl PendingFile {
    fn create(dest: &Path) -> Result<PendingFile> {
        let name = dest
            .file_name()
            .ok_or_else(|| unwritable(dest, "it names no file"))?;
        if dest.is_dir() {
            return Err(unwritable(dest, "it is a directory"));
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        File::create(&tmp).map_err(|e| unwritable(dest, e))?;
        Ok(PendingFile {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        })
    }

    fn commit(mut self, contents: &[u8]) -> Result<()> {
        let written = File::create(&self.tmp)
            .and_then(|mut f| f.write_all(contents).and_then(|_| f.sync_all()))
            .and_then(|_| std::fs::rename(&self.tmp, &self.dest));
        written.map_err(|e| unwritable(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A report path the user can fix: bad usage, exit 2, like an unreadable input.
fn unwritable(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::invalid(
        path.display().to_string(),
        "",
        format!("cannot write the report: {why}"),
    )
}
