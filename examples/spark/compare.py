#!/usr/bin/env python3
"""Checks that the Spark job's Parquet results equal `refmatch match` on one machine.

    python compare.py results.parquet single.jsonl

Per document: the matched row, the confidence, the candidates with their evidence (the
exact JSON text) and, when present, `assigned`. Exit 0 when every document agrees."""

import sys

import pyarrow.parquet as pq

from refmatch_spark import parse_line

FIELDS = ["matched_reference_row_id", "confidence", "candidates", "assigned"]


def main():
    parquet, single = sys.argv[1], sys.argv[2]
    table = pq.read_table(parquet).to_pandas()
    got = {}
    for row in table.to_dict("records"):
        got[row["document_id"]] = tuple(
            None if row.get(f) is None or row.get(f) != row.get(f) else row.get(f)
            for f in FIELDS
        )
    want = {}
    with open(single, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = parse_line(line)
                want[r["document_id"]] = tuple(r[f] for f in FIELDS)
    if len(table) != len(got):
        print(f"DIFFERENT: {len(table) - len(got)} documents appear twice in {parquet}")
        sys.exit(1)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(d for d in set(want) & set(got) if want[d] != got[d])
    if missing or extra or differ:
        print(f"DIFFERENT: {len(missing)} missing, {len(extra)} extra, {len(differ)} differ")
        for d in (missing + extra + differ)[:5]:
            print(f"  {d}: spark {got.get(d)!r:.300}\n  {' ' * len(d)}  single {want.get(d)!r:.300}")
        sys.exit(1)
    print(f"equal: {len(want)} documents")


if __name__ == "__main__":
    main()
