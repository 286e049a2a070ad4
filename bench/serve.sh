#!/usr/bin/env bash
# Load test of the decision service: single-case decisions for the
# home-care voucher over loopback, with the decision log on. Starts the
# release server, runs the in-repo load generator for SECONDS (default 10)
# with CONNECTIONS keep-alive connections (default 8), prints its figures.
# NO_LOG=1 turns the decision log off; AUTH=1 turns API keys on; MASK=1
# serves a copy of the rulebooks with a privacy.yaml that bands the income
# and drops the hours; BIN=path runs another build of rulebook (an older
# commit's, for a comparison in one session).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
conns="${2:-8}"
cargo build --release --quiet -p rulebook-cli -p rulebook-bench --bin rulebook --bin load
bin="${BIN:-./target/release/rulebook}"
dir="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
# AUTH=1: with API keys, the load generator sending a `decide` key.
keys=()
if [ -n "${AUTH:-}" ]; then
  export RULEBOOK_KEY="$("$bin" keys new decide load 2> "$dir/keyline")"
  tail -n 1 "$dir/keyline" > "$dir/keys"
  keys=(--keys "$dir/keys")
fi
books=rulebooks
if [ -n "${MASK:-}" ]; then
  cp -r rulebooks "$dir/rulebooks"
  printf 'helsinki.home_care:\n  household.gross_monthly_income: band 500\n  service.hours_per_month: drop\n' > "$dir/rulebooks/privacy.yaml"
  books="$dir/rulebooks"
fi
"$bin" serve --addr 127.0.0.1:0 --rulebooks "$books" ${NO_LOG:+--no-log} --db "$dir/log.sqlite" "${keys[@]}" > "$dir/out" 2> "$dir/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$dir/out")"
cat > "$dir/body.json" <<'JSON'
{"decision_date":"2024-03-01","inputs":{"household":{"income_declared":true,"gross_monthly_income":"900.00","size":1},"service":{"hourly_price":"45.00","hours_per_month":20}}}
JSON
./target/release/load "$url/v1/programmes/helsinki.home_care/decisions" "$seconds" "$conns" "$dir/body.json"
echo "logged decisions: $(python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select count(*) from decisions').fetchone()[0])" "$dir/log.sqlite")"
