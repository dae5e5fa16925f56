//! The run lifecycle over the real server: background execution while the API keeps
//! answering, cancel, frozen configs, and recovery when the process running a run dies.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::util::server::{cli, request, TestServer};
use serde_json::{json, Value};

/// A generated set big enough that a run lasts seconds in a debug build: imported through
/// the CLI (as users do) with a config for it. Returns the config id. These tests are about
/// the lifecycle, so the run's length must be predictable: the clean profile, and each
/// document's own best row (one-to-one runs are tested with the fixtures below).
fn large_config(server: &TestServer, rows: u32, documents: u32) -> String {
    let dir = server.dir.path().join("set");
    let out = crate::util::refmatch(&[
        "synth",
        "--profile",
        "clean",
        "--reference-rows",
        &rows.to_string(),
        "--documents",
        &documents.to_string(),
        "--seed",
        "11",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let reference = cli(
        &server.db,
        &[
            "reference",
            "import",
            dir.join("reference.csv").to_str().unwrap(),
        ],
    );
    cli(
        &server.db,
        &[
            "documents",
            "import",
            dir.join("documents.csv").to_str().unwrap(),
        ],
    );
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    config["reference_data_id"] = json!(reference.trim());
    config["assignment"] = json!("none");
    let created = server.post_json("/v1/matching/configs", &config);
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()["id"].as_str().unwrap().to_string()
}

fn fixture_config(server: &TestServer) -> (String, String) {
    let csv = std::fs::read(crate::util::fixture("reference.csv")).unwrap();
    let reference = server.send(
        "POST",
        "/v1/reference-data?name=invoices",
        Some("text/csv"),
        &csv,
    );
    assert_eq!(reference.status, 201, "{}", reference.text());
    let reference_id = reference.json()["id"].as_str().unwrap().to_string();
    // Prefixed so the ids never collide with those of the generated set.
    let documents: String = std::fs::read_to_string(crate::util::fixture("documents.csv"))
        .unwrap()
        .lines()
        .map(|line| match line.strip_prefix("D-") {
            Some(rest) => format!("FIX-{rest}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    let documents = documents.as_bytes();
    let batch = server.send("POST", "/v1/documents", Some("text/csv"), documents);
    assert_eq!(batch.status, 201, "{}", batch.text());
    let batch_id = batch.json()["batch_id"].as_str().unwrap().to_string();
    let mut config: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::fixture("config.json")).unwrap(),
    )
    .unwrap();
    config["reference_data_id"] = json!(reference_id);
    config["target_type"] = json!("batch");
    config["target_value"] = json!({ "batch_id": batch_id });
    let created = server.post_json("/v1/matching/configs", &config);
    assert_eq!(created.status, 201, "{}", created.text());
    (
        created.json()["id"].as_str().unwrap().to_string(),
        reference_id,
    )
}

fn trigger(server: &TestServer, config_id: &str) -> String {
    let run = server.post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}));
    assert_eq!(run.status, 202, "{}", run.text());
    assert_eq!(run.json()["status"], "queued");
    run.json()["id"].as_str().unwrap().to_string()
}

