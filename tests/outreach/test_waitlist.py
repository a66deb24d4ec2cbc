"""The waitlist in the real HAPI: joining through the API, offers of a freed slot through the change feed,
the first "yes" on WhatsApp booking it (through the bot and a real worker) and the others told it has gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext
from app.config import Settings
from app.fhir.canonical import SID_MESSAGE_KEY
from app.fhir.client import FhirClient, Resource
from app.messaging.resources import message_of
from app.outreach.offers import refill_from_waitlist
from app.ports.jobs import Job
from app.services import Services
from tests.bot.support import Chat
from tests.clinic import KOLKATA, SHORT_HOURS, Clinic, free_slots, make_patient, make_practitioner
from tests.integrations.test_ehr_writes import ehr_appointment
from tests.messaging.twilio_webhooks import drain
from workers.registry import JOBS, change_context

pytestmark = pytest.mark.integration


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


def _context(services: Services) -> ChangeContext:
    return replace(change_context(services), default_timezone="Asia/Kolkata")


async def _feed(services: Services, appointment_id: str) -> None:
    """The change feed hands the appointment's current version to the waitlist handler."""
    appointment = await services.fhir.read("Appointment", appointment_id)
    change = Change(
        resource_type="Appointment",
        id=appointment_id,
        version=appointment["meta"]["versionId"],
        kind=ChangeKind.UPDATED,
    )
    await refill_from_waitlist(change, context=_context(services))


async def _keyed(fhir: FhirClient, key: str) -> list[Resource]:
    return await fhir.search("Communication", {"identifier": f"{SID_MESSAGE_KEY}|{key}"})


async def _join(api: httpx.AsyncClient, staff: dict[str, str], patient: str, **wanted: Any) -> httpx.Response:
    now = datetime.now(KOLKATA)
    body = {
        "patient": patient,
        "start": now.isoformat(),
        "end": (now + timedelta(days=7)).isoformat(),
        **wanted,
    }
    return await api.post("/api/v1/waitlist", json=body, headers=staff)


async def test_joining_listing_and_leaving_the_waitlist(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="dermatology")
    patient = await make_patient(api, staff)

    joined = await _join(api, staff, patient["id"], practitioner=doctor["id"], part_of_day="evening")
    again = await _join(api, staff, patient["id"], practitioner=doctor["id"])
    both = await _join(api, staff, patient["id"], practitioner=doctor["id"], specialty="dermatology")
    unknown = await _join(api, staff, patient["id"], specialty="astrology")
    forever = await api.post(
        "/api/v1/waitlist",
        json={
            "patient": patient["id"],
            "specialty": "dermatology",
            "start": "2026-01-01T00:00:00Z",
            "end": "2099-01-01T00:00:00Z",
            "part_of_day": "morning",
        },
        headers=staff,
    )
    listed = await api.get("/api/v1/waitlist", params={"patient": patient["id"]}, headers=staff)
    left = await api.post(f"/api/v1/waitlist/{joined.json()['id']}/cancel", headers=staff)
    left_again = await api.post(f"/api/v1/waitlist/{joined.json()['id']}/cancel", headers=staff)

    assert joined.status_code == 201, joined.text
    entry = joined.json()
    assert entry["status"] == "waitlist"
    assert entry["practitioner_role"] == doctor["practitioner_role"]
    assert entry["specialties"] == ["dermatology"]
    # One period per day, 17:00 onwards local time (the doctor works 10-11, so only an evening slot suits).
    assert len(entry["periods"]) in (7, 8)
    assert all(datetime.fromisoformat(p["start"]).astimezone(KOLKATA).hour >= 17 for p in entry["periods"])
    assert again.status_code == 409 and again.json()["error"] == "already_waitlisted"
    assert both.status_code == 422 and "exactly one of specialty and practitioner" in both.text
    assert unknown.status_code == 422 and "astrology" in unknown.text
    assert forever.status_code == 422 and "at most 90 days" in forever.text
    assert [e["id"] for e in listed.json()] == [entry["id"]]
    assert left.status_code == 200 and left.json()["status"] == "cancelled"
    assert left_again.status_code == 409 and left_again.json()["error"] == "not_waitlisted"
    listed_after = await api.get("/api/v1/waitlist", params={"patient": patient["id"]}, headers=staff)
    assert listed_after.json() == []


