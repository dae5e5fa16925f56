//! The rest of the v1 surface over the real server: rate limits, key revocation, bulk
//! review, exports and metrics.

use std::time::Duration;

use crate::util::server::{request, TestServer};
use serde_json::{json, Value};

/// Uploads the fixtures, runs their config and returns `(run id, reference id)`.
#[test]
fn a_key_over_its_rate_gets_429_with_retry_after_and_recovers() {
    // 60 a minute: a bucket of 60 that refills one token per second.
    let server = TestServer::start_with(&["--rate-limit", "60"]);
    let first = server.get("/v1/matching/runs");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("X-RateLimit-Limit"), Some("60"));
    assert_eq!(first.header("X-RateLimit-Remaining"), Some("59"));
    assert!(first.header("X-RateLimit-Reset").is_some());
    let mut refused = None;
    for _ in 0..80 {
        let reply = server.get("/v1/matching/runs");
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.expect("the bucket runs dry within 80 requests");
    let body = refused.assert_error(429, "rate_limited");
    assert_eq!(body["retryable"], true);
    assert_eq!(refused.header("Retry-After"), Some("1"));
    assert_eq!(refused.header("X-RateLimit-Remaining"), Some("0"));
    // Another key has its own bucket.
    let other = server.new_key("default", "read");
    let reply = request(
        &server.addr,
        "GET",
        "/v1/matching/runs",
        Some(&other),
        None,
        b"",
    );
    assert_eq!(reply.status, 200);
    // A token is back after a second.
    std::thread::sleep(Duration::from_millis(1_100));
    assert_eq!(server.get("/v1/matching/runs").status, 200);
    // /healthz needs no key and is never limited.
    let health = request(&server.addr, "GET", "/healthz", None, None, b"");
    assert_eq!(health.status, 200);
}

#[test]
fn a_revoked_key_stops_working_and_keys_never_show_their_secret() {
    let server = TestServer::start();
    let other = server.new_key("default", "read,write");
    let list = server.get("/v1/keys?limit=500").json();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(!list.to_string().contains(&other), "a secret was listed");
    assert!(
        !list.to_string().contains(&server.key),
        "a secret was listed"
    );
    // The key just used shows when it was last used.
    assert!(data.iter().any(|k| k["last_used_at"].is_string()));
    let id = data
        .iter()
        .find(|k| k["last_used_at"].is_null())
        .and_then(|k| k["id"].as_str())
        .unwrap()
        .to_string();
    let revoked = server.send("DELETE", &format!("/v1/keys/{id}"), None, b"");
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let reply = request(&server.addr, "GET", "/v1/keys", Some(&other), None, b"");
    reply.assert_error(401, "unauthorized");
    server
        .send("DELETE", &format!("/v1/keys/{id}"), None, b"")
        .assert_error(404, "not_found");
}

