"""Care gaps in the real HAPI: the cardiology follow-up rule, its list and one ticket per gap."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.canonical import SID_CARE_GAP
from app.fhir.client import FhirClient
from app.ports.jobs import Job
from app.services import Services
from tests.clinic import KOLKATA, Clinic, make_patient, make_practitioner
from tests.outreach.support import appointment
from workers.registry import JOBS

pytestmark = pytest.mark.integration
RULE = "cardiology-no-follow-up-30-days"


async def test_a_cardiology_patient_without_a_follow_up_gets_one_outreach_ticket(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    app: FastAPI,
    clinic: Clinic,
) -> None:
    services: Services = app.state.services
    now = datetime.now(KOLKATA).replace(microsecond=0)
    doctor = await make_practitioner(api, admin, clinic, specialty="cardiology")
    overdue, followed, recent = [await make_patient(api, staff) for _ in range(3)]
    visit = await appointment(
        fhir, patient=overdue["id"], doctor=doctor, status="fulfilled", start=now - timedelta(days=40)
    )
    await appointment(
        fhir, patient=followed["id"], doctor=doctor, status="fulfilled", start=now - timedelta(days=40)
    )
    await appointment(
        fhir, patient=followed["id"], doctor=doctor, status="booked", start=now + timedelta(days=3)
    )
    await appointment(
        fhir, patient=recent["id"], doctor=doctor, status="fulfilled", start=now - timedelta(days=10)
    )

    listed = await api.get("/api/v1/care-gaps", headers=staff)

    assert listed.status_code == 200, listed.text
    rules = {r["rule"]: r for r in listed.json()}
    assert set(rules) == {RULE, "diabetes-no-visit-90-days"}
    found = {p["patient"]: p for p in rules[RULE]["patients"]}
    assert found[overdue["id"]]["anchor"] == f"Appointment/{visit['id']}"
    assert followed["id"] not in found and recent["id"] not in found

    await JOBS[Job.OPEN_CARE_GAP_TICKETS](services, {})
    await JOBS[Job.OPEN_CARE_GAP_TICKETS](services, {})  # the gap already has its ticket

    key = f"{RULE}/{overdue['id']}/Appointment-{visit['id']}"
    assert len(await fhir.search("Task", {"identifier": f"{SID_CARE_GAP}|{key}"})) == 1
    tickets = (await api.get("/api/v1/tickets", params={"patient": overdue["id"]}, headers=staff)).json()
    assert [(t["category"], t["status"]) for t in tickets] == [("appointment", "open")]
    assert (await api.get("/api/v1/tickets", params={"patient": followed["id"]}, headers=staff)).json() == []
