//! The v1 HTTP API as a client sees it: each test starts a real `refmatch serve` on port 0
//! with a temp database and talks to it over its socket. Every reply any test receives is
//! checked for leaked SQL (`SQLITE`, `sqlite`, `SELECT`), and every error for the envelope of docs/CONTRACT.md.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::util::server::{multipart, request, Reply, TestServer};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// A small client: one server, one key, every reply checked.
// ---------------------------------------------------------------------------------------

/// Talks to one server with one key (or none); every reply is checked for leaked SQL.
struct Api<'a> {
    server: &'a TestServer,
    key: Option<String>,
}

impl<'a> Api<'a> {
    /// The server's own read-write key of workspace `default`.
    fn new(server: &'a TestServer) -> Api<'a> {
        Api {
            server,
            key: Some(server.key.clone()),
        }
    }

    fn with_key(server: &'a TestServer, key: &str) -> Api<'a> {
        Api {
            server,
            key: Some(key.to_string()),
        }
    }

    fn anonymous(server: &'a TestServer) -> Api<'a> {
        Api { server, key: None }
    }

    fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
        let reply = request(
            &self.server.addr,
            method,
            path,
            self.key.as_deref(),
            content_type,
            body,
        );
        assert_no_sql_leak(&reply, method, path);
        reply
    }

    fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, b"")
    }

    fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).expect("JSON");
        self.send(method, path, Some("application/json"), &bytes)
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        self.json("POST", path, body)
    }

    /// GET that must answer 200; the body.
    fn get_ok(&self, path: &str) -> Value {
        expect(self.get(path), 200, &format!("GET {path}"))
    }

    /// POSTs `/run` of a config (no body), expects 202 queued; the run object.
    fn trigger(&self, config_id: &str) -> Value {
        let path = format!("/v1/matching/configs/{config_id}/run");
        let run = expect(self.send("POST", &path, None, b""), 202, &path);
        assert_eq!(
            run["status"], "queued",
            "a triggered run starts queued: {run}"
        );
        run
    }

    /// Polls progress until the run leaves queued/running; returns the run detail.
    fn wait_for_run(&self, run_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let progress = self.get_ok(&format!("/v1/matching/runs/{run_id}/progress"));
            let status = progress["status"].as_str().unwrap_or("").to_string();
            if status != "queued" && status != "running" {
                return self.get_ok(&format!("/v1/matching/runs/{run_id}"));
            }
            assert!(
                Instant::now() < deadline,
                "run {run_id} still {status} after 180 s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Triggers a run of `config_id` and waits for it to complete; the run detail.
    fn run_to_completion(&self, config_id: &str) -> Value {
        let run = self.trigger(config_id);
        let done = self.wait_for_run(run["id"].as_str().expect("run id"));
        assert_eq!(done["status"], "completed", "run did not complete: {done}");
        done
    }

    /// Every result of a run (one page of up to 500), in the server's order.
    fn all_results(&self, run_id: &str) -> Vec<Value> {
        let page = self.get_ok(&format!("/v1/matching/runs/{run_id}/results?limit=500"));
        let data = array(&page["data"]).clone();
        assert_eq!(
            page["pagination"]["total"].as_u64(),
            Some(data.len() as u64),
            "a run of this size fits one page of 500"
        );
        data
    }

    /// `pagination.total` of a cursor list.
    fn total(&self, path: &str) -> u64 {
        self.get_ok(path)["pagination"]["total"]
            .as_u64()
            .unwrap_or_else(|| panic!("{path} has no pagination.total"))
    }

    fn review(&self, run_id: &str, result_id: &str, body: &Value) -> Reply {
        self.post(
            &format!("/v1/matching/runs/{run_id}/results/{result_id}/review"),
            body,
        )
    }
}

fn assert_no_sql_leak(reply: &Reply, method: &str, path: &str) {
    let text = reply.text();
    for word in ["SQLITE", "sqlite", "SELECT"] {
        assert!(
            !text.contains(word),
            "{method} {path} answered {} with {word:?} in its body: {text}",
            reply.status
        );
    }
}

/// Asserts the status and returns the JSON body.
fn expect(reply: Reply, status: u16, what: &str) -> Value {
    assert_eq!(
        reply.status,
        status,
        "{what}: expected {status}, got {}: {}",
        reply.status,
        reply.text()
    );
    reply.json()
}

/// Asserts the error envelope of docs/CONTRACT.md field by field (key order included) and returns it.
fn expect_error(reply: &Reply, status: u16, code: &str, path: &str) -> Value {
    let body = reply.assert_error(status, code);
    assert_eq!(
        keys(&body),
        [
            "statusCode",
            "code",
            "error",
            "message",
            "retryable",
            "request_id",
            "timestamp",
            "path",
            "details"
        ],
        "envelope keys: {body}"
    );
    let path_only = path.split('?').next().unwrap_or(path);
    assert_eq!(body["path"], path_only, "envelope path: {body}");
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_") && r.len() > 4),
        "request_id: {body}"
    );
    assert!(
        is_iso_millis(body["timestamp"].as_str().unwrap_or("")),
        "timestamp: {body}"
    );
    assert!(
        !body["message"].as_str().unwrap_or("").is_empty(),
        "message: {body}"
    );
    assert_eq!(body["retryable"], false, "{code} is not retryable: {body}");
    body
}

/// Asserts a 400 whose `details` name `field` (exactly); returns the envelope.
fn expect_invalid(reply: &Reply, path: &str, field: &str) -> Value {
    let body = expect_error(reply, 400, "validation_error", path);
    assert!(
        details_fields(&body).iter().any(|f| f == field),
        "details should name {field:?}: {body}"
    );
    body
}

fn details_fields(envelope: &Value) -> Vec<String> {
    array(&envelope["details"])
        .iter()
        .map(|d| d["field"].as_str().unwrap_or("").to_string())
        .collect()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn array(value: &Value) -> &Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
}

fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

fn f64_of(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {value}"))
}

/// `2026-03-02T09:15:01.204Z`: ISO 8601 UTC with milliseconds, plausible field ranges.
fn is_iso_millis(text: &str) -> bool {
    let b = text.as_bytes();
    let shape = b.len() == 24
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            23 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return false;
    }
    let n = |from: usize, to: usize| text[from..to].parse::<u32>().unwrap_or(u32::MAX);
    (1..=12).contains(&n(5, 7))
        && (1..=31).contains(&n(8, 10))
        && n(11, 13) < 24
        && n(14, 16) < 60
        && n(17, 19) < 61
}

/// A canonical UUID text: 8-4-4-4-12 hex digits.
fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Results are ordered by confidence descending, then document id ascending.
fn assert_result_order(results: &[Value], what: &str) {
    for pair in results.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (ca, cb) = (f64_of(a, "confidence"), f64_of(b, "confidence"));
        let ordered = ca > cb || (ca == cb && str_of(a, "document_id") <= str_of(b, "document_id"));
        assert!(ordered, "{what}: results out of order:\n{a}\n{b}");
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|v| str_of(v, "id").to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// Fixtures and seeding.
// ---------------------------------------------------------------------------------------

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(crate::util::fixture(name)).expect("fixture is readable")
}

