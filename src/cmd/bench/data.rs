//! `refmatch bench eval` and `refmatch bench server`: the scale benchmarks of generated
//! vendor-invoice sets. `eval` times the offline path (read CSVs, index, match, metrics)
//! with its peak memory, the index's agreement with a full scan on a sample, and the
//! latency of matching one document at a time; `server` times importing into a fresh
//! database, a run from trigger to `completed` with every result stored, and run detail
//! over HTTP. Both print one JSON object.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{Cli, DataBenchArgs, OfflineInputs};
use crate::error::{Error, Result};
use crate::evaluate::{self, Prediction};
use crate::ingest::{self, body, Encoding};
use crate::matcher::Mode;
use crate::service;
use crate::store::runs::RunStatus;
use crate::synth::{SynthOptions, SynthProfile};

/// The generated set for a benchmark: `--dir` when given (reused if its files exist), else
/// a temporary directory removed afterwards.
struct DataSet {
    dir: PathBuf,
    temporary: bool,
    generated: bool,
    generate_ms: u128,
}

impl Drop for DataSet {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn data_set(args: &DataBenchArgs) -> Result<DataSet> {
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("refmatch-bench-{}", crate::store::new_id())),
            true,
        ),
    };
    let started = Instant::now();
    let present = ["reference.csv", "documents.csv", "truth.csv", "config.json"]
        .iter()
        .all(|f| dir.join(f).exists());
    if !present {
        eprintln!(
            "generating {} reference rows x {} documents (seed {}) in {}",
            args.reference_rows,
            args.documents,
            args.seed,
            dir.display()
        );
        crate::cmd::synth::write_set(
            &SynthOptions {
                reference_rows: args.reference_rows,
                documents: args.documents,
                seed: args.seed,
                profile: SynthProfile::Realistic,
            },
            &dir,
        )?;
    }
    Ok(DataSet {
        dir,
        temporary,
        generated: !present,
        generate_ms: started.elapsed().as_millis(),
    })
}

/// Peak resident memory of this process in MiB (Linux), and a way to restart counting.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    (sorted[i] * 1000.0).round() / 1000.0
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// A sampled document: its values and what the index answered.
struct Kept {
    values: Vec<Option<String>>,
    top: Option<(u32, f64)>,
    matched: Option<u32>,
}

