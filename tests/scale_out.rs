//! Index snapshots, sharded matching and the assignment over shards (issue 18), through
//! the real binary: a snapshot gives byte-identical output to the CSV it was built from, a
//! damaged or foreign one is refused with one line and exit code 2, and N shards together
//! give the unsharded output, line for line after sorting, with and without a one-to-one
//! assignment.

use std::path::Path;

use crate::util::{self, refmatch, stderr, stdout, Inputs};

/// `index build` of `inputs` into `dir/ledger.rmidx`.
fn build_index(inputs: &Inputs, dir: &Path) -> String {
    let path = dir.join("ledger.rmidx").display().to_string();
    let out = refmatch(&[
        "index",
        "build",
        "--reference",
        &inputs.reference,
        "--config",
        &inputs.config,
        "--out",
        &path,
    ]);
    assert!(out.status.success(), "index build failed: {}", stderr(&out));
    path
}

/// `refmatch match` with the index snapshot instead of the reference, plus `extra`.
fn match_index(inputs: &Inputs, index: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "match",
        "--index",
        index,
        "--documents",
        &inputs.documents,
        "--config",
        &inputs.config,
    ];
    args.extend_from_slice(extra);
    refmatch(&args)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A generated set (realistic noise, one-to-one) and the fixtures, each also with
/// `assignment: none`: four sets of inputs in `dir`.
fn sets(dir: &Path) -> Vec<(String, Inputs)> {
    let synth = dir.join("synth");
    let out = refmatch(&[
        "synth",
        "--reference-rows",
        "3000",
        "--documents",
        "800",
        "--seed",
        "5",
        "--out",
        &synth.display().to_string(),
    ]);
    assert!(out.status.success(), "synth failed: {}", stderr(&out));
    let mut sets = Vec::new();
    for (name, inputs) in [
        ("fixtures", Inputs::fixtures()),
        ("synth", Inputs::in_dir(&synth)),
    ] {
        let config = read(Path::new(&inputs.config));
        assert!(
            config.contains("\"one_to_one\""),
            "{name} assigns one to one"
        );
        let none = dir.join(format!("{name}-none.json"));
        std::fs::write(&none, config.replace("\"one_to_one\"", "\"none\"")).unwrap();
        let inputs_none = Inputs {
            config: none.display().to_string(),
            ..Inputs::in_dir(Path::new(&inputs.reference).parent().unwrap())
        };
        sets.push((format!("{name} one_to_one"), inputs));
        sets.push((format!("{name} none"), inputs_none));
    }
    // A low threshold puts more documents in contention for rows: the assignment moves
    // about a dozen matches of this set, where at 0.8 it moves one.
    let config = read(&synth.join("config.json"));
    assert!(config.contains("\"threshold\": 0.8,"));
    let low = dir.join("synth-low.json");
    std::fs::write(
        &low,
        config.replace("\"threshold\": 0.8,", "\"threshold\": 0.4,"),
    )
    .unwrap();
    sets.push((
        "synth threshold 0.4 one_to_one".into(),
        Inputs {
            config: low.display().to_string(),
            ..Inputs::in_dir(&synth)
        },
    ));
    sets
}