/// The records of a fixture CSV as header-keyed maps, in file order.
fn fixture_records(name: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(crate::util::fixture(name)).expect("fixture CSV");
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The fixture config with `reference_data_id` added.
fn fixture_config(reference_data_id: &str) -> Value {
    let mut config: Value =
        serde_json::from_slice(&fixture_bytes("config.json")).expect("config.json is JSON");
    config["reference_data_id"] = json!(reference_data_id);
    config
}

/// What `seed_fixtures` created.
struct Seeded {
    reference_id: String,
    config_id: String,
    /// The upload answer of documents.csv.
    documents: Value,
}

/// Uploads the invoice fixtures (reference as `text/csv`, documents as `text/csv`) and
/// creates the fixture config.
fn seed_fixtures(api: &Api<'_>) -> Seeded {
    let reference = expect(
        api.send(
            "POST",
            "/v1/reference-data?name=Open%20items",
            Some("text/csv"),
            &fixture_bytes("reference.csv"),
        ),
        201,
        "reference upload",
    );
    let reference_id = str_of(&reference, "id").to_string();
    let documents = expect(
        api.send(
            "POST",
            "/v1/documents",
            Some("text/csv"),
            &fixture_bytes("documents.csv"),
        ),
        201,
        "documents upload",
    );
    let config = expect(
        api.post("/v1/matching/configs", &fixture_config(&reference_id)),
        201,
        "config create",
    );
    Seeded {
        reference_id,
        config_id: str_of(&config, "id").to_string(),
        documents,
    }
}

/// A three-row vendor table, three documents and a config over them, with external ids
/// prefixed by `prefix`. Small enough that a run takes milliseconds.
struct Small {
    reference_id: String,
    document_ids: Vec<String>,
    batch_id: String,
    config_id: String,
}

fn small_config(reference_id: &str) -> Value {
    json!({
        "name": "small",
        "reference_data_id": reference_id,
        "field_mappings": [
            {"source": "vendor_name", "target": "vendor_name", "strategy": "fuzzy", "weight": 0.6},
            {"source": "total", "target": "total", "strategy": "numeric_range", "weight": 0.4}
        ],
        "threshold": 0.5
    })
}

fn seed_small(api: &Api<'_>, prefix: &str) -> Small {
    let reference = expect(
        api.post(
            "/v1/reference-data",
            &json!({"name": format!("{prefix} vendors"), "rows": [
                {"id": "V-1", "vendor_name": "Acme GmbH", "total": "100.00"},
                {"id": "V-2", "vendor_name": "Beta AG", "total": "250.00"},
                {"id": "V-3", "vendor_name": "Gamma Ltd", "total": "75.10"}
            ]}),
        ),
        201,
        "small reference",
    );
    let reference_id = str_of(&reference, "id").to_string();
    let documents = expect(
        api.post(
            "/v1/documents",
            &json!({"documents": [
                {"id": format!("{prefix}-1"), "filename": "a.pdf", "fields": {"vendor_name": "ACME GmbH", "total": "100"}},
                {"id": format!("{prefix}-2"), "filename": "b.pdf", "fields": {"vendor_name": "Beta AG", "total": 250}},
                {"id": format!("{prefix}-3"), "fields": {"vendor_name": "Gamma Limited", "total": null}}
            ]}),
        ),
        201,
        "small documents",
    );
    let config = expect(
        api.post("/v1/matching/configs", &small_config(&reference_id)),
        201,
        "small config",
    );
    Small {
        reference_id,
        document_ids: array(&documents["documents"])
            .iter()
            .map(|d| str_of(d, "id").to_string())
            .collect(),
        batch_id: str_of(&documents, "batch_id").to_string(),
        config_id: str_of(&config, "id").to_string(),
    }
}

/// Checks the reference resource shape; returns its columns as `name -> type`.
fn assert_reference_shape(
    resource: &Value,
    name: &str,
    source_type: &str,
    rows: u64,
) -> HashMap<String, String> {
    for key in [
        "id",
        "name",
        "source_type",
        "status",
        "version",
        "row_count",
        "columns",
        "created_at",
        "links",
    ] {
        assert!(
            resource.get(key).is_some(),
            "reference lacks {key}: {resource}"
        );
    }
    let id = str_of(resource, "id");
    assert!(is_uuid(id), "reference id is a UUID: {resource}");
    assert_eq!(resource["name"], name, "{resource}");
    assert_eq!(resource["source_type"], source_type, "{resource}");
    assert_eq!(resource["status"], "ready", "{resource}");
    assert_eq!(resource["version"], 1, "{resource}");
    assert_eq!(resource["row_count"].as_u64(), Some(rows), "{resource}");
    assert!(is_iso_millis(str_of(resource, "created_at")), "{resource}");
    assert_eq!(
        resource["links"]["self"],
        format!("/v1/reference-data/{id}"),
        "{resource}"
    );
    array(&resource["columns"])
        .iter()
        .map(|c| {
            assert_eq!(keys(c), ["name", "type"], "column shape: {c}");
            (str_of(c, "name").to_string(), str_of(c, "type").to_string())
        })
        .collect()
}

fn assert_fixture_column_types(columns: &HashMap<String, String>) {
    let expected = [
        ("id", "string"),
        ("vendor_name", "string"),
        ("invoice_number", "string"),
        ("invoice_date", "date"),
        ("total", "number"),
        ("currency", "string"),
        ("po_number", "string"),
    ];
    assert_eq!(columns.len(), expected.len(), "{columns:?}");
    for (name, kind) in expected {
        assert_eq!(
            columns.get(name).map(String::as_str),
            Some(kind),
            "type of column {name}: {columns:?}"
        );
    }
}

/// A reference row cell as text, whatever JSON type the server chose.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// 1. The workflow from upload to review.
// ---------------------------------------------------------------------------------------

#[test]
fn reference_data_uploads_as_multipart_csv_body_and_json_and_serves_its_rows() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let reference_csv = fixture_bytes("reference.csv");

    let (content_type, body) = multipart("reference.csv", &reference_csv, &[("name", "AP ledger")]);
    let from_multipart = expect(
        api.send("POST", "/v1/reference-data", Some(&content_type), &body),
        201,
        "multipart upload",
    );
    let columns = assert_reference_shape(&from_multipart, "AP ledger", "csv", 304);
    assert_fixture_column_types(&columns);
    // The column list keeps the file's order.
    let names: Vec<&str> = array(&from_multipart["columns"])
        .iter()
        .map(|c| str_of(c, "name"))
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "vendor_name",
            "invoice_number",
            "invoice_date",
            "total",
            "currency",
            "po_number"
        ]
    );

    let from_body = expect(
        api.send(
            "POST",
            "/v1/reference-data?name=AP%20ledger%20body",
            Some("text/csv"),
            &reference_csv,
        ),
        201,
        "text/csv upload",
    );
    let columns = assert_reference_shape(&from_body, "AP ledger body", "csv", 304);
    assert_fixture_column_types(&columns);

    // The alias path takes the same forms.
    let from_json = expect(
        api.post(
            "/v1/matching/reference-data",
            &json!({"name": "Vendors", "rows": [
                {"id": "V-1", "vendor": "Acme GmbH", "amount": 12.5, "since": "2024-01-02", "count": 3},
                {"id": "V-2", "vendor": "Beta AG", "amount": 100, "since": "2023-12-31", "count": 14},
                {"id": "V-3", "vendor": "Gamma Ltd", "amount": "7.25", "since": null, "count": 0}
            ]}),
        ),
        201,
        "JSON upload",
    );
    let columns = assert_reference_shape(&from_json, "Vendors", "json", 3);
    let expected: HashMap<String, String> = [
        ("id", "string"),
        ("vendor", "string"),
        ("amount", "number"),
        ("since", "date"),
        ("count", "integer"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(columns, expected);

    // GET by id answers the same resource.
    let multipart_id = str_of(&from_multipart, "id");
    let got = api.get_ok(&format!("/v1/reference-data/{multipart_id}"));
    assert_eq!(got, from_multipart, "GET answers what POST answered");

    // The list: newest first, with cursor pagination.
    let list = api.get_ok("/v1/reference-data");
    assert_eq!(keys(&list), ["data", "pagination"]);
    assert_eq!(
        ids(array(&list["data"])),
        [
            str_of(&from_json, "id"),
            str_of(&from_body, "id"),
            multipart_id
        ]
    );
    assert_eq!(
        list["pagination"],
        json!({"total": 3, "limit": 20, "has_more": false, "next_cursor": null})
    );

    // Rows: 1-based pages, default limit 100, `{id, ...columns}` in file order.
    let records = fixture_records("reference.csv");
    let rows_path = format!("/v1/reference-data/{multipart_id}/rows");
    let first = api.get_ok(&rows_path);
    assert_eq!(keys(&first), ["data", "pagination"]);
    assert_eq!(
        first["pagination"],
        json!({"total": 304, "page": 1, "limit": 100})
    );
    assert_eq!(array(&first["data"]).len(), 100);
    let page2 = api.get_ok(&format!("{rows_path}?page=2&limit=10"));
    assert_eq!(
        page2["pagination"],
        json!({"total": 304, "page": 2, "limit": 10})
    );
    let page2_rows = array(&page2["data"]);
    assert_eq!(page2_rows.len(), 10);
    for (row, record) in page2_rows.iter().zip(&records[10..20]) {
        assert_eq!(
            keys(row),
            [
                "id",
                "vendor_name",
                "invoice_number",
                "invoice_date",
                "total",
                "currency",
                "po_number"
            ],
            "row shape: {row}"
        );
        for (column, value) in record {
            assert_eq!(cell(&row[column]), *value, "column {column} of {row}");
        }
    }
    let last = api.get_ok(&format!("{rows_path}?page=31&limit=10"));
    assert_eq!(array(&last["data"]).len(), 4, "304 rows leave 4 on page 31");
    assert_eq!(
        str_of(&array(&last["data"])[3], "id"),
        records[303]["id"],
        "the last row is the file's last"
    );
}

#[test]
fn documents_upload_as_csv_json_and_json_lines_and_a_duplicate_external_id_stores_nothing() {
    let server = TestServer::start();
    let api = Api::new(&server);

    let csv_upload = expect(
        api.send(
            "POST",
            "/v1/documents",
            Some("text/csv"),
            &fixture_bytes("documents.csv"),
        ),
        201,
        "CSV documents",
    );
    let batch_id = str_of(&csv_upload, "batch_id");
    assert!(is_uuid(batch_id), "{csv_upload}");
    let created = array(&csv_upload["documents"]);
    let records = fixture_records("documents.csv");
    assert_eq!(created.len(), records.len());
    assert_eq!(records.len(), 150);
    for (doc, record) in created.iter().zip(&records) {
        assert!(is_uuid(str_of(doc, "id")), "{doc}");
        assert_eq!(doc["external_id"], record["document_id"].as_str(), "{doc}");
    }
    // The stored document: document_id became external_id, filename its own column.
    let first_id = str_of(&created[0], "id");
    let first = api.get_ok(&format!("/v1/documents/{first_id}"));
    assert_eq!(first["id"], first_id);
    assert_eq!(first["external_id"], "D-0001");
    assert_eq!(first["filename"], "nordwind-rechnung-02575.pdf");
    assert_eq!(first["batch_id"], batch_id);
    assert_eq!(first["fields"]["vendor_name"], "Nordwind Logistik GmbH");
    assert_eq!(first["fields"]["invoice_number"], "re-2026/02575");
    assert_eq!(
        first["fields"]["po_number"],
        Value::Null,
        "a blank cell is null"
    );
    assert!(first["fields"].get("document_id").is_none(), "{first}");
    assert!(first["fields"].get("filename").is_none(), "{first}");
    assert!(is_iso_millis(str_of(&first, "created_at")), "{first}");
    assert!(
        first.get("links").is_some(),
        "every resource has links: {first}"
    );

    // One JSON document.
    let single = expect(
        api.post(
            "/v1/documents",
            &json!({"id": "J-1", "filename": "j1.pdf",
                    "fields": {"vendor_name": "Bluepeak LLC", "total": 1249.0, "po_number": null}}),
        ),
        201,
        "single JSON document",
    );
    assert!(is_uuid(str_of(&single, "batch_id")), "{single}");
    assert_ne!(single["batch_id"], batch_id, "each upload is its own batch");
    let single_docs = array(&single["documents"]);
    assert_eq!(single_docs.len(), 1);
    assert_eq!(single_docs[0]["external_id"], "J-1");
    let stored = api.get_ok(&format!("/v1/documents/{}", str_of(&single_docs[0], "id")));
    assert_eq!(stored["filename"], "j1.pdf");
    assert_eq!(stored["fields"]["vendor_name"], "Bluepeak LLC");
    assert_eq!(stored["fields"]["po_number"], Value::Null);

    // Many JSON documents.
    let many = expect(
        api.post(
            "/v1/documents",
            &json!({"documents": [
                {"id": "J-2", "fields": {"vendor_name": "Thistle Facilities Limited"}},
                {"id": "J-3", "filename": "j3.pdf", "fields": {"total": "12,50 EUR"}}
            ]}),
        ),
        201,
        "many JSON documents",
    );
    let many_docs = array(&many["documents"]);
    assert_eq!(
        many_docs
            .iter()
            .map(|d| str_of(d, "external_id"))
            .collect::<Vec<_>>(),
        ["J-2", "J-3"]
    );
    assert!(many_docs.iter().all(|d| is_uuid(str_of(d, "id"))));

    // JSON Lines.
    let lines = b"{\"id\": \"J-4\", \"fields\": {\"vendor_name\": \"Nordwind\"}}\n\n{\"id\": \"J-5\", \"filename\": \"j5.pdf\", \"fields\": {\"total\": 3}}\n";
    let jsonl = expect(
        api.send("POST", "/v1/documents", Some("application/x-ndjson"), lines),
        201,
        "JSON Lines documents",
    );
    assert!(is_uuid(str_of(&jsonl, "batch_id")), "{jsonl}");
    let jsonl_docs = array(&jsonl["documents"]);
    assert_eq!(
        jsonl_docs
            .iter()
            .map(|d| str_of(d, "external_id"))
            .collect::<Vec<_>>(),
        ["J-4", "J-5"]
    );

    let count = api.total("/v1/documents?limit=1");
    assert_eq!(count, 155);
    // The batch filter lists one upload's documents.
    assert_eq!(
        api.total(&format!("/v1/documents?batch_id={batch_id}&limit=1")),
        150
    );

    // An existing external id again: 409, and nothing of the body is stored.
    let reply = api.post(
        "/v1/documents",
        &json!({"documents": [
            {"id": "NEW-1", "fields": {"vendor_name": "New"}},
            {"id": "D-0001", "fields": {"vendor_name": "Again"}}
        ]}),
    );
    expect_error(&reply, 409, "conflict", "/v1/documents");
    let reply = api.post(
        "/v1/documents",
        &json!({"id": "J-3", "fields": {"vendor_name": "Again"}}),
    );
    expect_error(&reply, 409, "conflict", "/v1/documents");
    let reply = api.send(
        "POST",
        "/v1/documents",
        Some("application/x-ndjson"),
        b"{\"id\": \"NEW-2\", \"fields\": {}}\n{\"id\": \"J-5\", \"fields\": {}}\n",
    );
    expect_error(&reply, 409, "conflict", "/v1/documents");
    let reply = api.send(
        "POST",
        "/v1/documents",
        Some("text/csv"),
        &fixture_bytes("documents.csv"),
    );
    expect_error(&reply, 409, "conflict", "/v1/documents");
    assert_eq!(
        api.total("/v1/documents?limit=1"),
        count,
        "a conflicting upload stores nothing"
    );
    let listed = api.get_ok("/v1/documents?limit=500");
    assert!(
        array(&listed["data"])
            .iter()
            .all(|d| d["external_id"] != "NEW-1" && d["external_id"] != "NEW-2"),
        "the new documents of a conflicting upload are not stored"
    );
}

#[test]
fn configs_are_created_listed_read_replaced_and_deleted() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let small = seed_small(&api, "c");

    let config = expect(
        api.post(
            "/v1/matching/configs",
            &vendor_and_amount_config(&small.reference_id),
        ),
        201,
        "config create",
    );
    let id = str_of(&config, "id").to_string();
    assert!(is_uuid(&id), "{config}");
    assert_eq!(config["name"], "vendor and amount");
    assert_eq!(config["reference_data_id"], small.reference_id.as_str());
    assert_eq!(config["threshold"], 0.7);
    assert_eq!(array(&config["field_mappings"]).len(), 2);
    assert_eq!(config["target_type"], "all", "default target: {config}");
    assert_eq!(config["target_value"], json!({}));
    assert_eq!(
        config["links"]["self"],
        format!("/v1/matching/configs/{id}")
    );
    assert!(is_iso_millis(str_of(&config, "created_at")), "{config}");

    // Listed newest first, and readable by id.
    let list = api.get_ok("/v1/matching/configs");
    assert_eq!(ids(array(&list["data"])), [id.as_str(), &small.config_id]);
    assert_eq!(list["pagination"]["total"], 2);
    assert_eq!(list["pagination"]["has_more"], false);
    let got = api.get_ok(&format!("/v1/matching/configs/{id}"));
    assert_eq!(got, config, "GET answers what POST answered");

    // PUT replaces name, mappings, threshold and target; the table stays.
    let replacement = json!({
        "name": "vendor only",
        "field_mappings": [
            {"source": "vendor_name", "target": "vendor_name", "strategy": "exact", "weight": 1.0}
        ],
        "threshold": 0.9,
        "target_type": "batch",
        "target_value": {"batch_id": small.batch_id}
    });
    let replaced = expect(
        api.json("PUT", &format!("/v1/matching/configs/{id}"), &replacement),
        200,
        "config PUT",
    );
    assert_eq!(replaced["id"], id.as_str());
    assert_eq!(replaced["name"], "vendor only");
    assert_eq!(replaced["threshold"], 0.9);
    assert_eq!(replaced["reference_data_id"], small.reference_id.as_str());
    let mappings = array(&replaced["field_mappings"]);
    assert_eq!(mappings.len(), 1);
    assert_eq!(mappings[0]["strategy"], "exact");
    assert_eq!(replaced["target_type"], "batch");
    assert_eq!(
        replaced["target_value"]["batch_id"],
        small.batch_id.as_str()
    );
    assert_eq!(
        api.get_ok(&format!("/v1/matching/configs/{id}")),
        replaced,
        "the replacement is what GET answers now"
    );

    // PUT cannot move the config to another table.
    let other = seed_small(&api, "c2");
    let mut moved = replacement.clone();
    moved["reference_data_id"] = json!(other.reference_id);
    let path = format!("/v1/matching/configs/{id}");
    let reply = api.json("PUT", &path, &moved);
    if reply.status == 400 {
        expect_invalid(&reply, &path, "reference_data_id");
    } else {
        let kept = expect(reply, 200, "PUT with another reference_data_id");
        assert_eq!(
            kept["reference_data_id"],
            small.reference_id.as_str(),
            "reference_data_id is fixed after creation: {kept}"
        );
    }
    assert_eq!(
        api.get_ok(&path)["reference_data_id"],
        small.reference_id.as_str()
    );

    // A config without a threshold gets the contract's default.
    let mut defaulted = small_config(&small.reference_id);
    defaulted.as_object_mut().unwrap().remove("threshold");
    let defaulted = expect(
        api.post("/v1/matching/configs", &defaulted),
        201,
        "config without threshold",
    );
    assert_eq!(defaulted["threshold"], 0.85, "{defaulted}");
    let defaulted_path = format!("/v1/matching/configs/{}", str_of(&defaulted, "id"));
    expect(
        api.send("DELETE", &defaulted_path, None, b""),
        200,
        "delete defaulted",
    );

    // DELETE: gone from GET and from the list, and its past runs stay.
    let run = api.run_to_completion(&id);
    let run_id = str_of(&run, "id").to_string();
    let deleted = expect(api.send("DELETE", &path, None, b""), 200, "config DELETE");
    assert_eq!(deleted["deleted"], true, "{deleted}");
    expect_error(&api.get(&path), 404, "not_found", &path);
    let kept = api.get_ok(&format!("/v1/matching/runs/{run_id}"));
    assert_eq!(
        kept["status"], "completed",
        "a deleted config keeps its runs"
    );
    assert_eq!(array(&kept["results"]).len(), 3, "{kept}");
    let runs = format!("/v1/matching/runs?config_id={id}");
    assert_eq!(ids(array(&api.get_ok(&runs)["data"])), [run_id]);
    let trigger = format!("{path}/run");
    expect_error(
        &api.send("POST", &trigger, None, b""),
        404,
        "not_found",
        &trigger,
    );
    let list = api.get_ok("/v1/matching/configs");
    assert!(
        !ids(array(&list["data"])).contains(&id),
        "a deleted config is not listed"
    );
    assert_eq!(list["pagination"]["total"], 2);
    expect_error(
        &api.send("DELETE", &path, None, b""),
        404,
        "not_found",
        &path,
    );
}