/// Waits until the run has written some results and is still running.
fn wait_until_matching(server: &TestServer, run_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let progress = server
            .get(&format!("/v1/matching/runs/{run_id}/progress"))
            .json();
        if progress["status"] == "queued" {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        assert_eq!(
            progress["status"], "running",
            "the run ended before the test could act on it: {progress}"
        );
        if progress["rows_processed"].as_i64().unwrap_or(0) > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the run never started matching");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Server options that keep a run going for a while on any machine: small batches with a
/// pause after each (a hidden `serve` option for tests of running runs).
const SLOW_RUNS: [&str; 2] = ["--run-batch-pause-ms", "10"];

fn next_get(addr: &str, key: &str, path: &str) -> Value {
    request(addr, "GET", path, Some(key), None, b"").json()
}

fn kill(child: &mut Child) {
    child.kill().expect("SIGKILL the server");
    child.wait().expect("reap");
}

#[test]
fn progress_advances_and_readers_are_served_while_a_run_writes() {
    let server = TestServer::start_with(&SLOW_RUNS);
    let config = large_config(&server, 20_000, 3_000);
    let run_id = trigger(&server, &config);
    wait_until_matching(&server, &run_id);

    // 8 clients read run detail and results while the run writes its batches.
    let seen: Vec<Vec<i64>> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..8)
            .map(|i| {
                let server = &server;
                let run_id = &run_id;
                scope.spawn(move || {
                    let mut processed = Vec::new();
                    let deadline = Instant::now() + Duration::from_secs(3);
                    while Instant::now() < deadline {
                        let path = if i % 2 == 0 {
                            format!("/v1/matching/runs/{run_id}")
                        } else {
                            format!("/v1/matching/runs/{run_id}/results?limit=20&page=2")
                        };
                        let reply = server.get(&path);
                        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
                        assert!(!reply.text().contains("database is locked"));
                        if i % 2 == 0 {
                            let run = reply.json();
                            processed.push(run["rows_processed"].as_i64().unwrap_or(0));
                            let results = run["results"].as_array().unwrap();
                            assert!(results.len() <= 50);
                        }
                        // Within the key's rate limit (600 a minute, a full bucket to start).
                        std::thread::sleep(Duration::from_millis(60));
                    }
                    processed
                })
            })
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let processed: Vec<i64> = seen.into_iter().flatten().collect();
    assert!(
        processed.windows(2).any(|w| w[1] > w[0]),
        "rows_processed never advanced while the run was matching: {processed:?}"
    );
    let run = server.wait_for_run(&run_id, 300);
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["rows_processed"], 3_000);
    assert!(!server.log().contains("database is locked"));
}

