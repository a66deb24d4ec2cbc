#!/usr/bin/env bash
# The whole PRM on this machine: Redis, HAPI FHIR (H2 file DB), the API and a worker, with the
# demo clinic loaded. Ctrl-C stops everything. Ports: PRM_API_PORT (8000), PRM_HAPI_PORT (8080),
# PRM_REDIS_PORT (6379). Data lives in ./var (git-ignored); delete it to start afresh.
# PRM_HAPI_DB=postgres runs HAPI on a local PostgreSQL instead (port PRM_POSTGRES_PORT, 5433), as
# production does; PRM_HAPI_DB_URL points it at another PostgreSQL.
# PRM_API_REPLICAS=2 PRM_WORKERS=2 runs the production topology: two stateless API processes (ports
# PRM_API_PORT and the next one) and two workers on the one HAPI and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
api_port="${PRM_API_PORT:-8000}"
hapi_port="${PRM_HAPI_PORT:-8080}"
redis_port="${PRM_REDIS_PORT:-6379}"
api_replicas="${PRM_API_REPLICAS:-1}"
workers="${PRM_WORKERS:-1}"
mkdir -p var/log var/redis

# The local stack is development (built-in keys, placeholder secrets); every other deployment must
# say what it is (PRM_ENVIRONMENT has no default). The demo loader and the worker inherit it.
export PRM_ENVIRONMENT="${PRM_ENVIRONMENT:-development}"
export PRM_FHIR_BASE_URL="http://127.0.0.1:${hapi_port}/fhir"
export PRM_REDIS_URL="redis://127.0.0.1:${redis_port}/0"
export PRM_PUBLIC_BASE_URL="${PRM_PUBLIC_BASE_URL:-http://127.0.0.1:${api_port}}"

pids=()
cleanup() {
  echo "stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_busy "$redis_port"; then
  echo "redis: reusing the server already on port $redis_port"
else
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$PWD/var/redis" \
    --appendonly yes --appendfsync always --save "" \
    > var/log/redis.log 2>&1 &
  pids+=($!)
fi

if [ "${PRM_HAPI_DB:-h2}" = postgres ] && [ -z "${PRM_HAPI_DB_URL:-}" ]; then
  pg_port="${PRM_POSTGRES_PORT:-5433}"
  export PRM_HAPI_DB_URL="jdbc:postgresql://127.0.0.1:${pg_port}/hapi"
  if port_busy "$pg_port"; then
    echo "postgres: reusing the server already on port $pg_port"
  else
    scripts/postgres.sh start "$pg_port" "$PWD/var/postgres" > var/log/postgres.log 2>&1 &
    pids+=($!)
  fi
  scripts/postgres.sh wait "$pg_port" 60
fi

if port_busy "$hapi_port"; then
  echo "hapi: reusing the server already on port $hapi_port"
else
  echo "hapi: starting on port $hapi_port on ${PRM_HAPI_DB:-h2} (about 30 s; log in var/log/hapi.log)"
  scripts/hapi.sh start "$hapi_port" "$PWD/var/hapi" > var/log/hapi.log 2>&1 &
  pids+=($!)
fi
scripts/hapi.sh wait "$PRM_FHIR_BASE_URL" 300

echo "loading FHIR profiles and the demo clinic (idempotent)..."
.venv/bin/python -m app.demo

for n in $(seq 1 "$workers"); do
  .venv/bin/python -m workers > "var/log/worker-$n.log" 2>&1 &
  pids+=($!)
done

cat <<INFO

  PRM API        http://127.0.0.1:${api_port}        (OpenAPI: http://127.0.0.1:${api_port}/docs)
  API replicas   ${api_replicas} (ports ${api_port}..$((api_port + api_replicas - 1))), workers ${workers}
  FHIR via PRM   http://127.0.0.1:${api_port}/fhir   (authenticated pass-through)
  HAPI FHIR      ${PRM_FHIR_BASE_URL}
  Redis          ${PRM_REDIS_URL}
  Logs           var/log/

  Development API keys (Authorization: Bearer <key>):
    admin        dev-admin-key
    staff        dev-staff-key
    integration  dev-integration-key

  Try: curl -H 'Authorization: Bearer dev-admin-key' http://127.0.0.1:${api_port}/fhir/metadata
       curl http://127.0.0.1:${api_port}/ready

INFO

# No access log (it prints query strings, which carry phones and names); the app logs one line per
# request itself and strips tracebacks from uvicorn's own error log (app/logging.py).
for n in $(seq 0 $((api_replicas - 1))); do
  .venv/bin/uvicorn app.main:create_app --factory --host 127.0.0.1 --port $((api_port + n)) --no-access-log &
  pids+=($!)
done
wait -n "${pids[@]}"
