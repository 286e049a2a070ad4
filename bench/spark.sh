#!/usr/bin/env bash
# The Spark example against the command, in one run: N generated home-care
# households (default 1 000 000) written as Parquet with `rulebook convert`
# (not timed), then decided file to file on both cores by
#   1. `rulebook eval --cases pop.parquet --output decisions.parquet` (the baseline);
#   2. examples/spark/population.py in Spark's local mode (local[2], the
#      file split into tasks of 2 MiB), timed from the session being up to
#      the Parquet files written.
# The rows of both are compared before any figure is printed. Needs the
# virtual environment crates/rulebook-python/test.sh makes (VENV).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
venv="${VENV:-target/python-venv}"
cargo build --release --quiet -p rulebook-cli
(cd crates/rulebook-python && VIRTUAL_ENV="$PWD/../../$venv" PATH="$PWD/../../$venv/bin:$PATH" maturin develop --release --quiet)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/generate_households.py "$n" 2022-06-01 > "$work/pop.jsonl"
rb=rulebooks/helsinki-home-care
# The cases are of 2022: the 2022-23 version types their columns.
./target/release/rulebook convert "$rb/2022-23.rulebook" --cases "$work/pop.jsonl" --output "$work/pop.parquet"
start=$(date +%s.%N)
./target/release/rulebook eval "$rb" --cases "$work/pop.parquet" --output "$work/cli.parquet"
end=$(date +%s.%N)
cli=$(python3 -c "print($end - $start)")
"$venv/bin/python" - "$n" "$cli" "$rb" "$work" <<'PY'
import sys, time
sys.path.insert(0, "examples/spark")
import population
import pyarrow.parquet as pq
n, cli, rb, work = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
spark = population.session("local[2]")
# Split the one file into tasks of a few row groups, so that both cores work.
spark.conf.set("spark.sql.files.maxPartitionBytes", str(2 << 20))
start = time.perf_counter()
population.decide(spark, rb, spark.read.parquet(f"{work}/pop.parquet")).write.parquet(f"{work}/spark")
seconds = time.perf_counter() - start
spark.stop()
got = pq.read_table(f"{work}/spark").sort_by("id").to_pylist()
want = pq.read_table(f"{work}/cli.parquet").sort_by("id").to_pylist()
if got != want:
    sys.exit("Spark and the command disagree; figures not printed")
print(f"households: {n:,}; both give the same {len(got):,} rows")
print(f"  rulebook eval, Parquet to Parquet      {n/cli:>12,.0f} /s")
print(f"  Spark local[2], Parquet to Parquet     {n/seconds:>12,.0f} /s   ratio {cli/seconds:.2f}")
PY
