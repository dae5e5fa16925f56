//! A client written against the hosted "v1 matching" APIs' documentation ports without
//! surprises (issue 17). Each test sends what the hosted docs' examples send and checks the
//! answer such a client expects; the issue lists what each request answered before.

use std::io::Write;

use serde_json::{json, Value};

use crate::util::server::TestServer;

/// The invoice fixtures uploaded (reference table and documents); returns the table's id.
fn uploaded(server: &TestServer) -> String {
    let csv = std::fs::read(crate::util::fixture("reference.csv")).expect("fixture");
    let reference = server.send(
        "POST",
        "/v1/reference-data?name=ledger",
        Some("text/csv"),
        &csv,
    );
    assert_eq!(reference.status, 201, "{}", reference.text());
    let documents = std::fs::read(crate::util::fixture("documents.csv")).expect("fixture");
    let batch = server.send("POST", "/v1/documents", Some("text/csv"), &documents);
    assert_eq!(batch.status, 201, "{}", batch.text());
    reference.json()["id"].as_str().unwrap().to_string()
}

/// The fixture config over table `reference`, with `extra` keys set.
fn config_body(reference: &str, extra: Value) -> Value {
    let text = std::fs::read_to_string(crate::util::fixture("config.json")).expect("fixture");
    let mut config: Value = serde_json::from_str(&text).expect("fixture config");
    config["reference_data_id"] = reference.into();
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

fn created_config(server: &TestServer, body: &Value) -> Value {
    let created = server.post_json("/v1/matching/configs", body);
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()
}

/// Triggers a run of `config` with `body` and waits for it.
fn completed_run(server: &TestServer, config: &str, body: &Value) -> Value {
    let run = server.post_json(&format!("/v1/matching/configs/{config}/run"), body);
    assert_eq!(run.status, 202, "{}", run.text());
    let id = run.json()["id"].as_str().unwrap().to_string();
    let done = server.wait_for_run(&id, 60);
    assert_eq!(done["status"], "completed", "{done}");
    done
}

/// Every detail of a validation error names a field, in refmatch's words.
fn assert_plain(reply: &crate::util::server::Reply, field: &str) -> String {
    let body = reply.assert_error(400, "validation_error");
    let details = body["details"].as_array().expect("details");
    assert!(!details.is_empty(), "{body}");
    for detail in details {
        let named = detail["field"].as_str().unwrap_or("");
        assert!(!named.is_empty(), "a detail without a field: {body}");
        let message = detail["message"].as_str().unwrap_or("");
        for serde_word in [
            "`",
            " at line ",
            "expected f64",
            "invalid type",
            "missing field",
        ] {
            assert!(
                !message.contains(serde_word),
                "serde's wording ({serde_word:?}) in {message:?}"
            );
        }
    }
    assert_eq!(details[0]["field"], field, "{body}");
    details[0]["message"].as_str().unwrap_or("").to_string()
}

#[test]
fn target_type_run_scores_every_document_or_one_runs_documents() {
    // Hosted docs: {"target_type": "run", "target_value": {}}. Before: 400 unknown target_type.
    let server = TestServer::start();
    let reference = uploaded(&server);
    let config = created_config(
        &server,
        &config_body(
            &reference,
            json!({"target_type": "run", "target_value": {}}),
        ),
    );
    assert_eq!(
        (&config["target_type"], &config["target_value"]),
        (&json!("run"), &json!({}))
    );
    let id = config["id"].as_str().unwrap();
    let every = completed_run(&server, id, &json!({}));
    assert_eq!(every["rows_processed"], 150);
    // A run over two documents (named by the caller's ids), then {run_id} of that run.
    let two = completed_run(
        &server,
        id,
        &json!({"target_type": "documents", "target_value": {"document_ids": ["D-0001", "D-0002"]}}),
    );
    assert_eq!(two["rows_processed"], 2);
    let again = completed_run(
        &server,
        id,
        &json!({"target_type": "run", "target_value": {"run_id": two["id"]}}),
    );
    assert_eq!(again["rows_processed"], 2);
    let unknown = server.post_json(
        &format!("/v1/matching/configs/{id}/run"),
        &json!({"target_type": "run", "target_value": {"run_id": "6f1c0000-0000-4000-8000-000000000000"}}),
    );
    assert_plain(&unknown, "target_value.run_id");
}

#[test]
fn documents_are_addressed_by_the_callers_id() {
    // Before: GET /v1/documents/D-0001 was 404, ?document_id= was ignored, and an upload
    // keyed `document_id` was 400.
    let server = TestServer::start();
    let reference = uploaded(&server);
    let document = server.get("/v1/documents/D-0001");
    assert_eq!(document.status, 200, "{}", document.text());
    let document = document.json();
    assert_eq!(document["external_id"], "D-0001");
    let uuid = document["id"].as_str().unwrap().to_string();
    assert_eq!(
        server.get(&format!("/v1/documents/{uuid}")).json()["id"],
        uuid
    );

    let hosted = server.post_json(
        "/v1/documents",
        &json!({"document_id": "D-9001", "filename": "x.pdf", "fields": {"vendor_name": "Acme"}}),
    );
    assert_eq!(hosted.status, 201, "{}", hosted.text());
    assert_eq!(hosted.json()["documents"][0]["external_id"], "D-9001");
    let both = server.post_json(
        "/v1/documents",
        &json!({"id": "D-9002", "document_id": "D-9002", "fields": {}}),
    );
    assert_plain(&both, "document_id");
    let deleted = server.send("DELETE", "/v1/documents/D-9001", None, b"");
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(server.get("/v1/documents/D-9001").status, 404);

    let config = created_config(&server, &config_body(&reference, json!({})));
    let run = completed_run(&server, config["id"].as_str().unwrap(), &json!({}));
    let run_id = run["id"].as_str().unwrap();
    for key in ["D-0001", uuid.as_str(), &uuid.to_uppercase()] {
        let page = server.get(&format!(
            "/v1/matching/runs/{run_id}/results?document_id={key}"
        ));
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        assert_eq!(page["pagination"]["total"], 1, "{key}: {page}");
        assert_eq!(page["data"][0]["document_external_id"], "D-0001");
    }
    let none = server
        .get(&format!(
            "/v1/matching/runs/{run_id}/results?document_id=D-nope"
        ))
        .json();
    assert_eq!(none["pagination"]["total"], 0);
}

#[test]
fn reference_rows_may_come_as_data() {
    // Hosted docs: {"name": ..., "data": [...]}. Before: 400 (data: unknown key).
    let server = TestServer::start();
    let created = server.post_json(
        "/v1/reference-data",
        &json!({"name": "vendors", "data": [
            {"id": "V1", "vendor_name": "Nordwind Logistik GmbH"},
            {"id": "V2", "vendor_name": "Acme Corp"}
        ]}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["row_count"], 2);
    let both = server.post_json(
        "/v1/reference-data",
        &json!({"rows": [{"a": 1}], "data": [{"a": 1}]}),
    );
    assert_plain(&both, "data");
}

#[test]
fn a_fetched_config_goes_back_with_put_and_patch_changes_part_of_one() {
    // Before: PUT of a fetched config was 400 (id: unknown field); {"threshold": 0.8} was
    // 400 "missing field `field_mappings` at line 1 column 17" with an empty field.
    let server = TestServer::start();
    let reference = uploaded(&server);
    let config = created_config(&server, &config_body(&reference, json!({})));
    let id = config["id"].as_str().unwrap().to_string();
    let path = format!("/v1/matching/configs/{id}");

    let mut fetched = server.get(&path).json();
    fetched["name"] = "renamed".into();
    let put = server.send(
        "PUT",
        &path,
        Some("application/json"),
        fetched.to_string().as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["name"], "renamed");
    assert_eq!(put.json()["field_mappings"], config["field_mappings"]);

    let mut moved = server.get(&path).json();
    moved["id"] = "8d6e0000-0000-4000-8000-000000000000".into();
    let refused = server.send(
        "PUT",
        &path,
        Some("application/json"),
        moved.to_string().as_bytes(),
    );
    assert_plain(&refused, "id");
    // A copy older than the last change: someone else changed the config meanwhile.
    let stale = server.send(
        "PUT",
        &path,
        Some("application/json"),
        fetched.to_string().as_bytes(),
    );
    stale.assert_error(409, "conflict");

    let partial = server.send(
        "PUT",
        &path,
        Some("application/json"),
        br#"{"threshold": 0.8}"#,
    );
    let message = assert_plain(&partial, "field_mappings");
    assert_eq!(message, "is required");

    let patched = server.send(
        "PATCH",
        &path,
        Some("application/merge-patch+json"),
        br#"{"threshold": 0.7, "name": null}"#,
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    let patched = patched.json();
    assert_eq!(patched["threshold"], 0.7);
    assert_eq!(patched["name"], Value::Null);
    assert_eq!(patched["field_mappings"], config["field_mappings"]);
    let bad = server.send(
        "PATCH",
        &path,
        Some("application/json"),
        br#"{"field_mappings": [{"source": "vendor_name", "target": "vendor_name", "strategy": "fuzzy", "weight": "high"}]}"#,
    );
    let message = assert_plain(&bad, "field_mappings[0].weight");
    assert!(message.contains("must be a number"), "{message}");
    // Nothing of the refused patch was kept.
    assert_eq!(server.get(&path).json()["threshold"], 0.7);
}

#[test]
fn links_runs_starts_a_run_and_runs_list_lists_them() {
    // Hosted docs: links.runs is where a run is triggered. Before: the list of runs.
    let server = TestServer::start();
    let reference = uploaded(&server);
    let config = created_config(&server, &config_body(&reference, json!({})));
    let id = config["id"].as_str().unwrap();
    assert_eq!(
        config["links"]["runs"],
        format!("/v1/matching/configs/{id}/run")
    );
    let trigger = config["links"]["runs"].as_str().unwrap();
    let run = server.post_json(trigger, &json!({}));
    assert_eq!(run.status, 202, "{}", run.text());
    let list = server.get(config["links"]["runs_list"].as_str().unwrap());
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["data"][0]["id"], run.json()["id"]);
}

#[test]
fn every_list_honours_page_numbers() {
    // Before: ?page= was ignored and every page was page 1.
    let server = TestServer::start();
    let reference = uploaded(&server);
    let names: Vec<String> = (0..3)
        .map(|i| {
            let config = created_config(
                &server,
                &config_body(&reference, json!({"name": format!("c{i}")})),
            );
            config["name"].as_str().unwrap().to_string()
        })
        .collect();
    for (page, expected) in [(1, "c2"), (2, "c1"), (3, "c0")] {
        let list = server
            .get(&format!("/v1/matching/configs?limit=1&page={page}"))
            .json();
        assert_eq!(list["data"][0]["name"], expected, "page {page}: {list}");
        assert_eq!(list["pagination"]["has_more"], page < 3);
    }
    assert!(names.contains(&"c0".to_string()));
    let past = server.get("/v1/matching/configs?limit=1&page=4").json();
    assert_eq!(past["data"], json!([]));
    // Every cursor list pages by number too.
    let documents = server.get("/v1/documents?limit=100&page=2").json();
    assert_eq!(documents["data"].as_array().unwrap().len(), 50);
    for list in [
        "/v1/reference-data",
        "/v1/matching/runs",
        "/v1/keys",
        "/v1/matching/packages/configs",
        "/v1/matching/packages/runs",
        "/v1/webhooks",
    ] {
        let second = server.get(&format!("{list}?limit=1&page=2"));
        assert_eq!(second.status, 200, "{list}: {}", second.text());
    }
    let both = server.get("/v1/matching/configs?page=2&cursor=c5");
    assert_plain(&both, "page");
    let zero = server.get("/v1/matching/configs?page=0");
    assert_plain(&zero, "page");
}

#[test]
fn ids_are_found_in_any_case() {
    // Before: an upper-case UUID was 404.
    let server = TestServer::start();
    let (run, reference) = server.fixture_run();
    assert_eq!(
        server
            .get(&format!("/v1/matching/runs/{}", run.to_uppercase()))
            .json()["id"],
        run
    );
    let table = server.get(&format!("/v1/reference-data/{}", reference.to_uppercase()));
    assert_eq!(table.status, 200, "{}", table.text());
    let config = server.get(&format!("/v1/matching/runs/{run}")).json()["matching_config_id"]
        .as_str()
        .unwrap()
        .to_string();
    let runs = server
        .get(&format!(
            "/v1/matching/runs?config_id={}",
            config.to_uppercase()
        ))
        .json();
    assert_eq!(runs["pagination"]["total"], 1);
}

#[test]
fn validation_messages_name_the_field_in_refmatchs_words() {
    let server = TestServer::start();
    let (run, reference) = server.fixture_run();
    // Before: "status: is required" for a status that was given.
    let result = server
        .get(&format!("/v1/matching/runs/{run}/results?limit=1"))
        .json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accepted = server.post_json(
        &format!("/v1/matching/runs/{run}/results/{result}/review"),
        &json!({"status": "accepted"}),
    );
    let message = assert_plain(&accepted, "status");
    assert!(message.contains("got \"accepted\""), "{message}");
    assert!(!message.contains("is required"), "{message}");

    let cases: Vec<(Value, &str)> = vec![
        (json!({"reference_data_id": reference}), "field_mappings"),
        (
            json!({"reference_data_id": reference, "field_mappings": [], "treshold": 0.5}),
            "treshold",
        ),
        (
            json!({"reference_data_id": reference, "field_mappings": [
                {"source": "a", "target": "vendor_name", "strategy": "fuzzzy", "weight": 1}]}),
            "field_mappings[0].strategy",
        ),
        (
            json!({"reference_data_id": reference, "field_mappings": {"a": 1}}),
            "field_mappings",
        ),
    ];
    for (body, field) in cases {
        let reply = server.post_json("/v1/matching/configs", &body);
        assert_plain(&reply, field);
    }
    let not_json = server.send(
        "POST",
        "/v1/matching/configs",
        Some("application/json"),
        b"{\"field_mappings\": [",
    );
    assert_plain(&not_json, "body");
    let bulk = server.post_json(
        &format!("/v1/matching/runs/{run}/results/review"),
        &json!({"result_ids": "all", "status": "approved"}),
    );
    assert_plain(&bulk, "result_ids");
}

#[test]
fn gzip_encoded_uploads_are_read() {
    // Before: a gzip body was read as CSV text and answered with advice about --encoding.
    let server = TestServer::start();
    let csv = std::fs::read(crate::util::fixture("reference.csv")).expect("fixture");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&csv).unwrap();
    let packed = encoder.finish().unwrap();
    let created = server.send_with(
        "POST",
        "/v1/reference-data?name=ledger",
        &[("Content-Type", "text/csv"), ("Content-Encoding", "gzip")],
        &packed,
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["row_count"], 304);
    let broken = server.send_with(
        "POST",
        "/v1/reference-data?name=x",
        &[("Content-Type", "text/csv"), ("Content-Encoding", "gzip")],
        &packed[..packed.len() / 2],
    );
    assert_plain(&broken, "Content-Encoding");
    let brotli = server.send_with(
        "POST",
        "/v1/reference-data?name=x",
        &[("Content-Type", "text/csv"), ("Content-Encoding", "br")],
        &csv,
    );
    brotli.assert_error(415, "unsupported_media_type");
}

#[test]
fn export_file_names_keep_one_extension_and_their_letters() {
    // Before: reference.csv.csv, and "Lieferanten Übersicht" as Lieferanten__bersicht.csv.
    let server = TestServer::start();
    let csv = b"id,name\nR1,Acme\n";
    for (name, expected) in [
        ("reference.csv", "attachment; filename=\"reference.csv\""),
        (
            "Lieferanten%20%C3%9Cbersicht",
            "attachment; filename=\"Lieferanten Ubersicht.csv\"; \
             filename*=UTF-8''Lieferanten%20%C3%9Cbersicht.csv",
        ),
    ] {
        let created = server.send(
            "POST",
            &format!("/v1/reference-data?name={name}"),
            Some("text/csv"),
            csv,
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let id = created.json()["id"].as_str().unwrap().to_string();
        let export = server.get(&format!("/v1/reference-data/{id}/export"));
        assert_eq!(export.status, 200);
        assert_eq!(export.header("Content-Disposition"), Some(expected));
    }
}

#[test]
fn a_reference_upload_is_previewed_without_being_stored() {
    // What the review page shows before a person saves a table (issue 17).
    let server = TestServer::start();
    let csv = std::fs::read(crate::util::fixture("reference.csv")).expect("fixture");
    let preview = server.send(
        "POST",
        "/v1/reference-data?name=ledger&preview=true",
        Some("text/csv"),
        &csv,
    );
    assert_eq!(preview.status, 200, "{}", preview.text());
    let preview = preview.json();
    assert_eq!(preview["row_count"], 304);
    assert_eq!(preview["name"], "ledger");
    let types: Vec<String> = preview["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["name"].as_str().unwrap(),
                c["type"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        types.contains(&"invoice_date:date".to_string()),
        "{types:?}"
    );
    assert!(types.contains(&"total:number".to_string()), "{types:?}");
    assert_eq!(preview["rows"].as_array().unwrap().len(), 10);
    assert_eq!(preview["rows"][0]["id"], "OI-000148");
    assert_eq!(
        server.get("/v1/reference-data").json()["pagination"]["total"],
        0
    );
    // A bad upload is refused as a save would refuse it.
    let bad = server.send(
        "POST",
        "/v1/reference-data?preview=true&id_column=nope",
        Some("text/csv"),
        &csv,
    );
    assert_plain(&bad, "id_column");
}
