//! The review page in a real browser: headless Chromium driven through chromedriver's W3C
//! WebDriver HTTP API against `refmatch demo`. It signs in by pasting the demo's key, opens
//! the run, approves a result with the keyboard, rejects one with the button and approves
//! another candidate with its number key, checks through the API that the decisions were
//! stored, bulk-approves the pending results above 0.99, moves the threshold slider and
//! re-runs the config from the page. Screenshots go to `target/screenshots/`.
//!
//! Without `/usr/bin/chromedriver` the test says so and passes, unless
//! `REFMATCH_REQUIRE_BROWSER=1` (CI sets it after installing Chromium) makes that a failure.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::server::{request, ChildGuard};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C name of an element reference in WebDriver JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Every wait is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

/// A demo server: its address, key and completed run.
struct Demo {
    _child: ChildGuard,
    addr: String,
    key: String,
    run_id: String,
}

impl Demo {
    fn start(dir: &Path) -> Demo {
        let log = std::fs::File::create(dir.join("demo.log")).expect("log file");
        // A database in the test's directory: the demo is killed, so it cannot remove a
        // temporary one of its own.
        let mut child = Command::new(env!("CARGO_BIN_EXE_refmatch"))
            .arg("--db")
            .arg(dir.join("demo.db"))
            .args(["demo", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("the demo starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let guard = ChildGuard(child);
        let (mut addr, mut key, mut run_id) = (None, None, None);
        // The demo prints these lines once its run has completed; the rest of its output is
        // drained by a thread, since a closed pipe would stop the demo.
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("demo stdout");
            if let Some(rest) = line.strip_prefix("listening on http://") {
                addr = Some(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("api key") {
                key = Some(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("run ") {
                run_id = rest.split_whitespace().next().map(String::from);
            }
            if addr.is_some() && key.is_some() && run_id.is_some() {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        Demo {
            _child: guard,
            addr: addr.expect("the demo prints its address"),
            key: key.expect("the demo prints a key"),
            run_id: run_id.expect("the demo prints its run"),
        }
    }

    fn get(&self, path: &str) -> Value {
        let reply = request(&self.addr, "GET", path, Some(&self.key), None, b"");
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
        reply.json()
    }
}

/// A chromedriver process and one browser session, both ended on drop.
struct Browser {
    _driver: ChildGuard,
    addr: String,
    session: String,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child: Child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = ChildGuard(child);
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = std::net::TcpStream::connect(&addr).is_ok()
                && call(&addr, "GET", "/status", None)["ready"] == true;
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1440,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let created = call(&addr, "POST", "/session", Some(&capabilities));
        let session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Browser {
            _driver: driver,
            addr,
            session,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        call(
            &self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(&json!({ "url": url })));
    }

    fn script(&self, source: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(&json!({"script": source, "args": args})),
        )
    }

    /// Waits until `source` (a function body) returns something truthy; returns it.
    fn wait_for(&self, what: &str, source: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.script(source, json!([]));
            if !(value.is_null() || value == false || value == "" || value == 0) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; page: {}",
                self.script("return document.body.innerText.slice(0, 2000)", json!([]))
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The element a CSS selector finds, once it is there and displayed.
    fn find(&self, css: &str) -> String {
        let source = format!(
            "const e = document.querySelector({}); return e && e.offsetParent !== null;",
            json!(css)
        );
        self.wait_for(css, &source);
        let found = self.cmd(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        found[ELEMENT].as_str().expect("an element").to_string()
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{element}/click"),
            Some(&json!({})),
        );
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            Some(&json!({ "text": text })),
        );
    }

    /// Presses one key as a person would, on whatever has the focus.
    fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key},
        ]}]});
        self.cmd("POST", "/actions", Some(&actions));
    }

    /// Saves a PNG of the viewport under `target/screenshots/` and prints its path.
    fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.cmd("GET", "/screenshot", None);
        let png = base64_decode(encoded.as_str().expect("base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        println!("screenshot: {}", path.display());
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; killing chromedriver (the guard) follows.
        let path = format!("/session/{}", self.session);
        let addr = self.addr.clone();
        let _ = std::panic::catch_unwind(move || call(&addr, "DELETE", &path, None));
    }
}

/// One WebDriver command; its `value`, or a panic with the driver's error.
fn call(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, text) = http(addr, method, path, &bytes);
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {text}"));
    let value = json["value"].clone();
    if status != 200 || value.get("error").is_some_and(Value::is_string) {
        panic!("WebDriver {method} {path} failed ({status}): {value}");
    }
    value
}