pub fn eval(args: &DataBenchArgs) -> Result<()> {
    let set = data_set(args)?;
    let peak_counted_from_start = reset_peak_memory();
    let inputs = OfflineInputs {
        reference: Some(set.dir.join("reference.csv")),
        index: None,
        documents: set.dir.join("documents.csv"),
        config: set.dir.join("config.json"),
        id_column: None,
        document_id_column: None,
        encoding: Encoding::Utf8,
        threads: args.threads,
        exhaustive: false,
    };
    let started = Instant::now();
    let offline = crate::cmd::load_offline(&inputs)?;
    let indexed = started.elapsed();
    let matcher = &offline.matcher;
    let documents = offline.documents.ids.len();
    // Evenly spread documents kept for the agreement and latency checks.
    let sample = args.sample.min(documents);
    let every = (documents / sample.max(1)).max(1);
    let matching_started = Instant::now();
    let threshold = matcher.config().threshold;
    // One pass, as `eval` makes it: with a one-to-one assignment, the assignment over
    // every document's assignable rows follows.
    let outcomes = offline.assigned_outcomes(Mode::Indexed, &|| {})?;
    let matching = matching_started.elapsed();
    // As `eval` judges it: the assigned row under one-to-one assignment.
    let tops: Vec<Option<(u32, f64)>> = outcomes.iter().map(|o| o.prediction()).collect();
    let mut reached: Vec<f64> = outcomes.iter().map(|o| o.reached as f64).collect();
    let truth_csv = ingest::read_csv(&set.dir.join("truth.csv"), Encoding::Utf8)?;
    let document_ids = offline.documents.ids.iter().map(String::as_str).collect();
    let known = matcher.reference_ids(ingest::truth_row_ids(&truth_csv));
    let truth = ingest::truth_from_csv(truth_csv, &document_ids, &|id| known.contains(id))?;
    let reference = matcher.reference();
    let predictions: Vec<Prediction> = offline
        .documents
        .ids
        .iter()
        .zip(&tops)
        .map(|(id, top)| Prediction {
            document_id: id,
            top: top.map(|(row, c)| (reference.id(row as usize), c)),
        })
        .collect();
    let report = evaluate::evaluate(
        &predictions,
        &truth,
        matcher.config().threshold,
        reference.len(),
        false,
    );
    let wall = started.elapsed();
    let peak = peak_memory_mb();

    // The sample is the benchmark's own, read again after the eval is timed.
    let mut kept: Vec<Kept> = Vec::with_capacity(sample);
    let sources: Vec<&str> = matcher.sources().collect();
    ingest::for_each_document_chunk(
        &set.dir.join("documents.csv"),
        Encoding::Utf8,
        &sources,
        8_192,
        |first, values| {
            for (i, doc) in values.iter().enumerate() {
                let n = first + i;
                if n % every == 0 && kept.len() < sample {
                    let top = outcomes
                        .get(n)
                        .and_then(|o| o.candidates.first())
                        .map(|c| (c.row, c.confidence));
                    kept.push(Kept {
                        values: doc.clone(),
                        top,
                        // The document's own answer, before any one-to-one assignment:
                        // what the full scan of this one document finds.
                        matched: top.filter(|&(_, c)| c >= threshold).map(|(row, _)| row),
                    });
                }
            }
            Ok(())
        },
    )?;

    // One document at a time on this thread: the interactive case.
    let mut latencies: Vec<f64> = kept
        .iter()
        .map(|k| {
            let values: Vec<Option<&str>> = k.values.iter().map(|v| v.as_deref()).collect();
            let t = Instant::now();
            let _ = matcher.match_one(&values, Mode::Indexed, &[]);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    // Rows reached by documents with a true row and by those without one (a near miss or
    // an unknown vendor), which must prove that their best candidate is weak.
    let (mut with_row, mut without_row) = (Vec::new(), Vec::new());
    for (id, &r) in offline.documents.ids.iter().zip(&reached) {
        match truth.get(id) {
            Some(Some(_)) => with_row.push(r),
            _ => without_row.push(r),
        }
    }
    let all_reached: f64 = reached.iter().sum::<f64>().max(1.0);
    let summary = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        json!({
            "documents": v.len(),
            "p50": percentile(v, 0.5),
            "p99": percentile(v, 0.99),
            "mean": (v.iter().sum::<f64>() / v.len().max(1) as f64).round(),
            "share_of_rows_reached": (v.iter().sum::<f64>() / all_reached * 1000.0).round() / 1000.0,
        })
    };
    let by_truth = json!({
        "with_a_true_row": summary(&mut with_row),
        "without_a_true_row": summary(&mut without_row),
    });
    reached.sort_by(f64::total_cmp);

    // The index against a full scan of every row, on the sample.
    let exhaustive_started = Instant::now();
    let docs: Vec<&Vec<Option<String>>> = kept.iter().map(|k| &k.values).collect();
    let full = matcher.match_many(&docs, Mode::Exhaustive, &offline.pool, &|| {});
    let same_top = kept
        .iter()
        .zip(&full)
        .filter(|(k, f)| k.top.map(|t| t.0) == f.candidates.first().map(|c| c.row))
        .count();
    let same_matched = kept
        .iter()
        .zip(&full)
        .filter(|(k, f)| k.matched == f.matched)
        .count();

    let out = json!({
        "benchmark": "eval",
        "reference_rows": reference.len(),
        "documents": documents,
        "seed": args.seed,
        "threads": offline.pool.current_num_threads(),
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "generated": set.generated,
        "generate_ms": set.generate_ms,
        "read_ms": ms(offline.read_time),
        "index_build_ms": ms(offline.index_time),
        "read_and_index_ms": ms(indexed),
        "match_ms": ms(matching),
        "wall_ms": ms(wall),
        "documents_per_second": (documents as f64 / matching.as_secs_f64().max(1e-9)).round(),
        "peak_memory_mb": peak,
        "peak_memory_counts_from": if peak_counted_from_start { "start of the eval" } else { "process start" },
        "f1": report.f1,
        "precision": report.precision,
        "recall": report.recall,
        "agreement_sample": kept.len(),
        "top_candidate_equal": same_top,
        "matched_row_equal": same_matched,
        "exhaustive_ms": ms(exhaustive_started.elapsed()),
        "rows_reached_per_document": {
            "p50": percentile(&reached, 0.5),
            "p90": percentile(&reached, 0.9),
            "p99": percentile(&reached, 0.99),
            "max": percentile(&reached, 1.0),
            "mean": (reached.iter().sum::<f64>() / reached.len().max(1) as f64).round(),
        },
        "rows_reached_by_truth": by_truth,
        "single_document_ms": {
            "p50": percentile(&latencies, 0.5),
            "p99": percentile(&latencies, 0.99),
            "max": percentile(&latencies, 1.0),
        },
    });
    crate::cmd::print_stdout(&format!("{out:#}\n"))
}

pub fn server(cli: &Cli, args: &DataBenchArgs) -> Result<()> {
    let set = data_set(args)?;
    let db = set.dir.join(format!("bench-{}.db", crate::store::new_id()));
    let _cleanup = RemoveOnDrop(db.clone());
    let server_args = crate::cmd::serve::benchmark_server(args.threads, 8);
    let store = crate::cmd::serve::open_store(&db, &server_args)?;
    let ws = store.workspace(&cli.workspace, true)?;

    // The CLI's import path: `reference import`, `documents import`.
    let started = Instant::now();
    let bytes = read(&set.dir.join("reference.csv"))?;
    let table =
        ingest::reference_from_csv("reference.csv", &bytes, Encoding::Utf8, None, "--id-column")?;
    drop(bytes);
    let reference = service::import_reference(&store, ws, None, Some("ledger"), "csv", &table)?;
    drop(table);
    let import_reference = started.elapsed();
    let started = Instant::now();
    let bytes = read(&set.dir.join("documents.csv"))?;
    let documents = body::documents_from_csv("documents.csv", &bytes, Encoding::Utf8, None, None)?;
    drop(bytes);
    service::import_documents(&store, ws, "csv", &documents)?;
    let document_count = documents.len();
    drop(documents);
    let import_documents = started.elapsed();

    let mut config: serde_json::Value =
        serde_json::from_slice(&read(&set.dir.join("config.json"))?)
            .map_err(|e| Error::Internal(format!("generated config: {e}")))?;
    config["reference_data_id"] = serde_json::Value::String(reference.id);
    let config = service::create_config(&store, ws, config.to_string().as_bytes())?;
    let config_id = config.id;

    let service_handle = crate::cmd::serve::Service::start(store.clone(), &server_args)?;
    let started = Instant::now();
    let run = service::trigger_run(
        &store,
        ws,
        &config_id,
        &service::TriggerRun::by(service::Trigger::Api),
    )?;
    let run_id = run.id;
    service_handle.runner.notify();
    let status = loop {
        let status = store.run_status(ws, &run_id)?;
        if !matches!(status, RunStatus::Queued | RunStatus::Running) {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run_time = started.elapsed();
    let run = store.get_run(ws, &run_id)?;
    if status != RunStatus::Completed {
        return Err(Error::Internal(format!(
            "the benchmark run ended {status}: {}",
            crate::cmd::json_text(&run)
        )));
    }

    // Run detail over HTTP, one keep-alive client, back to back.
    let key = store.create_key(
        ws,
        "bench",
        crate::store::keys::Scopes {
            read: true,
            write: false,
        },
    )?;
    let addr = service_handle.server.addr().to_string();
    let timed = |path: &str| -> (Vec<f64>, u64) {
        let (latencies, errors) = super::http::client_loop(
            &addr,
            &key.secret,
            path,
            Duration::from_secs_f64(args.detail_seconds),
        );
        let mut latencies: Vec<f64> = latencies
            .into_iter()
            .map(|us| f64::from(us) / 1000.0)
            .collect();
        latencies.sort_by(f64::total_cmp);
        (latencies, errors)
    };
    let (latencies, errors) = timed(&format!("/v1/matching/runs/{run_id}"));
    // Results pages of 50 (issue 17: as fast as run detail): the first page as run detail
    // shows it, a page in the middle, and a filtered page, each for the same time.
    let middle = (document_count / 50 / 2).max(1);
    let pages: Vec<(&str, String)> = vec![
        ("first", format!("/v1/matching/runs/{run_id}/results?limit=50")),
        (
            "middle",
            format!("/v1/matching/runs/{run_id}/results?limit=50&page={middle}"),
        ),
        (
            "filtered",
            format!("/v1/matching/runs/{run_id}/results?limit=50&status=pending&matched=true&min_confidence=0.5"),
        ),
    ];
    let mut results_pages = serde_json::Map::new();
    for (name, path) in &pages {
        let (latencies, errors) = timed(path);
        results_pages.insert(
            (*name).to_string(),
            json!({
                "path": path.replace(&run_id, ":id"),
                "requests": latencies.len(),
                "errors": errors,
                "p50_ms": percentile(&latencies, 0.5),
                "p99_ms": percentile(&latencies, 0.99),
            }),
        );
    }
    // The same reads in process, without sockets: what storage adds to each request.
    let in_process = |read: &dyn Fn() -> Result<Vec<u8>>| -> Result<f64> {
        let mut times = Vec::with_capacity(1000);
        for _ in 0..1000 {
            let started = Instant::now();
            std::hint::black_box(read()?);
            times.push(started.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2].round())
    };
    let detail_us = in_process(&|| Ok(store.run_detail(ws, &run_id, 50)?.to_json()))?;
    let filter = crate::store::results::ResultFilter::default();
    let page_us = in_process(&|| {
        let (rows, total) = store.results_page(ws, &run_id, &filter, 1, 50)?;
        Ok(crate::store::results::page_json(&rows, total, 1, 50))
    })?;
    let write_ms = service_handle
        .runner
        .results_write_ns
        .load(std::sync::atomic::Ordering::Relaxed) as f64
        / 1e6;
    service_handle.server.stop();
    let storage = store.results_storage()?;
    let mb = |bytes: i64| (bytes as f64 / (1 << 20) as f64 * 10.0).round() / 10.0;
    let per_100k = |bytes: i64| mb(bytes * 100_000 / storage.results.max(1));

    let out = json!({
        "benchmark": "server",
        "reference_rows": args.reference_rows,
        "documents": document_count,
        "seed": args.seed,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "generated": set.generated,
        "generate_ms": set.generate_ms,
        "import_reference_ms": ms(import_reference),
        "import_documents_ms": ms(import_documents),
        "run_trigger_to_completed_ms": ms(run_time),
        "rows_processed": run.rows_processed,
        "rows_matched": run.rows_matched,
        "results_write_ms": write_ms.round(),
        "database_mb": mb(storage.file_bytes),
        "results": {
            "count": storage.results,
            "table_mb": mb(storage.table_bytes),
            "index_mb": mb(storage.index_bytes),
            "table_mb_per_100k": per_100k(storage.table_bytes),
            "table_and_indexes_mb_per_100k": per_100k(storage.table_bytes + storage.index_bytes),
        },
        "run_detail": {
            "requests": latencies.len(),
            "errors": errors,
            "p50_ms": percentile(&latencies, 0.5),
            "p99_ms": percentile(&latencies, 0.99),
            "in_process_median_us": detail_us,
        },
        "results_page_50_in_process_median_us": page_us,
        "results_pages_http": results_pages,
        "peak_memory_mb": peak_memory_mb(),
    });
    crate::cmd::print_stdout(&format!("{out:#}\n"))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Removes the benchmark database and its WAL files.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}