fn vendor_and_amount_config(reference_id: &str) -> Value {
    json!({
        "name": "vendor and amount",
        "reference_data_id": reference_id,
        "field_mappings": [
            {"source": "vendor_name", "target": "vendor_name", "strategy": "fuzzy", "weight": 0.5},
            {"source": "total", "target": "total", "strategy": "numeric_range", "weight": 0.5, "tolerance_pct": 2.0}
        ],
        "threshold": 0.7
    })
}

#[test]
fn a_run_reports_progress_and_its_results_filter_and_page_in_confidence_order() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let seeded = seed_fixtures(&api);
    let documents = api.total("/v1/documents?limit=1");
    assert_eq!(documents, 150);

    let queued = api.trigger(&seeded.config_id);
    assert_eq!(queued["triggered_by"], "api");
    assert_eq!(queued["matching_config_id"], seeded.config_id.as_str());
    let run_id = str_of(&queued, "id").to_string();
    let run = api.wait_for_run(&run_id);
    assert_eq!(run["status"], "completed", "{run}");

    // Progress of a finished run.
    let progress = api.get_ok(&format!("/v1/matching/runs/{run_id}/progress"));
    assert_eq!(
        keys(&progress),
        [
            "id",
            "status",
            "phase",
            "phase_progress",
            "rows_total",
            "rows_processed",
            "rows_matched",
            "elapsed_ms",
            "eta_ms"
        ],
        "{progress}"
    );
    assert_eq!(progress["id"], run_id.as_str());
    assert_eq!(progress["status"], "completed");
    assert_eq!(progress["phase"], "done");
    assert_eq!(progress["phase_progress"].as_f64(), Some(1.0), "{progress}");
    assert_eq!(
        progress["rows_total"].as_u64(),
        Some(documents),
        "{progress}"
    );
    assert_eq!(
        progress["rows_processed"].as_u64(),
        Some(documents),
        "{progress}"
    );
    assert_eq!(progress["rows_matched"], run["rows_matched"], "{progress}");
    assert!(progress["elapsed_ms"].is_u64(), "{progress}");
    assert!(
        progress["eta_ms"].is_null() || progress["eta_ms"] == 0,
        "nothing is left of a finished run: {progress}"
    );
    assert_eq!(run["rows_processed"].as_u64(), Some(documents));

    // Every result, in order.
    let all = api.all_results(&run_id);
    assert_eq!(all.len() as u64, documents, "one result per document");
    assert_result_order(&all, "all results");
    let document_ids: HashSet<&str> = all.iter().map(|r| str_of(r, "document_id")).collect();
    assert_eq!(document_ids.len() as u64, documents, "no document twice");
    let results_path = format!("/v1/matching/runs/{run_id}/results");
    let default_page = api.get_ok(&results_path);
    assert_eq!(
        default_page["pagination"],
        json!({"total": documents, "page": 1, "limit": 50})
    );
    assert_eq!(ids(array(&default_page["data"])), ids(&all[..50]));

    // page and limit cut the same order.
    let page3 = api.get_ok(&format!("{results_path}?page=3&limit=7"));
    assert_eq!(
        page3["pagination"],
        json!({"total": documents, "page": 3, "limit": 7})
    );
    assert_eq!(ids(array(&page3["data"])), ids(&all[14..21]));
    let beyond = api.get_ok(&format!("{results_path}?page=99&limit=50"));
    assert!(array(&beyond["data"]).is_empty());

    // matched=true/false split the results by matched row and agree with rows_matched.
    let threshold = 0.8;
    let matched: Vec<&Value> = all
        .iter()
        .filter(|r| !r["matched_reference_row_id"].is_null())
        .collect();
    assert!(
        !matched.is_empty() && matched.len() < all.len(),
        "the fixtures have both matched and unmatched documents"
    );
    assert_eq!(run["rows_matched"].as_u64(), Some(matched.len() as u64));
    let page = api.get_ok(&format!("{results_path}?matched=true&limit=500"));
    let data = array(&page["data"]);
    assert_eq!(
        page["pagination"]["total"].as_u64(),
        Some(matched.len() as u64)
    );
    assert_eq!(
        ids(data),
        ids(&matched.iter().map(|r| (*r).clone()).collect::<Vec<_>>())
    );
    assert!(data.iter().all(|r| f64_of(r, "confidence") >= threshold));
    let page = api.get_ok(&format!("{results_path}?matched=false&limit=500"));
    let data = array(&page["data"]);
    assert_eq!(data.len(), all.len() - matched.len());
    assert!(data.iter().all(|r| r["matched_reference_row_id"].is_null()));
    // The fixture config assigns rows one to one: a document whose best row went to
    // another document is unmatched at its best candidate's confidence, and says so.
    assert!(data
        .iter()
        .all(|r| f64_of(r, "confidence") < threshold || r["assigned"] == true));
    assert_result_order(data, "matched=false");

    // min_confidence / max_confidence are inclusive bounds.
    let (low, high) = (0.5, 0.95);
    for (query, keep) in [
        (
            format!("min_confidence={high}"),
            Box::new(move |r: &Value| f64_of(r, "confidence") >= high)
                as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            format!("max_confidence={low}"),
            Box::new(move |r| f64_of(r, "confidence") <= low),
        ),
        (
            format!("min_confidence={low}&max_confidence={high}"),
            Box::new(move |r| (low..=high).contains(&f64_of(r, "confidence"))),
        ),
        (
            format!("matched=false&min_confidence={low}"),
            // Unmatched: below the threshold, or its row assigned to another document.
            Box::new(move |r| {
                let c = f64_of(r, "confidence");
                c >= low && (c < threshold || r["assigned"] == true)
            }),
        ),
    ] {
        let expected: Vec<Value> = all.iter().filter(|r| keep(r)).cloned().collect();
        let page = api.get_ok(&format!("{results_path}?{query}&limit=500"));
        assert_eq!(ids(array(&page["data"])), ids(&expected), "filter {query}");
        assert_eq!(
            page["pagination"]["total"].as_u64(),
            Some(expected.len() as u64),
            "total under {query}"
        );
        assert!(
            !expected.is_empty() && expected.len() < all.len(),
            "filter {query} should keep some results and leave some out on the fixtures"
        );
    }
    // Exact boundary: a bound equal to a result's confidence keeps it.
    let pivot = f64_of(&all[10], "confidence");
    let page = api.get_ok(&format!(
        "{results_path}?min_confidence={pivot}&max_confidence={pivot}&limit=500"
    ));
    assert!(
        ids(array(&page["data"])).contains(&str_of(&all[10], "id").to_string()),
        "min=max=confidence keeps that result"
    );

    // status: everything is pending before any review.
    let page = api.get_ok(&format!("{results_path}?status=pending&limit=1"));
    assert_eq!(page["pagination"]["total"].as_u64(), Some(documents));
    let page = api.get_ok(&format!("{results_path}?status=approved"));
    assert_eq!(page["pagination"]["total"], 0);
}