async def test_a_cancelled_slot_is_offered_to_two_waiting_patients_and_the_first_yes_books_it(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    services: Services,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    holder = await make_patient(api, staff)
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": holder["id"]}, headers=staff
    )
    first = await make_patient(api, staff, preferred_language="en")
    second = await make_patient(api, staff, preferred_language="en")
    third = await make_patient(api, staff, preferred_language="en")
    entries = [
        (await _join(api, staff, p["id"], practitioner=doctor["id"])).json()["id"]
        for p in (first, second, third)
    ]

    await api.post(f"/api/v1/appointments/{booked.json()['id']}/cancel", headers=staff)
    await _feed(services, booked.json()["id"])
    await _feed(services, booked.json()["id"])  # a replayed change offers nothing new

    offers = [await _keyed(fhir, f"waitlist/{slot}/{e}/waitlist_offer") for e in entries]
    assert [len(o) for o in offers] == [1, 1, 0]  # the first two in the queue, once each
    text = message_of(offers[1][0]).text or ""
    assert text.startswith(f"Hello {second['name'].split()[0]}") or second["name"] in text
    assert f"Dr. {doctor['name']}" in text
    assert all(message_of(o[0]).thread_id for o in offers[:2])  # on the patient's thread, in the inbox
    [hold] = await fhir.search("Appointment", {"slot": f"Slot/{slot}", "status": "pending"})
    assert hold["participant"][0]["actor"]["reference"] == f"Patient/{first['id']}"
    assert (await fhir.read("Slot", slot))["status"] == "busy-tentative"

    # The second in line answers first: the hold of the first is released and the slot is theirs.
    winner = await Chat(api, fhir, settings, second["phone"]).say("yes")
    # The test clinic has no phone for the confirmation template: the bot's own line carries the details.
    assert winner[-1].startswith(f"Done, your appointment with Dr. {doctor['name']} on ")
    [appointment] = await fhir.search("Appointment", {"slot": f"Slot/{slot}", "status": "booked"})
    assert appointment["participant"][0]["actor"]["reference"] == f"Patient/{second['id']}"
    assert (await fhir.read("Appointment", hold["id"]))["status"] == "cancelled"
    assert (await fhir.read("Appointment", entries[1]))["status"] == "cancelled"
    assert (await fhir.read("Slot", slot))["status"] == "busy"

    await _feed(services, appointment["id"])
    await _feed(services, appointment["id"])
    assert len(await _keyed(fhir, f"waitlist/{slot}/{entries[0]}/waitlist_slot_gone")) == 1
    assert await _keyed(fhir, f"waitlist/{slot}/{entries[1]}/waitlist_slot_gone") == []

    loser = await Chat(api, fhir, settings, first["phone"]).say("yes")
    assert loser[-1] == "Sorry, that time was just taken by someone else."
    assert (await fhir.read("Appointment", entries[0]))["status"] == "waitlist"
    assert len(await fhir.search("Appointment", {"slot": f"Slot/{slot}", "status": "booked"})) == 1


async def test_a_slot_an_ehr_booked_is_not_offered_while_the_slot_still_says_free(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    services: Services,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    slot = (await free_slots(api, staff, doctor))[0]
    waiting = await make_patient(api, staff, preferred_language="en")
    entry = (await _join(api, staff, waiting["id"], practitioner=doctor["id"])).json()["id"]
    patient = await make_patient(api, staff)

    # An EHR writes the Appointment alone; the Slot says free until the feed's slot handler catches up.
    written = await fhir.create(ehr_appointment(slot, doctor, patient["id"], clinic.location))
    assert (await fhir.read("Slot", slot["id"]))["status"] == "free"
    await _feed(services, written["id"])

    assert await fhir.search("Appointment", {"slot": f"Slot/{slot['id']}", "status": "pending"}) == []
    assert await _keyed(fhir, f"waitlist/{slot['id']}/{entry}/waitlist_offer") == []


async def test_new_evening_hours_offer_their_slots_to_the_waiting_patients_once_each(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    services: Services,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="gynecology")  # works 10-11 only
    patients = [await make_patient(api, staff, preferred_language="en") for _ in range(3)]
    entries = [
        (await _join(api, staff, p["id"], practitioner=doctor["id"], part_of_day="evening")).json()["id"]
        for p in patients
    ]

    evening = {day: ["10:00-11:00", "17:00-18:00"] for day in SHORT_HOURS}
    changed = await api.put(
        f"/api/v1/practitioner-roles/{doctor['practitioner_role']}/hours",
        json={"hours": evening},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["created"] > 0
    await drain(settings)  # the one OFFER_NEW_SLOTS job the hours change queued, then the send jobs

    async def offers_of(entry: str) -> list[str]:
        """The waitlist offer keys (`waitlist/<slot>/<entry>/waitlist_offer`) of an entry."""
        patient = patients[entries.index(entry)]["id"]
        found = await fhir.search("Communication", {"subject": f"Patient/{patient}"})
        return [
            key
            for m in found
            for i in m.get("identifier", [])
            if (key := str(i.get("value", ""))).startswith("waitlist/")
            and key.endswith(f"/{entry}/waitlist_offer")
        ]

    offered = [await offers_of(e) for e in entries]
    assert [len(o) for o in offered] == [1, 1, 1]  # each waiting patient one new slot, not one per slot
    slots = [o[0].split("/")[1] for o in offered]
    assert (
        slots[0] == slots[1] != slots[2]
    )  # the earliest evening slot to the first two, the next to the third
    first, third = [await fhir.read("Slot", s) for s in (slots[0], slots[2])]
    assert datetime.fromisoformat(first["start"]).astimezone(KOLKATA).hour == 17
    assert first["start"] < third["start"]

    # A replay of the job over the whole week offers nothing more.
    now = datetime.now(KOLKATA)
    payload = {
        "role_id": doctor["practitioner_role"],
        "start": now.isoformat(),
        "end": (now + timedelta(days=8)).isoformat(),
    }
    assert await JOBS[Job.OFFER_NEW_SLOTS](services, payload) == []
    assert [len(await offers_of(e)) for e in entries] == [1, 1, 1]
