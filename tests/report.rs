//! `refmatch eval --report`: the HTML file as users get it from the real binary, checked
//! against `eval --json`, `match` and the truth file.

use std::collections::HashMap;
use std::path::Path;

use crate::util::{refmatch, stderr, stdout, write, Inputs};
use serde_json::Value;

/// The shipped fixtures with the config's threshold replaced, in `dir`. The shipped
/// threshold makes no mistakes on them; a low one gives false positives and a high one
/// false negatives.
fn fixtures_at(dir: &Path, threshold: &str) -> Inputs {
    let shipped = Inputs::fixtures();
    let config = std::fs::read_to_string(&shipped.config).unwrap();
    assert!(config.contains("\"threshold\": 0.8"));
    let config = config.replace("\"threshold\": 0.8", &format!("\"threshold\": {threshold}"));
    Inputs {
        config: write(dir, &format!("config-{threshold}.json"), config),
        ..shipped
    }
}

/// Runs `eval --json --report FILE` and returns the JSON and the HTML.
fn eval_with_report(inputs: &Inputs, report: &Path, extra: &[&str]) -> (Value, String) {
    let path = report.display().to_string();
    let mut args = vec!["--report", path.as_str()];
    args.extend_from_slice(extra);
    let out = inputs.eval(&args);
    assert!(out.status.success(), "eval failed: {}", stderr(&out));
    let json = serde_json::from_str(&stdout(&out)).expect("eval --json prints one JSON object");
    let html = std::fs::read_to_string(report).expect("the report is written");
    (json, html)
}

/// The value of `data-value` on the element with id `id`.
fn metric(html: &str, id: &str) -> f64 {
    let start = html
        .find(&format!("id=\"{id}\" data-value=\""))
        .unwrap_or_else(|| panic!("no element {id}"));
    let rest = &html[start..];
    let value = rest.split('"').nth(3).unwrap();
    value.parse().unwrap()
}

/// `(kind, document id, predicted row, true row, confidence)` of every worst case listed.
fn cases(html: &str) -> Vec<(String, String, String, String, f64)> {
    html.split("<article class=\"case\" ")
        .skip(1)
        .map(|a| {
            let attr = |name: &str| {
                let start = a.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let len = a[start..].find('"').unwrap();
                a[start..start + len].to_string()
            };
            (
                attr("data-kind"),
                attr("data-document-id"),
                attr("data-predicted-row"),
                attr("data-true-row"),
                attr("data-confidence").parse().unwrap(),
            )
        })
        .collect()
}

fn truth_of(inputs: &Inputs) -> HashMap<String, String> {
    std::fs::read_to_string(&inputs.truth)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(d, r)| (d.to_string(), r.trim().to_string()))
        .collect()
}

/// What `refmatch match` predicts per document (None below the threshold).
fn predictions(inputs: &Inputs, dir: &Path) -> HashMap<String, Option<String>> {
    let out_path = dir.join("predictions.jsonl").display().to_string();
    let out = inputs.match_(&["--out", &out_path]);
    assert!(out.status.success(), "match failed: {}", stderr(&out));
    std::fs::read_to_string(&out_path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["document_id"].as_str().unwrap().to_string(),
                v["matched_reference_row_id"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), 2, "two charts");
    for external in [
        "http://", "https://", "src=", "href=", "url(", "@import", "<script",
    ] {
        assert!(!html.contains(external), "the report contains {external}");
    }
    assert!(html.contains("<details>"), "the sweep as a table");
    assert!(html.contains("aria-labelledby=\"pr-curve-title"));
}

#[test]
fn the_report_is_self_contained_and_its_counts_are_those_of_eval_json() {
    let dir = tempfile::tempdir().unwrap();
    for threshold in ["0.8", "0.3", "0.95"] {
        let inputs = fixtures_at(dir.path(), threshold);
        let report = dir.path().join(format!("report-{threshold}.html"));
        let (json, html) = eval_with_report(&inputs, &report, &[]);
        assert_self_contained(&html);
        for (id, key) in [
            ("m-tp", "tp"),
            ("m-fp", "fp"),
            ("m-fn", "fn"),
            ("m-precision", "precision"),
            ("m-recall", "recall"),
            ("m-f1", "f1"),
            ("m-best-threshold", "best_threshold"),
            ("m-best-f1", "best_f1"),
        ] {
            let expected = json[key].as_f64().unwrap();
            assert_eq!(metric(&html, id), expected, "{key} at {threshold}");
        }
        // True negatives are the documents without a true row that nothing was predicted for.
        let truth = truth_of(&inputs);
        let predicted = predictions(&inputs, dir.path());
        let tn = predicted
            .iter()
            .filter(|(d, p)| truth.get(*d).is_none_or(|t| t.is_empty()) && p.is_none())
            .count();
        assert_eq!(metric(&html, "m-tn"), tn as f64);
        // The sweep table has every threshold.
        assert_eq!(html.matches("<td class=\"n\">").count(), 101 * 7);

        // stdout is what it is without --report.
        let plain = inputs.eval(&[]);
        let mut plain: Value = serde_json::from_str(&stdout(&plain)).unwrap();
        let mut with_report = json.clone();
        plain.as_object_mut().unwrap().remove("elapsed_ms");
        with_report.as_object_mut().unwrap().remove("elapsed_ms");
        assert_eq!(plain, with_report);
    }
}

