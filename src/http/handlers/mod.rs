//! The handlers of the v1 API, one module per resource. Each is a plain function from a
//! `Call` (the request, its key and the ids in its path) to a `Response`: it decodes the
//! request (JSON bodies through `http::body`), calls a use-case of `service` or a query of
//! `store`, and shapes the answer. None touches a socket, so they are tested in-process
//! (see `tests` below); the routes that lead to them are in `routes::ROUTES`.

pub mod configs;
pub mod documents;
pub mod keys;
pub mod packages;
pub mod reference;
pub mod results;
pub mod runs;
pub mod strategies;
pub mod webhooks;

use super::limits::Scope;
use super::message::{Request, Response};
use super::routes::Context;
use crate::error::{Error, Result};
use crate::ingest::Encoding;
use crate::store::keys::ApiKey;
use crate::store::WorkspaceId;

/// One request as a handler sees it.
pub struct Call<'a> {
    pub ctx: &'a Context,
    pub req: &'a Request,
    /// The caller's key; `None` only on the routes open without one.
    pub key: Option<&'a ApiKey>,
    /// The `{...}` segments of the path, in order, percent-decoded.
    pub ids: Vec<String>,
}

impl Call<'_> {
    /// The caller's key.
    pub fn key(&self) -> Result<&ApiKey> {
        self.key.ok_or_else(|| {
            Error::Unauthorized("send an API key as Authorization: Bearer <key>".into())
        })
    }

    /// The caller's workspace.
    pub fn ws(&self) -> Result<WorkspaceId> {
        self.key().map(|k| k.workspace)
    }

    /// The first id of the path (`:id` of `/v1/matching/runs/:id`).
    pub fn id(&self) -> &str {
        self.nth_id(0)
    }

    /// The `n`th id of the path; empty when the route has fewer.
    pub fn nth_id(&self, n: usize) -> &str {
        self.ids.get(n).map_or("", String::as_str)
    }
}

/// `GET /healthz`.
pub fn health(_: &Call) -> Result<Response> {
    Ok(Response::ok(&serde_json::json!({"status": "ok"})))
}

/// `GET /v1/openapi.json`.
pub fn openapi(_: &Call) -> Result<Response> {
    Ok(Response::bytes(
        200,
        "application/json",
        super::openapi::DOCUMENT.as_bytes().to_vec(),
    ))
}

/// `GET /metrics`: Prometheus text. A key sees its own workspace's requests, runs and
/// documents; an open `/metrics` (no key) sees everything.
pub fn metrics(call: &Call) -> Result<Response> {
    let ctx = call.ctx;
    let (scope, workspace) = match call.key {
        None => (Scope::All, None),
        Some(key) => (Scope::Workspace(key.workspace.0), Some(key.workspace)),
    };
    let runs = ctx.store.runs_by_status(workspace)?;
    let matched = {
        let counts = ctx
            .runner
            .documents_matched
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match workspace {
            None => counts.values().sum(),
            Some(ws) => counts.get(&ws.0).copied().unwrap_or(0),
        }
    };
    let text = ctx.metrics.render(scope, &runs, matched);
    Ok(Response::bytes(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        text.into_bytes(),
    ))
}

/// A body that must be JSON: anything else is 415.
pub fn require_json(req: &Request) -> Result<()> {
    match req.media_type.as_deref() {
        Some("application/json") => Ok(()),
        Some(other) => Err(Error::UnsupportedMediaType(format!(
            "this route takes application/json, not {other}"
        ))),
        None => Err(Error::UnsupportedMediaType(
            "this route takes application/json; send a Content-Type header".into(),
        )),
    }
}

/// A `PATCH` body: a JSON merge patch, as `application/merge-patch+json` or plain JSON.
pub fn require_merge_patch(req: &Request) -> Result<()> {
    match req.media_type.as_deref() {
        Some("application/json" | "application/merge-patch+json") => Ok(()),
        _ => Err(Error::UnsupportedMediaType(
            "send a JSON merge patch as application/merge-patch+json or application/json".into(),
        )),
    }
}

/// `?encoding=` of a CSV upload.
fn encoding(req: &Request) -> Result<Encoding> {
    match req.param("encoding") {
        None => Ok(Encoding::Utf8),
        Some(name) => name
            .parse()
            .map_err(|e: String| Error::invalid("query", "encoding", e)),
    }
}

