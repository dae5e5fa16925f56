//! The run lifecycle: the queue, phases, progress, cancel and crash recovery.
//!
//! A server process has one `Runner`. Its worker thread takes queued runs one at a time, in
//! the order they were queued, and executes each on the whole matcher pool; a heartbeat
//! thread refreshes the heartbeat of the run this process owns, picks up cancel requests
//! made by other processes, and fails runs whose owner went silent (a process that was
//! killed). A run reads the config snapshot and the reference version it recorded when it
//! was triggered, so later edits never change it. Results are written in batches by one
//! writer thread while the pool matches the next chunk; a cancelled run keeps them. With a
//! one-to-one assignment every document is matched first (phase `matching`), then the
//! assignment is made and the results are written (`saving`); a run cancelled while matching
//! keeps the documents matched so far, assigned among themselves (docs/CONTRACT.md, One-to-one assignment).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::{Assignment, MatchConfig};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ingest::body::field_text;
use crate::matcher::{MatchOutcome, Matcher, Mode};
use crate::resolve::{self, run::Band};
use crate::store::compact::StoredDetail;
use crate::store::runs::{ClaimedRun, NewResult, Progress, RunStatus};
use crate::store::Store;

/// Documents matched between two looks at the cancel flag and written as one batch: the
/// first batch is small, later ones are sized to take about `BATCH_TIME` at the measured
/// rate, so cancel answers within a second on any reference size and small runs still
/// write few transactions.
const FIRST_CHUNK: usize = 32;
const MAX_CHUNK: usize = 4096;
const BATCH_TIME: Duration = Duration::from_millis(200);

/// How a runner decides that another process has stopped, and how much index it keeps.
#[derive(Clone, Copy, Debug)]
pub struct RunnerOptions {
    /// A running run whose heartbeat is older than this has lost its process (docs/CONTRACT.md, Runs: 30 s).
    pub stale_after: Duration,
    /// Indexes kept for later runs, in bytes (`serve --index-cache-mb`).
    pub index_cache_bytes: usize,
    /// A pause after each batch, with batches kept small: makes runs last, for tests of what
    /// happens during one. Zero in normal use.
    pub batch_pause: Duration,
}

/// The optional language-model resolver, set once at start (`serve --resolver-url`).
pub type Resolver = Option<crate::llm::Endpoint>;

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            stale_after: Duration::from_secs(30),
            index_cache_bytes: 1024 << 20,
            batch_pause: Duration::ZERO,
        }
    }
}

impl RunnerOptions {
    /// Heartbeats come six times per stale window, so one slow write never looks like death.
    fn heartbeat_every(&self) -> Duration {
        (self.stale_after / 6).clamp(Duration::from_millis(100), Duration::from_secs(5))
    }
}

/// How a run ended, for the CLI's exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Cancelled,
    Failed(String),
}

/// Executes runs for one process.
pub struct Runner {
    /// Documents matched by this process's runs, per workspace (for `/metrics`).
    pub documents_matched: std::sync::Mutex<std::collections::HashMap<i64, u64>>,
    /// Nanoseconds the result writer spent storing batches (for `bench server`).
    pub results_write_ns: std::sync::atomic::AtomicU64,
    resolver: Resolver,
    store: Store,
    engine: Arc<Engine>,
    /// This process as an owner of runs: `pid@host/random`.
    owner: String,
    options: RunnerOptions,
    /// Cancel flags of the runs this process is executing.
    cancels: Mutex<HashMap<String, Arc<AtomicBool>>>,
    wake: (Mutex<bool>, Condvar),
    stopping: AtomicBool,
    /// The worker thread, joined by `shutdown`.
    worker: Mutex<Option<thread::JoinHandle<()>>>,
}

fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let id = crate::store::new_id();
    format!("{}@{host}/{}", std::process::id(), &id[..8])
}

impl Runner {
    pub fn new(store: Store, pool: Arc<rayon::ThreadPool>, options: RunnerOptions) -> Arc<Runner> {
        Self::with_resolver(store, pool, options, None)
    }

