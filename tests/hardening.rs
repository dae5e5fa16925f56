//! What an unattended server survives: inputs over every size limit, SIGKILL in the middle
//! of a large import, and a database that is locked or read-only. Each case checks the
//! answer a client gets, that nothing was half-stored, and that the server goes on serving.

use std::time::{Duration, Instant};

use crate::util::server::{cli, integrity_check, read_addr, request, spawn_server, TestServer};
use serde_json::{json, Value};

fn total(server: &TestServer, path: &str) -> Value {
    server.get(path).json()["pagination"]["total"].clone()
}

/// The `field` of the first detail of a validation error.
fn first_field(body: &Value) -> String {
    body["details"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_size_a_user_controls_has_a_limit_that_stores_nothing() {
    let server = TestServer::start_with(&["--max-body-mb", "2"]);
    let (run_id, reference_id) = server.fixture_run();
    let counts = |server: &TestServer| {
        [
            total(server, "/v1/reference-data"),
            total(server, "/v1/documents"),
            total(server, "/v1/matching/configs"),
        ]
    };
    let before = counts(&server);
    assert_eq!(before, [json!(1), json!(150), json!(1)]);

    // The body: refused from Content-Length, before it is read.
    let big = vec![b'a'; 3 * 1024 * 1024];
    server
        .send("POST", "/v1/documents", Some("text/csv"), &big)
        .assert_error(413, "payload_too_large");

    // One CSV field, one CSV row and one header over their limits, each named by line.
    let long_field = format!("id,name\nA,ok\nB,{}\n", "x".repeat(70_000));
    let body = server
        .send(
            "POST",
            "/v1/reference-data?name=long",
            Some("text/csv"),
            long_field.as_bytes(),
        )
        .assert_error(400, "validation_error");
    assert!(first_field(&body).contains("line 3"), "{body}");
    assert!(body["message"].as_str().unwrap().contains("per field"));
    let wide_row = format!(
        "{}\n{}\n",
        (0..20)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(","),
        vec!["y".repeat(60_000); 20].join(",")
    );
    let body = server
        .send(
            "POST",
            "/v1/documents",
            Some("text/csv"),
            wide_row.as_bytes(),
        )
        .assert_error(400, "validation_error");
    assert!(
        body["message"].as_str().unwrap().contains("per row"),
        "{body}"
    );
    let wide_header = (0..2000)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    server
        .send(
            "POST",
            "/v1/reference-data?name=wide",
            Some("text/csv"),
            wide_header.as_bytes(),
        )
        .assert_error(400, "validation_error");

    // JSON nesting.
    let deep = format!(
        "{{\"documents\":[{{\"fields\":{{\"a\":{}1{}}}}}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    server
        .send(
            "POST",
            "/v1/documents",
            Some("application/json"),
            deep.as_bytes(),
        )
        .assert_error(400, "validation_error");

    // Mappings.
    let mappings: Vec<Value> = (0..65)
        .map(|i| {
            json!({"source_field": format!("f{i}"), "target_column": "vendor_name",
                   "strategy": "exact", "weight": 1.0})
        })
        .collect();
    let body = server
        .post_json(
            "/v1/matching/configs",
            &json!({"name": "many", "reference_data_id": reference_id,
                    "field_mappings": mappings, "threshold": 0.5}),
        )
        .assert_error(400, "validation_error");
    assert!(first_field(&body).contains("field_mappings"), "{body}");

    // Page sizes, on every kind of list.
    for path in [
        "/v1/documents?limit=501".to_string(),
        "/v1/matching/runs?limit=501".to_string(),
        format!("/v1/reference-data/{reference_id}/rows?limit=501"),
        format!("/v1/matching/runs/{run_id}/results?limit=501"),
    ] {
        let body = server.get(&path).assert_error(400, "validation_error");
        assert_eq!(first_field(&body), "limit", "{path}: {body}");
    }
    assert_eq!(
        server
            .get(&format!("/v1/matching/runs/{run_id}/results?limit=500"))
            .status,
        200
    );

    assert_eq!(counts(&server), before, "nothing over a limit was stored");
    assert_eq!(integrity_check(&server.db), "ok");
}

/// A reference table of `rows` rows, about 60 bytes each.
fn ledger_csv(rows: usize) -> Vec<u8> {
    let mut csv = String::from("id,vendor_name,invoice_number,total,invoice_date\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "R{i:07},Vendor {} Handels GmbH,INV-{i:07},{}.{:02},2024-{:02}-{:02}\n",
            i % 9_973,
            i * 7 % 100_000,
            i % 100,
            i % 12 + 1,
            i % 28 + 1
        ));
    }
    csv.into_bytes()
}

fn wal_bytes(db: &std::path::Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
}

#[test]
fn sigkill_in_the_middle_of_a_large_import_keeps_it_all_or_nothing() {
    const ROWS: usize = 300_000;
    let mut server = TestServer::start();
    let csv = ledger_csv(ROWS);
    let wal_before = wal_bytes(&server.db);

    let (addr, key) = (server.addr.clone(), server.key.clone());
    let upload = std::thread::spawn(move || {
        // The connection dies with the server: no reply is expected.
        let stream = std::net::TcpStream::connect(&addr);
        if let Ok(mut stream) = stream {
            use std::io::Write;
            let head = format!(
                "POST /v1/reference-data?name=big HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Bearer {key}\r\nContent-Type: text/csv\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                csv.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&csv);
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stream, &mut sink);
        }
    });
    // The write transaction spills pages to the WAL long before it commits: kill then.
    let deadline = Instant::now() + Duration::from_secs(120);
    while wal_bytes(&server.db) < wal_before + 4 * 1024 * 1024 {
        assert!(
            Instant::now() < deadline,
            "the import never started writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");
    upload.join().expect("the upload thread ends");

    assert_eq!(integrity_check(&server.db), "ok");
    server.child = spawn_server(&server.db, server.dir.path(), &[]);
    server.addr = read_addr(&mut server.child);
    let tables = server.get("/v1/reference-data").json();
    let outcome = tables["pagination"]["total"].as_u64();
    eprintln!("after SIGKILL mid-import: {outcome:?} tables");
    match outcome {
        Some(0) => {}
        Some(1) => {
            // Committed just before the kill: then all of it.
            assert_eq!(tables["data"][0]["row_count"], ROWS as u64, "{tables}");
        }
        other => panic!("unexpected table count {other:?}: {tables}"),
    }
    let conn = r2d2_sqlite::rusqlite::Connection::open(&server.db).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM reference_rows", [], |r| r.get(0))
        .unwrap();
    assert!(
        rows == 0 || rows == ROWS as i64,
        "{rows} rows stored: a torn import"
    );

    // The restarted server takes the same import whole.
    let again = server.send(
        "POST",
        "/v1/reference-data?name=big",
        Some("text/csv"),
        &ledger_csv(ROWS),
    );
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json()["row_count"], ROWS as u64);
    assert_eq!(integrity_check(&server.db), "ok");
}

#[test]
fn a_locked_database_answers_writes_with_a_retryable_503_and_reads_go_on() {
    let server = TestServer::start();
    let lock = r2d2_sqlite::rusqlite::Connection::open(&server.db).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let asked = Instant::now();
    let write = server.post_json("/v1/documents", &json!({"fields": {"vendor": "Acme"}}));
    let body = write.assert_error(503, "unavailable");
    assert_eq!(body["retryable"], true);
    assert!(body["message"].as_str().unwrap().contains("busy"), "{body}");
    assert!(asked.elapsed() < Duration::from_secs(30));

    // WAL readers do not wait for the writer, and a key's last-use stamp does not either.
    let asked = Instant::now();
    assert_eq!(server.get("/v1/documents").status, 200);
    assert_eq!(server.get("/v1/keys").status, 200);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "reads waited {:?}",
        asked.elapsed()
    );

    lock.execute_batch("ROLLBACK").unwrap();
    let write = server.post_json("/v1/documents", &json!({"fields": {"vendor": "Acme"}}));
    assert_eq!(write.status, 201, "{}", write.text());
    assert_eq!(total(&server, "/v1/documents"), 1);
}

