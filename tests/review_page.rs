//! The review page's server side over the real socket: its files are served without a key
//! under a strict Content-Security-Policy, and the confidence histogram behind its threshold
//! slider agrees with the run's results.

use crate::util::server::{request, TestServer};
use serde_json::{json, Value};

/// The fixture invoices imported and run once; returns the completed run.
fn fixture_run(server: &TestServer) -> Value {
    let (run_id, _) = server.fixture_run();
    server.get(&format!("/v1/matching/runs/{run_id}")).json()
}

/// Every result's confidence, from the results list (500 a page).
fn confidences(server: &TestServer, run_id: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for page in 1.. {
        let reply = server
            .get(&format!(
                "/v1/matching/runs/{run_id}/results?page={page}&limit=500"
            ))
            .json();
        let data = reply["data"].as_array().unwrap();
        out.extend(data.iter().map(|r| r["confidence"].as_f64().unwrap()));
        if out.len() as i64 >= reply["pagination"]["total"].as_i64().unwrap() {
            return out;
        }
    }
    out
}

#[test]
fn the_histogram_counts_each_result_once_by_its_confidence_in_hundredths() {
    let server = TestServer::start();
    let run = fixture_run(&server);
    let run_id = run["id"].as_str().unwrap();
    let reply = server.get(&format!("/v1/matching/runs/{run_id}/histogram"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let histogram = reply.json();
    assert_eq!(histogram["run_id"], run_id);
    let buckets: Vec<i64> = histogram["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_i64().unwrap())
        .collect();
    assert_eq!(buckets.len(), 101);
    let confidences = confidences(&server, run_id);
    assert_eq!(histogram["total"], confidences.len() as i64);
    assert_eq!(buckets.iter().sum::<i64>(), confidences.len() as i64);
    for (h, &count) in buckets.iter().enumerate() {
        let expected = confidences
            .iter()
            .filter(|&&c| ((c * 10_000.0).round() as i64) / 100 == h as i64)
            .count() as i64;
        assert_eq!(count, expected, "bucket {h}");
    }
    // The slider's sum at the run's own threshold is the run's matched count, plus the
    // documents whose best row the one-to-one assignment of the fixture config gave to
    // another document (unmatched at their best candidate's confidence).
    let at_threshold: i64 = buckets[80..].iter().sum();
    let moved_off = server
        .get(&format!(
            "/v1/matching/runs/{run_id}/results?matched=false&min_confidence=0.8&limit=500"
        ))
        .json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|r| assert_eq!(r["assigned"], true, "{r}"))
        .count() as i64;
    assert_eq!(
        at_threshold,
        run["rows_matched"].as_i64().unwrap() + moved_off
    );
    assert!(histogram["approved"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n == 0));

    // Reviews are counted in their result's bucket.
    let results = server
        .get(&format!("/v1/matching/runs/{run_id}/results?limit=3"))
        .json();
    let decisions = [("approved", 0), ("approved", 1), ("rejected", 2)];
    for (status, i) in decisions {
        let result = &results["data"][i];
        let reply = server.post_json(
            &format!(
                "/v1/matching/runs/{run_id}/results/{}/review",
                result["id"].as_str().unwrap()
            ),
            &json!({ "status": status }),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let histogram = server
        .get(&format!("/v1/matching/runs/{run_id}/histogram"))
        .json();
    for (status, i) in decisions {
        let c = results["data"][i]["confidence"].as_f64().unwrap();
        let bucket = ((c * 10_000.0).round() as usize) / 100;
        assert!(
            histogram[status][bucket].as_i64().unwrap() >= 1,
            "{status} {c}"
        );
    }
    let count = |key: &str| -> i64 {
        histogram[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_i64().unwrap())
            .sum()
    };
    assert_eq!((count("approved"), count("rejected")), (2, 1));
    assert_eq!(
        histogram["buckets"],
        json!(buckets),
        "reviews move no result"
    );
}

#[test]
fn the_histogram_is_keyed_and_workspace_scoped() {
    let server = TestServer::start();
    let run = fixture_run(&server);
    let path = format!(
        "/v1/matching/runs/{}/histogram",
        run["id"].as_str().unwrap()
    );
    request(&server.addr, "GET", &path, None, None, b"").assert_error(401, "unauthorized");
    let other = server.new_key("elsewhere", "read");
    request(&server.addr, "GET", &path, Some(&other), None, b"").assert_error(404, "not_found");
    server
        .get("/v1/matching/runs/00000000-0000-4000-8000-000000000000/histogram")
        .assert_error(404, "not_found");
    server
        .send("POST", &path, Some("application/json"), b"{}")
        .assert_error(405, "method_not_allowed");
}

#[test]
fn the_page_and_its_files_need_no_key_and_forbid_inline_script() {
    let server = TestServer::start();
    let page = request(&server.addr, "GET", "/", None, None, b"");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("Content-Security-Policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = page.text();
    for (asset, content_type) in [
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
    ] {
        let start = html
            .find(asset)
            .unwrap_or_else(|| panic!("the page loads {asset}"));
        let end = start + html[start..].find('"').unwrap();
        let reply = request(&server.addr, "GET", &html[start..end], None, None, b"");
        assert_eq!(reply.status, 200, "{asset}");
        assert_eq!(reply.header("Content-Type"), Some(content_type));
        assert!(reply.header("Cache-Control").unwrap().contains("immutable"));
        assert!(!reply.body.is_empty());
    }
    // Nothing from another origin: no absolute URL in any of the three files.
    for path in ["/", "/ui/app.js", "/ui/app.css"] {
        let text = request(&server.addr, "GET", path, None, None, b"").text();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{path} refers to another origin"
        );
    }
    request(&server.addr, "POST", "/", None, None, b"").assert_error(405, "method_not_allowed");
    request(&server.addr, "GET", "/ui/missing.js", None, None, b"").assert_error(404, "not_found");
    // The API itself still needs a key.
    request(&server.addr, "GET", "/v1/matching/runs", None, None, b"")
        .assert_error(401, "unauthorized");
}