/// The key id of the server's own key (the only key of workspace `default`).
fn own_key_id(api: &Api<'_>) -> String {
    let keys = api.get_ok("/v1/keys");
    let data = array(&keys["data"]);
    assert_eq!(data.len(), 1, "one key in the default workspace: {keys}");
    let text = keys.to_string();
    assert!(
        !text.contains(api.key.as_deref().unwrap_or("-")),
        "the key list never shows a secret"
    );
    str_of(&data[0], "id").to_string()
}

#[test]
fn reviews_approve_reject_reset_annotate_and_pick_a_candidate_and_record_the_reviewer() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let seeded = seed_fixtures(&api);
    let key_id = own_key_id(&api);
    let run = api.run_to_completion(&seeded.config_id);
    let run_id = str_of(&run, "id").to_string();
    let all = api.all_results(&run_id);
    let results_path = format!("/v1/matching/runs/{run_id}/results");

    let matched: Vec<&Value> = all
        .iter()
        .filter(|r| !r["matched_reference_row_id"].is_null())
        .collect();
    let approve = matched[0];
    let reject = matched[1];
    let pick = all
        .iter()
        .find(|r| {
            array(&r["candidates"]).len() >= 2
                && r["id"] != approve["id"]
                && r["id"] != reject["id"]
        })
        .expect("some result has two candidates");

    // Approve, then add notes.
    let reviewed = expect(
        api.review(
            &run_id,
            str_of(approve, "id"),
            &json!({"status": "approved"}),
        ),
        200,
        "approve",
    );
    assert_eq!(reviewed["id"], approve["id"]);
    assert_eq!(reviewed["status"], "approved");
    assert_eq!(reviewed["reviewed_by"], key_id.as_str(), "{reviewed}");
    assert!(
        is_iso_millis(reviewed["reviewed_at"].as_str().unwrap_or("")),
        "{reviewed}"
    );
    assert_eq!(
        reviewed["matched_reference_row_id"], approve["matched_reference_row_id"],
        "approving keeps the matched row"
    );
    let noted = expect(
        api.review(
            &run_id,
            str_of(approve, "id"),
            &json!({"status": "approved", "notes": "PO checked with AP"}),
        ),
        200,
        "notes",
    );
    assert_eq!(noted["notes"], "PO checked with AP");
    assert_eq!(noted["status"], "approved");

    // Reject, then back to pending.
    let rejected = expect(
        api.review(
            &run_id,
            str_of(reject, "id"),
            &json!({"status": "rejected"}),
        ),
        200,
        "reject",
    );
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reviewed_by"], key_id.as_str());
    let page = api.get_ok(&format!("{results_path}?status=rejected"));
    assert_eq!(ids(array(&page["data"])), [str_of(reject, "id")]);
    let reset = expect(
        api.review(&run_id, str_of(reject, "id"), &json!({"status": "pending"})),
        200,
        "back to pending",
    );
    assert_eq!(reset["status"], "pending");
    assert!(
        is_iso_millis(reset["reviewed_at"].as_str().unwrap_or("")),
        "{reset}"
    );
    let page = api.get_ok(&format!("{results_path}?status=rejected"));
    assert_eq!(page["pagination"]["total"], 0);

    // A reference_row_id that is not a candidate: 400 naming it, and nothing changes.
    let candidates: Vec<String> = array(&pick["candidates"])
        .iter()
        .map(|c| str_of(c, "reference_row_id").to_string())
        .collect();
    let outsider = fixture_records("reference.csv")
        .into_iter()
        .map(|r| r["id"].clone())
        .find(|id| !candidates.contains(id))
        .expect("a row that is not a candidate");
    let review_path = format!(
        "/v1/matching/runs/{run_id}/results/{}/review",
        str_of(pick, "id")
    );
    for bad in [outsider.as_str(), "no-such-row"] {
        let reply = api.review(
            &run_id,
            str_of(pick, "id"),
            &json!({"status": "approved", "reference_row_id": bad}),
        );
        expect_invalid(&reply, &review_path, "reference_row_id");
    }
    let unchanged = all_results_by_id(&api, &run_id);
    assert_eq!(
        unchanged[str_of(pick, "id")],
        *pick,
        "a refused pick changes nothing"
    );

    // Picking the second candidate approves the result with that row matched.
    let second = &candidates[1];
    let picked = expect(
        api.review(
            &run_id,
            str_of(pick, "id"),
            &json!({"status": "approved", "reference_row_id": second}),
        ),
        200,
        "pick a candidate",
    );
    assert_eq!(picked["status"], "approved", "{picked}");
    assert_eq!(
        picked["matched_reference_row_id"],
        second.as_str(),
        "{picked}"
    );
    assert_eq!(picked["reviewed_by"], key_id.as_str());

    // The results list shows the reviews; the run's counters do not move.
    let now = all_results_by_id(&api, &run_id);
    assert_eq!(now[str_of(approve, "id")]["notes"], "PO checked with AP");
    assert_eq!(
        now[str_of(pick, "id")]["matched_reference_row_id"],
        second.as_str()
    );
    assert_eq!(now[str_of(reject, "id")]["status"], "pending");
    let never = all
        .iter()
        .find(|r| {
            [&approve["id"], &reject["id"], &pick["id"]]
                .iter()
                .all(|id| r["id"] != **id)
        })
        .expect("an unreviewed result");
    assert_eq!(now[str_of(never, "id")]["reviewed_at"], Value::Null);
    assert_eq!(now[str_of(never, "id")]["reviewed_by"], Value::Null);
    let approved = api.get_ok(&format!("{results_path}?status=approved"));
    let mut approved_ids = ids(array(&approved["data"]));
    approved_ids.sort();
    let mut expected = vec![
        str_of(approve, "id").to_string(),
        str_of(pick, "id").to_string(),
    ];
    expected.sort();
    assert_eq!(approved_ids, expected);
    let after = api.get_ok(&format!("/v1/matching/runs/{run_id}"));
    for counter in ["rows_processed", "rows_matched", "avg_confidence"] {
        assert_eq!(
            after[counter], run[counter],
            "reviews leave {counter} alone"
        );
    }
}

