//! Bad input never crashes: every malformed file is exit code 2 with one line on stderr
//! that names the file and the line or field, and nothing is written to the output.

use std::path::Path;

use crate::util::{refmatch, stderr, stdout, write};

const CONFIG: &str = r#"{"field_mappings": [
    {"source": "name", "target": "name", "strategy": "fuzzy", "weight": 0.7},
    {"source": "amount", "target": "amount", "strategy": "numeric_range", "weight": 0.3}],
  "threshold": 0.5}"#;
const REFERENCE: &str = "id,name,amount\nr1,Acme GmbH,100.00\nr2,Beta AG,250.00\n";

struct Inputs {
    dir: tempfile::TempDir,
}

impl Inputs {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "config.json", CONFIG);
        write(dir.path(), "reference.csv", REFERENCE);
        write(
            dir.path(),
            "documents.csv",
            "document_id,name,amount\nd1,ACME,100\nd2,Beta,\"250,00\"\n",
        );
        write(
            dir.path(),
            "truth.csv",
            "document_id,row_id\nd1,r1\nd2,r2\n",
        );
        Inputs { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn put(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        write(self.dir.path(), name, contents)
    }

    fn eval(&self, extra: &[&str]) -> std::process::Output {
        crate::util::Inputs::in_dir(self.dir.path()).eval(extra)
    }
}

/// Exit code 2, one line on stderr that mentions every `needles`, nothing on stdout.
fn assert_rejected(out: &std::process::Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    assert!(stdout(out).is_empty(), "nothing may be printed on stdout");
}

#[test]
fn the_valid_inputs_work() {
    let inputs = Inputs::new();
    let out = inputs.eval(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["tp"], 2, "{report}");
}

#[test]
fn empty_files() {
    let inputs = Inputs::new();
    inputs.put("reference.csv", "");
    assert_rejected(&inputs.eval(&[]), &["reference.csv", "empty"]);
    let inputs = Inputs::new();
    inputs.put("reference.csv", "id,name,amount\n");
    assert_rejected(&inputs.eval(&[]), &["reference.csv", "no rows"]);
}

#[test]
fn a_named_id_column_that_is_absent() {
    let inputs = Inputs::new();
    assert_rejected(
        &inputs.eval(&["--id-column", "vendor_id"]),
        &["reference.csv", "--id-column", "vendor_id"],
    );
    assert_rejected(
        &inputs.eval(&["--document-id-column", "doc"]),
        &["documents.csv", "--document-id-column", "doc"],
    );
}

#[test]
fn duplicate_and_empty_ids() {
    let inputs = Inputs::new();
    inputs.put(
        "reference.csv",
        "id,name,amount\nr1,Acme,1\nr2,Beta,2\nr1,Gamma,3\n",
    );
    assert_rejected(
        &inputs.eval(&[]),
        &["reference.csv", "line 4", "duplicate id \"r1\"", "line 2"],
    );
    let inputs = Inputs::new();
    inputs.put(
        "documents.csv",
        "document_id,name,amount\nd1,Acme,1\n,Beta,2\n",
    );
    assert_rejected(&inputs.eval(&[]), &["documents.csv", "line 3", "empty id"]);
}

#[test]
fn ragged_rows() {
    let inputs = Inputs::new();
    inputs.put(
        "documents.csv",
        "document_id,name,amount\nd1,Acme,1\nd2,Beta,2,extra\n",
    );
    assert_rejected(
        &inputs.eval(&[]),
        &["documents.csv", "line 3", "4 fields", "header has 3"],
    );
}

