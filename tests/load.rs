//! A bounded load test on 127.0.0.1: 64 keep-alive connections load run detail and a
//! results page for three rounds while runs keep writing results, with `refmatch bench
//! http` as the load generator. Every request must succeed and the server's memory must
//! stay flat from round to round.
//!
//! Each round lasts `REFMATCH_LOAD_SECS` seconds (default 30, as the hardening issue sets).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::util::server::TestServer;
use serde_json::{json, Value};

const CLIENTS: usize = 64;
const ROUNDS: usize = 3;

fn round_seconds() -> f64 {
    std::env::var("REFMATCH_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30.0)
}

/// A value from the server's `/proc/PID/status`, in kB.
fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A generated set whose runs each write thousands of results; returns its config id.
fn writing_config(server: &TestServer) -> String {
    let dir = server.dir.path().join("set");
    let out = crate::util::refmatch(&[
        "synth",
        "--reference-rows",
        "5000",
        "--documents",
        "3000",
        "--seed",
        "5",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let csv = std::fs::read(dir.join("reference.csv")).unwrap();
    let table = server.send(
        "POST",
        "/v1/reference-data?name=set",
        Some("text/csv"),
        &csv,
    );
    assert_eq!(table.status, 201, "{}", table.text());
    // Renamed so the ids never collide with the fixtures'.
    let documents: String = std::fs::read_to_string(dir.join("documents.csv"))
        .unwrap()
        .lines()
        .map(|line| match line.strip_prefix("D-") {
            Some(rest) => format!("GEN-{rest}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    let batch = server.send(
        "POST",
        "/v1/documents",
        Some("text/csv"),
        documents.as_bytes(),
    );
    assert_eq!(batch.status, 201, "{}", batch.text());
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    config["reference_data_id"] = table.json()["id"].clone();
    config["target_type"] = json!("batch");
    config["target_value"] = json!({ "batch_id": batch.json()["batch_id"] });
    let created = server.post_json("/v1/matching/configs", &config);
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()["id"].as_str().unwrap().to_string()
}

/// Whether a run is running (or just queued between two runs of the writer thread).
fn a_run_is_writing(server: &TestServer) -> bool {
    (0..10).any(|_| {
        let busy = ["running", "queued"].iter().any(|status| {
            let runs = server
                .get(&format!("/v1/matching/runs?status={status}"))
                .json();
            runs["pagination"]["total"].as_u64().unwrap_or(0) > 0
        });
        if !busy {
            std::thread::sleep(Duration::from_millis(20));
        }
        busy
    })
}

#[test]
#[ignore = "3 x 30 s of load; .ci/run runs it explicitly with --ignored"]
fn sixty_four_connections_for_three_rounds_while_runs_write_get_no_errors_and_flat_memory() {
    let server = TestServer::start_with(&["--rate-limit", "0", "--run-batch-pause-ms", "5"]);
    let (run_id, _) = server.fixture_run();
    let config_id = writing_config(&server);
    let seconds = round_seconds();

    let stop = AtomicBool::new(false);
    let runs_written = std::thread::scope(|scope| {
        // Runs back to back for as long as the rounds last.
        let writer = scope.spawn(|| {
            let mut runs = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let run =
                    server.post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}));
                assert_eq!(run.status, 202, "{}", run.text());
                let id = run.json()["id"].as_str().unwrap().to_string();
                let done = server.wait_for_run(&id, 600);
                assert_eq!(done["status"], "completed", "{done}");
                runs.push(done["rows_processed"].as_u64().unwrap_or(0));
            }
            runs
        });

        let mut rss = Vec::new();
        for round in 1..=ROUNDS {
            let out = crate::util::refmatch(&[
                "bench",
                "http",
                "--url",
                &format!("http://{}", server.addr),
                "--key",
                &server.key,
                "--path",
                &format!("/v1/matching/runs/{run_id}"),
                "--path",
                &format!("/v1/matching/runs/{run_id}/results?page=2&limit=50&status=pending"),
                "--clients",
                &CLIENTS.to_string(),
                "--seconds",
                &seconds.to_string(),
            ]);
            let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
                panic!(
                    "bench http printed no report: {}",
                    crate::util::stderr(&out)
                )
            });
            let pid = server.child.id();
            let (now, peak) = (proc_kb(pid, "VmRSS:"), proc_kb(pid, "VmHWM:"));
            let file_mb = |suffix: &str| {
                let path = format!("{}{suffix}", server.db.display());
                std::fs::metadata(path).map_or(0, |m| m.len() >> 20)
            };
            eprintln!(
                "round {round}: {} requests, {} req/s, p50 {} ms, p99 {} ms, max {} ms, \
                 {} errors; server RSS {} MB, peak {} MB; database {} MB, WAL {} MB",
                report["requests"],
                report["requests_per_second"],
                report["p50_ms"],
                report["p99_ms"],
                report["max_ms"],
                report["errors"],
                now / 1024,
                peak / 1024,
                file_mb(""),
                file_mb("-wal")
            );
            assert_eq!(report["errors"], 0, "round {round}: {report}");
            assert!(
                a_run_is_writing(&server),
                "no run was writing at the end of round {round}"
            );
            assert!(out.status.success(), "{}", crate::util::stderr(&out));
            assert!(report["requests"].as_u64().unwrap_or(0) > CLIENTS as u64);
            rss.push(now);
        }
        stop.store(true, Ordering::Relaxed);
        let runs = writer.join().expect("the writer thread ends");

        // After the first round has warmed caches and pools, memory must not keep rising.
        let (first, last) = (rss[0], rss[ROUNDS - 1]);
        assert!(
            last <= first + first / 5 + 16 * 1024,
            "server memory grew from {} MB to {} MB over the rounds: {rss:?} kB",
            first / 1024,
            last / 1024
        );
        runs
    });
    assert!(
        !runs_written.is_empty() && runs_written.iter().all(|&n| n == 3000),
        "every run wrote all its results: {runs_written:?}"
    );
    assert_eq!(
        server
            .get(&format!("/v1/matching/runs/{run_id}/results?limit=1"))
            .json()["pagination"]["total"],
        150
    );
}
