//! Test support shared by unit tests of several floors: a stored fixture (a table,
//! documents and a config, made through the service's use-cases as a client would) and a
//! run executed by the runner. It sits above every floor and is compiled only for tests,
//! so that no module's tests import another module's tests.

use crate::ingest::{body, Encoding};
use crate::service::{
    create_config, import_documents, import_reference, trigger_run, Trigger, TriggerRun,
};
use crate::store::{Store, WorkspaceId};

/// A store with a three-row table, two documents and a config over them.
pub struct Fixture {
    pub store: Store,
    pub ws: WorkspaceId,
    pub config_id: String,
    _dir: tempfile::TempDir,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(&dir.path().join("service.db"), 4).expect("a database");
    let ws = store.workspace("test", true).expect("a workspace");
    let csv = "id,vendor_name,invoice_number\nR1,Nordwind Logistik GmbH,INV-1001\n\
               R2,Acme Corp,INV-2002\nR3,Blue Harbor Ltd,INV-3003\n";
    let table =
        crate::ingest::reference_from_csv("r.csv", csv.as_bytes(), Encoding::Utf8, None, "id")
            .expect("a table");
    let reference = import_reference(&store, ws, None, Some("ledger"), "csv", &table)
        .expect("the table is stored");
    let documents = body::documents_from_json(
        br#"{"documents": [
            {"id": "D-1", "fields": {"vendor_name": "ACME Corp.", "invoice_number": "INV-2002"}},
            {"id": "D-2", "fields": {"vendor_name": "Nobody", "invoice_number": "X-9"}}
        ]}"#,
    )
    .expect("documents");
    import_documents(&store, ws, "json", &documents).expect("the documents are stored");
    let config = format!(
        r#"{{"reference_data_id": "{}", "threshold": 0.8, "field_mappings": [
            {{"source": "vendor_name", "target": "vendor_name", "strategy": "fuzzy", "weight": 0.5}},
            {{"source": "invoice_number", "target": "invoice_number", "strategy": "identifier", "weight": 0.5}}
        ]}}"#,
        reference.id
    );
    let config_id = create_config(&store, ws, config.as_bytes())
        .expect("the config is stored")
        .id;
    Fixture {
        store,
        ws,
        config_id,
        _dir: dir,
    }
}

/// Queues a run of the fixture's config; its id.
pub fn queue_run(f: &Fixture) -> String {
    trigger_run(&f.store, f.ws, &f.config_id, &TriggerRun::by(Trigger::Api))
        .expect("a run")
        .id
}

/// Executes a queued run to completion on a one-thread pool.
pub fn execute(store: &Store, run_id: &str) {
    let pool = std::sync::Arc::new(crate::matcher::thread_pool(1).expect("a pool"));
    let runner = crate::runner::Runner::new(store.clone(), pool, Default::default());
    let outcome = runner
        .run_now(run_id, &|_, _| {})
        .expect("the run executes");
    assert_eq!(outcome, Some(crate::runner::Outcome::Completed));
}
