//! Packages over the real server, on the three-way-match fixtures (`fixtures/three-way`):
//! each case of `packages.json` gets the verdict it expects, every slot is a stored run
//! whose result can be reviewed, and a package config's deletion takes its runs along.

use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use crate::util::server::{request, TestServer};

fn three_way(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/three-way")
        .join(name)
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(three_way(name)).expect("a fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Uploads both ledgers, creates the three matching configs and the package config on the
/// server at `addr`; returns the package config's id.
pub fn setup_at(addr: &str, key: &str) -> String {
    let send = |path: &str, content_type: &str, body: &[u8]| {
        let reply = request(addr, "POST", path, Some(key), Some(content_type), body);
        assert_eq!(reply.status, 201, "{path}: {}", reply.text());
        reply.json()["id"].as_str().expect("an id").to_string()
    };
    let mut tables = std::collections::HashMap::new();
    for (name, file) in [
        ("purchase_orders", "purchase_orders.csv"),
        ("goods_receipts", "goods_receipts.csv"),
    ] {
        let csv = std::fs::read(three_way(file)).expect("a fixture");
        let path = format!("/v1/reference-data?name={name}");
        tables.insert(name, send(&path, "text/csv", &csv));
    }
    let mut package = std::fs::read_to_string(three_way("package.json")).expect("a fixture");
    for (document_type, table, placeholder) in [
        ("invoice", "purchase_orders", "INVOICE_CONFIG_ID"),
        (
            "purchase_order",
            "purchase_orders",
            "PURCHASE_ORDER_CONFIG_ID",
        ),
        ("delivery_note", "goods_receipts", "DELIVERY_NOTE_CONFIG_ID"),
    ] {
        let mut config = read_json(&format!("{document_type}.config.json"));
        config["reference_data_id"] = json!(tables[table]);
        let body = config.to_string();
        let id = send("/v1/matching/configs", "application/json", body.as_bytes());
        package = package.replace(placeholder, &id);
    }
    send(
        "/v1/matching/packages/configs",
        "application/json",
        package.as_bytes(),
    )
}

/// Runs every case of `packages.json` against package config `package` on the server at
/// `addr`, checking each verdict; returns the package runs in case order.
pub fn run_cases_at(addr: &str, key: &str, package: &str) -> Vec<Value> {
    let cases = read_json("packages.json");
    let mut runs = Vec::new();
    for case in cases.as_array().expect("an array of cases") {
        let body =
            json!({"package_config_id": package, "input_documents": case["input_documents"]});
        let reply = request(
            addr,
            "POST",
            "/v1/matching/packages/runs",
            Some(key),
            Some("application/json"),
            body.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        let run = reply.json();
        assert_eq!(run["status"], case["expect"], "{}: {run:#}", case["case"]);
        runs.push(run);
    }
    runs
}

fn setup(server: &TestServer) -> String {
    setup_at(&server.addr, &server.key)
}

#[test]
fn every_three_way_case_gets_its_verdict_and_its_slots_are_reviewable_runs() {
    let server = TestServer::start();
    let package = setup(&server);
    let cases = read_json("packages.json");
    for case in cases.as_array().expect("an array of cases") {
        let body =
            json!({"package_config_id": package, "input_documents": case["input_documents"]});
        let reply = server.post_json("/v1/matching/packages/runs", &body);
        assert_eq!(reply.status, 201, "{}", reply.text());
        let run = reply.json();
        assert_eq!(run["status"], case["expect"], "{}: {run:#}", case["case"]);
        for key in [
            "id",
            "package_config_id",
            "status",
            "document_results",
            "input_documents",
            "error",
            "created_at",
            "completed_at",
            "links",
        ] {
            assert!(run.get(key).is_some(), "{key} missing: {run}");
        }
        let again = server.get(run["links"]["self"].as_str().unwrap());
        assert_eq!(again.json()["status"], run["status"]);
    }
    // The first case: every slot matched its row, and the checks say what they compared.
    let runs = server.get(&format!(
        "/v1/matching/packages/runs?package_config_id={package}&status=passed"
    ));
    let passed = &runs.json()["data"][0];
    let rows: Vec<&str> = passed["document_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["matched_reference_row_id"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(rows, ["row_1", "row_1", "row_1"], "{passed:#}");
    assert_eq!(passed["checks"][1]["values"][1]["value"], "1240.00");
    // A slot's result is reviewed like any other.
    let slot = &passed["document_results"][0];
    let review = server.post_json(
        &format!(
            "/v1/matching/runs/{}/results/{}/review",
            slot["matching_run_id"].as_str().unwrap(),
            slot["result_id"].as_str().unwrap()
        ),
        &json!({"status": "approved"}),
    );
    assert_eq!(review.status, 200, "{}", review.text());
    let verdicts = server.get("/v1/matching/packages/runs?limit=500").json();
    assert_eq!(verdicts["pagination"]["total"], 5);
}

#[test]
fn another_workspace_sees_no_package_and_deleting_a_config_takes_its_runs() {
    let server = TestServer::start();
    let package = setup(&server);
    let cases = read_json("packages.json");
    let body =
        json!({"package_config_id": package, "input_documents": cases[0]["input_documents"]});
    let run = server.post_json("/v1/matching/packages/runs", &body).json();
    let other = server.new_key("elsewhere", "read,write");
    let foreign = crate::util::server::request(
        &server.addr,
        "GET",
        &format!("/v1/matching/packages/configs/{package}"),
        Some(&other),
        None,
        b"",
    );
    foreign.assert_error(404, "not_found");
    let foreign_run = crate::util::server::request(
        &server.addr,
        "GET",
        run["links"]["self"].as_str().unwrap(),
        Some(&other),
        None,
        b"",
    );
    foreign_run.assert_error(404, "not_found");
    let deleted = server.send(
        "DELETE",
        &format!("/v1/matching/packages/configs/{package}"),
        None,
        b"",
    );
    assert_eq!(deleted.json()["deleted"], true);
    server
        .get(run["links"]["self"].as_str().unwrap())
        .assert_error(404, "not_found");
}

/// The figure for the README: a package run's latency on the fixtures, p50 over 100 calls
/// (`cargo test --release --test tests -- --ignored --nocapture package_run_latency`).
#[test]
#[ignore]
fn package_run_latency() {
    let server = TestServer::start();
    let package = setup(&server);
    let cases = read_json("packages.json");
    let body =
        json!({"package_config_id": package, "input_documents": cases[0]["input_documents"]});
    // One call warms the three indexes.
    assert_eq!(
        server.post_json("/v1/matching/packages/runs", &body).status,
        201
    );
    let mut times = Vec::with_capacity(100);
    for _ in 0..100 {
        let started = Instant::now();
        let reply = server.post_json("/v1/matching/packages/runs", &body);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(reply.status, 201);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "package run (3 slots, 3 documents): p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms over 100 calls",
        times[49], times[89], times[99]
    );
}
