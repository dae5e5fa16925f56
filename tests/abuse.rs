//! What a machine on the same network can try without a key, and a few things it can try
//! with one (issue 13): trickling requests, connection floods under a low descriptor limit,
//! oversized heads and amplifying bodies, spreadsheet formulas in exports, a stray CSV
//! quote, ambiguous framing, foreign databases. Each test checks the answer, how fast it
//! came, and that the server goes on serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::server::{cli, read_addr, request, ChildGuard, TestServer};
use serde_json::{json, Value};

/// Sends raw bytes and reads the answer's status (0 when the server closed without one).
fn raw_status(addr: &str, bytes: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The server's peak resident memory so far, in MiB.
fn peak_mib(server: &TestServer) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

/// Asserts that `f` answers within `limit`; returns its answer.
fn within<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let answer = f();
    assert!(
        started.elapsed() < limit,
        "{what} took {:?}",
        started.elapsed()
    );
    answer
}

#[test]
fn keyless_tricklers_cannot_starve_keyed_clients() {
    let server = TestServer::start();
    let (run_id, _) = server.fixture_run();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tricklers = Vec::new();
    // 16 send a head with a 1 MB body and then a byte every 200 ms; 16 send their head a
    // byte at a time; 4 more do the first with a valid key (they hold upload places).
    for i in 0..36 {
        let addr = server.addr.clone();
        let key = (i >= 32).then(|| server.key.clone());
        let stop = stop.clone();
        tricklers.push(std::thread::spawn(move || {
            let mut stream = TcpStream::connect(&addr).unwrap();
            let head = match &key {
                Some(key) => format!(
                    "POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
                     Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n"
                ),
                None if i % 2 == 0 => "POST /v1/documents HTTP/1.1\r\nHost: x\r\n\
                     Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n"
                    .to_string(),
                None => "GET /v1/matching/runs HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_string(),
            };
            let trickle_head = key.is_none() && i % 2 == 1;
            if !trickle_head {
                let _ = stream.write_all(head.as_bytes());
            }
            let mut bytes = head.bytes().cycle();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let byte = if trickle_head {
                    bytes.next().unwrap_or(b'a')
                } else {
                    b'a'
                };
                if stream.write_all(&[byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        let health = within(Duration::from_secs(1), "/healthz", || {
            request(&server.addr, "GET", "/healthz", None, None, b"")
        });
        assert_eq!(health.status, 200);
        let run = within(Duration::from_secs(1), "run detail", || {
            server.get(&format!("/v1/matching/runs/{run_id}"))
        });
        assert_eq!(run.status, 200, "{}", run.text());
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in tricklers {
        let _ = t.join();
    }
    // The keyless body senders were refused from their head, without a byte of body read.
    let log = server.log();
    assert!(
        log.lines()
            .filter(|l| l.starts_with("POST /v1/documents 401"))
            .count()
            >= 16,
        "{log}"
    );
    // Nothing was stored by any of them.
    assert_eq!(
        server.get("/v1/documents?limit=1").json()["pagination"]["total"],
        150
    );
}

#[test]
fn a_trickled_body_is_cut_off_at_its_minimum_rate() {
    let server = TestServer::start_with(&["--header-timeout-secs", "1", "--min-body-rate-kb", "1"]);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nid,a\n",
        server.key
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    // One byte every 100 ms is far below 1 KiB/s: cut off after the 1 s grace plus what
    // was sent at that rate, not after the 30 s read timeout.
    while started.elapsed() < Duration::from_secs(10) {
        if stream.write_all(b"a").is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if !answer.is_empty() {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A connection that sends nothing at all is closed after the header timeout too, not
    // after the 30 s keep-alive idle time.
    let mut silent = TcpStream::connect(&server.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    assert!(matches!(silent.read(&mut buf), Ok(0)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Starts `refmatch serve` under `ulimit -n 256`.
fn serve_with_few_descriptors(extra: &str) -> (ChildGuard, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("refmatch.db");
    cli(&db, &["keys", "create", "--name", "t"]);
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let script = format!(
        "ulimit -n 256 && exec \"$0\" --db \"$1\" serve --addr 127.0.0.1:0 --threads 1 --quiet {extra}"
    );
    let mut child = Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_refmatch")])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let addr = read_addr(&mut child);
    (ChildGuard(child), addr, dir)
}

#[test]
fn the_listener_outlives_a_connection_flood_and_running_out_of_descriptors() {
    // With the default cap (sized to the limit of 256) the extra connections get a 503; with
    // a cap above the limit, accept itself fails with EMFILE and must be retried.
    for extra in ["", "--max-connections 1000"] {
        let (_server, addr, dir) = serve_with_few_descriptors(extra);
        let mut held = Vec::new();
        for _ in 0..400 {
            match TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2)) {
                Ok(stream) => held.push(stream),
                Err(_) => break,
            }
        }
        assert!(held.len() >= 256, "{extra}: {} connected", held.len());
        // Time for the server to take what it can (and, over the limit, to fail to).
        std::thread::sleep(Duration::from_millis(1000));
        if extra.is_empty() {
            // The last ones were answered at once rather than left waiting.
            let last = held.last_mut().unwrap();
            last.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut answer = String::new();
            let _ = last.read_to_string(&mut answer);
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
        }
        drop(held);
        let health = within(Duration::from_secs(5), "/healthz after the flood", || {
            request(&addr, "GET", "/healthz", None, None, b"")
        });
        assert_eq!(health.status, 200, "{extra}");
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
        if !extra.is_empty() {
            assert!(log.contains("retrying"), "{log}");
        }
        assert!(!log.contains("panicked"), "{log}");
    }
}

#[test]
fn oversized_heads_and_amplifying_bodies_answer_4xx_in_seconds_within_bounded_memory() {
    let server = TestServer::start();
    // A 1 MB header line without a key, a request line of 70 KB, 70 headers of 1 KB.
    let long_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let status = within(Duration::from_secs(3), "a 1 MB header", || {
        raw_status(&server.addr, long_header.as_bytes())
    });
    assert_eq!(status, 431);
    let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(70_000));
    assert_eq!(raw_status(&server.addr, long_line.as_bytes()), 431);
    let mut many = String::from("GET /healthz HTTP/1.1\r\n");
    for i in 0..70 {
        many.push_str(&format!("X-{i}: {}\r\n", "b".repeat(1000)));
    }
    many.push_str("\r\n");
    assert_eq!(raw_status(&server.addr, many.as_bytes()), 431);

    // 20,000 documents of 70 fields: 1.4 million values, over the budget, refused while
    // parsing.
    let fields: serde_json::Map<String, Value> =
        (0..70).map(|i| (format!("f{i}"), json!("v"))).collect();
    let documents: Vec<Value> = (0..20_000).map(|_| json!({"fields": fields})).collect();
    let body = serde_json::to_vec(&json!({"documents": documents})).unwrap();
    let reply = within(
        Duration::from_secs(10),
        "a JSON body of 1.4M values",
        || server.send("POST", "/v1/documents", Some("application/json"), &body),
    );
    let error = reply.assert_error(400, "validation_error");
    assert!(
        error["message"].as_str().unwrap().contains("JSON values"),
        "{error}"
    );

    // A workbook whose shared strings inflate to 80 MiB from a few hundred KB.
    let workbook = shared_strings_bomb(80 << 20);
    assert!(workbook.len() < 2 << 20, "{}", workbook.len());
    let reply = within(Duration::from_secs(10), "an XLSX bomb", || {
        server.send(
            "POST",
            "/v1/reference-data?name=bomb",
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            &workbook,
        )
    });
    reply.assert_error(400, "validation_error");

    assert_eq!(
        request(&server.addr, "GET", "/healthz", None, None, b"").status,
        200
    );
    let peak = peak_mib(&server);
    assert!(peak < 512, "peak memory {peak} MiB");
    assert_eq!(
        server.get("/v1/documents?limit=1").json()["pagination"]["total"],
        0
    );
}

/// An XLSX archive whose `xl/sharedStrings.xml` inflates to `size` bytes.
fn shared_strings_bomb(size: usize) -> Vec<u8> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    archive.start_file("xl/sharedStrings.xml", options).unwrap();
    let chunk = "<si><t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</t></si>".repeat(1 << 14);
    let mut written = 0;
    while written < size {
        archive.write_all(chunk.as_bytes()).unwrap();
        written += chunk.len();
    }
    archive.finish().unwrap().into_inner()
}

#[test]
fn exports_neutralise_formulas_and_imports_keep_them() {
    let server = TestServer::start();
    let csv = "id,vendor_name,total\n\
               \"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",\"=cmd|' /C calc'!A0\",-12.50\n\
               @SUM(A1),+1+1,12\n\
               R3,\"\tTab\",-3\n";
    let reference = server.send(
        "POST",
        "/v1/reference-data?name=evil",
        Some("text/csv"),
        csv.as_bytes(),
    );
    assert_eq!(reference.status, 201, "{}", reference.text());
    let id = reference.json()["id"].as_str().unwrap().to_string();
    // Stored as sent.
    let rows = server.get(&format!("/v1/reference-data/{id}/rows")).json();
    assert_eq!(rows["data"][0]["vendor_name"], "=cmd|' /C calc'!A0");
    let export = server
        .get(&format!("/v1/reference-data/{id}/export"))
        .text();
    let expected = "id,vendor_name,total\n\
                    \"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'=cmd|' /C calc'!A0,-12.50\n\
                    '@SUM(A1),'+1+1,12\n\
                    R3,'\tTab,-3\n";
    assert_eq!(export, expected);

    // Results: a document id, a file name and a note a reviewer typed.
    let documents = json!({"documents": [
        {"id": "=1+2", "filename": "+cmd.pdf", "fields": {"vendor_name": "x"}},
    ]});
    assert_eq!(server.post_json("/v1/documents", &documents).status, 201);
    let config = json!({
        "reference_data_id": id,
        "field_mappings": [{"source": "vendor_name", "target": "vendor_name", "strategy": "fuzzy", "weight": 1.0}],
        "threshold": 0.1,
    });
    let config = server.post_json("/v1/matching/configs", &config);
    assert_eq!(config.status, 201, "{}", config.text());
    let config_id = config.json()["id"].as_str().unwrap().to_string();
    let run = server.post_json(&format!("/v1/matching/configs/{config_id}/run"), &json!({}));
    let run_id = run.json()["id"].as_str().unwrap().to_string();
    assert_eq!(server.wait_for_run(&run_id, 60)["status"], "completed");
    let results = server
        .get(&format!("/v1/matching/runs/{run_id}/results"))
        .json();
    let result_id = results["data"][0]["id"].as_str().unwrap().to_string();
    let review = server.post_json(
        &format!("/v1/matching/runs/{run_id}/results/{result_id}/review"),
        &json!({"status": "rejected", "notes": "@SUM(1+1)*cmd|' /C calc'!A0"}),
    );
    assert_eq!(review.status, 200, "{}", review.text());
    let export = server
        .get(&format!("/v1/matching/runs/{run_id}/results/export"))
        .text();
    let row = export.lines().nth(1).unwrap();
    assert!(row.contains(",'=1+2,'+cmd.pdf,"), "{row}");
    assert!(row.contains(",'@SUM(1+1)*cmd|' /C calc'!A0,"), "{row}");
}

#[test]
fn a_stray_quote_is_an_error_at_its_line_over_http_and_on_the_command_line() {
    let server = TestServer::start();
    let csv = b"id,name\nR1,\"Acme Inc\nR2,Beta\nR3,Gamma\n";
    let reply = server.send("POST", "/v1/documents", Some("text/csv"), csv);
    let error = reply.assert_error(400, "validation_error");
    assert_eq!(error["details"][0]["field"], "line 2", "{error}");
    let reply = server.send("POST", "/v1/reference-data?name=r", Some("text/csv"), csv);
    reply.assert_error(400, "validation_error");

    let file = server.dir.path().join("stray.csv");
    std::fs::write(&file, csv).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .arg("--db")
        .arg(&server.db)
        .args(["reference", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn metrics_show_only_the_keys_workspace() {
    let server = TestServer::start();
    let other = server.new_key("other", "read,write");
    for _ in 0..3 {
        server.get("/v1/matching/runs");
    }
    let text = request(&server.addr, "GET", "/metrics", Some(&other), None, b"").text();
    assert!(!text.contains("route=\"runs\""), "{text}");
    assert!(text.contains("# TYPE refmatch_runs gauge"), "{text}");
    let own = server.get("/metrics").text();
    assert!(
        own.contains("refmatch_http_requests_total{route=\"runs\",status=\"200\"} 3"),
        "{own}"
    );
}

#[test]
fn ambiguous_framing_repeated_keys_and_control_bytes_are_refused_and_never_logged_raw() {
    let server = TestServer::start();
    let key = &server.key;
    let cases = [
        format!(
            "POST /v1/documents HTTP/1.1\r\nAuthorization: Bearer {key}\r\n\
             Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef"
        ),
        format!(
            "POST /v1/documents HTTP/1.1\r\nAuthorization: Bearer {key}\r\n\
             Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        format!(
            "GET /v1/matching/runs HTTP/1.1\r\nAuthorization: Bearer {key}\r\n\
             Authorization: Bearer nope\r\n\r\n"
        ),
        "GET /v1/\x1b[31mred\x00 HTTP/1.1\r\n\r\n".to_string(),
    ];
    for case in &cases {
        assert_eq!(raw_status(&server.addr, case.as_bytes()), 400, "{case:?}");
    }
    // A C1 control (CSI, U+009B) passes the request line and reaches the log escaped.
    let reply = request(
        &server.addr,
        "GET",
        "/v1/x\u{9b}31m\u{1b}",
        Some(key),
        None,
        b"",
    );
    assert!(
        reply.status == 400 || reply.status == 404,
        "{}",
        reply.status
    );
    let reply = request(&server.addr, "GET", "/v1/x\u{9b}31m", Some(key), None, b"");
    assert_eq!(reply.status, 404);
    // A chunked body with a key is read.
    let chunked = format!(
        "POST /v1/documents HTTP/1.1\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         8\r\n{{\"fields\r\ne\r\n\": {{\"a\": \"b\"}}}}\r\n0\r\n\r\n"
    );
    assert_eq!(raw_status(&server.addr, chunked.as_bytes()), 201);
    let log = std::fs::read(server.dir.path().join("server.log")).unwrap();
    assert!(
        !log.iter().any(|&b| b == 0x1b || b == 0),
        "{}",
        String::from_utf8_lossy(&log)
    );
    assert!(!log.windows(2).any(|w| w == [0xc2, 0x9b]));
    assert!(String::from_utf8_lossy(&log).contains("/v1/x\\u{009b}31m 404"));
}

#[test]
fn a_strategy_patch_checks_its_reference_data_id() {
    let server = TestServer::start();
    let (_, reference_id) = server.fixture_run();
    let strategy = server.post_json(
        "/v1/matching/strategies/generate",
        &json!({"reference_data_id": reference_id}),
    );
    assert_eq!(strategy.status, 201, "{}", strategy.text());
    let id = strategy.json()["id"].as_str().unwrap().to_string();
    let path = format!("/v1/matching/strategies/{id}");
    let patch = |body: Value| {
        server.send(
            "PATCH",
            &path,
            Some("application/merge-patch+json"),
            &serde_json::to_vec(&body).unwrap(),
        )
    };
    let error =
        patch(json!({"reference_data_id": "no-such-table"})).assert_error(400, "validation_error");
    assert_eq!(error["details"][0]["field"], "reference_data_id", "{error}");
    assert!(error["message"].as_str().unwrap().contains("no-such-table"));
    let after = server.get(&path).json();
    assert_eq!(after["version"], 1);
    assert!(after["strategy"].get("reference_data_id").is_none());
    let ok = patch(json!({"threshold": 0.5}));
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[test]
fn foreign_and_impossible_database_files_are_refused_in_one_line() {
    use r2d2_sqlite::rusqlite::Connection;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "other.db",
            "PRAGMA application_id = 1234; CREATE TABLE notes(x);",
            "application_id",
        ),
        ("minus.db", "PRAGMA user_version = -1;", "schema version -1"),
    ];
    for (name, setup, needle) in cases {
        let path = dir.path().join(name);
        Connection::open(&path)
            .unwrap()
            .execute_batch(setup)
            .unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
            .arg("--db")
            .arg(&path)
            .args(["keys", "list"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(needle) && stderr.trim().lines().count() == 1,
            "{name}: {stderr}"
        );
        let tables: i64 = Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'runs'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "{name} got refmatch's tables");
    }
}