/// A request to chromedriver through ureq (a WebDriver client needs nothing of the raw
/// socket that the API tests use to send malformed requests): the status and the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://{addr}{path}");
    let sent = match method {
        "GET" => agent.get(&url).call(),
        "DELETE" => agent.delete(&url).call(),
        _ => agent
            .post(&url)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(body),
    };
    let mut response = sent.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_string()
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
    (status, text)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
            }
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Standard base64 (WebDriver screenshots); no dependency for one call.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for digit in text.bytes().filter_map(value) {
        acc = (acc << 6) | digit;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The visible controls of the page that have no accessible name (no label, no
/// aria-label, no text): each of them is a control a screen reader cannot name.
const UNLABELLED: &str = "return [...document.querySelectorAll('input, select, button, a[href]')]
    .filter(e => e.offsetParent !== null)
    .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label')
        || e.textContent.trim()))
    .map(e => e.outerHTML.slice(0, 120));";

/// Whether the browser is there; without it the test is skipped, or fails in CI.
fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    let required = std::env::var("REFMATCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "REFMATCH_REQUIRE_BROWSER=1 but {CHROMEDRIVER} or {CHROMIUM} is missing \
         (apt-get install chromium chromium-driver)"
    );
    crate::util::skip(&format!(
        "browser test: {CHROMEDRIVER} or {CHROMIUM} is missing \
         (apt-get install chromium chromium-driver; set REFMATCH_REQUIRE_BROWSER=1 to fail instead)"
    ));
    false
}

