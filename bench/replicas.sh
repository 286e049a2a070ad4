#!/usr/bin/env bash
# Decisions per second and latency of the decision service with its log in
# SQLite (one replica) and in PostgreSQL (one and three replicas sharing a
# throw-away cluster), in one run, so the figures compare. Each setup gets
# SECONDS (default 10) of load over CONNECTIONS keep-alive connections
# (default 24), spread over its replicas. Needs Debian's `postgresql`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
conns="${2:-24}"
cargo build --release --quiet -p rulebook-cli -p rulebook-bench --bin rulebook --bin load
bin=./target/release/rulebook
dir="$(mktemp -d)"
chmod 755 "$dir"
servers=()
cleanup() {
  for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bench/postgres/cluster.sh stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT
pgurl="$(bench/postgres/cluster.sh start "$dir/pg")"
cat > "$dir/body.json" <<'JSON'
{"decision_date":"2024-03-01","inputs":{"household":{"income_declared":true,"gross_monthly_income":"900.00","size":1},"service":{"hourly_price":"45.00","hours_per_month":20}}}
JSON
# Starts N replicas on the log DB; prints their decision URLs, comma-separated.
start() {
  local n=$1 db=$2 urls=()
  for i in $(seq "$n"); do
    "$bin" serve --addr 127.0.0.1:0 --rulebooks rulebooks --no-studio --db "$db" > "$dir/out$i" 2> "$dir/err$i" &
    servers+=($!)
    for _ in $(seq 300); do grep -q listening "$dir/out$i" 2>/dev/null && break; sleep 0.1; done
    urls+=("$(sed -n 's/^listening on //p' "$dir/out$i")/v1/programmes/helsinki.home_care/decisions")
  done
  (IFS=,; echo "${urls[*]}")
}
stop() {
  for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done
  wait 2>/dev/null || true
  servers=()
}
for setup in "sqlite 1" "postgres 1" "postgres 3"; do
  set -- $setup
  if [ "$1" = sqlite ]; then db="$dir/log.sqlite"; else db="$pgurl"; fi
  urls="$(start "$2" "$db")"
  printf '%-8s %s replica(s): ' "$1" "$2"
  ./target/release/load "$urls" "$seconds" "$conns" "$dir/body.json"
  stop
done
echo "decisions in PostgreSQL: $(psql "$pgurl" -Atc 'select count(*) from decisions')"
