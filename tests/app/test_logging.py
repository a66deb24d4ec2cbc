"""No PHI in logs: a whole patient journey leaves no name, phone or reason in the log output."""

from __future__ import annotations

import httpx
import pytest

from tests.clinic import Clinic, free_slots, make_practitioner
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


async def test_a_patient_journey_logs_no_names_phones_or_reasons(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    name, e164 = person_name(), phone()
    reason = "confidential chest pain episode"
    capsys.readouterr()

    patient = (await api.post("/api/v1/patients", json={"name": name, "phone": e164}, headers=staff)).json()
    await api.get("/api/v1/patients", params={"phone": e164}, headers=staff)
    await api.get("/api/v1/patients", params={"name": name}, headers=staff)
    await api.post("/api/v1/patients", json={"name": name, "phone": "not-a-phone"}, headers=staff)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": patient["id"], "reason": reason}, headers=staff
    )
    await api.post(
        f"/api/v1/appointments/{booked.json()['id']}/cancel", json={"reason": reason}, headers=staff
    )

    logged = capsys.readouterr().out
    assert "http.request.completed" in logged
    assert f"Appointment/{booked.json()['id']}" in logged
    for secret in (name, *name.split(), e164, e164[3:], reason):
        assert secret not in logged