#[test]
fn match_and_eval_from_a_snapshot_equal_those_from_the_csv_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for (name, inputs) in sets(dir.path()) {
        let index = build_index(&inputs, dir.path());
        for out_name in ["out.csv", "out.jsonl"] {
            let b = dir.path();
            let csv_path = b.join(format!("csv-{out_name}"));
            let idx_path = b.join(format!("idx-{out_name}"));
            let from_csv = inputs.match_(&["--out", &csv_path.display().to_string()]);
            assert!(from_csv.status.success(), "{name}: {}", stderr(&from_csv));
            let from_index =
                match_index(&inputs, &index, &["--out", &idx_path.display().to_string()]);
            assert!(
                from_index.status.success(),
                "{name}: {}",
                stderr(&from_index)
            );
            let (x, y) = (read(&csv_path), read(&idx_path));
            assert!(x.lines().count() > 100, "{name}: a real output");
            assert!(x == y, "{name} {out_name}: the snapshot's output differs");
        }
        let eval_csv = inputs.eval(&[]);
        let mut args = vec![
            "eval",
            "--index",
            &index,
            "--documents",
            &inputs.documents,
            "--config",
            &inputs.config,
            "--truth",
            &inputs.truth,
            "--json",
        ];
        let eval_index = refmatch(&args);
        assert!(
            eval_index.status.success(),
            "{name}: {}",
            stderr(&eval_index)
        );
        let strip = |text: String| -> serde_json::Value {
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            v.as_object_mut().unwrap().remove("elapsed_ms");
            v
        };
        assert_eq!(
            strip(stdout(&eval_csv)),
            strip(stdout(&eval_index)),
            "{name}"
        );
        // One thread or two: the same bytes.
        args.extend_from_slice(&["--threads", "1"]);
        assert_eq!(strip(stdout(&refmatch(&args))), strip(stdout(&eval_index)));
    }
}

