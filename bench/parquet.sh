#!/usr/bin/env bash
# Parquet file to file against the calculation alone, in one run: N
# generated households of the OpenFisca country template (default one
# million, with lists of members) are written as JSON Lines and, with
# `rulebook convert`, as Parquet (not timed). Then, on both cores:
#   1. the calculation alone: cases decoded in memory before the clock
#      starts (bench/src/bin/batch_decoded.rs);
#   2. `rulebook eval --cases pop.parquet --output decisions.parquet`;
#   3. `rulebook eval --cases pop.jsonl --output decisions.jsonl`.
# Prints cases per second of each and their ratios to the calculation.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
rb=bench/openfisca/country_template.rulebook
cargo build --release --quiet -p rulebook-cli -p rulebook-bench --bin rulebook --bin batch_decoded
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/openfisca/population.py "$n" 1 > "$work/pop.jsonl"
./target/release/rulebook convert "$rb" --cases "$work/pop.jsonl" --output "$work/pop.parquet" --date 2016-01-01 2> /dev/null
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
calc=$(./target/release/batch_decoded "$rb" "$work/pop.jsonl" 2016-01-01 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
parquet=$(seconds ./target/release/rulebook eval "$rb" --cases "$work/pop.parquet" --output "$work/decisions.parquet")
jsonl=$(seconds ./target/release/rulebook eval "$rb" --cases "$work/pop.jsonl" --date 2016-01-01 --output "$work/decisions.jsonl")
python3 - "$n" "$calc" "$parquet" "$jsonl" "$(stat -c %s "$work/pop.parquet")" "$(stat -c %s "$work/pop.jsonl")" <<'PY'
import sys
n, calc, parquet, jsonl, psize, jsize = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6])
print(f"households: {n:,}; Parquet {psize/2**20:.1f} MiB, JSON Lines {jsize/2**20:.1f} MiB")
print(f"  calculation alone (decoded in memory)   {n/calc:>12,.0f} /s")
print(f"  Parquet file to file                    {n/parquet:>12,.0f} /s   ratio {calc/parquet:.2f}")
print(f"  JSON Lines file to file                 {n/jsonl:>12,.0f} /s   ratio {calc/jsonl:.2f}")
PY
