#!/usr/bin/env python3
"""Splink on DuckDB against a set written by `refmatch synth` (issue 14 part 5).

Links the documents to the reference rows the way a reasonable Splink user would: light
cleaning of the fields synth writes (amounts and dates parsed, identifiers upper-cased with
separators dropped, currency symbols mapped to codes), blocking on invoice number, amount,
PO number and vendor, u by random sampling, lambda from a deterministic rule, m by EM, then
predict. Each document's best link (highest match probability) is its prediction; the
threshold on that probability is the one with the best F1 against the truth file, picked
on the truth itself (an upper bound for Splink, said in the output). F1 is counted as
`refmatch eval` counts it (SPEC section 4): a prediction is a true positive when it is the
true row, else a false positive; a true row not predicted is a false negative.

Prints one JSON line: wall time end to end (read CSVs, clean, train, predict, pick), F1,
precision, recall, threshold, pairs scored, peak RSS of this process (DuckDB runs in it).

Not part of the test suite or CI: see README.md beside this file.
"""

import argparse
import json
import os
import re
import resource
import sys
import time


def parse_amount(text):
    """`1.234,56`, `1,234.56`, `EUR 275,09`, `£59.71` -> float, else None."""
    if text is None:
        return None
    s = re.sub(r"[^0-9.,\-]", "", str(text))
    if not s or not re.search(r"\d", s):
        return None
    if "," in s and "." in s:
        # The later separator is the decimal one.
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = head.replace(",", "") + ("." if len(tail) != 3 else "") + tail
    elif s.count(".") == 1 and len(s.rpartition(".")[2]) == 3 and len(s) > 4:
        # `3.802`: a thousands dot, as European documents write it.
        s = s.replace(".", "")
    try:
        return float(s)
    except ValueError:
        return None


DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%Y"]


def parse_date(text):
    """ISO and day-first numeric dates -> `YYYY-MM-DD`; month names are left null."""
    from datetime import datetime

    if not text:
        return None
    t = str(text).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt).strftime("%Y-%m-%d")
        except ValueError:
            continue
    return None


CURRENCIES = {"€": "EUR", "$": "USD", "£": "GBP", "FR.": "CHF"}