#[test]
fn bulk_review_applies_each_result_on_its_own_and_filters_select_results() {
    let server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let results = server
        .get(&format!("/v1/matching/runs/{run_id}/results?limit=3"))
        .json();
    let ids: Vec<&str> = results["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let body = json!({"result_ids": [ids[0], "no-such-result", ids[1]], "status": "approved", "notes": "bulk"});
    let reply = server.post_json(&format!("/v1/matching/runs/{run_id}/results/review"), &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let out = reply.json();
    assert_eq!(out["updated"], 2);
    assert_eq!(out["failed"], 1);
    assert_eq!(out["results"][1]["ok"], false);
    assert_eq!(out["results"][1]["error"]["code"], "not_found");
    let approved = server
        .get(&format!(
            "/v1/matching/runs/{run_id}/results?status=approved"
        ))
        .json();
    assert_eq!(approved["pagination"]["total"], 2);
    assert_eq!(approved["data"][0]["notes"], "bulk");

    // A filter: every unmatched result becomes rejected.
    let unmatched = server
        .get(&format!(
            "/v1/matching/runs/{run_id}/results?matched=false&limit=500"
        ))
        .json()["pagination"]["total"]
        .as_i64()
        .unwrap();
    let reply = server.post_json(
        &format!("/v1/matching/runs/{run_id}/results/review"),
        &json!({"filter": {"matched": false}, "status": "rejected"}),
    );
    assert_eq!(reply.json()["updated"].as_i64().unwrap(), unmatched);
    // A bad decision is refused before anything changes.
    let reply = server.post_json(
        &format!("/v1/matching/runs/{run_id}/results/review"),
        &json!({"result_ids": [ids[2]], "status": "maybe"}),
    );
    assert_eq!(
        reply.assert_error(400, "validation_error")["details"][0]["field"],
        "status"
    );
    let too_many: Vec<String> = (0..501).map(|i| format!("r{i}")).collect();
    let reply = server.post_json(
        &format!("/v1/matching/runs/{run_id}/results/review"),
        &json!({"result_ids": too_many, "status": "approved"}),
    );
    assert_eq!(
        reply.assert_error(400, "validation_error")["details"][0]["field"],
        "result_ids"
    );
}

#[test]
fn exports_are_csv_of_every_result_and_of_the_current_reference_version() {
    let server = TestServer::start();
    let (run_id, reference_id) = server.fixture_run();
    let export = server.get(&format!("/v1/matching/runs/{run_id}/results/export"));
    assert_eq!(export.status, 200);
    assert!(export
        .header("Content-Type")
        .unwrap()
        .starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(export.body.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "result_id");
    assert!(headers.iter().any(|h| h == "status"));
    assert_eq!(reader.records().count(), 150);

    let export = server.get(&format!("/v1/reference-data/{reference_id}/export"));
    assert_eq!(export.status, 200, "{}", export.text());
    let mut exported = csv::Reader::from_reader(export.body.as_slice());
    let original_bytes = std::fs::read(crate::util::fixture("reference.csv")).unwrap();
    let mut original = csv::Reader::from_reader(original_bytes.as_slice());
    assert_eq!(exported.headers().unwrap(), original.headers().unwrap());
    let a: Vec<csv::StringRecord> = exported.records().map(Result::unwrap).collect();
    let b: Vec<csv::StringRecord> = original.records().map(Result::unwrap).collect();
    assert_eq!(a, b, "the export round-trips the uploaded table");
    server
        .get("/v1/reference-data/unknown/export")
        .assert_error(404, "not_found");
}

#[test]
fn metrics_count_requests_by_route_and_need_a_key_unless_open() {
    let server = TestServer::start();
    for _ in 0..3 {
        server.get("/v1/matching/runs");
    }
    request(&server.addr, "GET", "/metrics", None, None, b"").assert_error(401, "unauthorized");
    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(
        text.contains("refmatch_http_requests_total{route=\"runs\",status=\"200\"} 3"),
        "{text}"
    );
    assert!(text.contains("refmatch_http_request_duration_seconds_bucket{route=\"runs\""));
    assert!(text.contains("# TYPE refmatch_runs gauge"));
    assert!(text.contains("refmatch_documents_matched_total"));

    let open = TestServer::start_with(&["--metrics-open"]);
    let reply = request(&open.addr, "GET", "/metrics", None, None, b"");
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn xlsx_uploads_read_the_first_sheet_with_numbers_and_dates_as_text() {
    let server = TestServer::start();
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/xlsx/vendors.xlsx"),
    )
    .unwrap();
    let (content_type, body) =
        crate::util::server::multipart("vendors.xlsx", &bytes, &[("name", "vendors")]);
    let created = server.send("POST", "/v1/reference-data", Some(&content_type), &body);
    assert_eq!(created.status, 201, "{}", created.text());
    let table = created.json();
    assert_eq!(table["source_type"], "xlsx");
    assert_eq!(table["row_count"], 3);
    let types: Vec<(String, String)> = table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        types.contains(&("total".into(), "number".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("invoice_date".into(), "date".into())),
        "{types:?}"
    );
    let id = table["id"].as_str().unwrap();
    let rows = server.get(&format!("/v1/reference-data/{id}/rows")).json();
    assert_eq!(rows["data"][0]["id"], "V-001");
    assert_eq!(rows["data"][0]["total"], "1240", "whole numbers without .0");
    assert_eq!(rows["data"][0]["invoice_date"], "2024-03-01");
    // A body that is not a workbook is a validation error, not a crash.
    let (content_type, body) =
        crate::util::server::multipart("broken.xlsx", b"PK\x03\x04garbage", &[]);
    server
        .send("POST", "/v1/reference-data", Some(&content_type), &body)
        .assert_error(400, "validation_error");
}

#[test]
fn a_run_queued_before_its_table_was_deleted_fails_saying_so() {
    // Runs stay queued behind a slow one while the table is deleted.
    let server = TestServer::start_with(&["--run-batch-pause-ms", "200"]);
    let (run_id, reference_id) = server.fixture_run();
    let config_id = server.get(&format!("/v1/matching/runs/{run_id}")).json()["matching_config_id"]
        .as_str()
        .unwrap()
        .to_string();
    let blocker = server.post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}));
    let queued = server.post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}));
    let queued_id = queued.json()["id"].as_str().unwrap().to_string();
    let deleted = server.send(
        "DELETE",
        &format!("/v1/reference-data/{reference_id}"),
        None,
        b"",
    );
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    // Triggering now is refused outright.
    server
        .post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}))
        .assert_error(409, "conflict");
    let blocker_id = blocker.json()["id"].as_str().unwrap().to_string();
    server.post_json(
        &format!("/v1/matching/runs/{blocker_id}/cancel"),
        &json!({}),
    );
    let run = server.wait_for_run(&queued_id, 60);
    assert_eq!(run["status"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap().contains("deleted"), "{run}");
    // Past results keep their rows and evidence.
    let detail = server.get(&format!("/v1/matching/runs/{run_id}")).json();
    assert!(detail["results"][0]["evidence"].is_object());
}