    /// A runner whose `ai-resolve` asks a language model first.
    pub fn with_resolver(
        store: Store,
        pool: Arc<rayon::ThreadPool>,
        options: RunnerOptions,
        resolver: Resolver,
    ) -> Arc<Runner> {
        Arc::new(Runner {
            documents_matched: Default::default(),
            results_write_ns: std::sync::atomic::AtomicU64::new(0),
            resolver,
            engine: Arc::new(Engine::new(store.clone(), pool, options.index_cache_bytes)),
            store,
            owner: owner_name(),
            options,
            cancels: Mutex::new(HashMap::new()),
            wake: (Mutex::new(false), Condvar::new()),
            stopping: AtomicBool::new(false),
            worker: Mutex::new(None),
        })
    }

    /// The matcher pool runs execute on (strategy fitting uses it too).
    pub fn pool(&self) -> &rayon::ThreadPool {
        self.engine.pool()
    }

    /// The engine runs execute on, shared with real-time matching.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Fails the runs of stopped processes, then starts the worker and heartbeat threads.
    pub fn start(self: &Arc<Self>) -> Result<()> {
        self.recover();
        let worker = Arc::clone(self);
        let handle = thread::Builder::new()
            .name("refmatch-runner".into())
            .spawn(move || worker.work())
            .map_err(|e| Error::Internal(format!("cannot start the runner: {e}")))?;
        if let Ok(mut slot) = self.worker.lock() {
            *slot = Some(handle);
        }
        self.start_heartbeat()
    }

    /// Starts only the heartbeat thread (the CLI executes its one run itself).
    pub fn start_heartbeat(self: &Arc<Self>) -> Result<()> {
        let beat = Arc::clone(self);
        thread::Builder::new()
            .name("refmatch-heartbeat".into())
            .spawn(move || beat.heartbeat_loop())
            .map(|_| ())
            .map_err(|e| Error::Internal(format!("cannot start the heartbeat: {e}")))
    }

    /// Tells the worker a run was queued.
    pub fn notify(&self) {
        let (lock, cvar) = &self.wake;
        if let Ok(mut woken) = lock.lock() {
            *woken = true;
            cvar.notify_all();
        }
    }

    /// Stops the run with this id if this process executes it (others see the flag in the
    /// database at their next heartbeat).
    pub fn cancel_local(&self, run_id: &str) {
        if let Some(flag) = self
            .cancels
            .lock()
            .ok()
            .and_then(|c| c.get(run_id).cloned())
        {
            flag.store(true, Ordering::SeqCst);
        }
    }

