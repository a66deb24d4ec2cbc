#!/usr/bin/env bash
# Back up and restore HAPI FHIR's PostgreSQL database (the PRM's only store; docs/operations.md).
#   scripts/backup.sh dump FILE      pg_dump of database "hapi" in the custom format (consistent
#                                    snapshot; HAPI may keep running)
#   scripts/backup.sh restore FILE   re-create database "hapi" from FILE (stop HAPI first: it caches
#                                    resources and search results; start it again afterwards)
# Connection settings come from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD); restore needs
# a role that may drop and create the database and hand it to HAPI's role PRM_HAPI_DB_USER ("hapi"):
# the local PostgreSQL's "postgres", on a managed service its admin role. PRM_HAPI_DB_NAME overrides
# the database name.
set -euo pipefail
database="${PRM_HAPI_DB_NAME:-hapi}"

dump() {
  pg_dump --format=custom --dbname="$database" --file="$1"
}

restore() {
  [ -f "$1" ] || { echo "no backup file $1" >&2; exit 2; }
  local owner="${PRM_HAPI_DB_USER:-hapi}"
  psql --dbname=postgres --quiet -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" -c "CREATE DATABASE \"$database\" OWNER \"$owner\""
  # One transaction: a failed restore leaves an empty database, never a half-filled one.
  pg_restore --single-transaction --exit-on-error --dbname="$database" "$1"
}

case "${1:-}" in
  dump) dump "$2" ;;
  restore) restore "$2" ;;
  *) echo "usage: $0 dump FILE | restore FILE" >&2; exit 2 ;;
esac
