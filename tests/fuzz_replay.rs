//! Replays the fuzz corpora (`fuzz/corpus/<target>/`, minimised by `cargo fuzz cmin`) and
//! every input that once crashed a target (`fuzz/regressions/<target>/`) through the same
//! harness the fuzz target calls, so coverage the fuzzer found and bugs it caught stay
//! checked by a plain `cargo test`, without cargo-fuzz or a nightly compiler.

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `harness` on every corpus and regression input of `target`; the corpus must not be
/// empty, since an empty directory would make this test pass while checking nothing.
fn replay(target: &str, harness: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&fuzz.join("corpus").join(target));
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} has no inputs");
    let regressions = inputs(&fuzz.join("regressions").join(target));
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).expect("readable input");
        // A panic names the input, so a failure here can be reproduced with
        // `cargo fuzz run <target> <file>`.
        let result = std::panic::catch_unwind(|| harness(&data));
        assert!(result.is_ok(), "{target} panics on {}", path.display());
    }
}

#[test]
fn csv_ingest_corpus() {
    replay("csv_ingest", refmatch::fuzzing::csv_ingest);
}

#[test]
fn xlsx_ingest_corpus() {
    replay("xlsx_ingest", refmatch::fuzzing::xlsx_ingest);
}

#[test]
fn config_parse_corpus() {
    replay("config_parse", refmatch::fuzzing::config_parse);
}

#[test]
fn values_corpus() {
    replay("values", refmatch::fuzzing::values);
}

#[test]
fn multipart_corpus() {
    replay("multipart", refmatch::fuzzing::multipart);
}

#[test]
fn request_decoding_corpus() {
    replay("request_decoding", refmatch::fuzzing::request_decoding);
}
