"""Under a real uvicorn process, a failing request prints one line and no traceback, with no PHI
(a process of its own: slower than the pure tests, so it runs with the integration suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.servers import ROOT, free_port

pytestmark = pytest.mark.integration

NAME, PHONE, BIRTH = "Meera Krishnan", "+919844111173", "1984-02-29"
PLANTED = (NAME, "Meera", "Krishnan", PHONE, PHONE[3:], BIRTH)


def lines_with(output: str, request_id: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if request_id in line]


def test_under_uvicorn_a_failing_request_prints_one_line_and_no_traceback() -> None:
    port = free_port()
    env = {
        **os.environ,
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": f"http://127.0.0.1:{free_port()}/fhir",
        "PRM_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "PRM_TRANSCRIPTION_ENGINE": "none",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.support.failing_app:create",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        response = httpx.post(
            f"{url}/test-explode",
            params={"name": NAME, "phone": PHONE},
            json={"name": NAME, "birthDate": BIRTH},
            headers={"X-Request-ID": "req-uvicorn-1"},
            timeout=10,
        )
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-uvicorn-1"
    [line] = lines_with(out, "req-uvicorn-1")
    assert (line["status"], line["error_type"]) == (500, "ValueError")
    assert "Traceback" not in out + err
    assert "Exception in ASGI application" not in out + err
    for secret in PLANTED:
        assert secret not in out + err
