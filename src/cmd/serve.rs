//! `refmatch serve`: the API over the database, with a runner executing queued runs.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Cli, ServeArgs, ServerArgs};
use crate::error::{Error, Result};
use crate::http::{Context, Server, ServerOptions};
use crate::runner::{Runner, RunnerOptions};
use crate::store::Store;

pub fn run(cli: &Cli, args: &ServeArgs) -> Result<()> {
    let store = open_store(&cli.db_path(), &args.server)?;
    let service = Service::start(store, &args.server)?;
    println_flush(&format!("listening on http://{}", service.server.addr()))?;
    service.serve_until_signal()
}

/// A quiet, unlimited server on a free loopback port, for the benchmarks.
pub(crate) fn benchmark_server(threads: usize, http_workers: usize) -> ServerArgs {
    ServerArgs {
        addr: "127.0.0.1:0".into(),
        threads,
        http_workers,
        max_body_mb: 64,
        read_timeout_secs: 30,
        header_timeout_secs: 10,
        min_body_rate_kb: 32,
        max_connections: 0,
        max_uploads: 2,
        upload_memory_mb: 384,
        quiet: true,
        index_cache_mb: 1024,
        rate_limit: 0,
        metrics_open: false,
        cors_origin: Vec::new(),
        resolver_url: None,
        resolver_model: "local".into(),
        resolver_timeout_secs: 20,
        resolver_max_calls: 0,
        webhook_timeout_secs: 10,
        stale_after_secs: 30.0,
        run_batch_pause_ms: 0,
        max_db_pages: 0,
        read_only: false,
    }
}

/// Opens the database with enough connections for every HTTP worker plus the runner, the
/// webhook sender and the scheduler.
pub(crate) fn open_store(path: &std::path::Path, args: &ServerArgs) -> Result<Store> {
    let options = crate::store::OpenOptions {
        max_pages: (args.max_db_pages > 0).then_some(args.max_db_pages),
        read_only: args.read_only,
    };
    Store::open_with(path, args.http_workers as u32 + 6, options)
}

/// A running server, the runner behind it and the webhook sender (none on a read-only
/// database).
pub(crate) struct Service {
    pub server: Server,
    pub runner: Arc<Runner>,
    pub webhooks: Option<Arc<crate::webhook::Sender>>,
    pub scheduler: Option<Arc<crate::schedule::Scheduler>>,
}

impl Service {
    /// Serves until SIGTERM or Ctrl-C, then stops gracefully: no new requests, the running
    /// run re-queued for the next server, requests in flight answered, the database closed.
    pub fn serve_until_signal(self) -> Result<()> {
        let (signal, stop) = std::sync::mpsc::channel();
        ctrlc::set_handler(move || {
            let _ = signal.send(());
        })
        .map_err(|e| Error::Internal(format!("cannot handle signals: {e}")))?;
        // A listener that failed for good cannot be mended from inside: stop as on a signal
        // and exit non-zero, so that a supervisor starts a new process.
        let failure = loop {
            match stop.recv_timeout(Duration::from_millis(250)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(failure) = self.server.failure() {
                        break Some(failure);
                    }
                }
                _ => break None,
            }
        };
        eprintln!("refmatch: stopping");
        self.server.stop();
        self.runner.shutdown();
        if let Some(scheduler) = &self.scheduler {
            scheduler.shutdown();
        }
        if let Some(webhooks) = &self.webhooks {
            webhooks.shutdown();
        }
        self.server.join();
        eprintln!("refmatch: stopped");
        match failure {
            Some(failure) => Err(Error::Internal(format!(
                "the listener failed and cannot be kept: {failure}"
            ))),
            None => Ok(()),
        }
    }

    pub fn start(store: Store, args: &ServerArgs) -> Result<Service> {
        let runner = runner(store.clone(), args)?;
        // A read-only database can neither recover nor execute runs; queued runs wait for a
        // server that can write.
        let mut webhooks = None;
        let mut scheduler = None;
        if !store.read_only() {
            runner.start()?;
            let schedules = crate::schedule::Scheduler::new(store.clone(), Arc::clone(&runner));
            schedules.start()?;
            scheduler = Some(schedules);
            let sender = crate::webhook::Sender::new(
                store.clone(),
                crate::webhook::DeliveryOptions {
                    timeout: Duration::from_secs(args.webhook_timeout_secs.max(1)),
                    ..Default::default()
                },
            );
            sender.start()?;
            webhooks = Some(sender);
        }
        let ctx = Arc::new(Context {
            store,
            runner: Arc::clone(&runner),
            limiter: crate::http::limits::RateLimiter::new(args.rate_limit),
            metrics: crate::http::limits::Metrics::default(),
            metrics_open: args.metrics_open,
            cors: crate::http::cors::Cors::new(&args.cors_origin)?,
        });
        let server = Server::start(
            ctx,
            &ServerOptions {
                addr: args.addr.clone(),
                http_workers: args.http_workers,
                max_body: args.max_body_mb.saturating_mul(1024 * 1024),
                access_log: !args.quiet,
                io_timeout: Duration::from_secs(args.read_timeout_secs.max(1)),
                max_connections: args.max_connections,
                header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
                min_body_rate: args.min_body_rate_kb.max(1).saturating_mul(1024),
                max_uploads: args.max_uploads.max(1),
                upload_memory: args.upload_memory_mb.max(1).saturating_mul(1 << 20),
            },
        )?;
        Ok(Service {
            server,
            runner,
            webhooks,
            scheduler,
        })
    }
}

pub(crate) fn runner(store: Store, args: &ServerArgs) -> Result<Arc<Runner>> {
    if !(args.stale_after_secs > 0.0 && args.stale_after_secs.is_finite()) {
        return Err(Error::invalid(
            "--stale-after-secs",
            "",
            "must be a positive number of seconds",
        ));
    }
    let pool = Arc::new(crate::matcher::thread_pool(args.threads)?);
    let resolver = args
        .resolver_url
        .as_deref()
        .map(|url| {
            crate::llm::Endpoint::parse(
                url,
                &args.resolver_model,
                Duration::from_secs(args.resolver_timeout_secs.max(1)),
                args.resolver_max_calls,
            )
        })
        .transpose()?;
    Ok(Runner::with_resolver(
        store,
        pool,
        RunnerOptions {
            stale_after: Duration::from_secs_f64(args.stale_after_secs),
            index_cache_bytes: (args.index_cache_mb as usize).saturating_mul(1 << 20),
            batch_pause: Duration::from_millis(args.run_batch_pause_ms),
        },
        resolver,
    ))
}

/// Prints a line and flushes at once: tests and scripts read the address before the
/// server has anything else to say.
pub(crate) fn println_flush(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))
}
