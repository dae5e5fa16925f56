//! Helpers shared by the integration test modules: run the real binary, write small input files.

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Says on the real stderr (past the harness's capture) that a test skipped, and why.
pub fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
}

pub fn refmatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .args(args)
        .output()
        .expect("the refmatch binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/invoices")
        .join(name)
        .display()
        .to_string()
}

/// The public benchmark set beside the repository, when this machine has it.
pub fn dblp_acm() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/benchmarks/dblp-acm");
    dir.join("truth.csv").exists().then_some(dir)
}

pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file is writable");
    path.display().to_string()
}

/// The input files of one offline run: reference, documents, config and truth.
pub struct Inputs {
    pub reference: String,
    pub documents: String,
    pub config: String,
    pub truth: String,
}

impl Inputs {
    /// The four files under their usual names in `dir`.
    pub fn in_dir(dir: &Path) -> Inputs {
        let path = |f: &str| dir.join(f).display().to_string();
        Inputs {
            reference: path("reference.csv"),
            documents: path("documents.csv"),
            config: path("config.json"),
            truth: path("truth.csv"),
        }
    }

    /// The shipped invoice fixtures.
    pub fn fixtures() -> Inputs {
        Inputs::in_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invoices"))
    }

    /// `refmatch eval ... --json` plus `extra`.
    pub fn eval(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "eval",
            "--reference",
            &self.reference,
            "--documents",
            &self.documents,
            "--config",
            &self.config,
            "--truth",
            &self.truth,
            "--json",
        ];
        args.extend_from_slice(extra);
        refmatch(&args)
    }

    /// `refmatch match ...` plus `extra`.
    pub fn match_(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "match",
            "--reference",
            &self.reference,
            "--documents",
            &self.documents,
            "--config",
            &self.config,
        ];
        args.extend_from_slice(extra);
        refmatch(&args)
    }
}
