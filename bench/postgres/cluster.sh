#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the replica test and the load
# benchmark: `cluster.sh start DIR` creates one in DIR on a free port and
# prints its address (postgres://rulebook@127.0.0.1:PORT/decisions);
# `cluster.sh start DIR --tls` makes a certificate authority and a server
# certificate for 127.0.0.1 (openssl), accepts TLS connections only and
# prints the address with `sslmode=verify-full&sslrootcert=DIR/tls/ca.pem`;
# `cluster.sh stop DIR` stops it. Needs Debian's `postgresql` package
# (initdb, pg_ctl). PostgreSQL refuses to run as root, so as root the
# cluster runs as the `postgres` user.
set -euo pipefail
action=${1:?usage: cluster.sh start|stop DIR [--tls]}
dir=${2:?usage: cluster.sh start|stop DIR [--tls]}
tls=${3:-}
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
    options="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on"
    query=""
    if [ "$tls" = "--tls" ]; then
      t="$dir/tls"
      mkdir -p "$t"
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rulebook test CA" \
        -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$t/san.ext"
      openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
        -days 2 -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
      chmod 600 "$t/server.key"
      [ "$(id -u)" = 0 ] && chown -R postgres "$t"
      chmod 755 "$t"
      chmod 644 "$t/ca.pem"
      # TLS only over TCP: a plain connection is refused.
      printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' > "$dir/pg_hba.conf"
      [ "$(id -u)" = 0 ] && chown postgres "$dir/pg_hba.conf"
      options="$options -c ssl=on -c ssl_cert_file=$t/server.pem -c ssl_key_file=$t/server.key -c hba_file=$dir/pg_hba.conf"
      query="?sslmode=verify-full&sslrootcert=$t/ca.pem"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "$options" start >/dev/null
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U rulebook decisions
    echo "postgres://rulebook@127.0.0.1:$port/decisions$query"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "usage: cluster.sh start|stop DIR [--tls]" >&2; exit 2 ;;
esac
