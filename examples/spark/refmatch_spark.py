#!/usr/bin/env python3
"""Match documents with refmatch on Spark: one `refmatch match --index` per partition.

The matcher is a pure function of (reference snapshot, config, document), so a Spark job
only has to ship the binary, the snapshot and the config to the executors, hand each
partition's documents to `refmatch match` as a CSV file and read its JSON Lines back.
With `"assignment": "one_to_one"` a partition cannot assign on its own (other partitions'
documents compete for the same rows): each writes its candidates (`match --candidates`)
and `refmatch assign` on the driver makes the assignment over all of them (the candidate
graph is a few rows per document).

    spark-submit refmatch_spark.py --refmatch target/release/refmatch \
        --index ledger.rmidx --config config.json \
        --documents documents.csv --out results.parquet

Documents: CSV with a header, or Parquet (`--documents` ending in `.parquet`, or
`--format parquet`); every column is read as text, and the document id column
(`--id-column`, default `document_id`) must exist: Spark does not keep file positions.
Results: Parquet with `document_id`, `matched_reference_row_id`, `confidence`,
`candidates` (the candidates and their evidence as JSON text, exactly as `refmatch match`
writes them) and, with a one-to-one config, `assigned`.

Build the snapshot once with `refmatch index build --reference R.csv --config C.json
--out ledger.rmidx`; the binary must run on the executors (same OS and architecture:
build it there, or statically).
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time

from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    StringType,
    StructField,
    StructType,
)

RESULT_FIELDS = [
    StructField("document_id", StringType(), False),
    StructField("matched_reference_row_id", StringType(), True),
    StructField("confidence", DoubleType(), False),
    StructField("candidates", StringType(), False),
    StructField("assigned", BooleanType(), True),
    # The raw line of a one-to-one partition, for `refmatch assign`.
    StructField("line", StringType(), True),
]
RESULT_SCHEMA = StructType(RESULT_FIELDS)
NAMES = [f.name for f in RESULT_FIELDS]
# Results handed back to Spark per Arrow batch.
OUTPUT_ROWS = 5_000


def parse_line(line):
    """One JSON Lines result as a row; `candidates` is kept as the exact JSON text
    refmatch wrote (re-serialising it could change how a float is spelled)."""
    value = json.loads(line)
    at = line.index('"candidates":') + len('"candidates":')
    _, end = json.JSONDecoder().raw_decode(line, at)
    light = None
    if "assignable" in value:
        # What `refmatch assign` needs of a document, without its candidates' evidence
        # (the bulk of the line): the driver gathers these lines.
        light = json.dumps({
            "document_id": value["document_id"],
            "confidence": value["confidence"],
            "candidates": [],
            "assignable": value["assignable"],
        })
    return {
        "document_id": value["document_id"],
        "matched_reference_row_id": value["matched_reference_row_id"],
        "confidence": float(value["confidence"]),
        "candidates": line[at:end],
        "assigned": value.get("assigned"),
        "line": light,
    }


def executable(name):
    """The shipped binary, made executable (files fetched by Spark may lose the bit)."""
    path = SparkFiles.get(name)
    if not os.access(path, os.X_OK):
        try:
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        except OSError:
            copy = os.path.join(tempfile.mkdtemp(prefix="refmatch-bin-"), name)
            shutil.copy(path, copy)
            os.chmod(copy, 0o755)
            path = copy
    return path


def match_partition(args, one_to_one):
    binary, index, config = (
        os.path.basename(args.refmatch),
        os.path.basename(args.index),
        os.path.basename(args.config),
    )
    chunk_rows, threads = args.chunk_rows, str(args.threads)

    def run(frames):
        import pandas as pd

        documents = pd.concat(frames, ignore_index=True)
        work = tempfile.mkdtemp(prefix="refmatch-part-")
        try:
            docs = os.path.join(work, "documents.csv")
            out = os.path.join(work, "results.jsonl")
            documents.to_csv(docs, index=False)
            command = [
                executable(binary),
                "match",
                "--index",
                SparkFiles.get(index),
                "--config",
                SparkFiles.get(config),
                "--documents",
                docs,
                "--out",
                out,
                "--threads",
                threads,
            ]
            if one_to_one:
                command.append("--candidates")
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(
                    f"refmatch match failed ({done.returncode}): {done.stderr.strip()}"
                )
            # Handed back in slices: a result with its evidence is a few KB, and a
            # partition's results in one Arrow batch would have to fit in memory at once.
            rows = []
            with open(out, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        rows.append(parse_line(line))
                    if len(rows) == OUTPUT_ROWS:
                        yield pd.DataFrame(rows, columns=NAMES)
                        rows = []
            if rows:
                yield pd.DataFrame(rows, columns=NAMES)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def each_partition(batches):
        # Batches are gathered up to `chunk_rows` documents per refmatch run: each run
        # loads the snapshot once (about 0.1 s per 100,000 rows).
        frames, rows = [], 0
        for batch in batches:
            frames.append(batch)
            rows += len(batch)
            if rows >= chunk_rows:
                yield from run(frames)
                frames, rows = [], 0
        if rows:
            yield from run(frames)

    return each_partition


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refmatch", required=True, help="the refmatch binary")
    parser.add_argument("--index", required=True, help="snapshot of `refmatch index build`")
    parser.add_argument("--config", required=True, help="the matching config (JSON)")
    parser.add_argument("--documents", required=True, help="CSV or Parquet")
    parser.add_argument("--format", choices=["csv", "parquet"], help="default: by extension")
    parser.add_argument("--id-column", default="document_id")
    parser.add_argument("--out", required=True, help="results, written as Parquet")
    parser.add_argument("--partitions", type=int, default=0,
                        help="repartition the documents (default: as read)")
    parser.add_argument("--threads", type=int, default=1,
                        help="matcher threads per refmatch run (Spark runs one task per core)")
    parser.add_argument("--chunk-rows", type=int, default=200_000,
                        help="documents per refmatch run within a partition")
    parser.add_argument("--staging", default=None,
                        help="one-to-one: where results wait for the assignment "
                             "(default: OUT.staging, deleted at the end)")
    parser.add_argument("--work-dir", default=None,
                        help="driver scratch for the assignment (default: a temporary one)")
    args = parser.parse_args()

    started = time.monotonic()
    with open(args.config, encoding="utf-8") as f:
        one_to_one = json.load(f).get("assignment") == "one_to_one"

    spark = (
        SparkSession.builder.appName("refmatch")
        # pandas <-> Spark through Arrow: the assigned results come back in one step.
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session = time.monotonic() - started
    for path in (args.refmatch, args.index, args.config):
        spark.sparkContext.addFile(os.path.abspath(path))

    fmt = args.format or ("parquet" if args.documents.endswith(".parquet") else "csv")
    if fmt == "parquet":
        documents = spark.read.parquet(args.documents)
    else:
        # RFC 4180 quoting (a quote is doubled), quoted newlines, no type inference:
        # refmatch parses every value itself.
        documents = spark.read.csv(args.documents, header=True, inferSchema=False,
                                   escape='"', multiLine=True)
    if args.id_column not in documents.columns:
        raise SystemExit(f"{args.documents}: no id column {args.id_column!r}")
    documents = documents.select([F.col(c).cast("string").alias(c) for c in documents.columns])
    if args.partitions > 0:
        documents = documents.repartition(args.partitions)

    results = documents.mapInPandas(match_partition(args, one_to_one), RESULT_SCHEMA)
    columns = ["document_id", "matched_reference_row_id", "confidence", "candidates"]
    if not one_to_one:
        results.select(columns).write.mode("overwrite").parquet(args.out)
        report(spark, args, started, session)
        return

    # One-to-one: the partitions' results are staged as Parquet (matched once); each
    # document's assignable rows, a light line, go to one file on the driver; one
    # `refmatch assign` over them decides the matches, which are joined back.
    staging = args.staging or args.out.rstrip("/") + ".staging"
    results.write.mode("overwrite").parquet(staging)
    staged = spark.read.parquet(staging)
    work = args.work_dir or tempfile.mkdtemp(prefix="refmatch-assign-")
    os.makedirs(work, exist_ok=True)
    candidates = os.path.join(work, "candidates.jsonl")
    assigned = os.path.join(work, "assigned.jsonl")
    with open(candidates, "w", encoding="utf-8") as f:
        for row in staged.select("line").toLocalIterator():
            f.write(row["line"] + "\n")
    subprocess.run([os.path.abspath(args.refmatch), "assign", "--out", assigned, candidates],
                   check=True)
    import pandas as pd

    with open(assigned, encoding="utf-8") as f:
        rows = [parse_line(line) for line in f if line.strip()]
    decided = ["document_id", "matched_reference_row_id", "confidence", "assigned"]
    decisions = spark.createDataFrame(
        pd.DataFrame(rows, columns=NAMES)[decided],
        StructType([f for f in RESULT_FIELDS if f.name in decided]),
    )
    final = (
        staged.select("document_id", "candidates")
        .join(decisions, "document_id")
        .select(columns + ["assigned"])
    )
    final.write.mode("overwrite").parquet(args.out)
    path = spark._jvm.org.apache.hadoop.fs.Path(staging)
    path.getFileSystem(spark._jsc.hadoopConfiguration()).delete(path, True)
    report(spark, args, started, session)


def report(spark, args, started, session):
    """One line on stdout: documents written, wall time, and the part of it that was
    starting the Spark session (the engine's fixed cost)."""
    documents = spark.read.parquet(args.out).count()
    spark.stop()
    total = time.monotonic() - started
    print(f"refmatch-spark: {documents} documents in {total:.1f} s "
          f"(Spark session start {session:.1f} s) -> {args.out}")


if __name__ == "__main__":
    main()