#[test]
fn a_reviewer_signs_in_approves_with_the_keyboard_and_rejects_with_the_button() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = Demo::start(dir.path());
    let browser = Browser::start(&dir.path().join("profile"));
    let base = format!("http://{}", demo.addr);

    // Sign in by pasting the key.
    browser.goto(&format!("{base}/"));
    browser.type_into("#signin-key", &demo.key);
    browser.click("#signin-submit");
    let row = format!("#runs-body tr[data-run-id=\"{}\"]", demo.run_id);
    browser.find(&row);
    let stored = browser.script("return sessionStorage.getItem('refmatch.key')", json!([]));
    assert_eq!(stored, demo.key.as_str(), "the key is kept for the session");
    let local = browser.script("return localStorage.length", json!([]));
    assert_eq!(local, 0, "nothing goes to localStorage");
    let runs_png = browser.screenshot("runs");

    // Open the run: the first page of results and the first result's comparison.
    browser.click(&format!("{row} a[href^=\"#/runs/\"]"));
    browser.find("#results-body tr[aria-selected=\"true\"]");
    browser.find("#detail table.compare");
    let ids = browser.script(
        "return [...document.querySelectorAll('#results-body tr')].map(r => r.dataset.resultId)",
        json!([]),
    );
    let ids: Vec<String> = serde_json::from_value(ids).expect("result ids");
    assert!(ids.len() >= 2 && ids.len() <= 50, "one page: {}", ids.len());
    let (first, second) = (ids[0].clone(), ids[1].clone());

    // Approve the selected (first) result with the keyboard; the selection moves on.
    browser.press("a");
    browser.wait_for(
        "the first result approved",
        "const r = document.querySelector('#results-body tr[data-index=\"0\"] .badge');
         return r && r.textContent === 'approved';",
    );
    browser.wait_for(
        "the selection on the second result",
        "const r = document.querySelector('#results-body tr[aria-selected=\"true\"]');
         return r && r.dataset.index === '1';",
    );
    // Reject the second with the button.
    browser.click("#btn-reject");
    browser.wait_for(
        "the second result rejected",
        "const r = document.querySelector('#results-body tr[data-index=\"1\"] .badge');
         return r && r.textContent === 'rejected';",
    );
    // Approve another candidate than the best with its number key, on a result that has one.
    let page = demo.get(&format!(
        "/v1/matching/runs/{}/results?limit=50",
        demo.run_id
    ));
    let rows = page["data"].as_array().expect("results");
    let (pick_index, pick) = rows
        .iter()
        .enumerate()
        .skip(2)
        .find(|(_, r)| r["candidates"].as_array().is_some_and(|c| c.len() >= 2))
        .expect("a result with two candidates");
    let pick_id = pick["id"].as_str().expect("id").to_string();
    let second_row = pick["candidates"][1]["reference_row_id"].clone();
    browser.click(&format!("#results-body tr[data-index=\"{pick_index}\"]"));
    browser.wait_for(
        "the picked result selected",
        &format!(
            "const r = document.querySelector('#results-body tr[aria-selected=\"true\"]');
             return r && r.dataset.resultId === {};",
            json!(pick_id)
        ),
    );
    browser.press("2");
    browser.wait_for(
        "the second candidate approved",
        &format!(
            "const r = document.querySelector('#results-body tr[data-index=\"{pick_index}\"]');
             return r && r.querySelector('.badge').textContent === 'approved'
                 && r.textContent.includes({});",
            second_row
        ),
    );
    browser.click("#results-body tr[data-index=\"1\"]");
    browser.find("#detail mark.diff, #detail table.compare");
    let detail_png = browser.screenshot("run-detail");
    assert_eq!(
        browser.script(UNLABELLED, json!([])),
        json!([]),
        "run detail"
    );

    // The decisions are stored, by the demo's key. A picked candidate's lower confidence
    // moves its result down the list, so every result of the demo run is read.
    let results = demo.get(&format!(
        "/v1/matching/runs/{}/results?limit=500",
        demo.run_id
    ));
    let by_id = |id: &str| -> Value {
        results["data"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("result {id} in the run"))
    };
    let keys = demo.get("/v1/keys");
    let key_id = keys["data"][0]["id"].as_str().expect("the demo key's id");
    for (id, status) in [
        (&first, "approved"),
        (&second, "rejected"),
        (&pick_id, "approved"),
    ] {
        let result = by_id(id);
        assert_eq!(result["status"], status, "{result}");
        assert_eq!(result["reviewed_by"], key_id, "{result}");
        assert!(result["reviewed_at"].is_string(), "{result}");
    }
    assert_eq!(by_id(&pick_id)["matched_reference_row_id"], second_row);

    // Bulk approve: every pending result at or above 0.99, after a confirmation.
    let clear = browser.find("#bulk-min");
    browser.cmd("POST", &format!("/element/{clear}/clear"), Some(&json!({})));
    browser.type_into("#bulk-min", "0.99");
    browser.click("#bulk-approve");
    let deadline = Instant::now() + WAIT;
    let question = loop {
        let (status, text) = http(
            &browser.addr,
            "GET",
            &format!("/session/{}/alert/text", browser.session),
            "",
        );
        if status == 200 {
            break text;
        }
        assert!(Instant::now() < deadline, "no confirmation asked");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(question.contains("Approve"), "{question}");
    browser.cmd("POST", "/alert/accept", Some(&json!({})));
    browser.wait_for(
        "the bulk approval reported",
        "const f = document.getElementById('flash'); return !f.hidden && /Approved \\d+ results/.test(f.textContent);",
    );
    let left = demo.get(&format!(
        "/v1/matching/runs/{}/results?status=pending&min_confidence=0.99&limit=1",
        demo.run_id
    ));
    assert_eq!(
        left["pagination"]["total"], 0,
        "nothing pending left at 0.99"
    );

    // The threshold slider says how many results of the run would match.
    browser.click("#run-config-link");
    let before = browser.wait_for(
        "the threshold's effect",
        "const e = document.getElementById('threshold-effect'); return e && e.textContent;",
    );
    let slider = browser.find("#threshold");
    browser.cmd(
        "POST",
        &format!("/element/{slider}/click"),
        Some(&json!({})),
    );
    for _ in 0..20 {
        browser.press("\u{E012}"); // ArrowLeft
    }
    let after = browser.wait_for(
        "the effect of a lower threshold",
        "return document.getElementById('threshold-effect').textContent;",
    );
    assert_ne!(before, after, "moving the slider changes the count");
    let config_png = browser.screenshot("config-threshold");
    assert_eq!(browser.script(UNLABELLED, json!([])), json!([]), "config");

    // A run started from the page says so.
    browser.click("#config-run");
    browser.find("#runs-body tr + tr");
    let runs = demo.get("/v1/matching/runs?limit=5");
    let manual = runs["data"]
        .as_array()
        .expect("runs")
        .iter()
        .any(|r| r["triggered_by"] == "manual");
    assert!(manual, "the re-run is triggered_by manual: {runs}");
    browser.wait_for(
        "both runs completed in the list",
        "return [...document.querySelectorAll('#runs-body .badge')].every(b => b.textContent === 'completed');",
    );
    let rerun_png = browser.screenshot("runs-after-rerun");

    let timings = browser.script("return window.__refmatchTimings", json!([]));
    println!("page timings (ms since navigation): {timings}");
    for png in [runs_png, detail_png, config_png, rerun_png] {
        assert!(png.exists());
    }
}