    /// Stops for a graceful exit: the run being executed stops at its next batch and goes
    /// back to the queue (its partial results removed) for the next server, and the worker
    /// thread is joined.
    pub fn shutdown(&self) {
        self.stop();
        let handle = self.worker.lock().ok().and_then(|mut slot| slot.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Ok(cancels) = self.cancels.lock() {
            for flag in cancels.values() {
                flag.store(true, Ordering::SeqCst);
            }
        }
        self.notify();
    }

    fn recover(&self) {
        let stale = self.options.stale_after.as_millis() as i64;
        match self.store.fail_stale_runs(stale, &self.owner) {
            Ok(0) => {}
            Ok(n) => log::warn!("{n} run(s) of a stopped process marked failed"),
            Err(e) => log::warn!("cannot check for stopped runs: {e}"),
        }
    }

    fn heartbeat_loop(&self) {
        let every = self.options.heartbeat_every();
        let mut last_recovery = Instant::now();
        while !self.stopping.load(Ordering::SeqCst) {
            thread::sleep(every);
            match self.store.heartbeat(&self.owner) {
                Ok(cancelled) => {
                    for id in cancelled {
                        self.cancel_local(&id);
                    }
                }
                Err(e) => log::warn!("heartbeat failed: {e}"),
            }
            if last_recovery.elapsed() >= self.options.stale_after / 2 {
                self.recover();
                last_recovery = Instant::now();
                // Runs of a stopped process may have been queued behind it.
                self.notify();
            }
        }
    }

    fn work(&self) {
        while !self.stopping.load(Ordering::SeqCst) {
            match self.store.claim_next_run(&self.owner) {
                Ok(Some(run)) => {
                    self.execute(&run, &|_, _| {});
                    continue;
                }
                Ok(None) => {}
                Err(e) => log::warn!("cannot read the run queue: {e}"),
            }
            let (lock, cvar) = &self.wake;
            if let Ok(mut woken) = lock.lock() {
                if !*woken {
                    woken = cvar
                        .wait_timeout(woken, Duration::from_secs(1))
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                *woken = false;
            }
        }
    }

    /// Claims and executes one queued run in this thread; false when another process
    /// took it first.
    pub fn run_now(
        &self,
        run_id: &str,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Option<Outcome>> {
        if !self.store.claim_run(run_id, &self.owner)? {
            return Ok(None);
        }
        let run = self.store.claimed_run(run_id)?;
        Ok(Some(self.execute(&run, progress)))
    }

    /// Executes a claimed run to its end and records how it ended. `progress(done, total)`
    /// is called after each batch is written.
    pub fn execute(&self, run: &ClaimedRun, progress: &(dyn Fn(u64, u64) + Sync)) -> Outcome {
        let flag = Arc::new(AtomicBool::new(false));
        if let Ok(mut cancels) = self.cancels.lock() {
            cancels.insert(run.id.clone(), Arc::clone(&flag));
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.execute_inner(run, &flag, progress)
        }));
        if let Ok(mut cancels) = self.cancels.lock() {
            cancels.remove(&run.id);
        }
        let outcome = match result {
            Ok(Ok(Outcome::Completed)) => {
                self.finish_and_resolve(run);
                return Outcome::Completed;
            }
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                log::warn!(
                    "run {} failed: {}",
                    run.id,
                    crate::error::loggable(&e.to_string())
                );
                Outcome::Failed(e.public_message())
            }
            Err(_) => Outcome::Failed("internal error while matching; see the server log".into()),
        };
        if outcome == Outcome::Cancelled && self.stopping.load(Ordering::SeqCst) {
            // Stopped by a shutdown, not by a user: the next server runs it again.
            match self.store.requeue_run(run.workspace, &run.id) {
                Ok(()) => log::info!("run {} re-queued for the next server", run.id),
                Err(e) => log::warn!("cannot re-queue run {}: {e}", run.id),
            }
            return outcome;
        }
        let (status, error) = match &outcome {
            Outcome::Completed => (RunStatus::Completed, None),
            Outcome::Cancelled => (RunStatus::Cancelled, None),
            Outcome::Failed(message) => (RunStatus::Failed, Some(message.as_str())),
        };
        if let Err(e) = self.store.finish_run(run.workspace, &run.id, status, error) {
            log::warn!("cannot record the end of run {}: {e}", run.id);
        }
        crate::webhook::wake();
        outcome
    }

    /// Records a completed run and, for a smart run, resolves its review band at once.
    fn finish_and_resolve(&self, run: &ClaimedRun) {
        if let Err(e) = self
            .store
            .finish_run(run.workspace, &run.id, RunStatus::Completed, None)
        {
            log::warn!("cannot record the end of run {}: {e}", run.id);
            return;
        }
        crate::webhook::wake();
        let smart = matches!(
            self.store.run_config(run.workspace, &run.id),
            Ok((_, _, true))
        );
        if smart {
            self.resolve(run.workspace, &run.id, None);
        }
    }

    /// Runs the built-in resolver over a completed run: `ai_resolving`, then `completed`
    /// again. `band` defaults to 0.5 up to the run's threshold. Failures are logged; the
    /// run returns to `completed` with its results as they were.
    pub fn resolve(&self, ws: crate::store::WorkspaceId, run_id: &str, band: Option<Band>) {
        if let Err(e) = self.store.begin_resolve(ws, run_id, &self.owner) {
            log::warn!(
                "cannot resolve run {run_id}: {}",
                crate::error::loggable(&e.to_string())
            );
            return;
        }
        self.resolve_begun(ws, run_id, band);
    }