#[test]
fn the_worst_cases_are_real_false_positives_and_false_negatives() {
    let dir = tempfile::tempdir().unwrap();
    for (threshold, kind) in [("0.3", "fp"), ("0.95", "fn")] {
        let inputs = fixtures_at(dir.path(), threshold);
        let report = dir.path().join("report.html");
        let (json, html) = eval_with_report(&inputs, &report, &[]);
        let truth = truth_of(&inputs);
        let predicted = predictions(&inputs, dir.path());
        let listed = cases(&html);
        let total = json[kind].as_u64().unwrap() as usize;
        assert!(total > 0, "threshold {threshold} makes {kind} mistakes");
        assert_eq!(
            listed.iter().filter(|c| c.0 == kind).count(),
            total.min(20),
            "{kind} at {threshold}"
        );
        for (kind, document, predicted_row, true_row, _) in &listed {
            let truth = truth.get(document).cloned().unwrap_or_default();
            let matched = predicted[document].clone().unwrap_or_default();
            assert_eq!(&truth, true_row, "{document}");
            assert_eq!(&matched, predicted_row, "{document}");
            match kind.as_str() {
                "fp" => assert!(!matched.is_empty() && matched != truth, "{document}"),
                _ => assert!(!truth.is_empty() && matched != truth, "{document}"),
            }
        }
        // Worst first: false positives by confidence descending, false negatives by the
        // true row's confidence ascending.
        let confidences: Vec<f64> = listed.iter().filter(|c| c.0 == kind).map(|c| c.4).collect();
        let sorted = confidences.windows(2).all(|w| match kind {
            "fp" => w[0] >= w[1],
            _ => w[0] <= w[1],
        });
        assert!(sorted, "{kind} order: {confidences:?}");
    }
}

/// A tiny set with markup in ids and values, and one of each kind of mistake.
fn markup_set(dir: &Path) -> Inputs {
    write(
        dir,
        "reference.csv",
        "id,vendor,invoice_number,total\n\
         R1,<script>alert(1)</script> & Co,INV-1001,100.00\n\
         R2,Acme & Sons,INV-2002,200.00\n\
         R<3>,Other Ltd,INV-3003,300.00\n",
    );
    write(
        dir,
        "documents.csv",
        "document_id,vendor,invoice_number,total\n\
         D1,<script>alert(1)</script> & Co,INV-1001,100.00\n\
         D2,Acme & Sons,INV-2002,200.00\n\
         D3,Nobody,INV-9999,999\n\
         D<4>&,<script>alert(1)</script> & Co,INV-1001,100.00\n",
    );
    write(
        dir,
        "truth.csv",
        "document_id,row_id\nD1,R1\nD2,R<3>\nD3,R2\nD<4>&,\n",
    );
    write(
        dir,
        "config.json",
        r#"{"threshold": 0.8, "field_mappings": [
            {"source": "invoice_number", "target": "invoice_number", "strategy": "identifier", "weight": 0.5},
            {"source": "vendor", "target": "vendor", "strategy": "fuzzy", "weight": 0.3},
            {"source": "total", "target": "total", "strategy": "numeric_range", "weight": 0.2}]}"#,
    );
    Inputs::in_dir(dir)
}

#[test]
fn user_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = markup_set(dir.path());
    let report = dir.path().join("report.html");
    let (json, html) = eval_with_report(&inputs, &report, &[]);
    assert_eq!(
        (
            json["tp"].as_u64(),
            json["fp"].as_u64(),
            json["fn"].as_u64()
        ),
        (Some(1), Some(2), Some(2)),
        "{json}"
    );
    assert_self_contained(&html);
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("Acme &amp; Sons"));
    assert!(html.contains("data-document-id=\"D&lt;4&gt;&amp;\""));
    assert!(html.contains("data-true-row=\"R&lt;3&gt;\""));
    let listed = cases(&html);
    let kinds: Vec<(&str, &str)> = listed
        .iter()
        .map(|c| (c.0.as_str(), c.1.as_str()))
        .collect();
    // D2 predicted the wrong row: it is both a false positive and a false negative.
    assert!(kinds.contains(&("fp", "D2")) && kinds.contains(&("fn", "D2")));
    assert!(kinds.contains(&("fp", "D&lt;4&gt;&amp;")));
    assert!(kinds.contains(&("fn", "D3")));
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = fixtures_at(dir.path(), "0.95");
    let a = dir.path().join("a.html");
    let b = dir.path().join("b.html");
    let (_, first) = eval_with_report(&inputs, &a, &[]);
    let (_, second) = eval_with_report(&inputs, &b, &["--threads", "1"]);
    assert!(first == second, "two runs wrote different reports");
}

/// The files in `dir`, to show that nothing (not even a temporary file) was left.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_unwritable_report_path_is_bad_usage_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Inputs::fixtures();
    let missing_dir = dir.path().join("no-such-dir").join("report.html");
    let is_dir = dir.path().join("a-directory");
    std::fs::create_dir(&is_dir).unwrap();
    for path in [&missing_dir, &is_dir] {
        let before = listing(dir.path());
        let out = inputs.eval(&["--report", &path.display().to_string()]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(
            stderr(&out).trim_end().lines().count(),
            1,
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("report"), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
        assert_eq!(listing(dir.path()), before);
    }
    assert!(!missing_dir.exists());
    assert!(listing(&is_dir).is_empty());

    // An eval that fails on its input leaves no report and no temporary file behind.
    let bad_truth = write(dir.path(), "truth.csv", "document_id,row_id\nD-0001,NOPE\n");
    let report = dir.path().join("report.html");
    let out = refmatch(&[
        "eval",
        "--reference",
        &inputs.reference,
        "--documents",
        &inputs.documents,
        "--config",
        &inputs.config,
        "--truth",
        &bad_truth,
        "--report",
        &report.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        listing(dir.path()),
        ["a-directory".to_string(), "truth.csv".to_string()]
    );
}
