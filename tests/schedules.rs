//! Schedules and re-matching over the real server: a slot missed while no server ran
//! fires once when one starts, and a new version of a table re-matches the documents of a
//! `rematch_on_new_version` config whose latest result is still pending.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::server::{read_addr, spawn_server, ChildGuard, TestServer};

/// The invoice fixtures with a config carrying `extra`; returns (config id, table id).
fn fixture_config(server: &TestServer, extra: Value) -> (String, String) {
    let csv = std::fs::read(crate::util::fixture("reference.csv")).expect("fixture");
    let reference = server.send("POST", "/v1/reference-data?name=l", Some("text/csv"), &csv);
    assert_eq!(reference.status, 201, "{}", reference.text());
    let table = reference.json()["id"].as_str().unwrap().to_string();
    let documents = std::fs::read(crate::util::fixture("documents.csv")).expect("fixture");
    let batch = server.send("POST", "/v1/documents", Some("text/csv"), &documents);
    assert_eq!(batch.status, 201, "{}", batch.text());
    let text = std::fs::read_to_string(crate::util::fixture("config.json")).expect("fixture");
    let mut config: Value = serde_json::from_str(&text).expect("JSON");
    config["reference_data_id"] = json!(table);
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    let created = server.post_json("/v1/matching/configs", &config);
    assert_eq!(created.status, 201, "{}", created.text());
    (created.json()["id"].as_str().unwrap().to_string(), table)
}

fn runs_triggered_by(addr: &str, key: &str, config: &str, trigger: &str) -> Vec<Value> {
    let reply = crate::util::server::request(
        addr,
        "GET",
        &format!("/v1/matching/runs?config_id={config}&limit=100"),
        Some(key),
        None,
        b"",
    );
    reply.json()["data"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|r| r["triggered_by"] == trigger)
        .cloned()
        .collect()
}

#[test]
fn a_slot_missed_while_down_runs_once_at_start() {
    let mut server = TestServer::start();
    let (config, _) = fixture_config(&server, json!({"schedule": "0 3 * * *"}));
    let shown = server.get(&format!("/v1/matching/configs/{config}")).json();
    assert_eq!(shown["schedule"], "0 3 * * *");
    assert!(shown["next_scheduled_at"].is_string(), "{shown}");
    server.child.kill().expect("stopped");
    server.child.wait().expect("gone");
    // Two days pass without a server: two slots of a daily schedule are missed.
    let conn = r2d2_sqlite::rusqlite::Connection::open(&server.db).expect("the database");
    let two_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock")
        .as_millis() as i64
        - 2 * 24 * 3600 * 1000;
    conn.execute(
        "UPDATE configs SET schedule_next_ms = ?1 WHERE id = ?2",
        r2d2_sqlite::rusqlite::params![two_days_ago, config],
    )
    .expect("moved back");
    drop(conn);
    let mut child = spawn_server(&server.db, server.dir.path(), &[]);
    server.addr = read_addr(&mut child);
    let _restarted = ChildGuard(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let run = loop {
        if let Some(run) = runs_triggered_by(&server.addr, &server.key, &config, "scheduled").pop()
        {
            break run;
        }
        assert!(Instant::now() < deadline, "no scheduled run");
        std::thread::sleep(Duration::from_millis(50));
    };
    let detail = server.wait_for_run(run["id"].as_str().unwrap(), 60);
    assert_eq!(detail["status"], "completed");
    assert_eq!(detail["triggered_by"], "scheduled");
    // Give the scheduler a few more ticks: the missed slots fired once, not twice.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        runs_triggered_by(&server.addr, &server.key, &config, "scheduled").len(),
        1
    );
    let next = server.get(&format!("/v1/matching/configs/{config}")).json()["next_scheduled_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        next.as_str() > detail["created_at"].as_str().unwrap(),
        "{next}"
    );
}

#[test]
fn a_new_reference_version_rematches_the_pending_documents_only() {
    let server = TestServer::start();
    let (config, table) = fixture_config(&server, json!({"rematch_on_new_version": true}));
    let run = server.post_json(&format!("/v1/matching/configs/{config}/run"), &json!({}));
    let run = run.json()["id"].as_str().unwrap().to_string();
    let detail = server.wait_for_run(&run, 60);
    // A reviewer settles two documents; the other 148 stay pending.
    for result in detail["results"].as_array().unwrap().iter().take(2) {
        let reviewed = server.post_json(
            &format!(
                "/v1/matching/runs/{run}/results/{}/review",
                result["id"].as_str().unwrap()
            ),
            &json!({"status": "approved"}),
        );
        assert_eq!(reviewed.status, 200, "{}", reviewed.text());
    }
    let csv = std::fs::read(crate::util::fixture("reference.csv")).expect("fixture");
    let version = server.send(
        "PUT",
        &format!("/v1/reference-data/{table}"),
        Some("text/csv"),
        &csv,
    );
    assert_eq!(version.status, 200, "{}", version.text());
    let rematch = runs_triggered_by(&server.addr, &server.key, &config, "reference_update");
    assert_eq!(rematch.len(), 1, "queued with the new version");
    let done = server.wait_for_run(rematch[0]["id"].as_str().unwrap(), 60);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["reference_version"], 2);
    assert_eq!(
        done["rows_processed"], 148,
        "reviewed documents are not decided again"
    );
}
