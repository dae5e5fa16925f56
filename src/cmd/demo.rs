//! `refmatch demo`: a new database seeded from the fixtures built into the binary (so the
//! executable alone is enough), one completed run, then the API served with a key and a
//! ready-to-paste curl line printed.

use serde_json::Value;

use super::serve::{open_store, println_flush, Service};
use crate::cli::{Cli, DemoArgs, ServerArgs};
use crate::error::{Error, Result};
use crate::ingest::{self, body, Encoding};
use crate::runner::Outcome;
use crate::service;
use crate::store::keys::Scopes;
use crate::store::runs::RunStatus;
use crate::store::Store;

const REFERENCE: &[u8] = include_bytes!("../../fixtures/invoices/reference.csv");
const DOCUMENTS: &[u8] = include_bytes!("../../fixtures/invoices/documents.csv");
const CONFIG: &str = include_str!("../../fixtures/invoices/config.json");

pub fn run(cli: &Cli, args: &DemoArgs) -> Result<()> {
    let path = match &cli.db {
        Some(path) if path.exists() => {
            return Err(Error::invalid(
                "--db",
                "",
                format!(
                    "{} already exists; the demo seeds a new database",
                    path.display()
                ),
            ))
        }
        Some(path) => path.clone(),
        None => std::env::temp_dir().join(format!("refmatch-demo-{}.db", crate::store::new_id())),
    };
    let store = open_store(&path, &args.server)?;
    let Demo {
        service,
        key,
        run_id,
    } = start(store.clone(), &cli.workspace, &args.server)?;
    let ws = store.workspace(&cli.workspace, false)?;
    let run = store.get_run(ws, &run_id)?;
    let url = format!("http://{}", service.server.addr());
    println_flush(&format!("listening on {url}"))?;
    println_flush(&format!(
        "database   {}\napi key    {}\nrun        {} ({} documents, {} matched)\n\
         review     {url}/ (sign in with the api key)\n\n\
         curl -s -H 'Authorization: Bearer {}' {url}/v1/matching/runs/{run_id}\n\n\
         Serving until interrupted (Ctrl-C).",
        path.display(),
        key,
        run_id,
        super::json_text(&run.rows_processed),
        super::json_text(&run.rows_matched),
        key,
    ))?;
    service.serve_until_signal()?;
    if cli.db.is_none() {
        // The temporary database goes with the demo; a --db the user named stays.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    Ok(())
}

/// A served demo database: the API key and the completed run.
pub(crate) struct Demo {
    pub service: Service,
    pub key: String,
    pub run_id: String,
}

/// Seeds `store` from the built-in fixtures, starts the server and runs the fixture config
/// to completion.
pub(crate) fn start(store: Store, workspace: &str, args: &ServerArgs) -> Result<Demo> {
    let ws = store.workspace(workspace, true)?;
    let scopes = Scopes {
        read: true,
        write: true,
    };
    let key = store.create_key(ws, "demo", scopes)?;
    let table = ingest::reference_from_csv("reference.csv", REFERENCE, Encoding::Utf8, None, "id")?;
    let reference =
        service::import_reference(&store, ws, None, Some("open invoices"), "csv", &table)?;
    let documents =
        body::documents_from_csv("documents.csv", DOCUMENTS, Encoding::Utf8, None, None)?;
    service::import_documents(&store, ws, "csv", &documents)?;
    let config = config_for(&reference.id)?;
    let config = service::create_config(&store, ws, config.as_bytes())?;
    let config_id = config.id.as_str();
    let run = service::trigger_run(
        &store,
        ws,
        config_id,
        &service::TriggerRun::by(service::Trigger::Cli),
    )?;
    let run_id = run.id;

    let service = Service::start(store.clone(), args)?;
    // The runner may take the queued run itself; either way wait until it is completed.
    let outcome = match service.runner.run_now(&run_id, &|_, _| {})? {
        Some(outcome) => outcome,
        None => wait(&store, ws, &run_id)?,
    };
    if outcome != Outcome::Completed {
        return Err(Error::Internal(format!("the demo run ended {outcome:?}")));
    }
    Ok(Demo {
        service,
        key: key.secret,
        run_id,
    })
}

/// The fixture config with the demo table's id added.
fn config_for(reference_data_id: &str) -> Result<String> {
    let mut config: Value = serde_json::from_str(CONFIG)
        .map_err(|e| Error::Internal(format!("the built-in config is not JSON: {e}")))?;
    if let Value::Object(object) = &mut config {
        object.insert("name".into(), Value::from("invoices (demo)"));
        object.insert("reference_data_id".into(), Value::from(reference_data_id));
    }
    Ok(config.to_string())
}

fn wait(
    store: &crate::store::Store,
    ws: crate::store::WorkspaceId,
    run_id: &str,
) -> Result<Outcome> {
    loop {
        match store.run_status(ws, run_id)? {
            RunStatus::Completed => return Ok(Outcome::Completed),
            RunStatus::Failed => return Ok(Outcome::Failed(String::new())),
            RunStatus::Cancelled => return Ok(Outcome::Cancelled),
            _ => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}
