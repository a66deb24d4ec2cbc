"""Start the real HAPI FHIR server and Redis for the test session (once), on free loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HAPI_SCRIPT = ROOT / "scripts" / "hapi.sh"
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"
HAPI_START_TIMEOUT_SECONDS = 240
POSTGRES_START_TIMEOUT_SECONDS = 60
REDIS_START_TIMEOUT_SECONDS = 10


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process the tests started (or None when reusing one given by the environment)."""

    url: str
    process: subprocess.Popen[bytes] | None
    # Servers this one needs, stopped after it (HAPI's PostgreSQL).
    needs: tuple[Server, ...] = ()
    # A data folder outside pytest's temporary folders, removed once the process has stopped.
    data: Path | None = None

    def stop(self) -> None:
        """Terminate the process, if the tests started it, then the servers it needs."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for server in self.needs:
            server.stop()
        if self.data:
            shutil.rmtree(self.data, ignore_errors=True)


def start_postgres(workdir: Path) -> Server:
    """A PostgreSQL with an empty database "hapi" on a free port (scripts/postgres.sh); url is JDBC's."""
    port = free_port()
    log = (workdir / "postgres.log").open("wb")
    # Not under pytest's temporary folders: they are private to the user running the tests, and as
    # root scripts/postgres.sh runs PostgreSQL as the "postgres" user, who must reach its data.
    data = tempfile.mkdtemp(prefix="prm-postgres-")
    process = subprocess.Popen(
        [str(POSTGRES_SCRIPT), "start", str(port), data],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    ready = subprocess.run(
        [str(POSTGRES_SCRIPT), "wait", str(port), str(POSTGRES_START_TIMEOUT_SECONDS)], check=False
    )
    if ready.returncode != 0:
        process.kill()
        raise RuntimeError(f"PostgreSQL did not start; see {workdir / 'postgres.log'}")
    return Server(url=f"jdbc:postgresql://127.0.0.1:{port}/hapi", process=process, data=Path(data))


def start_hapi(workdir: Path) -> Server:
    """The HAPI server for tests: PRM_TEST_FHIR_BASE_URL if set, else a fresh one on an H2 file DB
    (on a fresh PostgreSQL when PRM_HAPI_DB=postgres, as production runs it)."""
    if url := os.environ.get("PRM_TEST_FHIR_BASE_URL"):
        return Server(url=url.rstrip("/"), process=None)
    env = dict(os.environ)
    needs: tuple[Server, ...] = ()
    if env.get("PRM_HAPI_DB") == "postgres":
        database = start_postgres(workdir)
        needs = (database,)
        env["PRM_HAPI_DB_URL"] = database.url
    return run_hapi(workdir, env=env, needs=needs)


def run_hapi(workdir: Path, *, env: dict[str, str], needs: tuple[Server, ...] = ()) -> Server:
    """Start scripts/hapi.sh with `env` on a free port, data in `workdir`; stop `needs` if it fails."""
    subprocess.run([str(HAPI_SCRIPT), "build"], check=True)
    port = free_port()
    log = (workdir / "hapi.log").open("ab")
    process = subprocess.Popen(
        [str(HAPI_SCRIPT), "start", str(port), str(workdir / "hapi-data")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/fhir"
    deadline = time.monotonic() + HAPI_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            for server in needs:
                server.stop()
            raise RuntimeError(f"HAPI exited with {process.returncode}; see {workdir / 'hapi.log'}")
        try:
            if httpx.get(f"{url}/metadata", params={"_summary": "true"}, timeout=5).status_code == 200:
                return Server(url=url, process=process, needs=needs)
        except httpx.HTTPError:
            pass
        time.sleep(1)
    process.kill()
    for server in needs:
        server.stop()
    raise RuntimeError(f"HAPI did not start within {HAPI_START_TIMEOUT_SECONDS}s; see {workdir / 'hapi.log'}")


# Append-only file, fsync before acknowledging each write ("acknowledged means durable"); no RDB
# snapshots (the AOF alone is replayed on start).
REDIS_DURABILITY = ("--appendonly", "yes", "--appendfsync", "always", "--save", "")


def start_redis(workdir: Path) -> Server:
    """A redis-server on a free port, persisting as production does (append-only, fsync every write).

    The same flags as scripts/run-stack.sh and docker-compose.yml, so a test that kills Redis and
    restarts it on the same `workdir` finds every acknowledged job (DESIGN.md invariant 8).
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            *REDIS_DURABILITY,
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return Server(url=f"redis://127.0.0.1:{port}/0", process=process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


API_START_TIMEOUT_SECONDS = 60


def start_api(env: dict[str, str], port: int) -> Server:
    """The PRM API as a real uvicorn process on 127.0.0.1:`port` (settings from `env`), so that HAPI
    can call it (rest-hook deliveries). `stop()` it and start it again on the same port to simulate
    an outage."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + API_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return Server(url=url, process=process)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API did not start within {API_START_TIMEOUT_SECONDS}s")
