"""No-show risk in the real HAPI: the at-risk list with its factors, and the extra reminder of the risky."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.canonical import SID_REMINDER
from app.fhir.client import FhirClient
from app.ports.jobs import Job
from app.scheduling.resources import CONFIRMED_NOTE
from app.services import Services
from tests.clinic import KOLKATA, Clinic, make_patient, make_practitioner
from tests.outreach.support import appointment
from workers.registry import JOBS

pytestmark = pytest.mark.integration


async def test_a_patient_who_missed_visits_is_at_risk_with_factors_and_gets_one_extra_reminder(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    app: FastAPI,
    clinic: Clinic,
) -> None:
    services: Services = app.state.services
    now = datetime.now(KOLKATA).replace(microsecond=0)
    doctor = await make_practitioner(api, admin, clinic)
    risky, steady = await make_patient(api, staff), await make_patient(api, staff)
    for days in (60, 30):
        await appointment(
            fhir, patient=risky["id"], doctor=doctor, status="noshow", start=now - timedelta(days=days)
        )
    await appointment(
        fhir, patient=steady["id"], doctor=doctor, status="fulfilled", start=now - timedelta(days=30)
    )
    start = (now + timedelta(days=5)).replace(hour=12, minute=0)
    # Not a Monday or Saturday: app/outreach/model.py counts those days as a risk factor.
    while start.weekday() in (0, 5):
        start += timedelta(days=1)
    risky_visit = await appointment(
        fhir,
        patient=risky["id"],
        doctor=doctor,
        status="booked",
        start=start,
        created=now - timedelta(days=10),
        channel="voice",
    )
    steady_visit = await appointment(
        fhir,
        patient=steady["id"],
        doctor=doctor,
        status="booked",
        start=start + timedelta(hours=1),
        channel="whatsapp",
        comment=CONFIRMED_NOTE,
    )
    window = {"start": now.isoformat(), "end": (now + timedelta(days=7)).isoformat()}

    listed = await api.get("/api/v1/appointments/at-risk", params=window, headers=staff)
    everyone = await api.get("/api/v1/appointments/at-risk", params={**window, "min_score": 0}, headers=staff)
    backwards = await api.get(
        "/api/v1/appointments/at-risk", params={"start": window["end"], "end": window["start"]}, headers=staff
    )

    assert listed.status_code == 200, listed.text
    mine = {e["appointment"]: e for e in listed.json()}
    assert steady_visit["id"] not in mine
    entry = mine[risky_visit["id"]]
    assert entry["patient"] == risky["id"] and entry["model"] == "heuristic"
    assert entry["score"] >= 0.5
    assert entry["factors"][0] == {"factor": "past_no_shows", "value": 2.0, "contribution": 1.8}
    assert {f["factor"] for f in entry["factors"]} >= {
        "first_visit",
        "booked_by_phone_or_walk_in",
        "lead_time_days",
    }
    low = {e["appointment"]: e for e in everyone.json()}[steady_visit["id"]]
    assert low["score"] < 0.05
    assert [f["factor"] for f in low["factors"]] == ["reminder_confirmed"]
    assert backwards.status_code == 422 and "end" in backwards.text

    await JOBS[Job.REMIND_HIGH_RISK](services, {})
    await JOBS[Job.REMIND_HIGH_RISK](services, {})  # a second run adds nothing

    [extra] = await fhir.search(
        "CommunicationRequest", {"identifier": f"{SID_REMINDER}|appointment/{risky_visit['id']}/72h"}
    )
    assert extra["status"] == "active"
    assert datetime.fromisoformat(extra["occurrenceDateTime"]) == start - timedelta(hours=72)
    assert (
        await fhir.search(
            "CommunicationRequest", {"identifier": f"{SID_REMINDER}|appointment/{steady_visit['id']}/72h"}
        )
        == []
    )