#[test]
fn backup_copies_a_live_database_and_prune_removes_old_runs_only() {
    let server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let copy = server.dir.path().join("copy.db");
    crate::util::server::cli(&server.db, &["backup", copy.to_str().unwrap()]);
    // The copy is a working database with the same run.
    let listed = crate::util::server::cli(&copy, &["keys", "list"]);
    assert!(!listed.trim().is_empty());
    let again = crate::util::refmatch(&[
        "--db",
        server.db.to_str().unwrap(),
        "backup",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "a backup never overwrites");

    let kept = crate::util::server::cli(&server.db, &["prune", "--older-than", "1d"]);
    assert!(kept.contains("pruned 0 runs"), "{kept}");
    assert_eq!(
        server.get(&format!("/v1/matching/runs/{run_id}")).status,
        200
    );
    let pruned = crate::util::server::cli(&server.db, &["prune", "--older-than", "0s"]);
    assert!(pruned.contains("pruned 1 runs, 150 results"), "{pruned}");
    server
        .get(&format!("/v1/matching/runs/{run_id}"))
        .assert_error(404, "not_found");
    let bad = crate::util::refmatch(&[
        "--db",
        server.db.to_str().unwrap(),
        "prune",
        "--older-than",
        "soon",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn strategies_are_generated_patched_versioned_and_turned_into_configs() {
    let server = TestServer::start();
    let (run_id, reference_id) = server.fixture_run();
    let generated = server.post_json(
        "/v1/matching/strategies/generate",
        &json!({"reference_data_id": reference_id, "name": "invoices"}),
    );
    assert_eq!(generated.status, 201, "{}", generated.text());
    let strategy = generated.json();
    assert_eq!(strategy["version"], 1);
    assert!(
        strategy["matching_config_id"].is_null(),
        "it creates no config"
    );
    let hash = strategy["version_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 12);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    let mappings = strategy["strategy"]["field_mappings"].as_array().unwrap();
    assert!(mappings.len() >= 4, "{strategy}");
    for m in mappings {
        assert!(!m["rationale"].as_str().unwrap_or("").is_empty(), "{m}");
    }
    let targets: Vec<&str> = mappings
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    assert!(targets.contains(&"invoice_number") && targets.contains(&"vendor_name"));
    let id = strategy["id"].as_str().unwrap().to_string();

    let patched = server.send(
        "PATCH",
        &format!("/v1/matching/strategies/{id}"),
        Some("application/merge-patch+json"),
        json!({"threshold": 0.7}).to_string().as_bytes(),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    let patched = patched.json();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["strategy"]["threshold"], 0.7);
    assert_ne!(patched["version_hash"], hash);
    // A patch that breaks the config is refused and changes nothing.
    let bad = server.send(
        "PATCH",
        &format!("/v1/matching/strategies/{id}"),
        Some("application/merge-patch+json"),
        json!({"threshold": 3}).to_string().as_bytes(),
    );
    bad.assert_error(400, "validation_error");
    assert_eq!(
        server.get(&format!("/v1/matching/strategies/{id}")).json()["version"],
        2
    );

    let config = server.post_json(
        "/v1/matching/configs",
        &json!({"strategy_id": id, "name": "from strategy"}),
    );
    assert_eq!(config.status, 201, "{}", config.text());
    let config = config.json();
    assert_eq!(config["threshold"], 0.7);
    assert_eq!(config["reference_data_id"], reference_id.as_str());
    let linked = server.get(&format!("/v1/matching/strategies/{id}")).json();
    assert_eq!(linked["matching_config_id"], config["id"]);

    // Fitted to the reviews of a config's runs: approve the matched results.
    let config_id = server.get(&format!("/v1/matching/runs/{run_id}")).json()["matching_config_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewed = server.post_json(
        &format!("/v1/matching/runs/{run_id}/results/review"),
        &json!({"filter": {"matched": true}, "status": "approved"}),
    );
    assert!(reviewed.json()["updated"].as_i64().unwrap() > 100);
    let fitted = server.post_json(
        "/v1/matching/strategies/generate",
        &json!({"reference_data_id": reference_id, "use_reviews_of": config_id}),
    );
    assert_eq!(fitted.status, 201, "{}", fitted.text());
    let metrics = &fitted.json()["metrics"];
    assert!(
        metrics["labelled_documents"].as_i64().unwrap() > 100,
        "{metrics}"
    );
    assert!(metrics["f1_after"].as_f64().unwrap() >= metrics["f1_before"].as_f64().unwrap());

    server
        .post_json(
            "/v1/matching/strategies/generate",
            &json!({"reference_data_id": "nope"}),
        )
        .assert_error(400, "validation_error");
    server
        .get("/v1/matching/strategies/unknown")
        .assert_error(404, "not_found");
}

#[test]
fn generate_config_proposes_a_config_as_good_as_the_hand_written_one() {
    let eval_f1 = |config: &str| {
        let out = crate::util::refmatch(&[
            "eval",
            "--reference",
            &crate::util::fixture("reference.csv"),
            "--documents",
            &crate::util::fixture("documents.csv"),
            "--config",
            config,
            "--truth",
            &crate::util::fixture("truth.csv"),
            "--json",
        ]);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        serde_json::from_str::<Value>(&crate::util::stdout(&out)).unwrap()["f1"]
            .as_f64()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "generate-config".to_string(),
        "--reference".into(),
        crate::util::fixture("reference.csv"),
        "--documents".into(),
        crate::util::fixture("documents.csv"),
    ];
    let plain = crate::util::refmatch(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(plain.status.success(), "{}", crate::util::stderr(&plain));
    let generated = crate::util::write(dir.path(), "generated.json", crate::util::stdout(&plain));
    let config: Value = serde_json::from_str(&crate::util::stdout(&plain)).unwrap();
    assert!(config["field_mappings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["rationale"].is_string()));
    args.extend(["--truth".into(), crate::util::fixture("truth.csv")]);
    let fitted = crate::util::refmatch(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(fitted.status.success(), "{}", crate::util::stderr(&fitted));
    assert!(crate::util::stderr(&fitted).contains("F1"));
    let fitted = crate::util::write(dir.path(), "fitted.json", crate::util::stdout(&fitted));

    let hand = eval_f1(&crate::util::fixture("config.json"));
    let (generated, fitted) = (eval_f1(&generated), eval_f1(&fitted));
    assert!(
        generated >= hand - 0.03,
        "generated {generated} vs hand-written {hand}"
    );
    assert!(
        fitted >= generated,
        "fitted {fitted} vs generated {generated}"
    );
}

/// Every result of a run, all pages.
fn all_results(server: &TestServer, run_id: &str) -> Vec<Value> {
    server
        .get(&format!("/v1/matching/runs/{run_id}/results?limit=500"))
        .json()["data"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn ai_resolve_rescores_only_the_unreviewed_band_and_records_what_it_changed() {
    let server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let before = all_results(&server, &run_id);
    let in_band: Vec<&Value> = before
        .iter()
        .filter(|r| (0.3..0.8).contains(&r["confidence"].as_f64().unwrap()))
        .collect();
    assert!(
        in_band.len() >= 2,
        "the fixture run has results in the band"
    );
    // A person's decision is never touched.
    let reviewed_id = in_band[0]["id"].as_str().unwrap().to_string();
    server.post_json(
        &format!("/v1/matching/runs/{run_id}/results/{reviewed_id}/review"),
        &json!({"status": "rejected"}),
    );
    let accepted = server.post_json(
        &format!("/v1/matching/runs/{run_id}/ai-resolve"),
        &json!({"band": {"low": 0.3, "high": 0.8}}),
    );
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let run = server.wait_for_run(&run_id, 60);
    let run = if run["status"] == "ai_resolving" {
        std::thread::sleep(Duration::from_millis(500));
        server.get(&format!("/v1/matching/runs/{run_id}")).json()
    } else {
        run
    };
    assert_eq!(run["status"], "completed", "{run}");
    let after = all_results(&server, &run_id);
    let changed: Vec<&Value> = after
        .iter()
        .filter(|r| r["resolved_by"] == "model")
        .collect();
    assert!(
        !changed.is_empty(),
        "the resolver changed nothing in the band"
    );
    for r in &changed {
        let before = r["confidence_before"].as_f64().unwrap();
        assert!((0.3..0.8).contains(&before), "{r}");
        assert_ne!(r["id"], reviewed_id.as_str());
        assert_eq!(r["status"], "pending", "review status never changes");
    }
    let reviewed = after
        .iter()
        .find(|r| r["id"] == reviewed_id.as_str())
        .unwrap();
    assert!(reviewed["resolved_by"].is_null());
    assert_eq!(reviewed["status"], "rejected");
    // Outside the band nothing moved.
    for r in after.iter().filter(|r| r["resolved_by"].is_null()) {
        let old = before.iter().find(|b| b["id"] == r["id"]).unwrap();
        assert_eq!(old["confidence"], r["confidence"]);
    }
    // Only a completed run can be resolved.
    // A fast machine may finish the run before the cancel arrives (the cancel then answers
    // 409), so try until one run really ends cancelled.
    let config_id = run["matching_config_id"].as_str().unwrap();
    let cancelled_id = (0..20)
        .find_map(|_| {
            let queued =
                server.post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}));
            let queued_id = queued.json()["id"].as_str().unwrap().to_string();
            let cancel =
                server.post_json(&format!("/v1/matching/runs/{queued_id}/cancel"), &json!({}));
            if cancel.status != 200 {
                return None;
            }
            let ended = server.wait_for_run(&queued_id, 60);
            (ended["status"] == "cancelled").then_some(queued_id)
        })
        .expect("one of 20 runs is cancelled before it completes");
    server
        .post_json(
            &format!("/v1/matching/runs/{cancelled_id}/ai-resolve"),
            &json!({}),
        )
        .assert_error(409, "conflict");
    server
        .post_json(
            &format!("/v1/matching/runs/{run_id}/ai-resolve"),
            &json!({"band": {"low": 0.9, "high": 0.1}}),
        )
        .assert_error(400, "validation_error");
}

#[test]
fn a_smart_run_resolves_its_band_by_itself() {
    let server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let config_id = server.get(&format!("/v1/matching/runs/{run_id}")).json()["matching_config_id"]
        .as_str()
        .unwrap()
        .to_string();
    let smart = server.post_json(
        &format!("/v1/matching/configs/{config_id}/smart-run"),
        &json!({}),
    );
    assert_eq!(smart.status, 202, "{}", smart.text());
    let smart_id = smart.json()["id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let run = server.get(&format!("/v1/matching/runs/{smart_id}")).json();
        let resolved = all_results(&server, &smart_id)
            .iter()
            .any(|r| r["resolved_by"] == "model");
        if run["status"] == "completed" && resolved {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not resolved: {run}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A stand-in for an OpenAI-compatible chat server on 127.0.0.1: answers each request with
/// the first candidate at confidence 0.97, or with `status` when it is not 200. Returns the
/// URL and a counter of requests.
fn stand_in_chat_server(status: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().unwrap()
    );
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let question: Value =
                serde_json::from_str(request["messages"][1]["content"].as_str().unwrap_or("null"))
                    .unwrap_or(Value::Null);
            let first = question["candidates"][0]["reference_row_id"].clone();
            let answer = json!({"reference_row_id": first, "confidence": 0.97}).to_string();
            let reply = json!({"choices": [{"message": {"role": "assistant", "content": answer}}]})
                .to_string();
            let head = if status == 200 {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {head}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (url, calls)
}

#[test]
fn a_configured_chat_endpoint_resolves_the_band_within_its_budget_with_the_model_as_fallback() {
    let (url, calls) = stand_in_chat_server(200);
    let server = TestServer::start_with(&["--resolver-url", &url, "--resolver-max-calls", "2"]);
    let (run_id, _) = server.fixture_run();
    let reply = server.post_json(
        &format!("/v1/matching/runs/{run_id}/ai-resolve"),
        &json!({"band": {"low": 0.0, "high": 0.8}}),
    );
    assert_eq!(reply.status, 202, "{}", reply.text());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.get(&format!("/v1/matching/runs/{run_id}")).json()["status"] != "completed" {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let results = all_results(&server, &run_id);
    let by_llm: Vec<&Value> = results
        .iter()
        .filter(|r| r["resolved_by"] == "llm")
        .collect();
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the call budget holds"
    );
    assert_eq!(by_llm.len(), 2, "{by_llm:?}");
    for r in &by_llm {
        assert_eq!(r["confidence"], 0.97);
        assert!(
            r["matched_reference_row_id"].is_string(),
            "0.97 is above the threshold"
        );
    }
    assert!(
        results.iter().any(|r| r["resolved_by"] == "model"),
        "the rest used the model"
    );

    // An endpoint that fails: the built-in model answers instead, and it is asked no more
    // than three times in a row.
    let (url, calls) = stand_in_chat_server(500);
    let server = TestServer::start_with(&["--resolver-url", &url]);
    let (run_id, _) = server.fixture_run();
    server.post_json(
        &format!("/v1/matching/runs/{run_id}/ai-resolve"),
        &json!({"band": {"low": 0.0, "high": 0.8}}),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.get(&format!("/v1/matching/runs/{run_id}")).json()["status"] != "completed" {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let results = all_results(&server, &run_id);
    assert!(results.iter().all(|r| r["resolved_by"] != "llm"));
    assert!(results.iter().any(|r| r["resolved_by"] == "model"));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn stalled_clients_are_closed_and_cannot_starve_the_others() {
    use std::io::{Read, Write};
    let server = TestServer::start_with(&["--http-workers", "1", "--read-timeout-secs", "1"]);
    // Half a body: the only worker waits on it until the read timeout.
    let mut stalled_body = std::net::TcpStream::connect(&server.addr).unwrap();
    write!(
        stalled_body,
        "POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"fields\"",
        server.key
    )
    .unwrap();
    // Half a request line: held by the connection, never by a worker.
    let mut stalled_head = std::net::TcpStream::connect(&server.addr).unwrap();
    stalled_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));

    let asked = std::time::Instant::now();
    let health = request(&server.addr, "GET", "/healthz", None, None, b"");
    assert_eq!(health.status, 200);
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "{:?}",
        asked.elapsed()
    );

    for stream in [&mut stalled_body, &mut stalled_head] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 4"),
            "a stalled client gets a 4xx or a closed connection: {text}"
        );
    }
    // Nothing half-sent was stored.
    let documents = server.get("/v1/documents").json();
    assert_eq!(documents["pagination"]["total"], 0);
}

#[test]
fn a_full_disk_is_a_retryable_503_that_stores_nothing_and_the_server_keeps_serving() {
    // The schema and a few rows fit in 60 pages of 4 KiB; 20,000 rows do not.
    let server = TestServer::start_with(&["--max-db-pages", "60"]);
    let mut csv = String::from("id,vendor_name,total\n");
    for i in 0..20_000 {
        csv.push_str(&format!(
            "R{i:05},Vendor number {i} GmbH,{}.{:02}\n",
            i * 7,
            i % 100
        ));
    }
    let csv = csv.into_bytes();
    let reply = server.send(
        "POST",
        "/v1/reference-data?name=ledger",
        Some("text/csv"),
        &csv,
    );
    let body = reply.assert_error(503, "unavailable");
    assert_eq!(body["retryable"], true);
    assert!(body["message"].as_str().unwrap().contains("full"), "{body}");
    assert_eq!(reply.header("Retry-After"), Some("1"));
    let tables = server.get("/v1/reference-data").json();
    assert_eq!(tables["pagination"]["total"], 0, "nothing half-stored");
    let small = server.send(
        "POST",
        "/v1/reference-data?name=small",
        Some("text/csv"),
        b"id,name\nA,x\nB,y\n",
    );
    assert_eq!(small.status, 201, "{}", small.text());
    assert_eq!(
        request(&server.addr, "GET", "/healthz", None, None, b"").status,
        200
    );
}

#[test]
fn real_time_matching_answers_as_the_run_did_and_stores_nothing() {
    let server = TestServer::start();
    let (run_id, reference_id) = server.fixture_run();
    let run = server.get(&format!("/v1/matching/runs/{run_id}")).json();
    let config_id = run["matching_config_id"].as_str().unwrap().to_string();
    let path = format!("/v1/matching/configs/{config_id}/match");

    let stored = server.get("/v1/documents?limit=20").json();
    let documents: Vec<Value> = stored["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!({"id": d["external_id"], "filename": d["filename"], "fields": d["fields"]}))
        .collect();
    let reply = server.post_json(&path, &json!({ "documents": documents }));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["reference_data_id"], reference_id.as_str());
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), documents.len());
    let from_run = all_results(&server, &run_id);
    for (document, result) in documents.iter().zip(results) {
        assert_eq!(result["document_external_id"], document["id"]);
        assert!(result["id"].is_null() && result["document_id"].is_null());
        let ran = from_run
            .iter()
            .find(|r| r["document_external_id"] == document["id"])
            .expect("the run has a result for every document");
        for key in [
            "matched_reference_row_id",
            "confidence",
            "evidence",
            "candidates",
        ] {
            assert_eq!(result[key], ran[key], "{key} of {}", document["id"]);
        }
    }

    // Nothing was stored, and the limits are the contract's.
    assert_eq!(
        server.get("/v1/documents").json()["pagination"]["total"],
        150
    );
    assert_eq!(
        server.get("/v1/matching/runs").json()["pagination"]["total"],
        1
    );
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"fields": {"vendor_name": format!("v{i}")}}))
        .collect();
    let body = server
        .post_json(&path, &json!({ "documents": many }))
        .assert_error(400, "validation_error");
    assert_eq!(body["details"][0]["field"], "documents", "{body}");
    server
        .send("POST", &path, Some("text/csv"), b"a\n1\n")
        .assert_error(415, "unsupported_media_type");
    server
        .post_json(
            "/v1/matching/configs/00000000-0000-4000-8000-000000000000/match",
            &json!({"fields": {"a": "b"}}),
        )
        .assert_error(404, "not_found");
    let deleted = server.send(
        "DELETE",
        &format!("/v1/reference-data/{reference_id}"),
        None,
        b"",
    );
    assert_eq!(deleted.status, 200);
    server
        .post_json(&path, &json!({"fields": {"vendor_name": "x"}}))
        .assert_error(409, "conflict");
}
