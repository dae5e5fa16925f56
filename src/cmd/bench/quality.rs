//! `refmatch bench quality`: the README's quality table. Per data set (the fixtures, the
//! public benchmarks under `--benchmarks` when present, a generated set of the realistic
//! profile), it evaluates the hand-written config, the config `generate-config` proposes
//! without labels, and the one it fits with labels, each as proposed and with the other
//! assignment, and prints one Markdown table: F1 at the config's own threshold and the
//! best F1 over thresholds. A benchmark, not a test: it takes about a minute.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::cli::QualityBenchArgs;
use crate::config::{Assignment, RawConfig};
use crate::error::{Error, Result};
use crate::ingest::{self, Encoding, Truth};
use crate::matcher::{Matcher, ReferenceTable};
use crate::strategy::calibrate;
use crate::strategy::{self, DocumentSample};
use crate::synth::{SynthOptions, SynthProfile};

/// One labelled data set and its hand-written config.
struct DataSet {
    name: String,
    reference: Arc<ReferenceTable>,
    documents: DocumentSample,
    truth: Truth,
    hand: RawConfig,
}

/// F1 at the config's threshold and the best over thresholds.
struct Scores {
    f1: f64,
    best_f1: f64,
    best_threshold: f64,
}

pub fn run(args: &QualityBenchArgs) -> Result<()> {
    let pool = crate::matcher::thread_pool(args.threads)?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut sets = vec![load(
        "fixtures (150 x 304)",
        &root.join("fixtures/invoices"),
        &root.join("fixtures/invoices/config.json"),
        &pool,
    )?];
    for (name, dir, config) in [
        (
            "DBLP-ACM (2,294 x 2,616)",
            "dblp-acm",
            "benches/dblp-acm/config.json",
        ),
        (
            "Amazon-Google (1,354 x 3,039)",
            "amazon-google",
            "benches/amazon-google/config.json",
        ),
    ] {
        let dir = args.benchmarks.join(dir);
        if dir.join("truth.csv").exists() {
            sets.push(load(name, &dir, &root.join(config), &pool)?);
        } else {
            eprintln!(
                "SKIPPED {name}: {} is absent (the public benchmarks live in ../shared/benchmarks)",
                dir.display()
            );
        }
    }
    let synth_dir =
        std::env::temp_dir().join(format!("refmatch-quality-{}", crate::store::new_id()));
    let options = SynthOptions {
        reference_rows: args.synth_rows,
        documents: args.synth_documents,
        seed: args.seed,
        profile: SynthProfile::Realistic,
    };
    let generated = crate::cmd::synth::write_set(&options, &synth_dir).and_then(|_| {
        load(
            &format!(
                "realistic invoices ({} x {}, seed {})",
                args.synth_documents, args.synth_rows, args.seed
            ),
            &synth_dir,
            &synth_dir.join("config.json"),
            &pool,
        )
    });
    let _ = std::fs::remove_dir_all(&synth_dir);
    sets.push(generated?);

    let mut out = String::from(
        "| data | config | assignment | F1 at its threshold | best F1 (threshold) | notes |\n\
         |---|---|---|---|---|---|\n",
    );
    for set in &sets {
        eprintln!("{}", set.name);
        rows(
            &mut out,
            set,
            "hand-written",
            &set.hand,
            String::new(),
            &pool,
        )?;

        let started = Instant::now();
        let proposal = pool.install(|| strategy::propose(&set.reference, &set.documents))?;
        let proposal =
            calibrate::calibrate(proposal, Arc::clone(&set.reference), &set.documents, &pool)?;
        let generate_s = started.elapsed().as_secs_f64();
        let note = format!("generated in {generate_s:.1} s");
        rows(
            &mut out,
            set,
            "generated, no labels",
            &proposal.config,
            note,
            &pool,
        )?;

        let started = Instant::now();
        let labels: HashMap<String, Option<String>> = set.truth.clone();
        let fitted = calibrate::fit(
            proposal,
            Arc::clone(&set.reference),
            &set.documents,
            &labels,
            &pool,
        )?;
        let fit_s = started.elapsed().as_secs_f64();
        let note = match &fitted.metrics {
            Some(m) => format!(
                "fitted in {fit_s:.1} s; 5-fold cross-validated F1 {:.3}",
                m.f1_cross_validated
            ),
            None => format!("fitted in {fit_s:.1} s"),
        };
        rows(
            &mut out,
            set,
            "fitted to the truth",
            &fitted.config,
            note,
            &pool,
        )?;
    }
    crate::cmd::print_stdout(&out)
}

/// The config as given and with the other assignment, one table row each.
fn rows(
    out: &mut String,
    set: &DataSet,
    label: &str,
    config: &RawConfig,
    note: String,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let own = config.assignment.unwrap_or_default();
    let other = match own {
        Assignment::None => Assignment::OneToOne,
        Assignment::OneToOne => Assignment::None,
    };
    for (assignment, note) in [(own, note), (other, String::new())] {
        let mut c = config.clone();
        c.assignment = Some(assignment);
        let s = score(set, &c, pool)?;
        let name = match assignment {
            Assignment::None => "none",
            Assignment::OneToOne => "one_to_one",
        };
        let proposed = if assignment == own && label != "hand-written" {
            " (proposed)"
        } else {
            ""
        };
        out.push_str(&format!(
            "| {} | {label} | {name}{proposed} | {:.3} | {:.3} ({:.2}) | {note} |\n",
            set.name, s.f1, s.best_f1, s.best_threshold
        ));
    }
    Ok(())
}

fn score(set: &DataSet, raw: &RawConfig, pool: &rayon::ThreadPool) -> Result<Scores> {
    let config = raw.validate("bench quality")?;
    let matcher = pool.install(|| Matcher::build(config, Arc::clone(&set.reference)))?;
    let values = calibrate::source_values(matcher.config(), &set.documents)?;
    let report =
        calibrate::evaluate_sample(&matcher, &values, &set.documents.ids, &set.truth, pool);
    Ok(Scores {
        f1: report.f1,
        best_f1: report.best_f1,
        best_threshold: report.best_threshold,
    })
}

fn load(name: &str, dir: &Path, config: &Path, pool: &rayon::ThreadPool) -> Result<DataSet> {
    let reference =
        pool.install(|| ingest::read_reference(&dir.join("reference.csv"), Encoding::Utf8, None))?;
    let (documents, scan) =
        crate::strategy::DocumentSample::read(&dir.join("documents.csv"), Encoding::Utf8, None)?;
    if documents.ids.len() != scan.ids.len() {
        return Err(Error::invalid(
            "bench quality",
            name,
            "has more documents than a sample holds",
        ));
    }
    let document_ids: HashSet<&str> = scan.ids.iter().map(String::as_str).collect();
    let reference_ids: HashSet<&str> = reference.ids.iter().collect();
    let mut truth = ingest::truth_from_csv(
        ingest::read_csv(&dir.join("truth.csv"), Encoding::Utf8)?,
        &document_ids,
        &|id| reference_ids.contains(id),
    )?;
    // the truth-file rule (docs/CONTRACT.md, Command line): a document absent from the file has no true row.
    for id in &documents.ids {
        truth.entry(id.clone()).or_insert(None);
    }
    let text = std::fs::read_to_string(config).map_err(|e| Error::io(config, e))?;
    let hand = RawConfig::from_json(&text, &config.display().to_string())?;
    Ok(DataSet {
        name: name.to_string(),
        reference: Arc::new(reference),
        documents,
        truth,
        hand,
    })
}
