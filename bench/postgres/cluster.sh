#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the replica test and the load
# benchmark: `cluster.sh start DIR` creates one in DIR on a free port and
# prints its address (postgres://rulebook@127.0.0.1:PORT/decisions);
# `cluster.sh stop DIR` stops it. Needs Debian's `postgresql` package
# (initdb, pg_ctl). PostgreSQL refuses to run as root, so as root the
# cluster runs as the `postgres` user.
set -euo pipefail
action=${1:?usage: cluster.sh start|stop DIR}
dir=${2:?usage: cluster.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || bin=$(dirname "$(command -v initdb)")
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if command -v python3 >/dev/null; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    else
      port=$(shuf -i 20000-60000 -n 1)
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U rulebook --auth=trust -E UTF8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U rulebook decisions
    echo "postgres://rulebook@127.0.0.1:$port/decisions"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "usage: cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
