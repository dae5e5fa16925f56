//! `refmatch run CONFIG_ID`: queues a run and executes it in this process with a progress
//! bar. If a server sharing the database takes the run first, this waits for it instead.

use std::time::{Duration, Instant};

use crate::cli::{Cli, RunArgs};
use crate::error::{Error, Result};
use crate::runner::{Outcome, Runner, RunnerOptions};
use crate::service;
use crate::store::runs::RunStatus;
use crate::store::Store;

pub fn run(cli: &Cli, args: &RunArgs) -> Result<()> {
    let store = Store::open(&cli.db_path(), 4)?;
    let ws = store.workspace(&cli.workspace, false)?;
    let started = Instant::now();
    let run = service::trigger_run(
        &store,
        ws,
        &args.config_id,
        &service::TriggerRun::by(service::Trigger::Cli),
    )?;
    let run_id = run.id;
    let pool = std::sync::Arc::new(crate::matcher::thread_pool(args.threads)?);
    let runner = Runner::new(store.clone(), pool, RunnerOptions::default());
    runner.start_heartbeat()?;
    let bar = super::progress_bar(0, "matching");
    let outcome = runner.run_now(&run_id, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let outcome = match outcome {
        Some(outcome) => outcome,
        None => wait_elsewhere(&store, ws, &run_id)?,
    };
    let run = store.get_run(ws, &run_id)?;
    super::print_stdout(&format!(
        "{run_id}\n{}: {} documents, {} matched, average confidence {}, {:.2} s\n",
        run.status,
        super::json_text(&run.rows_processed),
        super::json_text(&run.rows_matched),
        super::json_text(&run.avg_confidence),
        started.elapsed().as_secs_f64()
    ))?;
    match outcome {
        Outcome::Completed => Ok(()),
        Outcome::Cancelled => Err(Error::Cancelled(format!("run {run_id} was cancelled"))),
        Outcome::Failed(message) => Err(Error::Internal(format!("run {run_id} failed: {message}"))),
    }
}

/// Another process took the run; follow it until it ends.
fn wait_elsewhere(store: &Store, ws: crate::store::WorkspaceId, run_id: &str) -> Result<Outcome> {
    loop {
        match store.run_status(ws, run_id)? {
            RunStatus::Completed => return Ok(Outcome::Completed),
            RunStatus::Cancelled => return Ok(Outcome::Cancelled),
            RunStatus::Failed => {
                let run = store.get_run(ws, run_id)?;
                return Ok(Outcome::Failed(
                    run.error.unwrap_or_else(|| "unknown".into()),
                ));
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}
