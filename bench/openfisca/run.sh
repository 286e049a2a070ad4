#!/usr/bin/env bash
# rulebook side by side with OpenFisca on the country template's rules and
# one generated population, timed in the same run on this machine:
#
#   1. batch: OpenFisca's vectorised calculation (numpy, float32) against
#      rulebook (exact decimals, every core), both as calculation alone
#      (inputs in memory to results in memory) and from file to file
#      (`rulebook eval --cases`), after checking that both give every
#      household the same disposable income;
#   2. one case at a time: OpenFisca building and calculating one simulation
#      per situation, against rulebook deciding one case in process (from
#      JSON text to decision JSON) and over HTTP (`rulebook serve`, one
#      connection, one request after another).
#
# Usage: bench/openfisca/run.sh [HOUSEHOLDS (1000000)] [SINGLE_CASES (1000)]
# OpenFisca is installed from PyPI into a virtual environment the first time
# (VENV, default target/openfisca-venv); files go to WORK (default
# target/openfisca-bench). Prints the figures and their ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000000}"
single="${2:-1000}"
work="${WORK:-target/openfisca-bench}"
venv="${VENV:-target/openfisca-venv}"
here=bench/openfisca
rb="$here/country_template.rulebook"
mkdir -p "$work"

if [ ! -x "$venv/bin/python" ]; then
    echo "installing OpenFisca into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "openfisca-core==46.0.1" "openfisca-country-template==8.2.0"
fi
cargo build --release --quiet -p rulebook-cli -p rulebook-bench --bin rulebook --bin single_case --bin batch_decoded --bin load

pop="$work/households-$n.jsonl"
if [ ! -s "$pop" ]; then
    echo "generating $n households" >&2
    python3 "$here/population.py" "$n" 1 > "$pop.tmp" && mv "$pop.tmp" "$pop"
fi

echo "1/4 OpenFisca, vectorised" >&2
"$venv/bin/python" "$here/openfisca_bench.py" vectorised "$pop" 2016-01 "$work/openfisca-results.jsonl" > "$work/openfisca-vectorised.json"

echo "2/4 rulebook eval --cases" >&2
start=$(date +%s.%N)
./target/release/rulebook eval "$rb" --cases "$pop" --date 2016-01-01 --output "$work/decisions.jsonl" 2> "$work/rulebook-batch.err"
end=$(date +%s.%N)
echo "{\"seconds\": $(python3 -c "print($end - $start)")}" > "$work/rulebook-batch.json"
python3 "$here/compare.py" "$work/openfisca-results.jsonl" "$work/decisions.jsonl" > "$work/agreement.json" || {
    cat "$work/agreement.json"
    echo "the engines disagree; figures not printed" >&2
    exit 1
}

./target/release/batch_decoded "$rb" "$pop" 2016-01-01 > "$work/rulebook-calculation.json"

echo "3/4 one case at a time: OpenFisca and rulebook in process" >&2
"$venv/bin/python" "$here/openfisca_bench.py" single "$pop" 2016-01 "$single" > "$work/openfisca-single.json"
./target/release/single_case "$rb" "$pop" 2016-01-01 "$single" > "$work/rulebook-single.json"

echo "4/4 one case at a time: rulebook over HTTP" >&2
served="$work/served"
rm -rf "$served" && mkdir -p "$served/openfisca"
cp "$rb" "$served/openfisca/"
./target/release/rulebook serve --rulebooks "$served" --addr 127.0.0.1:0 --no-log > "$work/serve.out" 2> "$work/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
head -n 1 "$pop" | python3 -c 'import json,sys; c=json.load(sys.stdin); print(json.dumps({"decision_date":"2016-01-01","inputs":{"household":c["household"]}}))' > "$work/body.json"
./target/release/load "$url/v1/programmes/openfisca.country_template/decisions" 5 1 "$work/body.json" > "$work/rulebook-http.txt"

python3 - "$work" "$n" <<'PY'
import json, sys, re
work, n = sys.argv[1], int(sys.argv[2])
load = lambda name: json.load(open(f"{work}/{name}"))
ofv, rbb, rbc = load("openfisca-vectorised.json"), load("rulebook-batch.json"), load("rulebook-calculation.json")
ofs, rbs, agree = load("openfisca-single.json"), load("rulebook-single.json"), load("agreement.json")
http = dict(re.findall(r"(\w+)=([\d.]+)", open(f"{work}/rulebook-http.txt").read()))
of_calc, of_total, rb_total = n / ofv["seconds"], n / ofv["total_seconds"], n / rbb["seconds"]
rb_calc = n / rbc["seconds"]
of_one = ofs["households"] / ofs["seconds"]
rb_json, rb_dec = 1 / rbs["json_seconds_per_case"], 1 / rbs["decoded_seconds_per_case"]
rb_http = float(http["throughput"])
print(f"households: {n}; agreement on disposable income: {agree['compared']} compared, "
      f"{agree['differ']} differ (largest gap {agree['largest_difference']} €, float32 against exact)")
print()
print("batch (households per second)")
print(f"  OpenFisca vectorised, calculation only    {of_calc:>12,.0f}")
print(f"  rulebook, calculation only                {rb_calc:>12,.0f}   ratio {rb_calc / of_calc:.2f}")
print(f"  OpenFisca vectorised, file to file        {of_total:>12,.0f}")
print(f"  rulebook eval --cases, file to file       {rb_total:>12,.0f}   ratio {rb_total / of_total:.2f}")
print(f"  rulebook file to file / OpenFisca calculation only   ratio {rb_total / of_calc:.2f}")
print()
print("one case at a time (cases per second, one thread or connection)")
print(f"  OpenFisca, one simulation per situation   {of_one:>12,.0f}")
print(f"  rulebook in process, JSON to JSON         {rb_json:>12,.0f}   x{rb_json / of_one:,.0f}")
print(f"  rulebook in process, decoded inputs       {rb_dec:>12,.0f}   x{rb_dec / of_one:,.0f}")
print(f"  rulebook over HTTP, one connection        {rb_http:>12,.0f}   x{rb_http / of_one:,.0f}"
      f"   (p50 {http['p50']} ms)")
PY
