#!/usr/bin/env bash
# Impact analysis benchmark: N generated home-care households (default one
# million) through the 2021 and 2022-23 versions, first with the plain
# report (the baseline), then with two breakdowns and the changes file on;
# prints wall time and peak memory of each as measured by GNU time, and
# the ratio of the two wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/generate_households.py "$n" 2021-06-01 > "$work/cases.jsonl"
old=rulebooks/helsinki-home-care/2021.rulebook
new=rulebooks/helsinki-home-care/2022-23.rulebook
run() {
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" ./target/release/rulebook diff "$old" "$new" \
    --cases "$work/cases.jsonl" "$@" > /dev/null
  read -r wall rss < "$work/$label.time"
  echo "$label: cases=$n wall=${wall}s max_rss=${rss}kB"
}
run plain
run breakdowns --by household.size --by household.gross_monthly_income:500 --changes "$work/changes.jsonl"
changed=$(wc -l < "$work/changes.jsonl")
read -r a _ < "$work/plain.time"
read -r b _ < "$work/breakdowns.time"
echo "changed cases written: $changed"
python3 -c "print(f'breakdowns and changes file / plain wall time: {$b / $a:.2f}')"
