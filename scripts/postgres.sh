#!/usr/bin/env bash
# A local PostgreSQL for HAPI FHIR (the production database; H2 stays the quick default).
#   scripts/postgres.sh start PORT DATA_DIR   initialise DATA_DIR once (database and user "hapi"), then run
#                                             PostgreSQL in the foreground on 127.0.0.1:PORT
#   scripts/postgres.sh wait PORT [SECONDS]   wait until it accepts connections to database "hapi"
# Local trust authentication on loopback only: this is the development and test database. Production
# uses a managed PostgreSQL with a password (docker-compose.yml, docs/operations.md).
set -euo pipefail

bin_dir() {
  # Debian keeps the server binaries out of PATH (/usr/lib/postgresql/<major>/bin).
  if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$found" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
  echo "$found"
}

# PostgreSQL refuses to run as root: run it as the "postgres" OS user then (created by the package).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local port="$1" data="$2" bin
  bin="$(bin_dir)"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres: "$data"
  chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    # Sized for HAPI's connection pool (10 per server, several servers in the replica tests) on a small box.
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
max_connections = 100
shared_buffers = 256MB
synchronous_commit = on
fsync = on
# No PHI in any log: never the failing statement, nor DETAIL lines (they quote key values).
log_min_error_statement = panic
log_error_verbosity = terse
CONF
    as_owner "$bin/pg_ctl" -D "$data" -o "-p $port -k $data -c listen_addresses=''" -w start >/dev/null
    as_owner "$bin/psql" -h "$data" -p "$port" -U postgres -q -c "CREATE ROLE hapi LOGIN" -c "CREATE DATABASE hapi OWNER hapi"
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  if [ "$(id -u)" = 0 ]; then
    exec runuser -u postgres -- "$bin/postgres" -D "$data" -p "$port" -k "$data"
  fi
  exec "$bin/postgres" -D "$data" -p "$port" -k "$data"
}

wait_up() {
  local port="$1" seconds="${2:-60}" bin
  bin="$(bin_dir)"
  for _ in $(seq 1 "$((seconds * 5))"); do
    if "$bin/psql" -h 127.0.0.1 -p "$port" -U hapi -d hapi -tAqc "select 1" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "PostgreSQL did not accept connections on port $port within ${seconds}s" >&2
  return 1
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  wait) wait_up "$2" "${3:-60}" ;;
  *) echo "usage: $0 start PORT DATA_DIR | wait PORT [SECONDS]" >&2; exit 2 ;;
esac
