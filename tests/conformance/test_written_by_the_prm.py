"""What the PRM itself writes declares its profile and passes $validate against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.canonical import PROFILE_APPOINTMENT, PROFILE_COMMUNICATION, PROFILE_PATIENT, PROFILE_TICKET
from app.fhir.client import FhirClient, Resource
from tests.clinic import Clinic, bookable
from tests.factories import person_name, phone
from tests.messaging.support import inbound

pytestmark = pytest.mark.integration


async def assert_conforms(fhir: FhirClient, resource: Resource, profile: str) -> None:
    """The resource declares `profile` and HAPI's $validate finds no error against it."""
    assert resource["meta"]["profile"] == [profile]
    outcome = await fhir.validate(resource, profile=profile)
    errors = [i for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")]
    assert errors == []


async def test_a_registered_patient_and_its_booking_conform(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": patient["id"]}, headers=staff
    )

    await assert_conforms(fhir, await fhir.read("Patient", patient["id"]), PROFILE_PATIENT)
    await assert_conforms(fhir, await fhir.read("Appointment", booked.json()["id"]), PROFILE_APPOINTMENT)


async def test_an_assistant_ticket_and_message_conform(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, app: FastAPI
) -> None:
    name, e164 = person_name(), phone()
    patient = (await api.post("/api/v1/patients", json={"name": name, "phone": e164}, headers=staff)).json()
    # WhatsApp free text goes only inside the session window: the patient wrote a minute ago.
    wrote = datetime.now(UTC) - timedelta(minutes=1)
    await inbound(fhir, app.state.services.state, phone=e164, patient_id=patient["id"], at=wrote)
    written = []
    for text in (
        f"Remind me to call {e164} back tomorrow at 5 pm",
        f"Send a WhatsApp message to {e164}: see you soon",
    ):
        plan = (await api.post("/api/v1/assistant/interpret", json={"text": text}, headers=staff)).json()
        done = await api.post(f"/api/v1/assistant/plans/{plan['plan_id']}/confirm", headers=staff)
        assert done.status_code == 200, done.text
        written.append(done.json()["written"][0])

    ticket, message = written
    await assert_conforms(fhir, await fhir.read("Task", ticket.removeprefix("Task/")), PROFILE_TICKET)
    await assert_conforms(
        fhir, await fhir.read("Communication", message.removeprefix("Communication/")), PROFILE_COMMUNICATION
    )
