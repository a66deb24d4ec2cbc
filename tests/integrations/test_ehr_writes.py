"""What an EHR writes through /fhir is acted on like a PRM booking: confirmation, reminders, journey and
pipeline move exactly once; its cancellation frees the slot and revokes the reminders; a slot it makes
busy is not bookable; a second appointment it writes on a held slot opens one ticket for staff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.consents.resources import Decision
from app.directory.resources import specialty_concept
from app.fhir.canonical import PROFILE_APPOINTMENT, SID_SLOT_CONFLICT
from app.fhir.client import FhirClient, Resource
from app.messaging import resources as res
from app.messaging.reminders import reminders_of
from app.services import Services
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.factories import unique
from tests.integrations.support import feed, fhir_write
from tests.messaging.support import consent, today_at
from tests.opportunities.test_opportunities import lead

pytestmark = pytest.mark.integration
BOOKING_CHANNEL = "https://fhir.prm.health/StructureDefinition/booking-channel"


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


@pytest.fixture(scope="module")
async def ehr_clinic(api: httpx.AsyncClient, admin: dict[str, str]) -> Clinic:
    """A clinic with a phone number (the confirmation names it)."""
    org = await api.post(
        "/api/v1/organizations", json={"name": f"Clinic {unique()}", "phone": "+918041230097"}, headers=admin
    )
    loc = await api.post(
        "/api/v1/locations",
        json={"name": f"Branch {unique()}", "organization": org.json()["id"], "timezone": "Asia/Kolkata"},
        headers=admin,
    )
    return Clinic(organization=org.json()["id"], location=loc.json()["id"])


# Nothing else in the suite waits on the ENT waitlist: a cardiology entry left by another test would take
# the slot the EHR's cancellation frees (the waitlist holds it), and the slot would not read free.
SPECIALTY = "ent"


def ehr_appointment(slot: dict[str, Any], doctor: dict[str, Any], patient_id: str, location: str) -> Resource:
    """An Appointment as an EHR writes it: the PRM's profile, booking channel 'ehr', the slot it fills."""
    return {
        "resourceType": "Appointment",
        "meta": {"profile": [PROFILE_APPOINTMENT]},
        "extension": [{"url": BOOKING_CHANNEL, "valueCode": "ehr"}],
        "status": "booked",
        "specialty": [specialty_concept(SPECIALTY)],
        "slot": [{"reference": f"Slot/{slot['id']}"}],
        "start": slot["start"],
        "end": slot["end"],
        "participant": [
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{doctor['id']}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{location}"}, "status": "accepted"},
        ],
    }


async def _later_slot(
    api: httpx.AsyncClient, staff: dict[str, str], doctor: dict[str, Any]
) -> dict[str, Any]:
    """A free slot more than a day ahead (both reminders are due later)."""
    after = datetime.now().astimezone() + timedelta(days=2)
    return next(s for s in await free_slots(api, staff, doctor) if datetime.fromisoformat(s["start"]) > after)


async def _effects(fhir: FhirClient, appointment_id: str, patient_id: str) -> dict[str, list[Resource]]:
    about = [{"reference": f"Appointment/{appointment_id}"}]
    messages = await fhir.search("Communication", {"subject": f"Patient/{patient_id}"})
    return {
        "messages": [m for m in messages if m.get("about") == about],
        "reminders": await reminders_of(fhir, appointment_id),
    }