/// Runs `args` and checks it fails with exit code 2 and one line naming `expected`.
fn refused(args: &[&str], expected: &str) {
    let out = refmatch(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(expected),
        "{args:?}: expected {expected:?} in {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_damaged_foreign_or_mismatched_snapshot_is_refused_with_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inputs = Inputs::fixtures();
    let index = build_index(&inputs, d);
    let bytes = std::fs::read(&index).unwrap();
    let run = |path: &Path, expected: &str| {
        refused(
            &[
                "match",
                "--index",
                &path.display().to_string(),
                "--documents",
                &inputs.documents,
                "--config",
                &inputs.config,
            ],
            expected,
        )
    };
    let bad = d.join("bad.rmidx");
    // Truncated anywhere: in the header, in the payload, one byte short.
    for cut in [0, 7, 12, 30, 60, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&bad, &bytes[..cut]).unwrap();
        let expected = if cut < 8 {
            "not a refmatch index"
        } else {
            "truncated"
        };
        run(&bad, expected);
    }
    // A flipped byte in the payload, at the end, and a byte too many.
    for at in [bytes.len() / 3, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x20;
        std::fs::write(&bad, &flipped).unwrap();
        run(&bad, "corrupt");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(&bad, &longer).unwrap();
    run(&bad, "corrupt");
    // Another format, another refmatch version (same length, so only the text differs).
    let mut format = bytes.clone();
    format[8] = format[8].wrapping_add(1);
    std::fs::write(&bad, &format).unwrap();
    run(&bad, "snapshot format");
    let version = env!("CARGO_PKG_VERSION");
    let at = bytes
        .windows(version.len())
        .position(|w| w == version.as_bytes())
        .unwrap();
    let mut other = bytes.clone();
    other[at] = if other[at] == b'9' { b'8' } else { b'9' };
    std::fs::write(&bad, &other).unwrap();
    run(&bad, "written by refmatch");
    // Not a snapshot at all, and a missing file.
    run(Path::new(&inputs.reference), "not a refmatch index");
    run(&d.join("absent.rmidx"), "absent.rmidx");
    // A config with other mappings (another tolerance) than the snapshot was built for.
    let config =
        read(Path::new(&inputs.config)).replace("\"tolerance_days\": 7", "\"tolerance_days\": 3");
    let other_config = util::write(d, "other.json", config);
    refused(
        &[
            "match",
            "--index",
            &index,
            "--documents",
            &inputs.documents,
            "--config",
            &other_config,
        ],
        "other mappings",
    );
    // --index and --reference together is a usage error.
    let out = refmatch(&[
        "match",
        "--index",
        &index,
        "--reference",
        &inputs.reference,
        "--documents",
        &inputs.documents,
        "--config",
        &inputs.config,
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// The output's lines without the CSV header, sorted (document ids lead each line).
fn sorted_lines(text: &str, csv: bool) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .skip(usize::from(csv))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn shards_together_equal_the_unsharded_output_for_1_3_and_7_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, inputs) in sets(d) {
        let one_to_one = name.ends_with("one_to_one");
        let index = build_index(&inputs, d);
        for ext in ["csv", "jsonl"] {
            let whole_path = d.join(format!("whole.{ext}"));
            let whole = inputs.match_(&["--out", &whole_path.display().to_string()]);
            assert!(whole.status.success(), "{name}: {}", stderr(&whole));
            let whole = read(&whole_path);
            if name.contains("0.4") && ext == "jsonl" {
                let moved = whole.matches("\"assigned\":true").count();
                assert!(moved >= 5, "{name}: the assignment moves matches ({moved})");
            }
            for n in [1, 3, 7] {
                let mut parts = Vec::new();
                for i in 0..n {
                    // A one-to-one shard writes candidates, always JSON Lines.
                    let part = d.join(format!(
                        "part-{i}.{}",
                        if one_to_one { "jsonl" } else { ext }
                    ));
                    let shard = format!("{i}/{n}");
                    let out = match_index(
                        &inputs,
                        &index,
                        &["--shard", &shard, "--out", &part.display().to_string()],
                    );
                    assert!(out.status.success(), "{name} {shard}: {}", stderr(&out));
                    parts.push(part.display().to_string());
                }
                let combined = if one_to_one {
                    let out_path = d.join(format!("assigned.{ext}"));
                    let out_arg = out_path.display().to_string();
                    let mut args = vec!["assign", "--out", &out_arg];
                    args.extend(parts.iter().map(String::as_str));
                    let out = refmatch(&args);
                    assert!(out.status.success(), "{name} assign: {}", stderr(&out));
                    read(&out_path)
                } else {
                    let texts: Vec<String> = parts.iter().map(|p| read(Path::new(p))).collect();
                    let header = if ext == "csv" {
                        whole.lines().next().unwrap().to_string() + "\n"
                    } else {
                        String::new()
                    };
                    for t in &texts {
                        if ext == "csv" {
                            assert!(t.starts_with(&header), "each CSV shard has the header");
                        }
                    }
                    header
                        + &texts
                            .iter()
                            .map(|t| {
                                t.lines()
                                    .skip(usize::from(ext == "csv"))
                                    .collect::<Vec<_>>()
                                    .join("\n")
                            })
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                            .join("\n")
                };
                let csv = ext == "csv";
                assert_eq!(
                    sorted_lines(&combined, csv),
                    sorted_lines(&whole, csv),
                    "{name}, {n} shards, {ext}"
                );
                if n > 1 {
                    // Every shard holds some documents: the hash spreads them.
                    assert!(parts
                        .iter()
                        .all(|p| read(Path::new(p)).lines().count() > usize::from(csv)));
                }
            }
        }
    }
}

#[test]
fn assign_refuses_a_shard_given_twice_and_a_file_that_is_not_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inputs = Inputs::fixtures();
    let part = d.join("part.jsonl").display().to_string();
    let out = inputs.match_(&["--shard", "0/2", "--out", &part]);
    assert!(out.status.success(), "{}", stderr(&out));
    refused(&["assign", &part, &part], "more than one line");
    let plain = d.join("plain.jsonl").display().to_string();
    let out = inputs.match_(&["--out", &plain]);
    assert!(out.status.success());
    refused(&["assign", &plain], "no assignable rows");
    refused(&["assign", &inputs.reference], "line 1");
    // A one-to-one shard must write JSON Lines, and a shard must exist.
    let out = inputs.match_(&["--shard", "0/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".jsonl"), "{}", stderr(&out));
    // --candidates without a shard: the whole file's candidates, assigned apart.
    let cand = d.join("cand.jsonl").display().to_string();
    let out = inputs.match_(&["--candidates", "--out", &cand]);
    assert!(out.status.success(), "{}", stderr(&out));
    let assigned = d.join("assigned.jsonl").display().to_string();
    let out = refmatch(&["assign", "--out", &assigned, &cand]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(Path::new(&assigned)), read(Path::new(&plain)));
    for bad in ["2/2", "0/0", "x"] {
        let out = inputs.match_(&["--shard", bad]);
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
    }
}