/// Setting up from the browser (issue 17): from an empty database and a key, a person
/// uploads a reference table (previewing its detected columns and types before saving),
/// a new version of it by drag and drop, the documents, generates a config and reads each
/// mapping's rationale, edits the mappings (a strategy option, a mapping added and
/// removed, the weights' sum), runs it, reviews a result and reads the evaluation, from
/// the reviews and from an uploaded truth file. Everything goes through the public API.
#[test]
fn a_person_sets_up_from_an_empty_database_to_a_reviewed_run() {
    if !browser_available() {
        return;
    }
    let server = crate::util::server::TestServer::start();
    let browser = Browser::start(&server.dir.path().join("profile"));
    let base = format!("http://{}", server.addr);
    let api = |path: &str| -> Value {
        let reply = request(&server.addr, "GET", path, Some(&server.key), None, b"");
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
        reply.json()
    };

    browser.goto(&format!("{base}/"));
    browser.type_into("#signin-key", &server.key);
    browser.click("#signin-submit");
    // An empty workspace points to the setup.
    browser.find("#runs-empty a[href=\"#/setup\"]");
    browser.click("#nav-setup");
    browser.find("#ref-drop");
    browser.screenshot("setup-empty");

    // 1. The reference table: previewed, then saved.
    browser.type_into("#ref-name", "ledger");
    browser.type_into("#ref-file", &crate::util::fixture("reference.csv"));
    browser.find("#ref-preview");
    let types = browser.wait_for(
        "the detected column types",
        "return [...document.querySelectorAll('#ref-columns-body tr')].map(r => r.cells[0].textContent + ':' + r.cells[1].textContent).join(' ');",
    );
    let types = types.as_str().unwrap_or("").to_string();
    assert!(types.contains("invoice_date:date"), "{types}");
    assert!(types.contains("total:number"), "{types}");
    assert_eq!(
        api("/v1/reference-data")["pagination"]["total"],
        0,
        "a preview stores nothing"
    );
    browser.screenshot("setup-reference-preview");
    browser.click("#ref-save");
    browser.wait_for(
        "the table saved",
        "return document.getElementById('ref-saved').textContent.includes('version 1');",
    );
    let table = api("/v1/reference-data")["data"][0].clone();
    assert_eq!(
        (table["name"].as_str(), table["row_count"].as_i64()),
        (Some("ledger"), Some(304))
    );
    let table_id = table["id"].as_str().unwrap_or("").to_string();

    // A new version, dropped onto the zone.
    let csv = std::fs::read_to_string(crate::util::fixture("reference.csv")).expect("fixture");
    let select = browser.find("#ref-target");
    let _ = select;
    browser.script(
        "const s = document.getElementById('ref-target'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
        json!([table_id]),
    );
    browser.script(
        "const dt = new DataTransfer();
         dt.items.add(new File([arguments[0]], 'ledger-v2.csv', {type: 'text/csv'}));
         const zone = document.getElementById('ref-drop');
         zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
         zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
        json!([csv]),
    );
    browser.wait_for(
        "the dropped file previewed",
        "return document.getElementById('ref-file-name').textContent === 'ledger-v2.csv' && !document.getElementById('ref-save').disabled;",
    );
    browser.click("#ref-save");
    browser.wait_for(
        "the new version saved",
        "return document.getElementById('ref-saved').textContent.includes('version 2');",
    );
    assert_eq!(api(&format!("/v1/reference-data/{table_id}"))["version"], 2);

    // 2. The documents.
    browser.type_into("#doc-file", &crate::util::fixture("documents.csv"));
    browser.wait_for(
        "the documents stored",
        "return document.getElementById('doc-saved').textContent.startsWith('Stored 150 documents');",
    );
    assert_eq!(api("/v1/documents?limit=1")["pagination"]["total"], 150);

    // 3. A generated config, each mapping with its rationale.
    browser.script(
        "const s = document.getElementById('gen-ref'); s.value = arguments[0];",
        json!([table_id]),
    );
    browser.click("#gen-go");
    browser.find("#gen-result");
    let rationales = browser.wait_for(
        "the rationale of every mapping",
        "const cells = [...document.querySelectorAll('#gen-body td.rationale')]; return cells.length > 0 && cells.every(c => c.textContent.length > 10) && cells.length;",
    );
    assert!(rationales.as_u64().unwrap_or(0) >= 3, "{rationales}");
    browser.screenshot("setup-generated-config");
    browser.script("document.getElementById('gen-name').value = '';", json!([]));
    browser.type_into("#gen-name", "invoices");
    browser.click("#gen-create");

    // 4. The mappings edited: a fuzzy option set, a mapping added then removed, the sum.
    browser.find("#mappings-body tr");
    let fuzzy = browser.wait_for(
        "a fuzzy mapping",
        "const s = [...document.querySelectorAll('#mappings-body select[id^=m-strategy-]')].find(s => s.value === 'fuzzy'); return s ? s.id.replace('m-strategy-', '') : '';",
    );
    let fuzzy = fuzzy.as_str().unwrap_or("").to_string();
    browser.type_into(&format!("#m-min_similarity-{fuzzy}"), "0.2");
    let rows_before = browser.script(
        "return document.querySelectorAll('#mappings-body tr').length;",
        json!([]),
    );
    browser.click("#mapping-add");
    let added = rows_before.as_u64().unwrap_or(0);
    browser.type_into(&format!("#m-source-{added}"), "currency");
    browser.type_into(&format!("#weight-{added}"), "0.1");
    let sum = browser.wait_for(
        "the weights' sum over 1",
        "const e = document.getElementById('weights-sum'); return e.classList.contains('weights-off') && e.textContent;",
    );
    assert!(sum.as_str().unwrap_or("").starts_with("1.1"), "{sum}");
    browser.screenshot("setup-mappings");
    browser.click(&format!(
        "#mappings-body tr[data-mapping=\"{added}\"] button"
    ));
    browser.wait_for(
        "the sum back at 1",
        "return !document.getElementById('weights-sum').classList.contains('weights-off');",
    );
    browser.click("#config-save");
    browser.wait_for(
        "the config saved",
        "return document.getElementById('config-saved').textContent.startsWith('Saved');",
    );
    let config = api("/v1/matching/configs")["data"][0].clone();
    assert_eq!(config["name"], "invoices");
    let index: usize = fuzzy.parse().unwrap_or(0);
    assert_eq!(config["field_mappings"][index]["min_similarity"], 0.2);
    assert_eq!(
        config["field_mappings"].as_array().map(Vec::len),
        Some(added as usize)
    );

    // 5. Run it from the page and review the best result with the keyboard.
    browser.click("#config-run");
    let row = "#runs-body tr[data-run-id]";
    browser.find(row);
    browser.wait_for(
        "the run completed",
        "return [...document.querySelectorAll('#runs-body .badge')].some(b => b.textContent === 'completed');",
    );
    browser.click(&format!("{row} a[href^=\"#/runs/\"]"));
    browser.find("#results-body tr[aria-selected=\"true\"]");
    browser.press("a");
    browser.wait_for(
        "the approval stored",
        "return document.querySelector('#results-body .badge.s-approved') !== null;",
    );
    let run_id = api("/v1/matching/runs")["data"][0]["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let approved = api(&format!(
        "/v1/matching/runs/{run_id}/results?status=approved"
    ));
    assert_eq!(approved["pagination"]["total"], 1);
    browser.screenshot("setup-reviewed-run");

    // 6. The evaluation: from the reviews, then from the truth file.
    browser.click("#run-config-link");
    browser.wait_for(
        "the evaluation from reviews",
        "return document.getElementById('eval-summary').textContent.startsWith('From 1 reviewed');",
    );
    browser.type_into("#eval-truth", &crate::util::fixture("truth.csv"));
    let summary = browser.wait_for(
        "the evaluation against the truth file",
        "const t = document.getElementById('eval-summary').textContent; return t.startsWith('Against truth.csv') && t;",
    );
    assert!(
        summary.as_str().unwrap_or("").contains("best F1"),
        "{summary}"
    );
    let lines = browser.script(
        "return document.querySelectorAll('#eval-svg polyline').length;",
        json!([]),
    );
    assert_eq!(lines, 3, "precision, recall and F1");
    browser.script(
        "document.getElementById('eval').scrollIntoView();",
        json!([]),
    );
    browser.screenshot("setup-evaluation");
    assert_eq!(browser.script(UNLABELLED, json!([])), json!([]), "setup");
}