async def test_an_ehr_booking_gets_confirmation_reminders_journey_and_lead_move_exactly_once(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    integration: dict[str, str],
    fhir: FhirClient,
    ehr_clinic: Clinic,
) -> None:
    template = f"t-{unique().lower()}"
    saved = await api.post(
        "/api/v1/journey-templates",
        json={
            "name": template,
            "title": "EHR bookings (test)",
            "department": SPECIALTY,
            "location": ehr_clinic.location,
            "stages": [
                {"code": "pre-visit", "title": "Before", "actions": [{"kind": "wait", "event": "arrived"}]}
            ],
        },
        headers=admin,
    )
    assert saved.status_code == 201, saved.text
    doctor = await make_practitioner(api, admin, ehr_clinic, specialty=SPECIALTY)
    slot = await _later_slot(api, staff, doctor)
    patient = await make_patient(api, staff, preferred_channel="sms")
    await consent(fhir, patient["id"], "sms", Decision.OPT_IN, today_at(0))
    open_lead = await lead(api, staff, patient=patient["id"], source="website")

    written = await fhir_write(
        api,
        integration,
        "POST",
        "Appointment",
        ehr_appointment(slot, doctor, patient["id"], ehr_clinic.location),
    )
    assert written["meta"]["source"].startswith("urn:prm:user:")
    await feed(services, written)
    await feed(services, written)  # a replay (rest-hook and sweep both delivered it)

    effects = await _effects(fhir, written["id"], patient["id"])
    [message] = effects["messages"]
    template_used = res.message_of(message).template
    assert template_used is not None and template_used.name == "appointment_confirmation"
    start = datetime.fromisoformat(slot["start"])
    assert sorted(start - datetime.fromisoformat(r["occurrenceDateTime"]) for r in effects["reminders"]) == [
        timedelta(hours=2),
        timedelta(hours=24),
    ]
    assert {r["status"] for r in effects["reminders"]} == {"active"}
    assert (await fhir.read("Slot", slot["id"]))["status"] == "busy"
    task = await fhir.read("Task", open_lead["id"])
    assert task["businessStatus"]["coding"][0]["code"] == "booked"
    assert task["focus"] == {"reference": f"Appointment/{written['id']}"}
    journeys = await api.get(f"/api/v1/patients/{patient['id']}/journeys", headers=staff)
    assert [j["appointment"] for j in journeys.json() if j["template"] == template] == [written["id"]]

    # The EHR cancels it: reminders revoked, one cancellation message, the slot bookable again.
    cancelled = await fhir_write(
        api, integration, "PUT", f"Appointment/{written['id']}", {**written, "status": "cancelled"}
    )
    await feed(services, cancelled)
    await feed(services, cancelled)
    effects = await _effects(fhir, written["id"], patient["id"])
    names = sorted(str(res.message_of(m).template.name) for m in effects["messages"])  # type: ignore[union-attr]
    assert names == ["appointment_cancellation", "appointment_confirmation"]
    assert {r["status"] for r in effects["reminders"]} == {"revoked"}
    assert (await fhir.read("Slot", slot["id"]))["status"] == "free"
    rebooked = await api.post(
        "/api/v1/appointments", json={"slot": slot["id"], "patient": patient["id"]}, headers=staff
    )
    assert rebooked.status_code == 201, rebooked.text


async def test_a_slot_the_ehr_makes_busy_is_not_offered_or_bookable(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    integration: dict[str, str],
    fhir: FhirClient,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty=SPECIALTY)
    slot_id = (await free_slots(api, staff, doctor))[0]["id"]
    slot = await fhir.read("Slot", slot_id)
    await fhir_write(api, integration, "PUT", f"Slot/{slot_id}", {**slot, "status": "busy-unavailable"})

    assert slot_id not in [s["id"] for s in await free_slots(api, staff, doctor)]
    patient = await make_patient(api, staff)
    refused = await api.post(
        "/api/v1/appointments", json={"slot": slot_id, "patient": patient["id"]}, headers=staff
    )
    assert refused.status_code == 409, refused.text
    assert not await fhir.search("Appointment", {"slot": f"Slot/{slot_id}"})


async def test_an_ehr_appointment_on_a_held_slot_opens_one_ticket_for_staff(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    integration: dict[str, str],
    fhir: FhirClient,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty=SPECIALTY)
    slot = (await free_slots(api, staff, doctor))[0]
    first = await api.post(
        "/api/v1/appointments",
        json={"slot": slot["id"], "patient": (await make_patient(api, staff))["id"]},
        headers=staff,
    )
    assert first.status_code == 201, first.text
    other = await make_patient(api, staff)
    second = await fhir_write(
        api, integration, "POST", "Appointment", ehr_appointment(slot, doctor, other["id"], clinic.location)
    )
    await feed(services, second)
    await feed(services, await fhir.read("Appointment", first.json()["id"]))  # either change may come first
    await feed(services, second)

    key = f"Slot/{slot['id']}/" + "/".join(sorted((first.json()["id"], second["id"])))
    [ticket] = await fhir.search("Task", {"identifier": f"{SID_SLOT_CONFLICT}|{key}"})
    listed = await api.get(f"/api/v1/tickets/{ticket['id']}", headers=staff)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["category"], body["priority"], body["source"]) == ("appointment", "urgent", "ehr")
    assert other["id"] in str(body["patient"])
    assert f"Slot/{slot['id']}" in body["description"]
    assert (await fhir.read("Slot", slot["id"]))["status"] == "busy"
