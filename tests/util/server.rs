//! A real `refmatch serve` on 127.0.0.1 port 0 with a temp database, and a minimal HTTP/1.1
//! client over a plain TcpStream, so API tests exercise the same socket path users do.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub struct TestServer {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub db: PathBuf,
    /// A read-write key of the `default` workspace.
    pub key: String,
    pub dir: tempfile::TempDir,
}

/// Runs the binary against `db`; panics with its stderr when it fails.
pub fn cli(db: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("the refmatch binary runs");
    assert!(
        output.status.success(),
        "refmatch {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

impl TestServer {
    /// A new database with one read-write key, served.
    pub fn start() -> TestServer {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("refmatch.db");
        let key = cli(&db, &["keys", "create", "--name", "test"])
            .trim()
            .to_string();
        let child = spawn_server(&db, dir.path(), extra);
        let mut server = TestServer {
            child,
            addr: String::new(),
            db,
            key,
            dir,
        };
        server.addr = read_addr(&mut server.child);
        server
    }

    /// Another server process on the same database (a second `serve`), killed when the
    /// returned guard is dropped, even by a failing test.
    pub fn spawn_another(&self, extra: &[&str]) -> (ChildGuard, String) {
        let mut child = spawn_server(&self.db, self.dir.path(), extra);
        let addr = read_addr(&mut child);
        (ChildGuard(child), addr)
    }

    /// Creates a key through the CLI while the server runs.
    pub fn new_key(&self, workspace: &str, scopes: &str) -> String {
        cli(
            &self.db,
            &[
                "--workspace",
                workspace,
                "keys",
                "create",
                "--name",
                "t",
                "--scopes",
                scopes,
            ],
        )
        .trim()
        .to_string()
    }

    pub fn get(&self, path: &str) -> Reply {
        request(&self.addr, "GET", path, Some(&self.key), None, b"")
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).expect("JSON");
        request(
            &self.addr,
            "POST",
            path,
            Some(&self.key),
            Some("application/json"),
            &bytes,
        )
    }

    /// A request with this server's key and extra headers.
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        request_with(&self.addr, method, path, Some(&self.key), headers, body)
    }

    pub fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
        request(
            &self.addr,
            method,
            path,
            Some(&self.key),
            content_type,
            body,
        )
    }

    /// The server's stderr (its access log) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Uploads the invoice fixtures, creates their config and runs it to completion.
    /// Returns the run id and the reference table's id.
    pub fn fixture_run(&self) -> (String, String) {
        let csv = std::fs::read(super::fixture("reference.csv")).expect("fixture");
        let reference = self.send(
            "POST",
            "/v1/reference-data?name=ledger",
            Some("text/csv"),
            &csv,
        );
        assert_eq!(reference.status, 201, "{}", reference.text());
        let reference_id = reference.json()["id"].as_str().unwrap().to_string();
        let documents = std::fs::read(super::fixture("documents.csv")).expect("fixture");
        let batch = self.send("POST", "/v1/documents", Some("text/csv"), &documents);
        assert_eq!(batch.status, 201, "{}", batch.text());
        let config = std::fs::read_to_string(super::fixture("config.json")).expect("fixture");
        let mut config: Value = serde_json::from_str(&config).expect("fixture config");
        config["reference_data_id"] = Value::from(reference_id.as_str());
        let config = self.post_json("/v1/matching/configs", &config);
        assert_eq!(config.status, 201, "{}", config.text());
        let config_id = config.json()["id"].as_str().unwrap().to_string();
        let run = self.post_json(
            &format!("/v1/matching/configs/{config_id}/run"),
            &serde_json::json!({}),
        );
        assert_eq!(run.status, 202, "{}", run.text());
        let run_id = run.json()["id"].as_str().unwrap().to_string();
        assert_eq!(self.wait_for_run(&run_id, 60)["status"], "completed");
        (run_id, reference_id)
    }

    /// Polls run progress until the run leaves queued/running, at most `secs` seconds.
    pub fn wait_for_run(&self, run_id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let run = self.get(&format!("/v1/matching/runs/{run_id}")).json();
            let status = run["status"].as_str().unwrap_or("").to_string();
            if status != "queued" && status != "running" {
                return run;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {run_id} still {status} after {secs} s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// `PRAGMA integrity_check` of the database file, from a connection of its own: `ok` when
/// the file is sound.
pub fn integrity_check(db: &Path) -> String {
    let conn = r2d2_sqlite::rusqlite::Connection::open(db).expect("open the database");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check runs")
}

/// A child process killed on drop.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn_server(db: &Path, dir: &Path, extra: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("log file");
    Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", "127.0.0.1:0", "--threads", "2"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the server starts")
}

/// The first stdout line is `listening on http://ADDR`.
pub fn read_addr(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server prints its address");
    line.trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string()
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the error envelope of docs/CONTRACT.md with this status and code; returns it.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        let body = self.json();
        assert_eq!(body["statusCode"], status);
        assert_eq!(body["code"], code);
        for key in ["error", "message", "request_id", "timestamp", "path"] {
            assert!(body[key].is_string(), "envelope lacks {key}: {body}");
        }
        assert!(body["retryable"].is_boolean());
        assert!(body["details"].is_array());
        body
    }
}

/// One HTTP/1.1 request with `Connection: close`; the whole reply is read.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    let headers: Vec<(&str, &str)> = content_type
        .map(|ct| ("Content-Type", ct))
        .into_iter()
        .collect();
    request_with(addr, method, path, key, &headers, body)
}

/// One HTTP/1.1 request with extra headers (`Origin`, `Accept-Encoding`, ...) and
/// `Connection: close`; the whole reply is read, its body as sent (not decompressed).
pub fn request_with(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(key) = key {
        head.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    // A server may answer (413) before reading a big body; a failed write is fine then.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}

/// A multipart/form-data body with one file part and text fields; returns (content type, body).
pub fn multipart(filename: &str, file: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "refmatchTestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
