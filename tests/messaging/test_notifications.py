"""Appointment messages from the change feed: booked, rescheduled, cancelled, whoever wrote the Appointment."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.sandbox.messenger import SandboxMessenger
from app.changes import jobs as changes
from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext
from app.consents.resources import Decision
from app.fhir.client import FhirClient, Resource
from app.messaging import resources as res
from app.messaging.notifications import notify_patient
from app.messaging.sending import Outcome
from app.services import Services
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.factories import unique
from tests.messaging.support import consent, send, today_at
from workers.registry import change_context

pytestmark = pytest.mark.integration
CLINIC_PHONE = "+918041230099"
BOOKING_CHANNEL = "https://fhir.prm.health/StructureDefinition/booking-channel"


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


@pytest.fixture(scope="module")
async def phoned_clinic(api: httpx.AsyncClient, admin: dict[str, str]) -> Clinic:
    org = await api.post(
        "/api/v1/organizations", json={"name": f"Clinic {unique()}", "phone": CLINIC_PHONE}, headers=admin
    )
    loc = await api.post(
        "/api/v1/locations",
        json={"name": f"Branch {unique()}", "organization": org.json()["id"], "timezone": "Asia/Kolkata"},
        headers=admin,
    )
    return Clinic(organization=org.json()["id"], location=loc.json()["id"])


def _context(services: Services) -> ChangeContext:
    return replace(change_context(services), default_timezone="Asia/Kolkata")


async def _feed(services: Services, appointment: Resource, kind: str = "updated") -> None:
    """What the worker does with a change-feed entry for this version."""
    await changes.handle_change(
        resource_type="Appointment",
        resource_id=appointment["id"],
        version=appointment["meta"]["versionId"],
        kind=kind,
        context=_context(services),
        dedupe_ttl_seconds=600,
    )


async def _messages(fhir: FhirClient, patient_id: str) -> list[Resource]:
    return await fhir.search("Communication", {"subject": f"Patient/{patient_id}", "_sort": "_lastUpdated"})


async def _book(api: httpx.AsyncClient, staff: dict[str, str], slot: str, patient: str) -> dict[str, Any]:
    booked = await api.post("/api/v1/appointments", json={"slot": slot, "patient": patient}, headers=staff)
    assert booked.status_code == 201, booked.text
    body: dict[str, Any] = booked.json()
    return body


async def test_a_booking_through_the_api_sends_one_confirmation_in_the_patient_language(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    phoned_clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, phoned_clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    patient = await make_patient(api, staff, preferred_language="hi", preferred_channel="sms")
    await consent(fhir, patient["id"], "sms", Decision.OPT_IN, today_at(0))
    booked = await _book(api, staff, slot, patient["id"])
    appointment = await fhir.read("Appointment", booked["id"])

    await _feed(services, appointment, kind="created")
    replay = Change(
        "Appointment", appointment["id"], appointment["meta"]["versionId"], ChangeKind.CREATED, appointment
    )
    await notify_patient(replay, context=_context(services))  # the feed's de-duplication bypassed

    [message] = await _messages(fhir, patient["id"])
    read = res.message_of(message)
    assert (read.channel, read.status) == ("sms", "preparation")
    assert read.template is not None and (read.template.name, read.template.language) == (
        "appointment_confirmation",
        "hi",
    )
    assert read.template.variables["clinic_phone"] == CLINIC_PHONE
    assert doctor["name"] in str(read.text) and "पक्का हो गया" in str(read.text)
    assert message["about"] == [{"reference": f"Appointment/{booked['id']}"}]

    sandbox = SandboxMessenger()
    assert await send(fhir, services.queue, sandbox, message, now=today_at(11)) is Outcome.SENT
    [sent] = sandbox.sent
    assert (sent.to.address, sent.body) == (patient["phone"], read.text)


async def test_cancel_and_reschedule_send_their_own_messages_once(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    phoned_clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, phoned_clinic)
    first, second = [s["id"] for s in (await free_slots(api, staff, doctor))[:2]]
    patient = await make_patient(api, staff, preferred_language="kn")
    booked = await _book(api, staff, first, patient["id"])
    await _feed(services, await fhir.read("Appointment", booked["id"]), kind="created")

    moved = await api.post(
        f"/api/v1/appointments/{booked['id']}/reschedule", json={"slot": second}, headers=staff
    )
    assert moved.status_code == 200, moved.text
    for appointment_id in (booked["id"], moved.json()["id"]):
        await _feed(services, await fhir.read("Appointment", appointment_id))
    cancelled = await api.post(f"/api/v1/appointments/{moved.json()['id']}/cancel", json={}, headers=staff)
    assert cancelled.status_code == 200, cancelled.text
    await _feed(services, await fhir.read("Appointment", moved.json()["id"]))
    await _feed(services, await fhir.read("Appointment", moved.json()["id"]))  # replayed

    templates = [res.message_of(m).template for m in await _messages(fhir, patient["id"])]
    assert [(t.name, t.language) for t in templates if t] == [
        ("appointment_confirmation", "kn"),
        ("appointment_reschedule", "kn"),
        ("appointment_cancellation", "kn"),
    ]


async def test_an_appointment_written_straight_into_hapi_gets_its_confirmation(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    phoned_clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, phoned_clinic)
    first = (await free_slots(api, staff, doctor))[0]["id"]
    template_patient = await make_patient(api, staff)
    shape = await fhir.read("Appointment", (await _book(api, staff, first, template_patient["id"]))["id"])
    patient = await make_patient(api, staff)
    # An EHR's Appointment: our profile, none of the optional fields, written to HAPI directly.
    written = copy.deepcopy(shape)
    for field in ("id", "meta", "slot", "created", "specialty"):
        written.pop(field, None)
    written["meta"] = {"profile": shape["meta"]["profile"]}
    written["extension"] = [{"url": BOOKING_CHANNEL, "valueCode": "ehr"}]
    written["participant"] = [
        p
        if not p["actor"]["reference"].startswith("Patient/")
        else {**p, "actor": {"reference": f"Patient/{patient['id']}"}}
        for p in shape["participant"]
    ]
    stored = await fhir.create(written)

    await _feed(services, stored, kind="created")

    [message] = await _messages(fhir, patient["id"])
    read = res.message_of(message)
    assert read.channel == "whatsapp"  # no preference: WhatsApp on the phone
    assert read.template is not None and (read.template.name, read.template.language) == (
        "appointment_confirmation",
        "en",
    )
    assert "confirmed" in str(read.text)
