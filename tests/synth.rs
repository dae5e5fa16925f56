//! `refmatch synth` as users run it: a generated set is the same bytes for the same
//! arguments, consistent with its truth, good input for `refmatch eval`, and bad
//! arguments are refused with exit code 2 and one line. The realistic profile (the
//! default) is measured from the written files against the rate table in docs/synth.md.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::process::Output;

use crate::util::{fixture, refmatch, stderr, stdout};

const FILES: [&str; 4] = ["reference.csv", "documents.csv", "truth.csv", "config.json"];

/// `extra` takes further flags, such as `--profile clean`.
fn synth(
    dir: &Path,
    reference_rows: u64,
    documents: u64,
    seed: Option<u64>,
    extra: &[&str],
) -> Output {
    let (rows, docs, out) = (
        reference_rows.to_string(),
        documents.to_string(),
        dir.display().to_string(),
    );
    let mut args = vec![
        "synth",
        "--reference-rows",
        &rows,
        "--documents",
        &docs,
        "--out",
        &out,
    ];
    let seed = seed.map(|s| s.to_string());
    if let Some(seed) = &seed {
        args.extend(["--seed", seed]);
    }
    args.extend(extra);
    refmatch(&args)
}

fn synth_ok(dir: &Path, reference_rows: u64, documents: u64, seed: Option<u64>, extra: &[&str]) {
    let out = synth(dir, reference_rows, documents, seed, extra);
    assert!(out.status.success(), "synth failed: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one summary line: {err}");
    assert!(
        err.contains(&format!("{reference_rows} reference rows")),
        "{err}"
    );
}

/// Header and records of a generated CSV file.
fn read_csv(dir: &Path, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(dir.join(name)).expect("generated file exists");
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    let records = reader
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
        .collect();
    (header, records)
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    synth_ok(&a, 2_000, 200, Some(7), &[]);
    synth_ok(&b, 2_000, 200, Some(7), &[]);
    synth_ok(&c, 2_000, 200, Some(8), &[]);
    for name in FILES {
        let first = std::fs::read(a.join(name)).unwrap();
        assert_eq!(
            first,
            std::fs::read(b.join(name)).unwrap(),
            "{name} differs"
        );
        if name != "config.json" {
            assert_ne!(
                first,
                std::fs::read(c.join(name)).unwrap(),
                "{name} ignores the seed"
            );
        }
    }
}

#[test]
fn the_default_seed_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    synth_ok(&a, 300, 30, None, &[]);
    synth_ok(&b, 300, 30, Some(1), &[]);
    for name in FILES {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap()
        );
    }
}

#[test]
fn the_default_profile_is_realistic_and_each_profile_has_its_own_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (default, realistic, again, clean) = (
        dir.path().join("default"),
        dir.path().join("realistic"),
        dir.path().join("again"),
        dir.path().join("clean"),
    );
    synth_ok(&default, 2_000, 300, Some(4), &[]);
    synth_ok(&realistic, 2_000, 300, Some(4), &["--profile", "realistic"]);
    synth_ok(&again, 2_000, 300, Some(4), &["--profile", "realistic"]);
    let out = synth(&clean, 2_000, 300, Some(4), &["--profile", "clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("profile clean"), "{}", stderr(&out));
    for name in FILES {
        let bytes = std::fs::read(realistic.join(name)).unwrap();
        assert_eq!(bytes, std::fs::read(again.join(name)).unwrap(), "{name}");
        assert_eq!(bytes, std::fs::read(default.join(name)).unwrap(), "{name}");
    }
    for name in ["reference.csv", "documents.csv"] {
        assert_ne!(
            std::fs::read(realistic.join(name)).unwrap(),
            std::fs::read(clean.join(name)).unwrap(),
            "{name} is the same in both profiles"
        );
    }
    // Refused by clap, as other bad flag values are: exit 2, the choices named.
    let out = synth(&clean, 10, 1, None, &["--profile", "messy"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("use realistic or clean"),
        "{}",
        stderr(&out)
    );
}

/// A rate of the table in docs/synth.md, as a fraction.
fn documented_rate(name: &str) -> f64 {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/synth.md"))
        .expect("docs/synth.md");
    let row = doc
        .lines()
        .find(|l| l.starts_with(&format!("| `{name}` ")))
        .unwrap_or_else(|| panic!("no row {name}"));
    let percent = row.split('|').nth(2).expect("a value cell").trim();
    percent
        .trim_end_matches('%')
        .parse::<f64>()
        .expect("a percentage")
        / 100.0
}

/// What a matcher's identifier comparison forgives: case, separators and the folded
/// look-alikes.
fn folded(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            'S' => '5',
            'B' => '8',
            'Z' => '2',
            'G' => '6',
            other => other,
        })
        .collect()
}