#[test]
fn the_packages_view_lists_each_verdict_and_links_each_slot_to_its_result() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = Demo::start(dir.path());
    let package = crate::packages::setup_at(&demo.addr, &demo.key);
    let runs = crate::packages::run_cases_at(&demo.addr, &demo.key, &package);
    let browser = Browser::start(&dir.path().join("profile"));
    let base = format!("http://{}", demo.addr);
    browser.goto(&format!("{base}/"));
    browser.type_into("#signin-key", &demo.key);
    browser.click("#signin-submit");
    browser.find("#runs-body tr");
    browser.click("#nav-packages");
    browser.wait_for(
        "the five package runs",
        "return document.querySelectorAll('#packages-body tr').length === 5;",
    );
    // Newest first: the verdicts of the cases in reverse order.
    let shown = browser.script(
        "return [...document.querySelectorAll('#packages-body tr')].map(r => r.children[1].textContent);",
        json!([]),
    );
    let expected: Vec<Value> = runs.iter().rev().map(|r| r["status"].clone()).collect();
    assert_eq!(shown, Value::from(expected));
    assert_eq!(browser.script(UNLABELLED, json!([])), json!([]), "packages");
    let packages_png = browser.screenshot("packages");
    // The passed run's invoice links to its slot's run, where the result is reviewed.
    let passed = &runs[0];
    let slot_run = passed["document_results"][0]["matching_run_id"]
        .as_str()
        .expect("a slot run");
    let row = format!(
        "#packages-body tr[data-package-run-id=\"{}\"]",
        passed["id"].as_str().unwrap_or("")
    );
    browser.click(&format!("{row} a[href=\"#/runs/{slot_run}\"]"));
    browser.wait_for(
        "the slot's run",
        &format!(
            "return document.getElementById('run-title').title === {};",
            json!(slot_run)
        ),
    );
    browser.find("#results-body tr");
    assert!(packages_png.exists());
}

