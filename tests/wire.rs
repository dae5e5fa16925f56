//! Browser apps and slow links (issue 17): CORS for the origins `serve --cors-origin`
//! allows, and gzip answers for clients that accept them, decoded here and compared with
//! the plain answer byte for byte.

use std::io::Read;

use crate::util::server::{request_with, TestServer};

const APP: &str = "https://app.example.com";

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

#[test]
fn allowed_origins_get_preflights_and_readable_answers() {
    let server = TestServer::start_with(&[
        "--cors-origin",
        APP,
        "--cors-origin",
        "http://localhost:5173",
    ]);
    let preflight = request_with(
        &server.addr,
        "OPTIONS",
        "/v1/matching/configs",
        None,
        &[
            ("Origin", APP),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
        b"",
    );
    assert_eq!(preflight.status, 204, "{}", preflight.text());
    assert_eq!(preflight.header("Access-Control-Allow-Origin"), Some(APP));
    assert_eq!(
        preflight.header("Access-Control-Allow-Methods"),
        Some("GET, POST, OPTIONS")
    );
    let allowed = preflight
        .header("Access-Control-Allow-Headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    assert!(preflight.header("Access-Control-Max-Age").is_some());

    let other = request_with(
        &server.addr,
        "OPTIONS",
        "/v1/matching/configs",
        None,
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    );
    other.assert_error(403, "insufficient_scope");
    assert_eq!(other.header("Access-Control-Allow-Origin"), None);

    let listed = server.send_with("GET", "/v1/matching/configs", &[("Origin", APP)], b"");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.header("Access-Control-Allow-Origin"), Some(APP));
    assert!(listed
        .header("Access-Control-Expose-Headers")
        .unwrap_or("")
        .contains("X-RateLimit-Remaining"));
    // An error is readable by the page too (it shows the message).
    let anonymous = request_with(
        &server.addr,
        "GET",
        "/v1/matching/configs",
        None,
        &[("Origin", "http://localhost:5173")],
        b"",
    );
    anonymous.assert_error(401, "unauthorized");
    assert_eq!(
        anonymous.header("Access-Control-Allow-Origin"),
        Some("http://localhost:5173")
    );
    let stranger = server.send_with(
        "GET",
        "/v1/matching/configs",
        &[("Origin", "https://evil.example")],
        b"",
    );
    assert_eq!(stranger.status, 200);
    assert_eq!(stranger.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn no_origin_is_allowed_unless_named() {
    let server = TestServer::start();
    let preflight = request_with(
        &server.addr,
        "OPTIONS",
        "/v1/matching/configs",
        None,
        &[("Origin", APP), ("Access-Control-Request-Method", "GET")],
        b"",
    );
    assert_eq!(preflight.status, 403);
    assert_eq!(preflight.header("Access-Control-Allow-Origin"), None);
    let listed = server.send_with("GET", "/v1/matching/configs", &[("Origin", APP)], b"");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn large_answers_are_gzipped_for_clients_that_accept_it() {
    let server = TestServer::start();
    let (run, reference) = server.fixture_run();
    let path = format!("/v1/matching/runs/{run}");
    let plain = server.get(&path);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("Content-Encoding"), None);
    let packed = server.send_with("GET", &path, &[("Accept-Encoding", "gzip, br")], b"");
    assert_eq!(packed.status, 200);
    assert_eq!(packed.header("Content-Encoding"), Some("gzip"));
    assert!(packed
        .header("Vary")
        .is_some_and(|v| v.contains("Accept-Encoding")));
    let decoded = gunzip(&packed.body);
    // Byte for byte the plain answer (both come from the same stored run).
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&decoded).unwrap(),
        plain.json()
    );
    let ratio = decoded.len() as f64 / packed.body.len() as f64;
    eprintln!(
        "run detail: {} bytes, gzip {} bytes, ratio {ratio:.1}",
        decoded.len(),
        packed.body.len()
    );
    assert!(ratio > 3.0, "run detail compressed only {ratio:.1}x");

    // A streamed export is compressed as it is produced.
    let export = format!("/v1/reference-data/{reference}/export");
    let plain = server.get(&export);
    let packed = server.send_with("GET", &export, &[("Accept-Encoding", "gzip")], b"");
    assert_eq!(packed.header("Content-Encoding"), Some("gzip"));
    assert_eq!(gunzip(&packed.body), plain.body);

    // Small answers, and clients that refuse gzip, get the body as it is.
    let small = server.send_with("GET", "/healthz", &[("Accept-Encoding", "gzip")], b"");
    assert_eq!(small.header("Content-Encoding"), None);
    let refused = server.send_with("GET", &path, &[("Accept-Encoding", "gzip;q=0")], b"");
    assert_eq!(refused.header("Content-Encoding"), None);
}