/// The `Content-Disposition` of a CSV download named after `name`: an extension the name
/// already has (`reference.csv`, `vendors.xlsx`) is not doubled, `filename` is an ASCII
/// fallback (diacritics dropped, other characters `_`), and a name that needs more than
/// ASCII also goes as `filename*` in UTF-8 (RFC 6266), so `Lieferanten-Übersicht` downloads
/// under its own name.
fn csv_attachment(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower = name.to_lowercase();
    let stem = [".csv", ".xlsx", ".xls", ".tsv", ".txt", ".json", ".jsonl"]
        .iter()
        .find_map(|ext| {
            lower
                .ends_with(ext)
                .then(|| &name[..name.len() - ext.len()])
        })
        .unwrap_or(name);
    let stem: String = stem.trim().chars().take(100).collect();
    let stem = if stem.is_empty() {
        "export".into()
    } else {
        stem
    };
    let ascii: String = stem
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut header = format!("attachment; filename=\"{ascii}.csv\"");
    if ascii != stem {
        let mut encoded = String::new();
        for byte in format!("{stem}.csv").bytes() {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                encoded.push(byte as char);
            } else {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
        header.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    header
}

/// `{"id": id, key: true}`: the answer of a delete or a revoke.
fn done(id: &str, key: &str) -> Response {
    let mut map = serde_json::Map::new();
    map.insert("id".into(), id.into());
    map.insert(key.into(), true.into());
    Response::ok(&map)
}

/// An optional JSON body: absent (empty or whitespace) is fine, present must be JSON.
pub fn require_json_if_any(req: &Request) -> Result<()> {
    if super::body::is_empty(&req.body) {
        Ok(())
    } else {
        require_json(req)
    }
}

/// An API in-process for the handlers' tests: a temporary database, a key with both
/// scopes, a runner that is not started (a test executes a run with `execute_queued`), and
/// requests answered by `routes::handle` without a socket.
#[cfg(test)]
mod attachment_tests {
    use super::csv_attachment;

    #[test]
    fn export_names_keep_their_extension_once_and_their_letters() {
        // issue 17: a table named reference.csv downloaded as reference.csv.csv.
        assert_eq!(
            csv_attachment("reference.csv"),
            "attachment; filename=\"reference.csv\""
        );
        assert_eq!(
            csv_attachment("vendors.XLSX"),
            "attachment; filename=\"vendors.csv\""
        );
        assert_eq!(
            csv_attachment("Lieferanten Übersicht"),
            "attachment; filename=\"Lieferanten Ubersicht.csv\"; \
             filename*=UTF-8''Lieferanten%20%C3%9Cbersicht.csv"
        );
        assert_eq!(
            csv_attachment("仕入先"),
            "attachment; filename=\"___.csv\"; filename*=UTF-8''%E4%BB%95%E5%85%A5%E5%85%88.csv"
        );
        assert_eq!(
            csv_attachment("a\"b\r\n"),
            "attachment; filename=\"a_b.csv\"; filename*=UTF-8''a%22b.csv"
        );
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use serde_json::Value;

    use crate::http::limits::{Metrics, RateLimiter};
    use crate::http::message::{Method, Request};
    use crate::http::routes::{handle, Context};
    use crate::runner::{Runner, RunnerOptions};
    use crate::store::keys::Scopes;
    use crate::store::Store;

    pub const REFERENCE_CSV: &str = "id,vendor_name,invoice_number,total\n\
        R1,Nordwind Logistik GmbH,INV-1001,100.00\n\
        R2,Acme Corp,INV-2002,250.50\n\
        R3,Blue Harbor Ltd,INV-3003,75.25\n";

    pub const CONFIG: &str = r#"{"field_mappings": [
        {"source": "vendor_name", "target": "vendor_name", "strategy": "fuzzy", "weight": 0.5},
        {"source": "invoice_number", "target": "invoice_number", "strategy": "identifier", "weight": 0.5}
    ], "threshold": 0.8"#;

    pub struct Api {
        pub ctx: Context,
        pub secret: String,
        _dir: tempfile::TempDir,
    }

    /// A response's status, headers and body (JSON when it is JSON, else a string).
    pub struct Reply {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Value,
    }

    impl Reply {
        /// The error code of an error envelope.
        pub fn code(&self) -> &str {
            self.body["code"].as_str().unwrap_or("")
        }

        pub fn field(&self) -> &str {
            self.body["details"][0]["field"].as_str().unwrap_or("")
        }

        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    impl Api {
        pub fn new() -> Api {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let store = Store::open(&dir.path().join("api.db"), 4).expect("a database");
            let ws = store.workspace("test", true).expect("a workspace");
            let key = store
                .create_key(
                    ws,
                    "test",
                    Scopes {
                        read: true,
                        write: true,
                    },
                )
                .expect("a key");
            let pool = Arc::new(crate::matcher::thread_pool(1).expect("a pool"));
            let runner = Runner::new(store.clone(), pool, RunnerOptions::default());
            Api {
                ctx: Context {
                    store,
                    runner,
                    limiter: RateLimiter::new(0),
                    metrics: Metrics::default(),
                    metrics_open: false,
                    cors: crate::http::cors::Cors::default(),
                },
                secret: key.secret,
                _dir: dir,
            }
        }

        /// Answers a request made with the test key.
        pub fn call(&self, method: Method, target: &str, content_type: &str, body: &str) -> Reply {
            let mut req = Request::new(method, target);
            req.authorization = Some(format!("Bearer {}", self.secret));
            if !content_type.is_empty() {
                req.set_content_type(content_type);
            }
            req.body = body.as_bytes().to_vec();
            self.send(&req)
        }

        pub fn send(&self, req: &Request) -> Reply {
            let response = handle(&self.ctx, req).response;
            let mut body = response.body;
            if let Some(mut stream) = response.stream {
                std::io::Read::read_to_end(&mut stream, &mut body).expect("a streamed body");
            }
            let body = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
            Reply {
                status: response.status,
                headers: response.headers,
                body,
            }
        }

        pub fn get(&self, target: &str) -> Reply {
            self.call(Method::Get, target, "", "")
        }

        pub fn post_json(&self, target: &str, body: &str) -> Reply {
            self.call(Method::Post, target, "application/json", body)
        }

        /// The fixture table; returns its id.
        pub fn reference(&self) -> String {
            let reply = self.call(
                Method::Post,
                "/v1/reference-data?name=ledger",
                "text/csv",
                REFERENCE_CSV,
            );
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.body["id"].as_str().expect("an id").to_string()
        }

        /// Two documents, one of which matches R2.
        pub fn documents(&self) {
            let reply = self.post_json(
                "/v1/documents",
                r#"{"documents": [
                    {"id": "D-1", "fields": {"vendor_name": "ACME Corp.", "invoice_number": "INV-2002"}},
                    {"id": "D-2", "fields": {"vendor_name": "Nobody", "invoice_number": "X-9"}}
                ]}"#,
            );
            assert_eq!(reply.status, 201, "{}", reply.body);
        }

        /// A config over a new fixture table; returns its id.
        pub fn config(&self) -> String {
            let reference = self.reference();
            let body = format!("{CONFIG}, \"reference_data_id\": \"{reference}\"}}");
            let reply = self.post_json("/v1/matching/configs", &body);
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.body["id"].as_str().expect("an id").to_string()
        }

        /// A completed run of a new config over the fixture documents; returns its id.
        pub fn completed_run(&self) -> String {
            self.documents();
            let config = self.config();
            let reply = self.call(
                Method::Post,
                &format!("/v1/matching/configs/{config}/run"),
                "",
                "",
            );
            assert_eq!(reply.status, 202, "{}", reply.body);
            let run = reply.body["id"].as_str().expect("an id").to_string();
            self.ctx
                .runner
                .run_now(&run, &|_, _| {})
                .expect("the run executes");
            run
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Api;
    use crate::http::message::{Method, Request};

    #[test]
    fn health_and_the_openapi_document_need_no_key() {
        let api = Api::new();
        let health = api.send(&Request::new(Method::Get, "/healthz"));
        assert_eq!(
            (health.status, health.body["status"].as_str()),
            (200, Some("ok"))
        );
        let openapi = api.send(&Request::new(Method::Get, "/v1/openapi.json"));
        assert_eq!(openapi.status, 200);
        assert!(openapi.body["paths"].is_object());
        let post = api.send(&Request::new(Method::Post, "/healthz"));
        assert_eq!((post.status, post.header("Allow")), (405, Some("GET")));
    }

    #[test]
    fn the_api_needs_a_key_and_names_unknown_routes_and_methods() {
        let api = Api::new();
        let anonymous = api.send(&Request::new(Method::Get, "/v1/keys"));
        assert_eq!((anonymous.status, anonymous.code()), (401, "unauthorized"));
        let unknown = api.get("/v1/nothing");
        assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
        // Configs take PATCH since issue 17; runs never did.
        let patch = api.call(Method::Patch, "/v1/matching/runs/x", "", "");
        assert_eq!(patch.status, 405);
        assert_eq!(patch.header("Allow"), Some("GET"));
    }

    #[test]
    fn metrics_with_a_key_show_its_workspace() {
        let api = Api::new();
        let reply = api.get("/metrics");
        assert_eq!(reply.status, 200);
        let text = reply.body.as_str().unwrap_or("");
        assert!(text.contains("refmatch_"), "{text}");
    }
}
