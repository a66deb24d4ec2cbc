"""Backups that restore (docs/operations.md): scripts/backup.sh dumps HAPI's PostgreSQL database; after
the database is destroyed and restored, the PRM answers the same 360 and slot search as before.

Its own PostgreSQL and HAPI (started twice): the session's HAPI is never touched.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.conformance import load_conformance
from app.fhir.client import FhirClient
from app.main import create_app
from tests.clinic import KOLKATA, make_clinic, make_patient, make_practitioner
from tests.conftest import ADMIN_KEY, STAFF_KEY, bearer, make_settings, started
from tests.support.servers import ROOT, Server, run_hapi, start_postgres

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("PRM_HAPI_DB") != "postgres", reason="backups are of PostgreSQL: make test-postgres"
    ),
]

BACKUP_SCRIPT = ROOT / "scripts" / "backup.sh"


def _as_admin(database: Server) -> dict[str, str]:
    """libpq's variables for the local PostgreSQL's superuser (trust authentication on loopback)."""
    port = database.url.rsplit(":", 1)[1].split("/")[0]
    return {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": port, "PGUSER": "postgres"}


def _backup(command: str, file: Path, database: Server) -> None:
    subprocess.run([str(BACKUP_SCRIPT), command, str(file)], check=True, env=_as_admin(database))


def _destroy(database: Server) -> None:
    subprocess.run(
        ["psql", "-d", "postgres", "-qc", "DROP DATABASE hapi WITH (FORCE)"],
        check=True,
        env=_as_admin(database),
    )


async def _client(hapi: Server, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started(create_app(make_settings(fhir_base_url=hapi.url, redis_url=redis_url))):
        yield client


# Tomorrow and the two days after: one window for both searches, however long the restore takes.
TOMORROW = datetime.combine(datetime.now(KOLKATA).date() + timedelta(days=1), time(), tzinfo=KOLKATA)
WINDOW = {"start": TOMORROW.isoformat(), "end": (TOMORROW + timedelta(days=3)).isoformat(), "limit": "200"}


async def _answers(api: httpx.AsyncClient, patient: str, doctor: dict[str, Any]) -> tuple[Any, Any]:
    """What the front desk sees: the patient's 360 and the doctor's free slots in WINDOW."""
    record = await api.get(f"/api/v1/patients/{patient}/360", headers=bearer(STAFF_KEY))
    assert record.status_code == 200, record.text
    slots = await api.get(
        "/api/v1/slots", params={**WINDOW, "practitioner": doctor["id"]}, headers=bearer(STAFF_KEY)
    )
    assert slots.status_code == 200, slots.text
    return record.json(), slots.json()


async def test_a_destroyed_database_restored_from_backup_answers_as_before(
    tmp_path: Path, redis_server: Server
) -> None:
    database = start_postgres(tmp_path)
    env = {**os.environ, "PRM_HAPI_DB_URL": database.url}
    hapi = run_hapi(tmp_path, env=env)
    try:
        fhir = FhirClient(hapi.url, timeout_seconds=120)
        await load_conformance(fhir)
        await fhir.aclose()
        async for api in _client(hapi, redis_server.url):
            clinic = await make_clinic(api, bearer(ADMIN_KEY))
            doctor = await make_practitioner(api, bearer(ADMIN_KEY), clinic)
            patient = (await make_patient(api, bearer(STAFF_KEY)))["id"]
            slot = (await _answers(api, patient, doctor))[1][0]["id"]
            booked = await api.post(
                "/api/v1/appointments",
                json={"slot": slot, "patient": patient, "reason": "checkup"},
                headers=bearer(STAFF_KEY),
            )
            assert booked.status_code == 201, booked.text
            before = await _answers(api, patient, doctor)

        _backup("dump", tmp_path / "hapi.dump", database)
        hapi.stop()
        _destroy(database)
        _backup("restore", tmp_path / "hapi.dump", database)
        hapi = run_hapi(tmp_path, env=env)

        async for api in _client(hapi, redis_server.url):
            after = await _answers(api, patient, doctor)
    finally:
        hapi.stop()
        database.stop()

    assert after == before
    assert any(a["id"] == booked.json()["id"] for a in after[0]["upcoming_appointments"])
    assert slot not in {s["id"] for s in after[1]}
