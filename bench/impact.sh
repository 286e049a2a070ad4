#!/usr/bin/env bash
# Impact analysis benchmark: N generated home-care households (default one
# million) through the 2021 and 2022-23 versions; prints wall time and peak
# memory as measured by GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
cargo build --release --quiet
cases="$(mktemp --suffix=.jsonl)"
trap 'rm -f "$cases"' EXIT
python3 bench/generate_households.py "$n" 2021-06-01 > "$cases"
/usr/bin/time -f "cases=$n wall=%es max_rss=%MkB" ./target/release/rulebook diff \
  rulebooks/helsinki-home-care/2021.rulebook rulebooks/helsinki-home-care/2022-23.rulebook \
  --cases "$cases" > /dev/null
