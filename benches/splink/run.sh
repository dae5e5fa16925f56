#!/bin/sh
# refmatch eval and Splink on DuckDB on the same generated sets, in one sitting on one
# machine, best of three each (issue 14 part 5). Not part of the tests or CI.
#
#   cargo build --release
#   benches/splink/run.sh                  # both sets: 100,000 x 10,000 and 1,000,000 x 100,000
#   SETS="100000:10000" benches/splink/run.sh
#
# Environment: REFMATCH (binary, default target/release/refmatch), VENV (default
# /tmp/splink-venv, created with requirements.txt when absent), OUT (sets and outputs,
# default /tmp/refmatch-vs-splink), SETS (ROWS:DOCUMENTS ...), RUNS (default 3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
REFMATCH=${REFMATCH:-target/release/refmatch}
VENV=${VENV:-/tmp/splink-venv}
OUT=${OUT:-/tmp/refmatch-vs-splink}
SETS=${SETS:-"100000:10000 1000000:100000"}
RUNS=${RUNS:-3}

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$here/requirements.txt"
fi

for set in $SETS; do
    rows=${set%%:*}
    documents=${set##*:}
    dir=$OUT/${rows}x${documents}
    if [ ! -f "$dir/truth.csv" ]; then
        "$REFMATCH" synth --reference-rows "$rows" --documents "$documents" --out "$dir" >/dev/null
    fi
    i=1
    while [ "$i" -le "$RUNS" ]; do
        # refmatch: the set's own config (written by synth), end to end as a process.
        /usr/bin/time -f '%e %M' -o "$dir/refmatch-$i.time" \
            "$REFMATCH" eval --reference "$dir/reference.csv" --documents "$dir/documents.csv" \
            --config "$dir/config.json" --truth "$dir/truth.csv" --json --sweep \
            >"$dir/refmatch-$i.json"
        "$VENV/bin/python" "$here/splink_bench.py" --dir "$dir" \
            >"$dir/splink-$i.json" 2>"$dir/splink-$i.log"
        i=$((i + 1))
    done
    python3 - "$dir" "$RUNS" <<'PY'
import json, sys
d, runs = sys.argv[1], int(sys.argv[2])
ref, spl = [], []
for i in range(1, runs + 1):
    r = json.load(open(f"{d}/refmatch-{i}.json"))
    wall, kb = open(f"{d}/refmatch-{i}.time").read().split()[-2:]
    ref.append({"wall_s": float(wall), "peak_rss_mb": round(int(kb) / 1024, 1),
                "f1_at_config_threshold": r["f1"], "threshold": r["threshold"],
                "best_f1": r["best_f1"], "best_threshold": r["best_threshold"]})
    spl.append(json.loads(open(f"{d}/splink-{i}.json").read().strip().splitlines()[-1]))
best = lambda xs: min(xs, key=lambda x: x["wall_s"])
print(json.dumps({"set": d, "runs": runs, "refmatch": best(ref), "splink": best(spl)}))
PY
done