#[test]
fn the_realistic_profile_has_the_properties_of_its_table() {
    let dir = tempfile::tempdir().unwrap();
    synth_ok(
        dir.path(),
        20_000,
        2_000,
        Some(9),
        &["--profile", "realistic"],
    );
    let (_, reference) = read_csv(dir.path(), "reference.csv");
    let (_, documents) = read_csv(dir.path(), "documents.csv");
    let (_, truth) = read_csv(dir.path(), "truth.csv");

    // Short plain numbers that several vendors issued.
    let mut vendors_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for row in &reference {
        let number = row[2].as_str();
        if (3..=6).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit()) {
            vendors_of
                .entry(number)
                .or_default()
                .insert(row[1].as_str());
        }
    }
    let shared = vendors_of.values().filter(|v| v.len() >= 2).count();
    eprintln!("{shared} short numbers issued by two vendors or more");
    assert!(shared >= 100, "{shared} short numbers shared by vendors");
    let mut rows_per_vendor: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &reference {
        *rows_per_vendor.entry(row[1].as_str()).or_default() += 1;
    }
    let largest = rows_per_vendor.values().max().copied().unwrap_or(0);
    assert!(
        largest >= 600,
        "the largest vendor has {largest} of 20,000 rows"
    );

    // Fields missing independently, at the table's rates.
    let n = documents.len() as f64;
    for (column, rate) in [
        (2, "VENDOR_MISSING"),
        (3, "NUMBER_MISSING"),
        (4, "DATE_MISSING"),
        (5, "TOTAL_MISSING"),
    ] {
        let missing = documents.iter().filter(|d| d[column].is_empty()).count() as f64 / n;
        let want = documented_rate(rate);
        eprintln!("{rate}: {missing:.4} (table {want})");
        // Three standard deviations at 2,000 documents, and a little.
        let tolerance = 3.5 * (want * (1.0 - want) / n).sqrt();
        assert!(
            (missing - want).abs() <= tolerance,
            "{rate}: {missing:.4} missing, the table says {want}"
        );
    }
    let all_missing = documents
        .iter()
        .filter(|d| (2..=5).all(|c| d[c].is_empty()))
        .count();
    assert!(
        all_missing <= 2,
        "{all_missing} documents without any field"
    );

    // Invoice numbers that differ from the true row's even after folding.
    let rows: BTreeMap<&str, &Vec<String>> = reference.iter().map(|r| (r[0].as_str(), r)).collect();
    let (mut compared, mut differ, mut names_differ) = (0, 0, 0);
    for (document, link) in documents.iter().zip(&truth) {
        assert_eq!(document[0], link[0]);
        if link[1].is_empty() {
            continue;
        }
        let row = rows.get(link[1].as_str()).expect("the true row exists");
        if !document[2].is_empty() && document[2].to_lowercase() != row[1].to_lowercase() {
            names_differ += 1;
        }
        if document[3].is_empty() {
            continue;
        }
        compared += 1;
        if folded(&document[3]) != folded(&row[2]) {
            differ += 1;
        }
    }
    let share = f64::from(differ) / f64::from(compared);
    eprintln!("{differ} of {compared} invoice numbers differ after folding; {names_differ} names");
    assert!(
        (0.06..=0.25).contains(&share),
        "{differ} of {compared} invoice numbers differ after folding"
    );
    assert!(names_differ >= 300, "{names_differ} vendor names differ");
}

