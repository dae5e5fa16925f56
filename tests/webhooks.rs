//! Webhooks over the real server with a real receiver on port 0: a run's end is posted,
//! signed, to the receiver; a receiver that fails is retried until it recovers, with one
//! delivery id throughout; and a server killed with SIGKILL after a run ends delivers the
//! run's event once it is started again (the outbox row is written with the run's end).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::util::server::{read_addr, spawn_server, ChildGuard, TestServer};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
    /// Unix milliseconds when it arrived.
    pub at_ms: i64,
    pub answered: u16,
}

/// An HTTP receiver on 127.0.0.1:0 answering every request with `status` (settable).
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Receiver {
    pub fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let (log, answer) = (Arc::clone(&received), Arc::clone(&status));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
                let mut headers = HashMap::new();
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let length: usize = headers
                    .get("content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let code = answer.load(Ordering::SeqCst);
                log.lock().expect("unpoisoned").push(Received {
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    at_ms: now_ms(),
                    answered: code,
                });
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver {
            url,
            received,
            status,
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().expect("unpoisoned").clone()
    }

    /// Waits until `n` requests arrived, at most `secs` seconds.
    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let all = self.all();
            if all.len() >= n {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} deliveries after {secs} s: {all:?}",
                all.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Checks a delivery's signature as the README tells receivers to.
fn verify(secret: &str, received: &Received) -> bool {
    let timestamp = &received.headers["x-refmatch-timestamp"];
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(format!("{timestamp}.{}", received.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    received.headers["x-refmatch-signature"] == format!("v1={expected}")
}

/// Subscribes `url` to the run events; returns (id, secret).
fn subscribe(server: &TestServer, url: &str) -> (String, String) {
    let reply = server.post_json(
        "/v1/webhooks",
        &json!({"url": url, "events": ["run.completed", "run.failed", "run.cancelled"]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let body = reply.json();
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_completed_run_is_posted_signed_to_the_receiver() {
    let receiver = Receiver::start(200);
    let server = TestServer::start();
    let (hook, secret) = subscribe(&server, &receiver.url);
    let (run, _) = server.fixture_run();
    let got = receiver.wait_for(1, 20);
    assert_eq!(got.len(), 1, "one event, one delivery: {got:?}");
    let delivery = &got[0];
    assert!(
        verify(&secret, delivery),
        "the signature verifies: {delivery:?}"
    );
    assert!(!verify("whsec_wrong", delivery));
    let body: Value = serde_json::from_str(&delivery.body).expect("JSON");
    assert_eq!(body["event"], "run.completed");
    assert_eq!(body["data"]["id"], run.as_str());
    assert_eq!(body["data"]["status"], "completed");
    assert_eq!(
        delivery.headers["x-refmatch-delivery"],
        body["id"].as_str().unwrap()
    );
    assert_eq!(delivery.headers["x-refmatch-event"], "run.completed");
    let deliveries = server
        .get(&format!("/v1/webhooks/{hook}/deliveries"))
        .json();
    let listed = &deliveries["data"][0];
    wait_until(10, || {
        server
            .get(&format!("/v1/webhooks/{hook}/deliveries"))
            .json()["data"][0]["status"]
            == "delivered"
    });
    assert_eq!(listed["id"], body["id"]);
    // Redelivery posts the same id again.
    let again = server.send(
        "POST",
        &format!(
            "/v1/webhooks/{hook}/deliveries/{}/redeliver",
            body["id"].as_str().unwrap()
        ),
        None,
        b"",
    );
    assert_eq!(again.status, 202, "{}", again.text());
    let got = receiver.wait_for(2, 20);
    assert_eq!(
        got[1].headers["x-refmatch-delivery"],
        body["id"].as_str().unwrap()
    );
}

fn wait_until(secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "not within {secs} s");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_receiver_that_fails_is_retried_with_back_off_until_it_recovers() {
    let receiver = Receiver::start(500);
    let server = TestServer::start();
    let (hook, _) = subscribe(&server, &receiver.url);
    server.fixture_run();
    // Two failures (500), then the receiver recovers.
    receiver.wait_for(2, 20);
    receiver.status.store(200, Ordering::SeqCst);
    let got = receiver.wait_for(3, 30);
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.headers["x-refmatch-delivery"].as_str())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one delivery id: {ids:?}"
    );
    assert_eq!(got.last().map(|r| r.answered), Some(200));
    // Back-off: the second retry waits about twice as long as the first (1 s, 2 s).
    let gaps: Vec<i64> = got.windows(2).map(|w| w[1].at_ms - w[0].at_ms).collect();
    assert!(gaps[0] >= 900, "first retry after about 1 s: {gaps:?}");
    if gaps.len() > 1 {
        assert!(gaps[1] >= 1800, "second retry after about 2 s: {gaps:?}");
    }
    wait_until(10, || {
        server
            .get(&format!("/v1/webhooks/{hook}/deliveries"))
            .json()["data"][0]["status"]
            == "delivered"
    });
    let delivery = &server
        .get(&format!("/v1/webhooks/{hook}/deliveries"))
        .json()["data"][0];
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), got.len(), "{delivery:#}");
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts.last().unwrap()["status_code"], 200);
}

#[test]
fn a_server_killed_after_a_run_ends_delivers_its_event_after_restart() {
    let receiver = Receiver::start(503);
    let mut server = TestServer::start_with(&["--webhook-timeout-secs", "1"]);
    let (hook, secret) = subscribe(&server, &receiver.url);
    let (run, _) = server.fixture_run();
    // SIGKILL as soon as the run is seen completed: no graceful anything.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("the server is gone");
    let conn = r2d2_sqlite::rusqlite::Connection::open(&server.db).expect("the database");
    let (count, delivered): (i64, i64) = conn
        .query_row(
            "SELECT count(*), sum(status = 'delivered') FROM webhook_deliveries
             WHERE webhook_id = ?1 AND event = 'run.completed'",
            [&hook],
            |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0))),
        )
        .expect("the outbox");
    assert_eq!(
        (count, delivered),
        (1, 0),
        "the run's end left one undelivered row"
    );
    drop(conn);
    receiver.status.store(200, Ordering::SeqCst);
    let before = receiver.all().len();
    let restarted_at = Instant::now();
    let mut child = spawn_server(
        &server.db,
        server.dir.path(),
        &["--webhook-timeout-secs", "1"],
    );
    let addr = read_addr(&mut child);
    let _restarted = ChildGuard(child);
    server.addr = addr;
    let got = receiver.wait_for(before + 1, 30);
    // The figure for the README (`--nocapture` shows it).
    println!(
        "outbox across SIGKILL: {before} failed attempt(s) before the kill, 1 undelivered row after it, \
         delivered {} ms after the restart began, {} delivery id(s) in all",
        restarted_at.elapsed().as_millis(),
        got.iter()
            .map(|r| r.headers["x-refmatch-delivery"].as_str())
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    let success: Vec<&Received> = got.iter().filter(|r| r.answered == 200).collect();
    assert_eq!(success.len(), 1, "delivered once: {got:?}");
    let body: Value = serde_json::from_str(&success[0].body).expect("JSON");
    assert_eq!(body["data"]["id"], run.as_str());
    assert!(verify(&secret, success[0]));
    let ids: std::collections::HashSet<&str> = got
        .iter()
        .map(|r| r.headers["x-refmatch-delivery"].as_str())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "every attempt, before and after the kill, is one delivery"
    );
    wait_until(10, || {
        server
            .get(&format!("/v1/webhooks/{hook}/deliveries"))
            .json()["data"][0]["status"]
            == "delivered"
    });
}

