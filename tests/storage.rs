//! Results stored in the compact form (issue 14 part 4) answer the very JSON the matcher
//! wrote: against real-time matching of the same documents, which never touches storage,
//! and across the migration of a database whose results are JSON text.

use std::collections::BTreeMap;

use crate::util::server::{read_addr, request, TestServer};
use r2d2_sqlite::rusqlite::Connection;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// The parts of a result that storage holds, as the API's exact text.
#[derive(Deserialize)]
struct Stored {
    /// Null in real-time matching, which stores nothing.
    id: Option<String>,
    document_external_id: Option<String>,
    evidence: Box<RawValue>,
    candidates: Box<RawValue>,
}

impl Stored {
    fn texts(&self) -> (String, String) {
        (
            self.evidence.get().to_string(),
            self.candidates.get().to_string(),
        )
    }
}

#[derive(Deserialize)]
struct Page {
    data: Vec<Stored>,
}

#[derive(Deserialize)]
struct Detail {
    results: Vec<Stored>,
}

#[derive(Deserialize)]
struct Inline {
    results: Vec<Stored>,
}

fn id_of(r: &Stored) -> String {
    r.id.clone().expect("a stored result has an id")
}

fn get_raw(addr: &str, key: &str, path: &str) -> Vec<u8> {
    let reply = request(addr, "GET", path, Some(key), None, b"");
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.body
}

/// Every result of the run, `id -> (evidence, candidates)` text, and the external ids.
fn results(
    addr: &str,
    key: &str,
    run_id: &str,
) -> BTreeMap<String, (Option<String>, (String, String))> {
    let body = get_raw(
        addr,
        key,
        &format!("/v1/matching/runs/{run_id}/results?limit=500"),
    );
    let page: Page = serde_json::from_slice(&body).expect("results page");
    page.data
        .iter()
        .map(|r| (id_of(r), (r.document_external_id.clone(), r.texts())))
        .collect()
}

/// Run detail's results, `id -> (evidence, candidates)` text.
fn detail(addr: &str, key: &str, run_id: &str) -> BTreeMap<String, (String, String)> {
    let body = get_raw(addr, key, &format!("/v1/matching/runs/{run_id}"));
    let detail: Detail = serde_json::from_slice(&body).expect("run detail");
    assert!(!detail.results.is_empty());
    detail
        .results
        .iter()
        .map(|r| (id_of(r), r.texts()))
        .collect()
}

fn config_of_run(server: &TestServer, run_id: &str) -> String {
    let run = server.get(&format!("/v1/matching/runs/{run_id}")).json();
    run["matching_config_id"]
        .as_str()
        .expect("config id")
        .to_string()
}

#[test]
fn stored_results_answer_the_json_real_time_matching_gives() {
    let server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let stored = results(&server.addr, &server.key, &run_id);
    assert_eq!(stored.len(), 150);

    // The same documents matched in real time: the matcher's own JSON, never stored.
    let documents = server.get("/v1/documents?limit=500").json();
    let documents: Vec<Value> = documents["data"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| json!({"id": d["external_id"], "fields": d["fields"]}))
        .collect();
    let config_id = config_of_run(&server, &run_id);
    let mut expected = BTreeMap::new();
    for chunk in documents.chunks(100) {
        let reply = server.post_json(
            &format!("/v1/matching/configs/{config_id}/match"),
            &json!({ "documents": chunk }),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let inline: Inline = serde_json::from_slice(&reply.body).expect("inline results");
        for r in inline.results {
            expected.insert(r.document_external_id.clone().expect("id"), r.texts());
        }
    }
    let mut with_candidates = 0;
    for (external_id, texts) in stored.values() {
        let external_id = external_id.as_deref().expect("external id");
        assert_eq!(
            Some(texts),
            expected.get(external_id),
            "document {external_id}"
        );
        with_candidates += usize::from(texts.1 != "[]");
    }
    assert!(with_candidates > 100, "{with_candidates}");

    // Run detail reads the same text as the list.
    for (id, texts) in detail(&server.addr, &server.key, &run_id) {
        assert_eq!(texts, stored[&id].1, "result {id}");
    }

    // And every one of them is stored compact.
    let conn = Connection::open(&server.db).expect("open");
    let text_rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM results WHERE typeof(candidates) <> 'blob' OR evidence IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(text_rows, 0);
}

#[test]
fn a_database_of_text_results_migrates_and_answers_the_same_json() {
    let mut server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let before = results(&server.addr, &server.key, &run_id);
    let _ = server.child.kill();
    let _ = server.child.wait();

    // Write the results back the way schema version 3 stored them: JSON text.
    let odd_id;
    {
        let mut conn = Connection::open(&server.db).expect("open");
        let tx = conn.transaction().expect("tx");
        for (id, (_, (evidence, candidates))) in &before {
            let evidence = (evidence != "null").then_some(evidence);
            tx.execute(
                "UPDATE results SET evidence = ?1, candidates = ?2 WHERE id = ?3",
                (evidence, candidates, id),
            )
            .expect("update");
        }
        // A row the compact form does not hold as it is: candidates but no evidence.
        odd_id = before
            .iter()
            .find(|(_, (_, (_, c)))| c != "[]")
            .map(|(id, _)| id.clone())
            .expect("a result with candidates");
        tx.execute(
            "UPDATE results SET evidence = NULL WHERE id = ?1",
            [&odd_id],
        )
        .expect("update");
        tx.pragma_update(None, "user_version", 3).expect("version");
        tx.commit().expect("commit");
    }

    let mut child = crate::util::server::spawn_server(&server.db, server.dir.path(), &[]);
    let addr = read_addr(&mut child);
    let _guard = crate::util::server::ChildGuard(child);
    let after = results(&addr, &server.key, &run_id);
    assert_eq!(after.len(), before.len());
    for (id, (external_id, texts)) in &before {
        let mut expected = texts.clone();
        if *id == odd_id {
            expected.0 = "null".into();
        }
        assert_eq!(after[id].1, expected, "document {external_id:?}");
        assert_eq!(&after[id].0, external_id);
    }

    let conn = Connection::open(&server.db).expect("open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert!(version >= 4, "{version}");
    let kinds: Vec<(String, String, bool)> = {
        let mut stmt = conn
            .prepare("SELECT id, typeof(candidates), evidence IS NULL FROM results")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    for (id, kind, evidence_null) in kinds {
        if id == odd_id {
            assert_eq!((kind.as_str(), evidence_null), ("text", true), "{id}");
        } else {
            assert_eq!((kind.as_str(), evidence_null), ("blob", true), "{id}");
        }
    }
}