#[test]
fn counts_ids_and_truth_are_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/set");
    synth_ok(&out, 3_000, 400, Some(3), &[]);

    let (header, reference) = read_csv(&out, "reference.csv");
    assert_eq!(
        header,
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
    assert_eq!(reference.len(), 3_000);
    let ids: HashSet<&str> = reference.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), reference.len(), "reference ids are unique");
    let numbers: HashSet<(&str, &str)> = reference
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        numbers.len(),
        reference.len(),
        "invoice numbers unique per vendor"
    );
    let vendors: HashSet<&str> = reference.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(vendors.len(), 60, "one vendor per 50 rows");
    for row in &reference {
        let (id, date, total, po) = (&row[0], &row[3], &row[4], &row[6]);
        assert!(id.starts_with("OI-") && id[3..].bytes().all(|b| b.is_ascii_digit()));
        assert!(
            ("2024-01-01".."2027-01-01").contains(&date.as_str()),
            "{date}"
        );
        let (units, cents) = total.split_once('.').expect("two decimals");
        assert!(units.parse::<u64>().is_ok() && cents.len() == 2, "{total}");
        assert!(["EUR", "USD", "GBP", "CHF"].contains(&row[5].as_str()));
        assert!(
            po.is_empty() || (po.len() == 13 && po.starts_with("PO-45")),
            "{po}"
        );
    }

    let (header, documents) = read_csv(&out, "documents.csv");
    assert_eq!(
        header,
        [
            "document_id",
            "filename",
            "vendor_name",
            "invoice_number",
            "invoice_date",
            "total",
            "currency",
            "po_number"
        ]
    );
    assert_eq!(documents.len(), 400);
    let (header, truth) = read_csv(&out, "truth.csv");
    assert_eq!(header, ["document_id", "row_id"]);
    let document_ids: Vec<&str> = documents.iter().map(|d| d[0].as_str()).collect();
    let truth_ids: Vec<&str> = truth.iter().map(|t| t[0].as_str()).collect();
    assert_eq!(
        truth_ids, document_ids,
        "truth lists every document once, in order"
    );
    assert_eq!(
        document_ids.iter().collect::<HashSet<_>>().len(),
        documents.len()
    );
    assert!(documents.iter().all(|d| d[1].ends_with(".pdf")));

    let without_row = truth.iter().filter(|t| t[1].is_empty()).count();
    let share = without_row as f64 / truth.len() as f64;
    assert!((0.05..=0.15).contains(&share), "{share} without a row");
    let true_rows: Vec<&str> = truth
        .iter()
        .filter(|t| !t[1].is_empty())
        .map(|t| t[1].as_str())
        .collect();
    assert!(true_rows.iter().all(|r| ids.contains(r)), "true rows exist");
    assert_eq!(
        true_rows.iter().collect::<HashSet<_>>().len(),
        true_rows.len(),
        "no row is the truth of two documents"
    );

    let config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert_eq!(
        config,
        std::fs::read_to_string(fixture("config.json")).unwrap()
    );
}

#[test]
fn eval_with_the_written_config_reaches_f1_090() {
    let dir = tempfile::tempdir().unwrap();
    // The floor holds for the sets the matcher was tuned on, not for the realistic ones.
    synth_ok(dir.path(), 5_000, 500, None, &["--profile", "clean"]);
    let out = crate::util::Inputs::in_dir(dir.path()).eval(&[]);
    assert!(out.status.success(), "eval failed: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let f1 = report["f1"].as_f64().expect("f1 in the report");
    eprintln!("synth 5000 x 500, clean, seed 1: f1 {f1:.4}");
    assert!(f1 >= 0.9, "f1 {f1}: {report}");
    assert_eq!(report["documents"], 500);
    assert_eq!(report["reference_rows"], 5_000);
}

/// Exit code 2, one line on stderr that mentions `needle`.
fn assert_rejected(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

#[test]
fn bad_arguments_exit_2_with_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");

    assert_rejected(&synth(&out, 0, 0, None, &[]), "--reference-rows");
    assert_rejected(&synth(&out, 0, 10, None, &[]), "--reference-rows");
    assert_rejected(&synth(&out, 10, 100, None, &[]), "--documents");
    assert!(!out.exists(), "nothing is created for bad arguments");

    let file = dir.path().join("a-file");
    std::fs::write(&file, "keep me").unwrap();
    assert_rejected(&synth(&file, 100, 10, None, &[]), "--out");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}