#[test]
fn invalid_utf8_points_to_the_encoding_option() {
    let inputs = Inputs::new();
    inputs.put(
        "reference.csv",
        b"id,name,amount\nr1,M\xfcller GmbH,100\nr2,Beta AG,250\n",
    );
    assert_rejected(
        &inputs.eval(&[]),
        &[
            "reference.csv",
            "line 2",
            "UTF-8",
            "--encoding windows-1252",
        ],
    );
    // With the option the legacy file is read, and Müller matches Mueller-less MULLER.
    inputs.put(
        "documents.csv",
        "document_id,name,amount\nd1,MULLER GMBH,100\nd2,Beta,250\n",
    );
    let out = inputs.eval(&["--encoding", "windows-1252"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["tp"], 2, "{report}");
}

#[test]
fn a_semicolon_file_with_a_bom_is_read() {
    let inputs = Inputs::new();
    inputs.put(
        "reference.csv",
        "\u{feff}id;name;amount\nr1;Acme GmbH;100,00\nr2;Beta AG;250,00\n",
    );
    let out = inputs.eval(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["tp"], 2, "{report}");
}

#[test]
fn truth_files_naming_unknown_or_repeated_ids() {
    let inputs = Inputs::new();
    inputs.put("truth.csv", "document_id,row_id\nd1,r1\nd9,r2\n");
    assert_rejected(&inputs.eval(&[]), &["truth.csv", "line 3", "d9"]);
    inputs.put("truth.csv", "document_id,row_id\nd1,r7\n");
    assert_rejected(&inputs.eval(&[]), &["truth.csv", "line 2", "r7"]);
    inputs.put("truth.csv", "document_id,row_id\nd1,r1\nd1,r2\n");
    assert_rejected(&inputs.eval(&[]), &["truth.csv", "line 3", "twice"]);
    inputs.put("truth.csv", "doc,row\nd1,r1\n");
    assert_rejected(&inputs.eval(&[]), &["truth.csv", "document_id"]);
}

#[test]
fn configs_that_are_not_json_or_break_the_schema() {
    let inputs = Inputs::new();
    inputs.put("config.json", "{\"field_mappings\": [");
    assert_rejected(&inputs.eval(&[]), &["config.json"]);
    inputs.put("config.json", CONFIG.replace("0.7", "0.6"));
    assert_rejected(
        &inputs.eval(&[]),
        &["config.json", "field_mappings", "sum to 1.0"],
    );
    inputs.put("config.json", CONFIG.replace("\"fuzzy\"", "\"fuzy\""));
    assert_rejected(
        &inputs.eval(&[]),
        &["config.json", "field_mappings[0].strategy", "fuzy"],
    );
    inputs.put(
        "config.json",
        CONFIG.replace("\"weight\": 0.3", "\"weight\": 0.3, \"tolerance\": 2"),
    );
    assert_rejected(
        &inputs.eval(&[]),
        &["config.json", "field_mappings[1].tolerance"],
    );
    inputs.put("config.json", CONFIG.replace("0.5}", "1.5}"));
    assert_rejected(&inputs.eval(&[]), &["config.json", "threshold"]);
    inputs.put("config.json", CONFIG.replace("0.7", "-0.7"));
    assert_rejected(
        &inputs.eval(&[]),
        &["config.json", "field_mappings[0].weight"],
    );
}

#[test]
fn config_columns_absent_from_the_headers() {
    let inputs = Inputs::new();
    inputs.put(
        "config.json",
        CONFIG.replace("\"target\": \"name\"", "\"target\": \"vendor\""),
    );
    assert_rejected(
        &inputs.eval(&[]),
        &["field_mappings[0].target", "vendor", "reference.csv"],
    );
    inputs.put(
        "config.json",
        CONFIG.replace("\"source\": \"amount\"", "\"source\": \"total\""),
    );
    assert_rejected(
        &inputs.eval(&[]),
        &["field_mappings[1].source", "total", "documents.csv"],
    );
}

#[test]
fn missing_files_and_bad_options() {
    let inputs = Inputs::new();
    let absent = inputs.path("absent.csv");
    let out = refmatch(&[
        "match",
        "--reference",
        &absent,
        "--documents",
        &inputs.path("documents.csv"),
        "--config",
        &inputs.path("config.json"),
    ]);
    assert_rejected(&out, &["absent.csv"]);
    let out = refmatch(&["eval", "--encoding", "ebcdic"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn garbage_bytes_never_crash() {
    let inputs = Inputs::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..20 {
        let bytes: Vec<u8> = (0..400)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly CSV-ish bytes, sometimes anything.
                let b = (seed >> 24) as u8;
                if b % 5 == 0 {
                    b
                } else {
                    b"ab,;\"\n\r 1.-"[(b % 11) as usize]
                }
            })
            .collect();
        let target = ["reference.csv", "documents.csv", "truth.csv", "config.json"][round % 4];
        let original = std::fs::read(Path::new(&inputs.path(target))).unwrap();
        inputs.put(target, &bytes);
        let out = inputs.eval(&[]);
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(2),
            "round {round}: {code:?} {}",
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains("panicked"),
            "round {round}: {}",
            stderr(&out)
        );
        inputs.put(target, original);
    }
}