/// The figure for the README: how long after a run's recorded end its event reaches a
/// receiver (`cargo test --release --test tests -- --ignored --nocapture webhook_delivery_latency`).
#[test]
#[ignore]
fn webhook_delivery_latency() {
    let receiver = Receiver::start(200);
    let server = TestServer::start();
    subscribe(&server, &receiver.url);
    let (_, reference) = server.fixture_run();
    let _ = reference;
    let config = server.get("/v1/matching/configs").json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut latencies = Vec::new();
    for i in 0..20 {
        let run = server.post_json(&format!("/v1/matching/configs/{config}/run"), &json!({}));
        let run_id = run.json()["id"].as_str().unwrap().to_string();
        let got = receiver.wait_for(i + 2, 30);
        let last = got.last().expect("a delivery");
        let body: Value = serde_json::from_str(&last.body).expect("JSON");
        assert_eq!(body["data"]["id"], run_id.as_str());
        let completed = chrono::DateTime::parse_from_rfc3339(
            body["data"]["completed_at"].as_str().expect("completed_at"),
        )
        .expect("a timestamp")
        .timestamp_millis();
        latencies.push(last.at_ms - completed);
    }
    latencies.sort_unstable();
    println!(
        "webhook delivery after a run's end: p50 {} ms, max {} ms over {} runs",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        latencies.len()
    );
}