fn all_results_by_id(api: &Api<'_>, run_id: &str) -> HashMap<String, Value> {
    api.all_results(run_id)
        .into_iter()
        .map(|r| (str_of(&r, "id").to_string(), r))
        .collect()
}

/// The result of one document in a run.
fn result_of_document(api: &Api<'_>, run_id: &str, document_id: &str) -> Value {
    api.all_results(run_id)
        .into_iter()
        .find(|r| r["document_id"] == document_id)
        .unwrap_or_else(|| panic!("run {run_id} has no result for document {document_id}"))
}

fn candidate_rows(result: &Value) -> Vec<String> {
    array(&result["candidates"])
        .iter()
        .map(|c| str_of(c, "reference_row_id").to_string())
        .collect()
}

#[test]
fn a_rejected_row_is_not_proposed_again_for_that_document_until_set_back_to_pending() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let seeded = seed_fixtures(&api);
    let first = api.run_to_completion(&seeded.config_id);
    let first_id = str_of(&first, "id").to_string();
    let results = array(&first["results"]);
    let target = &results[0];
    let document = str_of(target, "document_id").to_string();
    let row = str_of(target, "matched_reference_row_id").to_string();
    let other = &results[1];

    expect(
        api.review(
            &first_id,
            str_of(target, "id"),
            &json!({"status": "rejected"}),
        ),
        200,
        "reject",
    );

    let second = api.run_to_completion(&seeded.config_id);
    let second_id = str_of(&second, "id").to_string();
    assert_ne!(second_id, first_id);
    let again = result_of_document(&api, &second_id, &document);
    assert_ne!(
        again["matched_reference_row_id"],
        row.as_str(),
        "the rejected row is matched again: {again}"
    );
    assert!(
        !candidate_rows(&again).contains(&row),
        "the rejected row is among the candidates again: {again}"
    );
    // Only that document loses the row: another document keeps its match.
    let untouched = result_of_document(&api, &second_id, str_of(other, "document_id"));
    assert_eq!(
        untouched["matched_reference_row_id"], other["matched_reference_row_id"],
        "an unrelated document's match does not move"
    );

    // Pending lifts the exclusion: the row comes back.
    expect(
        api.review(
            &first_id,
            str_of(target, "id"),
            &json!({"status": "pending"}),
        ),
        200,
        "back to pending",
    );
    let third = api.run_to_completion(&seeded.config_id);
    let back = result_of_document(&api, str_of(&third, "id"), &document);
    assert!(
        candidate_rows(&back).contains(&row),
        "the row is a candidate again once the rejection is lifted: {back}"
    );
    assert_eq!(
        back["matched_reference_row_id"],
        row.as_str(),
        "runs are deterministic, so the row is matched again: {back}"
    );
    assert_eq!(back["confidence"], target["confidence"]);
}

// ---------------------------------------------------------------------------------------
// 2. Run detail, field by field, against the run-detail example.
// ---------------------------------------------------------------------------------------

const RUN_KEYS: [&str; 14] = [
    "id",
    "matching_config_id",
    "status",
    "triggered_by",
    "rows_processed",
    "rows_matched",
    "avg_confidence",
    "started_at",
    "completed_at",
    "error",
    "created_at",
    "reference_version",
    "links",
    "results",
];

/// The seed example's keys in its order, then `assigned` (ext, one-to-one assignment).
const RESULT_KEYS: [&str; 15] = [
    "id",
    "document_id",
    "document_external_id",
    "document_filename",
    "matched_reference_row_id",
    "confidence",
    "status",
    "evidence",
    "candidates",
    "notes",
    "reviewed_at",
    "reviewed_by",
    "resolved_by",
    "confidence_before",
    "assigned",
];

