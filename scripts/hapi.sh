#!/usr/bin/env bash
# Build and run the PRM's HAPI FHIR server (hapi-config/).
#   scripts/hapi.sh build                  build the jar unless it is newer than its sources
#   scripts/hapi.sh start PORT DATA_DIR    run it in the foreground on 127.0.0.1:PORT, H2 files in DATA_DIR
#                                          (PRM_HAPI_DB=postgres: on PostgreSQL at PRM_HAPI_DB_URL instead)
#   scripts/hapi.sh wait URL [SECONDS]     wait until URL/metadata answers
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
jar="$here/hapi-config/target/prm-hapi-server.jar"

build() {
  if [ -f "$jar" ] && [ -z "$(find "$here/hapi-config/pom.xml" "$here/hapi-config/src" -newer "$jar" -type f | head -1)" ]; then
    return 0
  fi
  echo "building HAPI FHIR server (first build downloads ~350 MB from Maven Central)..." >&2
  (cd "$here/hapi-config" && mvn -q -B package -DskipTests)
}

start() {
  local port="$1" data="$2"
  mkdir -p "$data"
  # Run a copy: a rebuild of the jar under a running server breaks it (NoClassDefFoundError).
  cp "$jar" "$data/prm-hapi-server.jar"
  # -XX:TieredStopAtLevel=1 and SerialGC: faster start-up on small machines; heap sized for tests and demo.
  local database=(--spring.datasource.url="jdbc:h2:file:$data/hapi;DB_CLOSE_ON_EXIT=FALSE")
  if [ "${PRM_HAPI_DB:-h2}" = postgres ]; then
    # The same variables docker-compose.yml gives the hapi service (the password from the
    # environment, never on the command line).
    export SPRING_DATASOURCE_URL="${PRM_HAPI_DB_URL:?PRM_HAPI_DB=postgres needs PRM_HAPI_DB_URL=jdbc:postgresql://HOST:PORT/hapi}"
    export SPRING_DATASOURCE_USERNAME="${PRM_HAPI_DB_USER:-hapi}"
    export SPRING_DATASOURCE_PASSWORD="${PRM_HAPI_DB_PASSWORD:-}"
    export SPRING_DATASOURCE_DRIVER_CLASS_NAME=org.postgresql.Driver
    export PRM_HIBERNATE_DIALECT=ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect
    database=()
  fi
  exec java ${HAPI_JAVA_OPTS:--Xmx1536m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC} -jar "$data/prm-hapi-server.jar" \
    --server.port="$port" "${database[@]}"
}

wait_up() {
  local url="$1" seconds="${2:-240}"
  for _ in $(seq 1 "$seconds"); do
    if curl -sf "$url/metadata?_summary=true" -o /dev/null; then return 0; fi
    sleep 1
  done
  echo "HAPI FHIR did not answer at $url within ${seconds}s" >&2
  return 1
}

case "${1:-}" in
  build) build ;;
  start) build; start "$2" "$3" ;;
  wait) wait_up "$2" "${3:-240}" ;;
  *) echo "usage: $0 build | start PORT DATA_DIR | wait URL [SECONDS]" >&2; exit 2 ;;
esac
