//! Schedules: a config's `schedule` is a five-field cron expression (minute, hour, day of
//! month, month, day of week; `@daily`-style names too) evaluated in the server's local
//! time zone (the process's `TZ`, else the system's). `Scheduler` is the server thread that
//! queues a run (`triggered_by: "scheduled"`) for each config whose next slot has come; the
//! slot and the run are written in one transaction by whichever server fires it first, and
//! the next slot is counted from now, so a slot missed while no server ran fires once at
//! start, not once per missed slot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chrono::{Local, TimeZone};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use crate::error::{Error, Result};
use crate::runner::Runner;
use crate::store::{now_ms, Store};

/// Parses a schedule: five fields, minute granularity (no seconds, no years).
pub fn parse(expression: &str) -> std::result::Result<Cron, String> {
    if expression.trim().is_empty() || expression.len() > 200 {
        return Err("must be a cron expression of 1 to 200 characters".into());
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(expression)
        .map_err(|e| format!("is not a five-field cron expression ({e})"))
}

/// The first slot of `cron` strictly after `after_ms`, in the local time zone.
pub fn next_after(cron: &Cron, after_ms: i64) -> Option<i64> {
    let after = Local.timestamp_millis_opt(after_ms).single()?;
    cron.find_next_occurrence(&after, false)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The server's time zone as schedules read it: its offset from UTC now (`+01:00`).
pub fn time_zone() -> String {
    Local::now().format("%:z").to_string()
}

/// How often the scheduler looks for due schedules.
const TICK: Duration = Duration::from_secs(1);

/// The server thread that fires due schedules.
pub struct Scheduler {
    store: Store,
    runner: Arc<Runner>,
    stopping: AtomicBool,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Scheduler {
    pub fn new(store: Store, runner: Arc<Runner>) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            store,
            runner,
            stopping: AtomicBool::new(false),
            thread: Mutex::new(None),
        })
    }

    /// Fires what is due now (slots missed while down, once each), then every second.
    pub fn start(self: &Arc<Self>) -> Result<()> {
        self.fire_due();
        let scheduler = Arc::clone(self);
        let handle = thread::Builder::new()
            .name("refmatch-scheduler".into())
            .spawn(move || {
                while !scheduler.stopping.load(Ordering::SeqCst) {
                    thread::sleep(TICK);
                    scheduler.fire_due();
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start the scheduler: {e}")))?;
        if let Ok(mut slot) = self.thread.lock() {
            *slot = Some(handle);
        }
        Ok(())
    }

    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let handle = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// Queues one run per due schedule; returns how many were queued.
    pub fn fire_due(&self) -> usize {
        let now = now_ms();
        let due = match self.store.due_schedules(now) {
            Ok(due) => due,
            Err(e) => {
                log::warn!("cannot read the schedules: {e}");
                return 0;
            }
        };
        let mut queued = 0;
        for schedule in due {
            let next = parse(&schedule.expression)
                .ok()
                .and_then(|cron| next_after(&cron, now));
            match self.store.fire_schedule(&schedule, next) {
                Ok(Some(run)) => {
                    log::info!("config {}: scheduled run {run} queued", schedule.config_id);
                    queued += 1;
                }
                Ok(None) => {}
                Err(e) => log::warn!(
                    "config {}: cannot queue its scheduled run: {}",
                    schedule.config_id,
                    crate::error::loggable(&e.to_string())
                ),
            }
        }
        if queued > 0 {
            self.runner.notify();
        }
        queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_and_names_parse_and_seconds_do_not() {
        assert!(parse("0 6 * * 1-5").is_ok());
        assert!(parse("*/15 * * * *").is_ok());
        assert!(parse("@daily").is_ok());
        assert!(parse("0 0 6 * * *").is_err(), "seconds are refused");
        assert!(parse("61 * * * *").is_err());
        assert!(parse("every day").is_err());
        assert!(parse("").is_err());
    }

    /// The service fixture's config with `extra` keys merged in, replaced.
    fn configure(f: &crate::testkit::Fixture, extra: serde_json::Value) -> Result<()> {
        let stored = f.store.get_config(f.ws, &f.config_id)?;
        let mut body = stored.body;
        body.insert("reference_data_id".into(), stored.reference_data_id.into());
        if let serde_json::Value::Object(extra) = extra {
            body.extend(extra);
        }
        crate::service::replace_config(
            &f.store,
            f.ws,
            &f.config_id,
            serde_json::Value::Object(body).to_string().as_bytes(),
        )
        .map(|_| ())
    }

    fn scheduler(f: &crate::testkit::Fixture) -> Arc<Scheduler> {
        let pool = Arc::new(crate::matcher::thread_pool(1).expect("a pool"));
        let runner = Runner::new(f.store.clone(), pool, Default::default());
        Scheduler::new(f.store.clone(), runner)
    }

    fn runs_by(f: &crate::testkit::Fixture, trigger: &str) -> Vec<String> {
        let page = f
            .store
            .list_runs(
                f.ws,
                Some(&f.config_id),
                None,
                crate::store::Position::First,
                100,
            )
            .expect("runs");
        page.items
            .into_iter()
            .filter(|r| r.triggered_by == trigger)
            .map(|r| r.id)
            .collect()
    }

    #[test]
    fn slots_missed_while_down_fire_once_and_each_slot_fires_once() {
        let f = crate::testkit::fixture();
        configure(&f, serde_json::json!({"schedule": "*/5 * * * *"})).expect("scheduled");
        let row = f
            .store
            .get_config_row(f.ws, &f.config_id)
            .expect("the config");
        assert_eq!(row.schedule.as_deref(), Some("*/5 * * * *"));
        assert!(row.next_scheduled_at.is_some());
        let scheduler = scheduler(&f);
        assert_eq!(scheduler.fire_due(), 0, "the first slot is in the future");
        // Three slots (15 minutes) pass with no server.
        let missed = now_ms() - 15 * 60 * 1000;
        f.store
            .conn()
            .expect("a connection")
            .execute(
                "UPDATE configs SET schedule_next_ms = ?1 WHERE id = ?2",
                r2d2_sqlite::rusqlite::params![missed, f.config_id],
            )
            .expect("moved back");
        let due = f.store.due_schedules(now_ms()).expect("due");
        assert_eq!(scheduler.fire_due(), 1, "missed slots fire once");
        assert_eq!(scheduler.fire_due(), 0);
        assert_eq!(runs_by(&f, "scheduled").len(), 1);
        // A second server that read the same slot fires nothing.
        assert_eq!(
            f.store
                .fire_schedule(&due[0], Some(now_ms()))
                .expect("fired"),
            None
        );
        let row = f
            .store
            .get_config_row(f.ws, &f.config_id)
            .expect("the config");
        assert!(row.next_scheduled_at.as_deref() > Some(crate::store::now_iso().as_str()));
    }

    #[test]
    fn a_bad_schedule_or_flag_is_named_and_changes_nothing() {
        let f = crate::testkit::fixture();
        for (extra, field) in [
            (serde_json::json!({"schedule": "0 0 6 * * *"}), "schedule"),
            (serde_json::json!({"schedule": 5}), "schedule"),
            (
                serde_json::json!({"rematch_on_new_version": "yes"}),
                "rematch_on_new_version",
            ),
        ] {
            let error = configure(&f, extra).expect_err("refused");
            assert_eq!(error.details()[0].field, field);
        }
        let row = f
            .store
            .get_config_row(f.ws, &f.config_id)
            .expect("the config");
        assert_eq!((row.schedule, row.rematch_on_new_version), (None, false));
    }

    #[test]
    fn a_new_version_rematches_only_documents_whose_latest_result_is_pending() {
        let f = crate::testkit::fixture();
        configure(&f, serde_json::json!({"rematch_on_new_version": true})).expect("set");
        let pool = Arc::new(crate::matcher::thread_pool(1).expect("a pool"));
        let runner = Runner::new(f.store.clone(), pool, Default::default());
        let run = crate::service::trigger_run(
            &f.store,
            f.ws,
            &f.config_id,
            &crate::service::TriggerRun::by(crate::service::Trigger::Api),
        )
        .expect("a run");
        runner.run_now(&run.id, &|_, _| {}).expect("executed");
        // D-1 matched and a reviewer approved it; D-2 is unmatched and pending.
        let (results, _) = f
            .store
            .results_page(f.ws, &run.id, &Default::default(), 1, 10)
            .expect("results");
        let matched = results
            .iter()
            .find(|r| r.matched_reference_row_id.is_some())
            .expect("a matched result");
        let pending = results
            .iter()
            .find(|r| r.matched_reference_row_id.is_none())
            .expect("an unmatched result")
            .document_id
            .clone();
        f.store
            .review_result(
                f.ws,
                &run.id,
                &matched.id,
                &crate::store::results::Review {
                    status: crate::store::results::ReviewStatus::Approved,
                    notes: None,
                    reference_row_id: None,
                    reviewed_by: "test".into(),
                },
            )
            .expect("reviewed");
        let reference = f
            .store
            .get_config(f.ws, &f.config_id)
            .expect("config")
            .reference_data_id;
        let csv = "id,vendor_name,invoice_number\nR1,Nordwind Logistik GmbH,INV-1001\n\
                   R2,Acme Corp,INV-2002\nR9,Nobody Ltd,X-9\n";
        let table = crate::ingest::reference_from_csv(
            "r.csv",
            csv.as_bytes(),
            crate::ingest::Encoding::Utf8,
            None,
            "id",
        )
        .expect("a table");
        crate::service::import_reference(&f.store, f.ws, Some(&reference), None, "csv", &table)
            .expect("a new version");
        let rematches = runs_by(&f, "reference_update");
        assert_eq!(rematches.len(), 1);
        let (_, _, _) = f.store.run_config(f.ws, &rematches[0]).expect("the run");
        let claimed = {
            assert!(f.store.claim_run(&rematches[0], "t").expect("claimed"));
            f.store.claimed_run(&rematches[0]).expect("the run")
        };
        assert_eq!(
            claimed.target,
            crate::store::documents::Target::Documents(vec![pending])
        );
        assert_eq!(
            f.store
                .get_run(f.ws, &rematches[0])
                .expect("run")
                .reference_version,
            2
        );
    }

    #[test]
    fn the_next_slot_is_strictly_after_and_in_local_time() {
        let cron = parse("*/15 * * * *").expect("a schedule");
        let now = now_ms();
        let next = next_after(&cron, now).expect("a next slot");
        assert!(
            next > now && next - now <= 15 * 60 * 1000,
            "{now} -> {next}"
        );
        assert_eq!(next % (60 * 1000), 0, "on a whole minute");
        let after = next_after(&cron, next).expect("the slot after");
        assert_eq!(after - next, 15 * 60 * 1000);
    }
}