#[test]
fn run_detail_has_the_seed_examples_fields_in_order_with_their_types() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let seeded = seed_fixtures(&api);
    let config = fixture_config(&seeded.reference_id);
    let threshold = f64_of(&config, "threshold");
    let strategies: HashMap<String, String> = array(&config["field_mappings"])
        .iter()
        .map(|m| {
            (
                str_of(m, "source").to_string(),
                str_of(m, "strategy").to_string(),
            )
        })
        .collect();
    let uploaded: HashMap<String, String> = array(&seeded.documents["documents"])
        .iter()
        .map(|d| {
            (
                str_of(d, "id").to_string(),
                str_of(d, "external_id").to_string(),
            )
        })
        .collect();
    let filenames: HashMap<String, String> = fixture_records("documents.csv")
        .into_iter()
        .map(|r| (r["document_id"].clone(), r["filename"].clone()))
        .collect();

    // The 202 answer: the run object before it started.
    let queued = api.trigger(&seeded.config_id);
    let run_id = str_of(&queued, "id").to_string();
    let queued_keys = keys(&queued);
    let without_results: Vec<&str> = RUN_KEYS[..13].to_vec();
    assert!(
        queued_keys == without_results || queued_keys == RUN_KEYS,
        "202 run keys: {queued_keys:?}"
    );
    assert!(is_uuid(&run_id));
    assert_eq!(queued["matching_config_id"], seeded.config_id.as_str());
    assert_eq!(queued["triggered_by"], "api");
    for key in [
        "rows_processed",
        "rows_matched",
        "avg_confidence",
        "started_at",
        "completed_at",
        "error",
    ] {
        assert_eq!(queued[key], Value::Null, "{key} of a queued run: {queued}");
    }
    assert!(is_iso_millis(str_of(&queued, "created_at")), "{queued}");
    assert_eq!(queued["reference_version"], 1);

    // Runs execute one at a time, so a third run triggered now waits behind the first two;
    // its detail, while it still waits, has every key with nulls and no results.
    api.trigger(&seeded.config_id);
    let waiting = api.trigger(&seeded.config_id);
    let waiting_id = str_of(&waiting, "id");
    let detail = api.get_ok(&format!("/v1/matching/runs/{waiting_id}"));
    let progress = api.get_ok(&format!("/v1/matching/runs/{waiting_id}/progress"));
    if detail["status"] == "queued" && progress["status"] == "queued" {
        assert_eq!(keys(&detail), RUN_KEYS, "queued run detail keys");
        for key in [
            "rows_processed",
            "rows_matched",
            "avg_confidence",
            "started_at",
            "completed_at",
            "error",
        ] {
            assert_eq!(detail[key], Value::Null, "{key} of a queued run: {detail}");
        }
        assert_eq!(detail["results"], json!([]), "{detail}");
        assert_eq!(progress["phase"], "queued", "{progress}");
        assert_eq!(progress["rows_processed"], Value::Null, "{progress}");
    }

    let run = api.wait_for_run(&run_id);
    assert_eq!(keys(&run), RUN_KEYS, "run detail keys");
    assert_eq!(run["id"], run_id.as_str());
    assert_eq!(run["matching_config_id"], seeded.config_id.as_str());
    assert_eq!(run["status"], "completed");
    assert_eq!(run["triggered_by"], "api");
    assert_eq!(run["rows_processed"].as_u64(), Some(150));
    let rows_matched = run["rows_matched"].as_u64().expect("rows_matched integer");
    assert!(rows_matched > 0 && rows_matched <= 150, "{rows_matched}");
    let avg = f64_of(&run, "avg_confidence");
    assert!((threshold..=1.0).contains(&avg), "avg_confidence {avg}");
    let (created, started, completed) = (
        str_of(&run, "created_at"),
        str_of(&run, "started_at"),
        str_of(&run, "completed_at"),
    );
    for t in [created, started, completed] {
        assert!(is_iso_millis(t), "timestamp {t:?}");
    }
    assert!(created <= started && started <= completed, "{run}");
    assert_eq!(run["created_at"], queued["created_at"]);
    assert_eq!(run["error"], Value::Null);
    assert_eq!(run["reference_version"], 1);
    assert_eq!(
        run["links"],
        json!({
            "self": format!("/v1/matching/runs/{run_id}"),
            "config": format!("/v1/matching/configs/{}", seeded.config_id),
        })
    );

    // avg_confidence is the mean confidence of the matched documents.
    let all = api.all_results(&run_id);
    let matched: Vec<f64> = all
        .iter()
        .filter(|r| !r["matched_reference_row_id"].is_null())
        .map(|r| f64_of(r, "confidence"))
        .collect();
    assert_eq!(matched.len() as u64, rows_matched);
    let mean = matched.iter().sum::<f64>() / matched.len() as f64;
    assert!(
        (avg - mean).abs() < 1e-3,
        "avg_confidence {avg}, mean {mean}"
    );

    // The 50 best results, the same as the first page of the results list.
    let results = array(&run["results"]);
    assert_eq!(results.len(), 50, "150 documents, at most 50 in the detail");
    assert_eq!(ids(results), ids(&all[..50]));
    assert_result_order(results, "run detail");
    for result in results {
        assert_eq!(keys(result), RESULT_KEYS, "result keys: {result}");
        assert!(is_uuid(str_of(result, "id")), "{result}");
        let document = str_of(result, "document_id");
        let external = uploaded
            .get(document)
            .unwrap_or_else(|| panic!("unknown document {document}"));
        assert_eq!(
            result["document_external_id"],
            external.as_str(),
            "{result}"
        );
        assert_eq!(
            result["document_filename"],
            filenames[external].as_str(),
            "{result}"
        );
        let confidence = f64_of(result, "confidence");
        assert!((0.0..=1.0).contains(&confidence), "{result}");
        let candidates = array(&result["candidates"]);
        match result["matched_reference_row_id"].as_str() {
            Some(row) => {
                assert!(confidence >= threshold, "matched below threshold: {result}");
                // The best candidate, unless one-to-one assignment gave that row to
                // another document (the fixture config assigns one to one).
                let best = candidates.first().map(|c| &c["reference_row_id"]);
                assert_eq!(
                    best == Some(&json!(row)),
                    result["assigned"] == false,
                    "the matched row is the best candidate unless assigned: {result}"
                );
            }
            None => {
                assert!(result["matched_reference_row_id"].is_null(), "{result}");
                assert!(
                    confidence < threshold || result["assigned"] == true,
                    "unmatched at threshold without an assignment: {result}"
                );
            }
        }
        assert_eq!(result["status"], "pending");
        for key in [
            "notes",
            "reviewed_at",
            "reviewed_by",
            "resolved_by",
            "confidence_before",
        ] {
            assert_eq!(result[key], Value::Null, "{key}: {result}");
        }
        if candidates.is_empty() {
            assert_eq!(confidence, 0.0, "no candidate, no confidence: {result}");
        } else {
            assert_eq!(
                f64_of(&candidates[0], "confidence"),
                confidence,
                "the confidence is the best candidate's: {result}"
            );
        }
        assert_evidence(&result["evidence"], &strategies, result);

        // Candidates: at most 5, confidence > 0 descending, ties by row id, with evidence.
        assert!(candidates.len() <= 5, "{result}");
        for c in candidates {
            assert!(c["reference_row_id"].is_string(), "{c}");
            let cc = f64_of(c, "confidence");
            assert!(cc > 0.0 && cc <= 1.0, "{c}");
            assert_evidence(&c["evidence"], &strategies, c);
        }
        for pair in candidates.windows(2) {
            let (a, b) = (
                f64_of(&pair[0], "confidence"),
                f64_of(&pair[1], "confidence"),
            );
            let ok = a > b
                || (a == b
                    && str_of(&pair[0], "reference_row_id") < str_of(&pair[1], "reference_row_id"));
            assert!(ok, "candidates out of order: {result}");
        }
    }
    // Results with no match below the 50 best still follow the rule.
    for result in &all {
        assert_eq!(
            result["matched_reference_row_id"].is_null(),
            f64_of(result, "confidence") < threshold || result["assigned"] == true,
            "matched exactly when confidence >= threshold, unless the row went to another document: {result}"
        );
    }
}