#[test]
fn cancel_stops_a_large_run_within_a_second_and_keeps_partial_results() {
    let server = TestServer::start_with(&SLOW_RUNS);
    let config = large_config(&server, 20_000, 3_000);
    let run_id = trigger(&server, &config);
    wait_until_matching(&server, &run_id);

    let asked = Instant::now();
    let cancelled = server.post_json(&format!("/v1/matching/runs/{run_id}/cancel"), &json!({}));
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    let run = loop {
        let run = server.get(&format!("/v1/matching/runs/{run_id}")).json();
        if run["status"] != "running" {
            break run;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = asked.elapsed();
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(took < Duration::from_secs(1), "cancel took {took:?}");
    let kept = run["rows_processed"].as_i64().unwrap();
    assert!(kept > 0 && kept < 3_000, "partial results: {kept}");
    let results = server
        .get(&format!("/v1/matching/runs/{run_id}/results?limit=1"))
        .json();
    assert_eq!(
        results["pagination"]["total"], kept,
        "every counted result is kept"
    );

    // Cancelling again is a conflict: the run is finished.
    server
        .post_json(&format!("/v1/matching/runs/{run_id}/cancel"), &json!({}))
        .assert_error(409, "conflict");
}

#[test]
fn a_run_keeps_the_config_and_reference_version_it_was_triggered_with() {
    let server = TestServer::start_with(&SLOW_RUNS);
    let big = large_config(&server, 20_000, 3_000);
    let (config_id, reference_id) = fixture_config(&server);
    // The large run occupies the runner, so the fixture run stays queued while we edit.
    let blocker = trigger(&server, &big);
    let run_id = trigger(&server, &config_id);
    assert_eq!(
        server.get(&format!("/v1/matching/runs/{run_id}")).json()["status"],
        "queued"
    );

    let mut edited: Value = server
        .get(&format!("/v1/matching/configs/{config_id}"))
        .json();
    let replacement = json!({
        "name": "stricter",
        "field_mappings": edited["field_mappings"].take(),
        "threshold": 1.0,
    });
    let put = server.send(
        "PUT",
        &format!("/v1/matching/configs/{config_id}"),
        Some("application/json"),
        replacement.to_string().as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    let csv = std::fs::read(crate::util::fixture("reference.csv")).unwrap();
    let head: Vec<u8> = csv
        .split(|b| *b == b'\n')
        .take(3)
        .collect::<Vec<_>>()
        .join(&b'\n');
    let v2 = server.send(
        "PUT",
        &format!("/v1/reference-data/{reference_id}"),
        Some("text/csv"),
        &head,
    );
    assert_eq!(v2.status, 200, "{}", v2.text());
    assert_eq!(v2.json()["version"], 2);

    server.post_json(&format!("/v1/matching/runs/{blocker}/cancel"), &json!({}));
    let run = server.wait_for_run(&run_id, 120);
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["reference_version"], 1);
    // The fixture config at threshold 0.8 over 304 rows matches 135 of 150 documents.
    assert_eq!(run["rows_processed"], 150);
    assert_eq!(run["rows_matched"], 135);

    // A run triggered now uses the edits.
    let after = server.wait_for_run(&trigger(&server, &config_id), 120);
    assert_eq!(after["reference_version"], 2);
    assert!(after["rows_matched"].as_i64().unwrap() < 135);
}

#[test]
fn a_killed_server_s_run_is_failed_by_the_next_one_which_takes_up_the_queue() {
    let mut server =
        TestServer::start_with(&["--stale-after-secs", "2", SLOW_RUNS[0], SLOW_RUNS[1]]);
    let big = large_config(&server, 20_000, 3_000);
    let (fixture, _) = fixture_config(&server);
    let running = trigger(&server, &big);
    let queued = trigger(&server, &fixture);
    wait_until_matching(&server, &running);

    kill(&mut server.child);
    let (mut next, addr) = server.spawn_another(&["--stale-after-secs", "2"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (failed, taken) = loop {
        let get = |id: &str| {
            request(
                &addr,
                "GET",
                &format!("/v1/matching/runs/{id}"),
                Some(&server.key),
                None,
                b"",
            )
            .json()
        };
        let (a, b) = (get(&running), get(&queued));
        if a["status"] == "failed" && b["status"] == "completed" {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "not recovered: {a} {b}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("stopped"), "the error says why: {error}");
    assert!(failed["completed_at"].is_string());
    assert!(
        failed["rows_processed"].as_i64().unwrap() > 0,
        "partial results stay"
    );
    assert_eq!(taken["rows_processed"], 150);
    let stored = next_get(
        &addr,
        &server.key,
        &format!("/v1/matching/runs/{running}/results?limit=1"),
    );
    assert_eq!(
        stored["pagination"]["total"], failed["rows_processed"],
        "the results stored are exactly those the run counted"
    );
    assert_eq!(crate::util::server::integrity_check(&server.db), "ok");
    kill(&mut next.0);
}

#[test]
fn a_second_server_never_fails_a_run_that_a_live_one_executes() {
    // Batches of 32 documents with a pause after each: the run lasts about 4 s on any machine.
    let server = TestServer::start_with(&["--stale-after-secs", "1", "--run-batch-pause-ms", "40"]);
    let big = large_config(&server, 20_000, 3_000);
    let run_id = trigger(&server, &big);
    wait_until_matching(&server, &run_id);

    let (second, addr) = server.spawn_another(&["--stale-after-secs", "1"]);
    let started = Instant::now();
    let mut running_late = false;
    loop {
        let run = request(
            &addr,
            "GET",
            &format!("/v1/matching/runs/{run_id}"),
            Some(&server.key),
            None,
            b"",
        )
        .json();
        assert_ne!(run["status"], "failed", "a live run was failed: {run}");
        if run["status"] != "running" {
            break;
        }
        // Past the stale window with the second server checking every half window.
        running_late |= started.elapsed() > Duration::from_millis(2_500);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        running_late,
        "the run ended before the second server could have judged it; use a larger set"
    );
    let run = server.wait_for_run(&run_id, 300);
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["rows_processed"], 3_000);
    drop(second);
}

#[test]
fn rerunning_after_a_weight_change_reuses_the_index_and_applies_the_new_weights() {
    let server = TestServer::start();
    let (config_id, _) = fixture_config(&server);
    let first = server.wait_for_run(&trigger(&server, &config_id), 120);
    assert_eq!(first["status"], "completed", "{first}");

    let mut config: Value = server
        .get(&format!("/v1/matching/configs/{config_id}"))
        .json();
    let mut mappings = config["field_mappings"].take();
    let list = mappings.as_array_mut().unwrap();
    // Move weight from the first mapping to the second: same columns, other weights.
    let moved = 0.05;
    let w0 = list[0]["weight"].as_f64().unwrap();
    let w1 = list[1]["weight"].as_f64().unwrap();
    list[0]["weight"] = json!(w0 - moved);
    list[1]["weight"] = json!(w1 + moved);
    let put = server.send(
        "PUT",
        &format!("/v1/matching/configs/{config_id}"),
        Some("application/json"),
        json!({"field_mappings": mappings, "threshold": 0.5})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    let second_id = trigger(&server, &config_id);
    let second = server.wait_for_run(&second_id, 120);
    assert_eq!(second["status"], "completed", "{second}");

    let log = server.log();
    assert!(
        log.contains(&format!("run {second_id}: reusing the index")),
        "the second run rebuilt the index: {log}"
    );
    let first_id = first["id"].as_str().unwrap();
    assert!(!log.contains(&format!("run {first_id}: reusing the index")));
    // The new threshold and weights apply: more documents reach 0.5 than 0.8.
    assert!(second["rows_matched"].as_i64().unwrap() > first["rows_matched"].as_i64().unwrap());
}

#[test]
fn sigterm_stops_gracefully_and_the_next_server_runs_the_interrupted_run() {
    let mut server = TestServer::start_with(&["--run-batch-pause-ms", "20"]);
    let big = large_config(&server, 20_000, 3_000);
    let run_id = trigger(&server, &big);
    wait_until_matching(&server, &run_id);

    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "a graceful stop exits 0: {status}");
    let log = server.log();
    assert!(log.contains("re-queued"), "{log}");

    // The next server takes the run up again from the start and completes it.
    let (mut next, addr) = server.spawn_another(&[]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let run = request(
            &addr,
            "GET",
            &format!("/v1/matching/runs/{run_id}"),
            Some(&server.key),
            None,
            b"",
        )
        .json();
        if run["status"] == "completed" {
            break run;
        }
        assert!(Instant::now() < deadline, "not taken up: {run}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(run["rows_processed"], 3_000);
    let results = request(
        &addr,
        "GET",
        &format!("/v1/matching/runs/{run_id}/results?limit=1"),
        Some(&server.key),
        None,
        b"",
    )
    .json();
    assert_eq!(
        results["pagination"]["total"], 3_000,
        "no partial results left twice"
    );
    kill(&mut next.0);
}

/// Two documents compete for one row (see `tests/offline.rs`): `a` is best on `r1` and
/// nearly as good on `r2`; `b` has only `r1` above the threshold. Returns the config id.
fn contested_config(server: &TestServer) -> String {
    let reference = server.post_json(
        "/v1/reference-data",
        &json!({"name": "ledger", "rows": [
            {"id": "r1", "vendor": "Acme", "amount": "100"},
            {"id": "r2", "vendor": "Acme", "amount": "103"},
            {"id": "r3", "vendor": "Other", "amount": "500"}]}),
    );
    assert_eq!(reference.status, 201, "{}", reference.text());
    let documents = server.post_json(
        "/v1/documents",
        &json!({"documents": [
            {"id": "a", "fields": {"vendor": "Acme", "amount": "101"}},
            {"id": "b", "fields": {"vendor": "Acme", "amount": "96"}}]}),
    );
    assert_eq!(documents.status, 201, "{}", documents.text());
    let config = server.post_json(
        "/v1/matching/configs",
        &json!({
            "reference_data_id": reference.json()["id"],
            "threshold": 0.85,
            "assignment": "one_to_one",
            "field_mappings": [
                {"source": "vendor", "target": "vendor", "strategy": "exact", "weight": 0.5},
                {"source": "amount", "target": "amount", "strategy": "numeric_range",
                 "weight": 0.5, "tolerance_pct": 10}]}),
    );
    assert_eq!(config.status, 201, "{}", config.text());
    let config = config.json();
    assert_eq!(config["assignment"], "one_to_one");
    assert_eq!(config["assignment_candidates"], 10);
    config["id"].as_str().unwrap().to_string()
}

fn by_external_id(results: &Value) -> std::collections::HashMap<String, Value> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["document_external_id"].as_str().unwrap().to_string(),
                r.clone(),
            )
        })
        .collect()
}

#[test]
fn a_one_to_one_run_matches_a_row_once_and_marks_the_moved_document() {
    let server = TestServer::start();
    let config_id = contested_config(&server);
    let run_id = trigger(&server, &config_id);
    let run = server.wait_for_run(&run_id, 60);
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["rows_processed"], 2);
    assert_eq!(run["rows_matched"], 2);
    let results = by_external_id(&run["results"]);
    let (a, b) = (&results["a"], &results["b"]);
    assert_eq!(a["matched_reference_row_id"], "r2");
    assert_eq!(a["assigned"], true);
    assert_eq!(a["candidates"][0]["reference_row_id"], "r1");
    assert_eq!(a["confidence"], a["candidates"][1]["confidence"]);
    assert_eq!(b["matched_reference_row_id"], "r1");
    assert_eq!(b["assigned"], false);
    // `assigned` comes last; every other key keeps its place.
    let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.first(), Some(&"id"));
    assert_eq!(keys.last(), Some(&"assigned"));
    assert_eq!(keys[keys.len() - 2], "confidence_before");

    let list = server.get(&format!("/v1/matching/runs/{run_id}/results"));
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(by_external_id(&list.json()["data"])["a"]["assigned"], true);
    let csv = server
        .get(&format!("/v1/matching/runs/{run_id}/results/export"))
        .text();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (ext, assigned) = (column("document_external_id"), column("assigned"));
    let rows: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[ext].to_string(), r[assigned].to_string())
        })
        .collect();
    assert!(rows.contains(&("a".into(), "true".into())), "{csv}");
    assert!(rows.contains(&("b".into(), "false".into())), "{csv}");

    // A reviewer rejects r1 for b: r1 never enters b's candidates again, so the next run
    // gives it to a, its own best, and b is left without a row.
    let review = server.post_json(
        &format!(
            "/v1/matching/runs/{run_id}/results/{}/review",
            b["id"].as_str().unwrap()
        ),
        &json!({"status": "rejected"}),
    );
    assert_eq!(review.status, 200, "{}", review.text());
    let again = trigger(&server, &config_id);
    let run = server.wait_for_run(&again, 60);
    let results = by_external_id(&run["results"]);
    assert_eq!(results["a"]["matched_reference_row_id"], "r1");
    assert_eq!(results["a"]["assigned"], false);
    assert_eq!(results["b"]["matched_reference_row_id"], Value::Null);
    assert!(results["b"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["reference_row_id"] != "r1"));
}

#[test]
fn real_time_matching_assigns_within_one_request() {
    let server = TestServer::start();
    let config_id = contested_config(&server);
    let reply = server.post_json(
        &format!("/v1/matching/configs/{config_id}/match"),
        &json!({"documents": [
            {"id": "b", "fields": {"vendor": "Acme", "amount": "96"}},
            {"id": "a", "fields": {"vendor": "Acme", "amount": "101"}}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let results = reply.json()["results"].clone();
    assert_eq!(results[0]["document_external_id"], "b");
    assert_eq!(results[0]["matched_reference_row_id"], "r1");
    assert_eq!(results[0]["assigned"], false);
    assert_eq!(results[1]["matched_reference_row_id"], "r2");
    assert_eq!(results[1]["assigned"], true);
    // One document alone keeps its own best row.
    let reply = server.post_json(
        &format!("/v1/matching/configs/{config_id}/match"),
        &json!({"documents": [{"id": "a", "fields": {"vendor": "Acme", "amount": "101"}}]}),
    );
    assert_eq!(reply.json()["results"][0]["matched_reference_row_id"], "r1");
    assert_eq!(reply.json()["results"][0]["assigned"], false);
}