#[test]
fn a_read_only_database_serves_reads_and_answers_writes_with_a_retryable_503() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("refmatch.db");
    let key = cli(&db, &["keys", "create", "--name", "ro"])
        .trim()
        .to_string();
    cli(
        &db,
        &[
            "reference",
            "import",
            &crate::util::fixture("reference.csv"),
        ],
    );
    let mut child = spawn_server(&db, dir.path(), &["--read-only"]);
    let addr = read_addr(&mut child);
    let server = TestServer {
        child,
        addr,
        db,
        key,
        dir,
    };

    let tables = server.get("/v1/reference-data").json();
    assert_eq!(tables["pagination"]["total"], 1, "{tables}");
    let id = tables["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .get(&format!("/v1/reference-data/{id}/rows?limit=5"))
            .status,
        200
    );
    let writes = [
        server.post_json("/v1/documents", &json!({"fields": {"vendor": "Acme"}})),
        server.send(
            "POST",
            "/v1/reference-data?name=x",
            Some("text/csv"),
            b"id,a\n1,2\n",
        ),
        server.send("DELETE", &format!("/v1/reference-data/{id}"), None, b""),
    ];
    for reply in writes {
        let body = reply.assert_error(503, "unavailable");
        assert_eq!(body["retryable"], true);
        assert!(
            body["message"].as_str().unwrap().contains("read-only"),
            "{body}"
        );
    }
    assert_eq!(
        request(&server.addr, "GET", "/healthz", None, None, b"").status,
        200
    );
    assert_eq!(total(&server, "/v1/reference-data"), 1);
}

#[test]
fn neither_the_access_log_nor_any_answer_shows_a_key() {
    let server = TestServer::start();
    let wrong = "rmk_0123456789abcdef0123456789abcdef0123456789abcdef";
    let replies = [
        server.get("/v1/documents"),
        server.get(&format!("/v1/documents?api_key={}", server.key)),
        server.post_json("/v1/documents", &json!({"fields": {"note": server.key}})),
        request(&server.addr, "GET", "/v1/documents", Some(wrong), None, b""),
        request(&server.addr, "GET", "/v1/nothing", Some(wrong), None, b""),
    ];
    for reply in &replies {
        let text = reply.text();
        assert!(!text.contains(wrong), "a wrong key was echoed: {text}");
    }
    assert_eq!(replies[3].status, 401);
    let keys = server.get("/v1/keys");
    assert!(!keys.text().contains(&server.key));
    let key_id = keys.json()["data"][0]["id"].as_str().unwrap().to_string();

    // The log is written as requests finish; the last one is there once the keys list is.
    let log = server.log();
    assert!(log.contains(&format!("key={key_id}")), "{log}");
    assert!(log.contains("/v1/keys"), "{log}");
    assert!(
        !log.contains(&server.key),
        "the access log shows a key: {log}"
    );
    assert!(
        !log.contains(wrong),
        "the access log shows a wrong key: {log}"
    );
    assert!(!log.contains("rmk_"), "{log}");
}