/// Evidence is an object keyed by mapping name, each `{strategy, score, ...}`.
fn assert_evidence(evidence: &Value, strategies: &HashMap<String, String>, owner: &Value) {
    let Some(evidence) = evidence.as_object() else {
        panic!("evidence is not an object: {owner}");
    };
    let mut names: Vec<&str> = evidence.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = strategies.keys().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "evidence names: {owner}");
    for (name, entry) in evidence {
        assert_eq!(
            entry["strategy"],
            strategies[name].as_str(),
            "{name}: {entry}"
        );
        match &entry["score"] {
            Value::Number(n) => {
                let s = n.as_f64().unwrap_or(-1.0);
                assert!((0.0..=1.0).contains(&s), "{name}: {entry}");
            }
            Value::Null => assert!(
                entry["missing"] == true || entry["unparsable"] == true,
                "a null score says why: {name}: {entry}"
            ),
            other => panic!("score {other} of {name}: {owner}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3. Every error code in the envelope of docs/CONTRACT.md.
// ---------------------------------------------------------------------------------------

#[test]
fn every_error_answers_specs_envelope_with_the_right_status_and_code() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let small = seed_small(&api, "e");
    let run = api.run_to_completion(&small.config_id);
    let run_id = str_of(&run, "id").to_string();
    let result_id = str_of(&array(&run["results"])[0], "id").to_string();
    let missing = "00000000-0000-4000-8000-000000000000";

    // 400 validation_error, naming the field.
    let path = "/v1/matching/configs";
    let mut bad_weights = small_config(&small.reference_id);
    bad_weights["field_mappings"][1]["weight"] = json!(0.3);
    let body = expect_error(&api.post(path, &bad_weights), 400, "validation_error", path);
    assert!(
        details_fields(&body)
            .iter()
            .any(|f| f.starts_with("field_mappings")),
        "weights that do not sum to 1 name field_mappings: {body}"
    );
    let mut negative = small_config(&small.reference_id);
    negative["field_mappings"][0]["weight"] = json!(-0.6);
    negative["field_mappings"][1]["weight"] = json!(1.6);
    expect_invalid(&api.post(path, &negative), path, "field_mappings[0].weight");
    let mut unknown = small_config(&small.reference_id);
    unknown["colour"] = json!("blue");
    expect_invalid(&api.post(path, &unknown), path, "colour");
    let mut bad_target = small_config(&small.reference_id);
    bad_target["field_mappings"][0]["target"] = json!("no_such_column");
    expect_invalid(
        &api.post(path, &bad_target),
        path,
        "field_mappings[0].target",
    );
    let mut no_reference = small_config(&small.reference_id);
    no_reference["reference_data_id"] = json!(missing);
    expect_invalid(&api.post(path, &no_reference), path, "reference_data_id");
    let configs_before = api.total("/v1/matching/configs");
    assert_eq!(configs_before, 1, "no invalid config was stored");

    for list in [
        "/v1/documents?limit=501",
        "/v1/reference-data?limit=501",
        "/v1/matching/configs?limit=501",
        "/v1/matching/runs?limit=501",
        "/v1/documents?limit=0",
        "/v1/documents?limit=ten",
    ] {
        expect_invalid(&api.get(list), list, "limit");
    }
    let results_path = format!("/v1/matching/runs/{run_id}/results?limit=501");
    expect_invalid(&api.get(&results_path), &results_path, "limit");
    let rows_path = format!("/v1/reference-data/{}/rows?limit=501", small.reference_id);
    expect_invalid(&api.get(&rows_path), &rows_path, "limit");
    assert_eq!(
        array(&api.get_ok("/v1/documents?limit=500")["data"]).len(),
        3,
        "500 is allowed"
    );
    let bad_filter = format!("/v1/matching/runs/{run_id}/results?matched=yes");
    expect_invalid(&api.get(&bad_filter), &bad_filter, "matched");
    let bad_filter = format!("/v1/matching/runs/{run_id}/results?min_confidence=high");
    expect_invalid(&api.get(&bad_filter), &bad_filter, "min_confidence");
    let bad_cursor = "/v1/documents?cursor=garbage";
    expect_invalid(&api.get(bad_cursor), bad_cursor, "cursor");

    for (route, body) in [
        ("/v1/matching/configs", &b"{\"name\": "[..]),
        ("/v1/documents", &b"{\"fields\": {\"a\": 1"[..]),
        ("/v1/reference-data", &b"not json at all"[..]),
    ] {
        let reply = api.send("POST", route, Some("application/json"), body);
        expect_error(&reply, 400, "validation_error", route);
    }
    let review_path = format!("/v1/matching/runs/{run_id}/results/{result_id}/review");
    let reply = api.send(
        "POST",
        &review_path,
        Some("application/json"),
        b"{\"status\":",
    );
    expect_error(&reply, 400, "validation_error", &review_path);
    let reply = api.review(&run_id, &result_id, &json!({"status": "maybe"}));
    expect_invalid(&reply, &review_path, "status");
    let reply = api.review(&run_id, &result_id, &json!({"notes": "no status"}));
    expect_invalid(&reply, &review_path, "status");
    let reply = api.post(
        "/v1/documents",
        &json!({"id": "obj", "fields": {"total": {"amount": 1}}}),
    );
    expect_invalid(&reply, "/v1/documents", "fields.total");
    let reply = api.post(
        "/v1/documents",
        &json!({"documents": [{"fields": {"a": "x"}}, {"fields": {"total": [1, 2]}}]}),
    );
    expect_invalid(&reply, "/v1/documents", "documents[1].fields.total");
    assert_eq!(
        api.total("/v1/documents"),
        3,
        "no invalid document was stored"
    );

    // 401 unauthorized: no key, a wrong key, a malformed header.
    let anonymous = Api::anonymous(&server);
    for path in ["/v1/documents", "/v1/matching/runs", "/v1/keys"] {
        expect_error(&anonymous.get(path), 401, "unauthorized", path);
    }
    let wrong = Api::with_key(&server, "rmk_not_a_real_key");
    expect_error(
        &wrong.get("/v1/documents"),
        401,
        "unauthorized",
        "/v1/documents",
    );
    let reply = wrong.post("/v1/documents", &json!({"fields": {"a": "b"}}));
    expect_error(&reply, 401, "unauthorized", "/v1/documents");

    // 403 insufficient_scope: a read key reads but cannot write.
    let reader = Api::with_key(&server, &server.new_key("default", "read"));
    assert_eq!(reader.total("/v1/documents"), 3, "a read key can read");
    let reply = reader.post("/v1/documents", &json!({"id": "ro", "fields": {"a": "b"}}));
    expect_error(&reply, 403, "insufficient_scope", "/v1/documents");
    let reply = reader.post("/v1/matching/configs", &small_config(&small.reference_id));
    expect_error(&reply, 403, "insufficient_scope", "/v1/matching/configs");
    let run_path = format!("/v1/matching/configs/{}/run", small.config_id);
    expect_error(
        &reader.send("POST", &run_path, None, b""),
        403,
        "insufficient_scope",
        &run_path,
    );
    let delete_path = format!("/v1/documents/{}", small.document_ids[0]);
    expect_error(
        &reader.send("DELETE", &delete_path, None, b""),
        403,
        "insufficient_scope",
        &delete_path,
    );
    let reply = reader.review(&run_id, &result_id, &json!({"status": "approved"}));
    expect_error(&reply, 403, "insufficient_scope", &review_path);
    assert_eq!(api.total("/v1/documents"), 3, "the read key stored nothing");
    assert_eq!(api.total("/v1/matching/configs"), 1);
    api.get_ok(&format!("/v1/documents/{}", small.document_ids[0]));

    // 404 not_found: unknown ids of every resource, and unknown routes.
    for path in [
        format!("/v1/matching/runs/{missing}"),
        format!("/v1/matching/runs/{missing}/progress"),
        format!("/v1/matching/runs/{missing}/results"),
        format!("/v1/matching/configs/{missing}"),
        format!("/v1/reference-data/{missing}"),
        format!("/v1/matching/reference-data/{missing}"),
        format!("/v1/reference-data/{missing}/rows"),
        format!("/v1/documents/{missing}"),
        "/v1/nothing".to_string(),
        "/v2/documents".to_string(),
        "/v1/matching/runs/a/b/c/d/e".to_string(),
    ] {
        expect_error(&api.get(&path), 404, "not_found", &path);
    }
    for (method, path) in [
        ("POST", format!("/v1/matching/configs/{missing}/run")),
        ("POST", format!("/v1/matching/runs/{missing}/cancel")),
        ("DELETE", format!("/v1/documents/{missing}")),
        ("DELETE", format!("/v1/reference-data/{missing}")),
        ("DELETE", format!("/v1/matching/configs/{missing}")),
    ] {
        expect_error(&api.send(method, &path, None, b""), 404, "not_found", &path);
    }
    let reply = api.json(
        "PUT",
        &format!("/v1/matching/configs/{missing}"),
        &small_config(&small.reference_id),
    );
    expect_error(
        &reply,
        404,
        "not_found",
        &format!("/v1/matching/configs/{missing}"),
    );
    let unknown_result = format!("/v1/matching/runs/{run_id}/results/{missing}/review");
    let reply = api.review(&run_id, missing, &json!({"status": "approved"}));
    expect_error(&reply, 404, "not_found", &unknown_result);
    let wrong_run = format!("/v1/matching/runs/{missing}/results/{result_id}/review");
    let reply = api.post(&wrong_run, &json!({"status": "approved"}));
    expect_error(&reply, 404, "not_found", &wrong_run);

    // 405 method_not_allowed on a known path, with Allow.
    let run_path = format!("/v1/matching/runs/{run_id}");
    for (method, path, allowed) in [
        ("DELETE", run_path.as_str(), vec!["GET"]),
        ("PATCH", "/v1/documents", vec!["GET", "POST"]),
        (
            "GET",
            &*format!("/v1/matching/configs/{}/run", small.config_id),
            vec!["POST"],
        ),
        (
            "POST",
            &*format!("/v1/documents/{}", small.document_ids[0]),
            vec!["GET", "DELETE"],
        ),
    ] {
        let reply = api.send(method, path, None, b"");
        expect_error(&reply, 405, "method_not_allowed", path);
        let header = reply
            .header("Allow")
            .unwrap_or_else(|| panic!("405 for {method} {path} has no Allow header"));
        let mut listed: Vec<&str> = header.split(',').map(str::trim).collect();
        listed.sort_unstable();
        let mut allowed = allowed;
        allowed.sort_unstable();
        assert_eq!(listed, allowed, "Allow of {method} {path}");
    }
    // The run is still there after DELETE was refused.
    api.get_ok(&run_path);

    // 409 conflict: cancelling a finished run, and a duplicate external id.
    let cancel = format!("/v1/matching/runs/{run_id}/cancel");
    expect_error(
        &api.send("POST", &cancel, None, b""),
        409,
        "conflict",
        &cancel,
    );
    assert_eq!(api.get_ok(&run_path)["status"], "completed");
    let reply = api.post("/v1/documents", &json!({"id": "e-1", "fields": {"a": "b"}}));
    expect_error(&reply, 409, "conflict", "/v1/documents");

    // 415 unsupported_media_type.
    let config_bytes = serde_json::to_vec(&small_config(&small.reference_id)).unwrap();
    let reply = api.send(
        "POST",
        "/v1/matching/configs",
        Some("text/plain"),
        &config_bytes,
    );
    expect_error(
        &reply,
        415,
        "unsupported_media_type",
        "/v1/matching/configs",
    );
    let reply = api.send("POST", "/v1/matching/configs", None, &config_bytes);
    expect_error(
        &reply,
        415,
        "unsupported_media_type",
        "/v1/matching/configs",
    );
    let reply = api.send(
        "POST",
        "/v1/reference-data",
        Some("application/xml"),
        b"<rows><row id=\"1\"/></rows>",
    );
    expect_error(&reply, 415, "unsupported_media_type", "/v1/reference-data");
    let reply = api.send("POST", "/v1/documents", Some("application/xml"), b"<doc/>");
    expect_error(&reply, 415, "unsupported_media_type", "/v1/documents");
    assert_eq!(api.total("/v1/matching/configs"), 1);
    assert_eq!(api.total("/v1/reference-data"), 1);

    // No deliberate 500 exists: SQL in an id is a clean 404 and leaks nothing
    // (every reply of this file is checked for SQLITE/sqlite/SELECT).
    for path in [
        "/v1/matching/runs/'%20OR%201=1--",
        "/v1/matching/runs/'%20OR%201=1--/results",
        "/v1/documents/1%3B%20DROP%20TABLE%20documents%3B--",
        "/v1/reference-data/%22%20or%20%22%22%3D%22",
        "/v1/matching/configs/%25",
    ] {
        let body = expect_error(&api.get(path), 404, "not_found", path);
        assert!(details_fields(&body).is_empty(), "{body}");
    }
    assert_eq!(
        api.total("/v1/documents"),
        3,
        "the documents survived the SQL in ids"
    );

    // Still serving after all of it.
    let health = Api::anonymous(&server).get("/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
}

#[test]
fn a_body_over_max_body_mb_is_413_and_the_server_keeps_serving() {
    let server = TestServer::start_with(&["--max-body-mb", "1"]);
    let api = Api::new(&server);
    let mut big = b"{\"id\": \"big\", \"fields\": {\"notes\": \"".to_vec();
    big.resize(2 * 1024 * 1024, b'x');
    big.extend_from_slice(b"\"}}");
    let reply = api.send("POST", "/v1/documents", Some("application/json"), &big);
    expect_error(&reply, 413, "payload_too_large", "/v1/documents");
    let mut csv = b"id,name\n".to_vec();
    while csv.len() < 2 * 1024 * 1024 {
        csv.extend_from_slice(b"r,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    }
    let reply = api.send("POST", "/v1/reference-data", Some("text/csv"), &csv);
    expect_error(&reply, 413, "payload_too_large", "/v1/reference-data");
    assert_eq!(api.total("/v1/documents"), 0, "nothing of it was stored");
    assert_eq!(api.total("/v1/reference-data"), 0);
    // Just under the limit is taken.
    let ok = api.post(
        "/v1/documents",
        &json!({"id": "small", "fields": {"notes": "x".repeat(900 * 1024)}}),
    );
    expect(ok, 201, "a body under the limit");
    assert_eq!(Api::anonymous(&server).get("/healthz").status, 200);
}

// ---------------------------------------------------------------------------------------
// 4. Workspaces.
// ---------------------------------------------------------------------------------------

#[test]
fn two_workspaces_cannot_see_or_touch_each_others_resources() {
    let server = TestServer::start();
    let alpha = Api::with_key(&server, &server.new_key("alpha", "read,write"));
    let beta = Api::with_key(&server, &server.new_key("beta", "read,write"));

    let a = seed_small(&alpha, "shared");
    let run = alpha.run_to_completion(&a.config_id);
    let run_id = str_of(&run, "id").to_string();
    let result_id = str_of(&array(&run["results"])[0], "id").to_string();
    let document = &a.document_ids[0];

    // Beta: every alpha resource is 404, by id and below.
    for path in [
        format!("/v1/reference-data/{}", a.reference_id),
        format!("/v1/matching/reference-data/{}", a.reference_id),
        format!("/v1/reference-data/{}/rows", a.reference_id),
        format!("/v1/documents/{document}"),
        format!("/v1/matching/configs/{}", a.config_id),
        format!("/v1/matching/runs/{run_id}"),
        format!("/v1/matching/runs/{run_id}/progress"),
        format!("/v1/matching/runs/{run_id}/results"),
    ] {
        expect_error(&beta.get(&path), 404, "not_found", &path);
    }
    // ... and for writes.
    for (method, path) in [
        ("POST", format!("/v1/matching/configs/{}/run", a.config_id)),
        ("POST", format!("/v1/matching/runs/{run_id}/cancel")),
        ("DELETE", format!("/v1/documents/{document}")),
        ("DELETE", format!("/v1/reference-data/{}", a.reference_id)),
        ("DELETE", format!("/v1/matching/configs/{}", a.config_id)),
    ] {
        expect_error(
            &beta.send(method, &path, None, b""),
            404,
            "not_found",
            &path,
        );
    }
    let config_path = format!("/v1/matching/configs/{}", a.config_id);
    let reply = beta.json("PUT", &config_path, &small_config(&a.reference_id));
    expect_error(&reply, 404, "not_found", &config_path);
    let review_path = format!("/v1/matching/runs/{run_id}/results/{result_id}/review");
    let reply = beta.review(&run_id, &result_id, &json!({"status": "rejected"}));
    expect_error(&reply, 404, "not_found", &review_path);
    let (content_type, body) = multipart("r.csv", b"id,vendor_name\nX,Y\n", &[]);
    let reference_path = format!("/v1/reference-data/{}", a.reference_id);
    let reply = beta.send("PUT", &reference_path, Some(&content_type), &body);
    expect_error(&reply, 404, "not_found", &reference_path);

    // Beta's lists are empty of alpha's things.
    for list in [
        "/v1/reference-data",
        "/v1/documents",
        "/v1/matching/configs",
        "/v1/matching/runs",
    ] {
        let page = beta.get_ok(list);
        assert_eq!(
            page["pagination"]["total"], 0,
            "beta sees alpha in {list}: {page}"
        );
        assert!(array(&page["data"]).is_empty(), "{list}: {page}");
    }
    let runs = format!("/v1/matching/runs?config_id={}", a.config_id);
    assert_eq!(beta.total(&runs), 0);
    let keys = beta.get_ok("/v1/keys");
    assert_eq!(
        array(&keys["data"]).len(),
        1,
        "beta sees only its own key: {keys}"
    );
    // The default workspace sees none of it either.
    let default = Api::new(&server);
    assert_eq!(default.total("/v1/documents"), 0);
    expect_error(
        &default.get(&format!("/v1/matching/runs/{run_id}")),
        404,
        "not_found",
        &format!("/v1/matching/runs/{run_id}"),
    );

    // Beta cannot build on alpha's table, nor target alpha's documents or batch.
    let reply = beta.post("/v1/matching/configs", &small_config(&a.reference_id));
    expect_invalid(&reply, "/v1/matching/configs", "reference_data_id");
    let b = seed_small(&beta, "shared");
    let mut targets_alpha = small_config(&b.reference_id);
    targets_alpha["target_type"] = json!("documents");
    targets_alpha["target_value"] = json!({"document_ids": [document]});
    let reply = beta.post("/v1/matching/configs", &targets_alpha);
    expect_invalid(
        &reply,
        "/v1/matching/configs",
        "target_value.document_ids[0]",
    );
    let mut batch_alpha = small_config(&b.reference_id);
    batch_alpha["target_type"] = json!("batch");
    batch_alpha["target_value"] = json!({"batch_id": a.batch_id});
    let reply = beta.post("/v1/matching/configs", &batch_alpha);
    expect_invalid(&reply, "/v1/matching/configs", "target_value.batch_id");

    // The same external ids in beta were fine (unique per workspace), and beta's run
    // scores only beta's documents.
    let beta_run = beta.run_to_completion(&b.config_id);
    assert_eq!(beta_run["rows_processed"], 3);
    let beta_docs: HashSet<&str> = b.document_ids.iter().map(String::as_str).collect();
    for result in array(&beta_run["results"]) {
        assert!(
            beta_docs.contains(str_of(result, "document_id")),
            "{result}"
        );
    }

    // Alpha still has everything, untouched.
    alpha.get_ok(&format!("/v1/documents/{document}"));
    alpha.get_ok(&format!("/v1/reference-data/{}", a.reference_id));
    alpha.get_ok(&format!("/v1/matching/configs/{}", a.config_id));
    let alpha_run = alpha.get_ok(&format!("/v1/matching/runs/{run_id}"));
    assert_eq!(alpha_run["results"][0]["status"], "pending");
    assert_eq!(alpha.total("/v1/documents"), 3);
    assert_eq!(alpha.total("/v1/matching/runs"), 1);
}

// ---------------------------------------------------------------------------------------
// 5. Cursor pagination.
// ---------------------------------------------------------------------------------------

/// Walks a cursor list with `limit=2`; returns the ids in order. Checks every page's shape.
fn walk(api: &Api<'_>, path: &str, total: u64) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            None => format!("{path}{sep}limit=2"),
            Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
        };
        let page = api.get_ok(&url);
        let data = array(&page["data"]);
        let p = &page["pagination"];
        assert_eq!(
            keys(p),
            ["total", "limit", "has_more", "next_cursor"],
            "{url}"
        );
        assert_eq!(p["total"].as_u64(), Some(total), "total of {url}");
        assert_eq!(p["limit"], 2, "{url}");
        assert!(data.len() <= 2, "{url}");
        seen.extend(ids(data));
        match (&p["has_more"], &p["next_cursor"]) {
            (Value::Bool(true), Value::String(next)) => {
                assert_eq!(data.len(), 2, "a page with more after it is full: {url}");
                cursor = Some(next.clone());
            }
            (Value::Bool(false), Value::Null) => return seen,
            other => panic!("has_more and next_cursor disagree on {url}: {other:?}"),
        }
    }
    panic!("{path} never ended")
}

fn assert_unique(ids: &[String], what: &str) {
    let set: HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "{what} has duplicates: {ids:?}");
}

#[test]
fn cursor_pages_of_runs_and_documents_walk_newest_first_without_duplicates() {
    let server = TestServer::start();
    let api = Api::new(&server);

    // Documents: 7 in three uploads, walked newest first.
    let mut uploaded = Vec::new();
    for (n, prefix) in [(3, "a"), (1, "b"), (3, "c")] {
        let docs: Vec<Value> = (0..n)
            .map(|i| json!({"id": format!("{prefix}{i}"), "fields": {"vendor_name": "Acme"}}))
            .collect();
        let created = expect(
            api.post("/v1/documents", &json!({"documents": docs})),
            201,
            "documents",
        );
        uploaded.extend(ids(array(&created["documents"])));
    }
    let newest_first: Vec<String> = uploaded.iter().rev().cloned().collect();
    let walked = walk(&api, "/v1/documents", 7);
    assert_unique(&walked, "documents");
    assert_eq!(walked, newest_first, "documents newest first");

    // A document added mid-walk does not shift the pages after the cursor.
    let first = api.get_ok("/v1/documents?limit=2");
    let cursor = str_of(&first["pagination"], "next_cursor").to_string();
    expect(
        api.post(
            "/v1/documents",
            &json!({"id": "late", "fields": {"a": "b"}}),
        ),
        201,
        "late document",
    );
    let mut rest = Vec::new();
    let mut next = Some(cursor);
    while let Some(c) = next {
        let page = api.get_ok(&format!("/v1/documents?limit=2&cursor={c}"));
        assert_eq!(
            page["pagination"]["total"], 8,
            "total counts the new document"
        );
        rest.extend(ids(array(&page["data"])));
        next = page["pagination"]["next_cursor"].as_str().map(String::from);
    }
    let mut whole = ids(array(&first["data"]));
    whole.extend(rest);
    assert_eq!(whole, newest_first, "the walk goes on where it was");

    // Runs: five of one config, one of another.
    let small = seed_small(&api, "p");
    let other = expect(
        api.post("/v1/matching/configs", &small_config(&small.reference_id)),
        201,
        "second config",
    );
    let other_id = str_of(&other, "id").to_string();
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(str_of(&api.trigger(&small.config_id), "id").to_string());
    }
    let other_run = str_of(&api.trigger(&other_id), "id").to_string();
    for run in runs.iter().chain([&other_run]) {
        assert_eq!(api.wait_for_run(run)["status"], "completed");
    }
    let runs_newest_first: Vec<String> = runs.iter().rev().cloned().collect();

    let path = format!("/v1/matching/runs?config_id={}", small.config_id);
    let walked = walk(&api, &path, 5);
    assert_unique(&walked, "runs");
    assert_eq!(
        walked, runs_newest_first,
        "runs of one config, newest first"
    );
    let path = format!(
        "/v1/matching/runs?config_id={}&status=completed",
        small.config_id
    );
    assert_eq!(walk(&api, &path, 5), runs_newest_first);
    let path = format!(
        "/v1/matching/runs?config_id={}&status=failed",
        small.config_id
    );
    assert!(walk(&api, &path, 0).is_empty());
    let path = format!("/v1/matching/runs?config_id={other_id}");
    assert_eq!(walk(&api, &path, 1), std::slice::from_ref(&other_run));
    let mut everything = runs_newest_first.clone();
    everything.insert(0, other_run);
    assert_eq!(walk(&api, "/v1/matching/runs", 6), everything);
    let bad_status = "/v1/matching/runs?status=finished";
    expect_invalid(&api.get(bad_status), bad_status, "status");
}
