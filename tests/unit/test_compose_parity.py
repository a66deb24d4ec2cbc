"""docker-compose.yml runs what the local scripts run: the same HAPI database settings, Redis
persistence, health checks and processes, so the two cannot drift apart silently.

The compose file is resolved by `docker-compose config` (Debian's docker-compose: no daemon needed),
in a scratch copy whose `.env` is `.env.example`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.servers import REDIS_DURABILITY

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose file as docker-compose resolves it."""
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (.ci/run installs Debian's docker-compose)")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    scratch = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", scratch / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", scratch / ".env")
    (scratch / "hapi-config").mkdir()  # a build context must exist; nothing is built
    env = {"PATH": os.environ["PATH"], "HAPI_DB_PASSWORD": "compose-check"}
    resolved = subprocess.run(
        [tool, "config"], cwd=scratch, env=env, capture_output=True, text=True, check=False
    )
    assert resolved.returncode == 0, resolved.stderr
    config: dict[str, Any] = yaml.safe_load(resolved.stdout)
    return config


def _exports(script: Path) -> dict[str, str]:
    """The `export NAME=value` lines of a shell script (values without ${...} defaults)."""
    found = re.findall(r"^\s*export (\w+)=(\S+)$", script.read_text(), flags=re.MULTILINE)
    return {name: value for name, value in found if "$" not in value}


def test_hapi_runs_on_postgres_with_the_settings_of_scripts_hapi(compose: dict[str, Any]) -> None:
    hapi = compose["services"]["hapi"]["environment"]
    local = _exports(SCRIPTS / "hapi.sh")
    assert local, "scripts/hapi.sh exports the PostgreSQL settings"
    for name, value in local.items():
        assert hapi[name] == value, name
    assert hapi["SPRING_DATASOURCE_URL"].startswith("jdbc:postgresql://")
    assert hapi["SPRING_DATASOURCE_USERNAME"] == "hapi"


def test_the_database_is_the_one_scripts_postgres_creates(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    created = (SCRIPTS / "postgres.sh").read_text()
    assert postgres["environment"]["POSTGRES_DB"] == "hapi" and "CREATE DATABASE hapi OWNER hapi" in created
    assert postgres["environment"]["POSTGRES_USER"] == "hapi" and "CREATE ROLE hapi LOGIN" in created
    assert any(v.endswith(":/var/lib/postgresql/data:rw") for v in postgres["volumes"])


def test_redis_persists_exactly_as_the_tests_and_run_stack_do(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert command[1 : 1 + len(REDIS_DURABILITY)] == list(REDIS_DURABILITY)
    run_stack = (SCRIPTS / "run-stack.sh").read_text()
    assert " ".join(f'"{a}"' if a == "" else a for a in REDIS_DURABILITY) in run_stack.replace("\\\n", " ")
    assert any(v.endswith(":/data:rw") for v in compose["services"]["redis"]["volumes"])


def test_health_checks_ask_what_the_scripts_wait_for(compose: dict[str, Any]) -> None:
    services = compose["services"]
    hapi_wait = re.search(r'curl -sf "\$url(/metadata\?_summary=true)"', (SCRIPTS / "hapi.sh").read_text())
    assert hapi_wait is not None
    assert any(arg.endswith("/fhir" + hapi_wait.group(1)) for arg in services["hapi"]["healthcheck"]["test"])
    assert "/ready" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["postgres"]["healthcheck"]["test"][-1] == "pg_isready -U hapi -d hapi"


def test_the_worker_is_the_process_run_stack_starts(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["command"] == ["python", "-m", "workers"]
    assert "python -m workers" in (SCRIPTS / "run-stack.sh").read_text()


def test_api_and_worker_share_every_setting(compose: dict[str, Any]) -> None:
    # One build_services() for both: a setting only one of them gets is a bug waiting to happen.
    services = compose["services"]
    assert services["api"]["environment"] == services["worker"]["environment"]
    assert services["api"]["depends_on"] == services["worker"]["depends_on"]