    /// The second half of `resolve`, for a caller that already marked the run.
    pub fn resolve_begun(&self, ws: crate::store::WorkspaceId, run_id: &str, band: Option<Band>) {
        let band = band.or_else(|| {
            let threshold = resolve::run::run_threshold(&self.store, ws, run_id).ok()?;
            Some(Band::default_for(threshold))
        });
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            resolve::run::resolve_run(
                &self.store,
                ws,
                run_id,
                band.unwrap_or(Band {
                    low: 0.5,
                    high: 1.0,
                }),
                self.resolver.as_ref(),
            )
        }));
        match outcome {
            Ok(Ok(changed)) => {
                log::info!("run {run_id}: the resolver changed {changed} results")
            }
            Ok(Err(e)) => log::warn!("resolving run {run_id} failed: {e}"),
            Err(_) => log::warn!("resolving run {run_id} panicked"),
        }
        if let Err(e) = self.store.end_resolve(ws, run_id) {
            log::warn!("cannot end resolving run {run_id}: {e}");
        }
    }

    fn execute_inner(
        &self,
        run: &ClaimedRun,
        cancel: &AtomicBool,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Outcome> {
        let ws = run.workspace;
        if let Some(table) = self.store.version_deleted(ws, run.reference_version_id)? {
            return Ok(Outcome::Failed(format!(
                "the reference data {table} of this run's config was deleted before the run started"
            )));
        }
        let config = MatchConfig::from_json(&run.config_snapshot, "config")?;
        let total = self.store.count_targets(ws, &run.target)?;
        let exclusions = self.store.exclusions(ws, &run.config_id)?;
        let index = self.engine.index_for(
            ws,
            run.reference_version_id,
            &config,
            || {
                log::info!(
                    "run {}: reusing the index of reference version {}",
                    run.id,
                    run.reference_version_id
                );
                self.store.set_phase(ws, &run.id, "indexing", Some(total))
            },
            || self.store.set_phase(ws, &run.id, "indexing", Some(total)),
        )?;
        let matcher = Matcher::with_index(config, index)?;
        let excluded = excluded_rows(&matcher, exclusions);
        self.store.set_phase(ws, &run.id, "matching", None)?;
        if cancel.load(Ordering::SeqCst) {
            return Ok(Outcome::Cancelled);
        }

        // One writer stores each batch while the pool matches the next one.
        let (sender, receiver) = mpsc::sync_channel::<(Vec<NewResult>, Progress)>(2);
        let store = self.store.clone();
        let run_id = run.id.clone();
        let writer = thread::Builder::new()
            .name("refmatch-writer".into())
            .spawn(move || -> Result<Duration> {
                let mut writing = Duration::ZERO;
                for (results, batch) in receiver {
                    let started = Instant::now();
                    store.save_results(&run_id, ws, &results, batch)?;
                    writing += started.elapsed();
                }
                Ok(writing)
            })
            .map_err(|e| Error::Internal(format!("cannot start the result writer: {e}")))?;

        let sources: Vec<&str> = matcher.sources().collect();
        // A one-to-one assignment needs every document's rows before any result is final:
        // results are matched and held (outcomes without their candidates, which are
        // already in the results' JSON), assigned, then written in order.
        let one_to_one = matcher.config().assignment == Assignment::OneToOne;
        let mut held: Vec<NewResult> = Vec::new();
        let mut held_outcomes: Vec<MatchOutcome> = Vec::new();
        // The held documents' mapped values: the few whose assignable head does not
        // settle them are rematched for their full lists.
        let mut held_values: Vec<Vec<Option<String>>> = Vec::new();
        let mut after = 0i64;
        let mut done = 0u64;
        let mut chunk = FIRST_CHUNK;
        let mut cancelled = false;
        let mut send_failed = false;
        loop {
            if cancel.load(Ordering::SeqCst) {
                cancelled = true;
                break;
            }
            let documents = self.store.target_documents(ws, &run.target, after, chunk)?;
            let Some(last) = documents.last() else {
                break;
            };
            after = last.seq;
            let matching = Instant::now();
            let (results, outcomes): (Vec<NewResult>, Vec<MatchOutcome>) =
                self.engine.pool().install(|| {
                    documents
                        .par_iter()
                        .map(|doc| {
                            let texts: Vec<Option<std::borrow::Cow<'_, str>>> = sources
                                .iter()
                                .map(|s| doc.fields.get(*s).and_then(field_text))
                                .collect();
                            let values: Vec<Option<&str>> =
                                texts.iter().map(|t| t.as_deref()).collect();
                            let none = Vec::new();
                            let excluded = excluded.get(doc.id.as_str()).unwrap_or(&none);
                            let mut outcome = matcher.match_one(&values, Mode::Indexed, excluded);
                            let result = NewResult {
                                document_id: doc.id.clone(),
                                document_external_id: doc.external_id.clone(),
                                document_filename: doc.filename.clone(),
                                matched_reference_row_id: outcome
                                    .matched
                                    .map(|row| matcher.reference().id(row as usize).to_string()),
                                confidence: outcome.confidence,
                                // The result's evidence is its best candidate's.
                                detail: StoredDetail::from_candidates(
                                    &matcher.candidates(&values, &outcome),
                                ),
                                assigned: false,
                            };
                            outcome.candidates = Vec::new();
                            (result, outcome)
                        })
                        .unzip()
                });
            let batch = batch_progress(&results);
            done += results.len() as u64;
            *self
                .documents_matched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(ws.0)
                .or_default() += results.len() as u64;
            let per_document = matching.elapsed().as_secs_f64() / results.len().max(1) as f64;
            chunk = ((BATCH_TIME.as_secs_f64() / per_document.max(1e-7)) as usize)
                .clamp(FIRST_CHUNK, MAX_CHUNK);
            if !self.options.batch_pause.is_zero() {
                chunk = FIRST_CHUNK;
                thread::sleep(self.options.batch_pause);
            }
            if one_to_one {
                held.extend(results);
                held_outcomes.extend(outcomes);
                held_values.extend(documents.iter().map(|doc| {
                    sources
                        .iter()
                        .map(|s| {
                            doc.fields
                                .get(*s)
                                .and_then(field_text)
                                .map(|t| t.into_owned())
                        })
                        .collect::<Vec<_>>()
                }));
                self.store
                    .set_phase_progress(ws, &run.id, done as f64 / total.max(1) as f64)?;
                progress(done, total.max(0) as u64);
                continue;
            }
            if sender.send((results, batch)).is_err() {
                send_failed = true;
                break;
            }
            progress(done, total.max(0) as u64);
        }
        // Cancelled or not, the documents matched so far are assigned among themselves and
        // kept.
        if one_to_one {
            let ids: Vec<&str> = held.iter().map(|r| r.document_id.as_str()).collect();
            let pool = self.pool();
            let _ = matcher.settle(&mut held_outcomes, |positions| {
                Ok::<_, std::convert::Infallible>(pool.install(|| {
                    positions
                        .par_iter()
                        .map(|&i| {
                            let values: Vec<Option<&str>> = held_values
                                .get(i)
                                .map(|v| v.iter().map(|t| t.as_deref()).collect())
                                .unwrap_or_default();
                            let none = Vec::new();
                            let excluded = held
                                .get(i)
                                .and_then(|r| excluded.get(r.document_id.as_str()))
                                .unwrap_or(&none);
                            matcher.full_assignable(&values, excluded)
                        })
                        .collect()
                }))
            });
            drop(held_values);
            matcher.assign(&mut held_outcomes, &ids);
            drop(ids);
            for (result, outcome) in held.iter_mut().zip(&held_outcomes) {
                result.matched_reference_row_id = outcome
                    .matched
                    .map(|row| matcher.reference().id(row as usize).to_string());
                result.confidence = outcome.confidence;
                result.assigned = outcome.assigned;
            }
            drop(held_outcomes);
            self.store.set_phase(ws, &run.id, "saving", None)?;
            let mut rest = held.into_iter();
            loop {
                let results: Vec<NewResult> = rest.by_ref().take(MAX_CHUNK).collect();
                if results.is_empty() {
                    break;
                }
                let batch = batch_progress(&results);
                if sender.send((results, batch)).is_err() {
                    send_failed = true;
                    break;
                }
            }
        }
        drop(sender);
        let written = writer
            .join()
            .map_err(|_| Error::Internal("the result writer panicked".into()))?;
        let writing = written?;
        self.results_write_ns.fetch_add(
            u64::try_from(writing.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if send_failed {
            return Err(Error::Internal("the result writer stopped early".into()));
        }
        if cancelled {
            return Ok(Outcome::Cancelled);
        }
        self.store.set_phase(ws, &run.id, "saving", None)?;
        Ok(Outcome::Completed)
    }
}

/// The counters a batch of results adds to its run.
fn batch_progress(results: &[NewResult]) -> Progress {
    let matched = || {
        results
            .iter()
            .filter(|r| r.matched_reference_row_id.is_some())
    };
    Progress {
        rows_processed: results.len() as i64,
        rows_matched: matched().count() as i64,
        confidence_sum: matched().map(|r| r.confidence).sum(),
    }
}

/// Rejected rows per document id, as row numbers of the matcher's reference.
fn excluded_rows(
    matcher: &Matcher,
    exclusions: Vec<(String, String)>,
) -> HashMap<String, Vec<u32>> {
    if exclusions.is_empty() {
        return HashMap::new();
    }
    let wanted: std::collections::HashSet<&str> =
        exclusions.iter().map(|(_, row)| row.as_str()).collect();
    let reference = matcher.reference();
    let rows: HashMap<&str, u32> = (0..reference.len())
        .map(|r| (reference.id(r), r as u32))
        .filter(|(id, _)| wanted.contains(id))
        .collect();
    let mut excluded: HashMap<String, Vec<u32>> = HashMap::new();
    for (document, row_id) in &exclusions {
        if let Some(&row) = rows.get(row_id.as_str()) {
            excluded.entry(document.clone()).or_default().push(row);
        }
    }
    excluded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::runs::RunStatus;
    use crate::testkit::{fixture, queue_run};

    fn runner(store: &Store) -> Arc<Runner> {
        let pool = Arc::new(crate::matcher::thread_pool(1).expect("a pool"));
        Runner::new(store.clone(), pool, RunnerOptions::default())
    }

    #[test]
    fn a_run_goes_through_its_phases_to_completed_with_its_counts() {
        let f = fixture();
        let run_id = queue_run(&f);
        let seen = Mutex::new(Vec::new());
        let outcome = runner(&f.store)
            .run_now(&run_id, &|done, total| {
                seen.lock().expect("unpoisoned").push((done, total))
            })
            .expect("the run executes");
        assert_eq!(outcome, Some(Outcome::Completed));
        assert_eq!(seen.into_inner().expect("unpoisoned").last(), Some(&(2, 2)));
        let stored = f.store.get_run(f.ws, &run_id).expect("the run");
        assert_eq!(stored.status, RunStatus::Completed);
        assert_eq!(
            (stored.rows_processed, stored.rows_matched),
            (Some(2), Some(1))
        );
        let progress = f.store.run_progress(f.ws, &run_id).expect("progress");
        assert_eq!(progress.phase, "done");
    }

    #[test]
    fn a_run_cancelled_while_queued_is_never_executed() {
        let f = fixture();
        let run_id = queue_run(&f);
        assert_eq!(
            f.store.cancel_run(f.ws, &run_id).expect("cancelled"),
            RunStatus::Queued
        );
        let outcome = runner(&f.store)
            .run_now(&run_id, &|_, _| {})
            .expect("nothing to execute");
        assert_eq!(outcome, None, "a cancelled run cannot be claimed");
        assert_eq!(
            f.store.run_status(f.ws, &run_id).expect("status"),
            RunStatus::Cancelled
        );
    }

    #[test]
    fn a_run_whose_flag_is_set_stops_cancelled_and_keeps_its_counters_consistent() {
        let f = fixture();
        let run_id = queue_run(&f);
        let runner = runner(&f.store);
        assert!(f.store.claim_run(&run_id, runner.owner()).expect("claimed"));
        let claimed = f.store.claimed_run(&run_id).expect("the claimed run");
        // The stop flag is raised before the first batch: the run ends cancelled, with
        // nothing matched and no result stored.
        let flag = AtomicBool::new(true);
        let outcome = runner
            .execute_inner(&claimed, &flag, &|_, _| {})
            .expect("the run stops");
        assert_eq!(outcome, Outcome::Cancelled);
        let page = f
            .store
            .results_page(f.ws, &run_id, &Default::default(), 1, 10)
            .expect("results");
        assert_eq!(page.1, 0);
    }
}