/// Not a test but a measurement, run by hand: how long the page takes, from navigation, to
/// show the first page of a run of `REFMATCH_UI_DOCUMENTS` (default 100,000) results. It
/// generates a set, imports and runs it through the CLI, serves it and opens the run in a
/// fresh page load three times, printing each time and the results call behind it:
///
/// `cargo test --release --test browser -- --ignored --nocapture first_page`
#[test]
#[ignore = "a measurement of minutes; run by hand"]
fn first_page_of_a_large_run() {
    if !browser_available() {
        return;
    }
    let documents: u32 = std::env::var("REFMATCH_UI_DOCUMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let server = crate::util::server::TestServer::start();
    let set = server.dir.path().join("set");
    let out = crate::util::refmatch(&[
        "synth",
        "--reference-rows",
        &documents.to_string(),
        "--documents",
        &documents.to_string(),
        "--seed",
        "7",
        "--out",
        set.to_str().expect("UTF-8 path"),
    ]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let cli = |args: &[&str]| crate::util::server::cli(&server.db, args);
    let path = |name: &str| set.join(name).display().to_string();
    let reference = cli(&["reference", "import", &path("reference.csv")]);
    cli(&["documents", "import", &path("documents.csv")]);
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(path("config.json")).expect("config"))
            .expect("config JSON");
    config["reference_data_id"] = json!(reference.trim());
    let created = server.post_json("/v1/matching/configs", &config);
    assert_eq!(created.status, 201, "{}", created.text());
    let run = server.post_json(
        &format!(
            "/v1/matching/configs/{}/run",
            created.json()["id"].as_str().expect("config id")
        ),
        &json!({}),
    );
    let run_id = run.json()["id"].as_str().expect("run id").to_string();
    let run = server.wait_for_run(&run_id, 600);
    println!(
        "run of {} documents: {}",
        run["rows_processed"], run["status"]
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let browser = Browser::start(&dir.path().join("profile"));
    let base = format!("http://{}", server.addr);
    browser.goto(&format!("{base}/"));
    browser.script(
        "sessionStorage.setItem('refmatch.key', arguments[0])",
        json!([server.key]),
    );
    for attempt in 1..=3 {
        browser.goto("about:blank");
        browser.goto(&format!("{base}/#/runs/{run_id}"));
        let shown = browser.wait_for(
            "the first page of results",
            "const t = window.__refmatchTimings; return t && t.firstResultsRendered;",
        );
        let timings = browser.script("return window.__refmatchTimings", json!([]));
        let rows = browser.script(
            "return document.querySelectorAll('#results-body tr').length",
            json!([]),
        );
        println!(
            "attempt {attempt}: first page ({rows} rows) shown {:.0} ms after navigation; \
             results call {:.0} ms; timings {timings}",
            shown.as_f64().unwrap_or(f64::NAN),
            timings["resultsApiMs"].as_f64().unwrap_or(f64::NAN)
        );
    }
    browser.screenshot("large-run");
}