def clean(df, id_column):
    import pandas as pd

    out = pd.DataFrame()
    out["unique_id"] = df[id_column].astype(str)
    vendor = df["vendor_name"].fillna("").astype(str).str.lower()
    vendor = vendor.str.replace(r"[^\w ]", " ", regex=True).str.split().str.join(" ")
    out["vendor_name"] = vendor.replace("", None)
    ident = lambda col: (
        df[col].fillna("").astype(str).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    ).replace("", None)
    out["invoice_number"] = ident("invoice_number")
    out["po_number"] = ident("po_number")
    out["total"] = df["total"].map(parse_amount)
    out["invoice_date"] = df["invoice_date"].map(parse_date)
    currency = df["currency"].fillna("").astype(str).str.strip().str.upper()
    out["currency"] = currency.map(lambda c: CURRENCIES.get(c, c)).replace("", None)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", help="a `refmatch synth --out` directory")
    ap.add_argument("--reference", help="reference CSV (default: DIR/reference.csv)")
    ap.add_argument("--documents", help="documents CSV (default: DIR/documents.csv)")
    ap.add_argument("--truth", help="truth CSV (default: DIR/truth.csv)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: all cores)")
    ap.add_argument("--max-pairs", type=float, default=1e7, help="u sampling pairs")
    args = ap.parse_args()
    path = lambda given, name: given or os.path.join(args.dir or ".", name)
    reference_csv = path(args.reference, "reference.csv")
    documents_csv = path(args.documents, "documents.csv")
    truth_csv = path(args.truth, "truth.csv")

    started = time.perf_counter()
    import duckdb
    import pandas as pd
    import splink
    import splink.comparison_library as cl
    import splink.comparison_level_library as cll
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    import logging

    logging.getLogger("splink").setLevel(logging.WARNING)

    reference = pd.read_csv(reference_csv, dtype=str, keep_default_na=False)
    documents = pd.read_csv(documents_csv, dtype=str, keep_default_na=False)
    ref = clean(reference, "id")
    doc = clean(documents, "document_id")
    read_s = time.perf_counter() - started

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    db_api = DuckDBAPI(connection=con)

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.LevenshteinAtThresholds("invoice_number", [1, 2]),
            cl.JaroWinklerAtThresholds("vendor_name", [0.92, 0.8]),
            # Splink 4.0 has no numeric comparison in its library: levels by hand.
            cl.CustomComparison(
                output_column_name="total",
                comparison_levels=[
                    cll.NullLevel("total"),
                    cll.ExactMatchLevel("total"),
                    cll.PercentageDifferenceLevel("total", 0.01),
                    cll.PercentageDifferenceLevel("total", 0.1),
                    cll.ElseLevel(),
                ],
            ),
            cl.AbsoluteDateDifferenceAtThresholds(
                "invoice_date",
                input_is_string=True,
                metrics=["day", "day", "day"],
                thresholds=[1, 7, 30],
            ),
            cl.ExactMatch("po_number"),
            cl.ExactMatch("currency"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("invoice_number"),
            block_on("total"),
            block_on("po_number"),
            block_on("vendor_name", "invoice_date"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker([ref, doc], settings, db_api=db_api, input_table_aliases=["ref", "doc"])
    linker.training.estimate_probability_two_random_records_match(
        [block_on("invoice_number", "total")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=args.max_pairs)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("invoice_number")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("total"))
    trained_s = time.perf_counter() - started

    predictions = linker.inference.predict(threshold_match_probability=0.01)
    table = predictions.physical_name
    # Each document's best link, whichever side Splink put it on.
    best = con.execute(
        f"""
        WITH pairs AS (
            SELECT CASE WHEN source_dataset_l = 'doc' THEN unique_id_l ELSE unique_id_r END AS doc,
                   CASE WHEN source_dataset_l = 'doc' THEN unique_id_r ELSE unique_id_l END AS row,
                   match_probability AS p
            FROM {table}
        )
        SELECT doc, arg_max(row, p) AS row, max(p) AS p, count(*) AS n FROM pairs GROUP BY doc
        """
    ).fetchall()
    pairs = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    wall_s = time.perf_counter() - started

    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    true_row = dict(zip(truth["document_id"], truth["row_id"]))
    top = {d: (r, p) for d, r, p, _ in best}
    # Sweep thresholds over the predicted probabilities (and 1.0 + nothing predicted).
    candidates = sorted({p for _, p in top.values()} | {1.01})
    best_f1 = (-1.0, 0.0, 0.0, 0.0, 1.01)
    for t in candidates:
        tp = fp = 0
        for d, (r, p) in top.items():
            if p >= t:
                if true_row.get(d) == r:
                    tp += 1
                else:
                    fp += 1
        positives = sum(1 for r in true_row.values() if r)
        fn = positives - tp
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        if f1 > best_f1[0]:
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            best_f1 = (f1, precision, recall, tp, t)
    f1, precision, recall, tp, threshold = best_f1

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "tool": "splink",
                "splink": splink.__version__,
                "duckdb": duckdb.__version__,
                "reference_rows": len(ref),
                "documents": len(doc),
                "cores": os.cpu_count(),
                "read_and_clean_s": round(read_s, 2),
                "train_s": round(trained_s - read_s, 2),
                "predict_s": round(wall_s - trained_s, 2),
                "wall_s": round(wall_s, 2),
                "pairs_scored": pairs,
                "documents_with_a_link": len(top),
                "f1": round(f1, 4),
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "threshold_match_probability": round(threshold, 4),
                "threshold_picked_on": "the truth (best F1): an upper bound for Splink",
                "peak_rss_mb": round(peak_kb / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
