"""A patient's appointments by WhatsApp: cancel, reschedule, reminder replies, the last-slot race and the
waitlist — each on a practitioner of its own (10:00-11:00 daily, 15-minute slots) in the real HAPI."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.changes.model import Change, ChangeKind
from app.config import Settings
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.messaging.notifications import appointment_variables, notify_patient
from app.messaging.resources import message_of
from app.messaging.service import prepare_template_message
from tests.bot.support import Chat
from tests.clinic import Clinic, free_slots, make_clinic, make_patient, make_practitioner
from workers.registry import change_context

pytestmark = pytest.mark.integration

REMINDER = "appointment_reminder_24h"
# The clinic's number, which appointment messages give (without it the bot says a short line instead).
CLINIC_PHONE = "+918041234567"


async def book_via_api(
    api: httpx.AsyncClient, staff: dict[str, str], slot: str, patient: str
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/appointments",
        json={"slot": slot, "patient": patient, "reason": "check-up", "channel": "dashboard"},
        headers=staff,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def setup(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A doctor, a patient (English) with an appointment on the doctor's first free slot, the other slots."""
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    slots = await free_slots(api, staff, doctor)
    patient = await make_patient(api, staff, preferred_language="en")
    appointment = await book_via_api(api, staff, slots[0]["id"], patient["id"])
    return doctor, patient, appointment, slots[1:]


async def test_cancel_asks_for_confirmation_then_frees_the_slot(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    app: FastAPI,
) -> None:
    doctor, patient, appointment, _ = await setup(
        api, admin, staff, await make_clinic(api, admin, phone=CLINIC_PHONE)
    )
    chat = Chat(api, fhir, settings, patient["phone"])

    asked = await chat.say("please cancel my appointment")

    assert asked[-1].startswith(f"Cancel your appointment with Dr. {doctor['name']} on ")
    assert (await fhir.read("Appointment", appointment["id"]))["status"] == "booked"
    done = await chat.say("yes")
    cancelled = await fhir.read("Appointment", appointment["id"])
    assert cancelled["status"] == "cancelled"
    assert (await fhir.read("Slot", appointment["slot"]))["status"] == "free"
    # One message, complete: the cancellation itself, which the change feed (and its replay) finds made.
    [text] = done
    assert text.startswith(f"Hello {patient['name']}, your appointment with Dr. {doctor['name']} at ")
    assert "has been cancelled. To book a new time, reply here or call us on " in text
    await feed_twice(app, cancelled)
    assert await outbound(fhir, chat.thread) == len(asked) + 1


async def test_reschedule_offers_the_same_doctors_slots_and_moves_the_appointment_atomically(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    app: FastAPI,
) -> None:
    doctor, patient, appointment, others = await setup(
        api, admin, staff, await make_clinic(api, admin, phone=CLINIC_PHONE)
    )
    chat = Chat(api, fhir, settings, patient["phone"])

    offered = await chat.say("I want to reschedule")

    assert offered[-2].startswith(f"Let's find a new time for your appointment with Dr. {doctor['name']}")
    assert offered[-1].startswith(f"Free times with Dr. {doctor['name']}:\n1. ")
    confirm = await chat.say("1")
    assert confirm[0].startswith("Move your appointment to ")
    done = await chat.say("ok")

    old = await fhir.read("Appointment", appointment["id"])
    [new] = await fhir.search("Appointment", {"patient": f"Patient/{patient['id']}", "status": "booked"})
    assert old["status"] == "cancelled"
    assert new["slot"] == [{"reference": f"Slot/{others[0]['id']}"}]
    # One message, complete: the reschedule notice itself; the change feed finds it made (the old
    # appointment's cancellation is a reschedule's and says nothing).
    [text] = done
    assert text.startswith(f"Hello {patient['name']}, your appointment with Dr. {doctor['name']} at ")
    assert " has been moved to " in text
    await feed_twice(app, new)
    await feed_twice(app, old)
    assert await outbound(fhir, chat.thread) == len(offered) + len(confirm) + 1


async def feed_twice(app: FastAPI, appointment: dict[str, Any]) -> None:
    """The change feed's turn on the appointment's current version, replayed."""
    change = Change(
        "Appointment", appointment["id"], appointment["meta"]["versionId"], ChangeKind.UPDATED, appointment
    )
    for _ in range(2):
        await notify_patient(change, context=change_context(app.state.services))


async def outbound(fhir: FhirClient, thread: str) -> int:
    """How many messages went (or are going) to the patient on the thread."""
    on_thread = await fhir.search("Communication", {"conversation-thread": thread, "_count": "200"})
    return len([m for m in on_thread if message_of(m).direction.value == "outbound"])


async def reminder_for(
    app: FastAPI, fhir: FhirClient, appointment: dict[str, Any], patient: dict[str, Any]
) -> None:
    """The 24-hour reminder of an appointment, prepared on the patient's WhatsApp thread as the reminder job does."""
    services = app.state.services
    variables = await appointment_variables(
        fhir,
        appointment=await fhir.read("Appointment", appointment["id"]),
        patient=await fhir.read("Patient", patient["id"]),
        template=REMINDER,
        default_timezone="Asia/Kolkata",
    )
    assert variables is not None
    await prepare_template_message(
        fhir,
        services.state,
        services.queue,
        template=REMINDER,
        variables=variables,
        sender=Actor(kind=AgentKind.SYSTEM),
        at=services.clock.now(),
        patient_id=patient["id"],
        channel="whatsapp",
        about=[f"Appointment/{appointment['id']}"],
        key=f"test-reminder/{appointment['id']}",
    )


async def test_a_tapped_confirm_on_a_reminder_records_the_confirmation_once(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
    app: FastAPI,
) -> None:
    _, patient, appointment, _ = await setup(api, admin, staff, clinic)
    await reminder_for(app, fhir, appointment, patient)
    chat = Chat(api, fhir, settings, patient["phone"])

    thanks = await chat.say("Confirm", ButtonPayload="confirm")
    again = await chat.say("confirm")

    assert thanks[-1].startswith("Thank you for confirming. See you on ")
    assert again[-1] == thanks[-1]
    confirmed = await fhir.read("Appointment", appointment["id"])
    assert confirmed["status"] == "booked"
    assert confirmed["comment"] == "Attendance confirmed by the patient on WhatsApp."
    provenance = await fhir.search("Provenance", {"target": f"Appointment/{appointment['id']}"})
    activities = [p["activity"]["text"] for p in provenance]
    assert activities.count("appointment.patient-confirmed") == 1


async def test_reminder_cancel_and_reschedule_replies_act_on_the_reminded_appointment(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
    app: FastAPI,
) -> None:
    doctor, patient, appointment, others = await setup(api, admin, staff, clinic)
    second = await book_via_api(api, staff, others[-1]["id"], patient["id"])  # a later one, not reminded
    await reminder_for(app, fhir, appointment, patient)
    chat = Chat(api, fhir, settings, patient["phone"])

    moving = await chat.say("Reschedule", ButtonPayload="reschedule")
    assert moving[-1].startswith(f"Free times with Dr. {doctor['name']}")
    cancel = await chat.say("रद्द करें", ButtonPayload="cancel")  # changed their mind: the Hindi button title
    assert cancel[-1].startswith(f"Cancel your appointment with Dr. {doctor['name']}")
    await chat.say("haan")

    assert (await fhir.read("Appointment", appointment["id"]))["status"] == "cancelled"
    assert (await fhir.read("Appointment", second["id"]))["status"] == "booked"


async def test_two_patients_racing_for_a_slot_one_books_the_other_is_told_and_offered_the_next(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    first_free = (await free_slots(api, staff, doctor))[0]["id"]
    chats = [
        Chat(api, fhir, settings, (await make_patient(api, staff, preferred_language="en"))["phone"])
        for _ in range(2)
    ]
    for chat in chats:
        await chat.say(f"book an appointment with Dr {doctor['name']}")
        assert (await chat.say("1"))[0].startswith(f"Book Dr. {doctor['name']} on ")

    winner = await chats[0].say("yes")
    loser = await chats[1].say("yes")

    # This clinic has no phone, so no confirmation can go: the bot says the booking itself, with the details.
    [said] = winner
    assert said.startswith(f"Done, your appointment with Dr. {doctor['name']} on ") and said.endswith(
        ") is booked."
    )
    assert loser[0] == "Sorry, that time was just taken by someone else."
    assert loser[1].startswith(f"Free times with Dr. {doctor['name']}:\n1. ")
    [booked] = await fhir.search("Appointment", {"slot": f"Slot/{first_free}"})
    assert booked["status"] == "booked"
    assert (await chats[1].say("1"))[0].startswith(f"Book Dr. {doctor['name']}")


async def test_when_nothing_fits_the_patient_can_join_the_waitlist(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    patient = await make_patient(api, staff, preferred_language="en")
    chat = Chat(api, fhir, settings, patient["phone"])
    await chat.say(f"book Dr {doctor['name']}")

    offer = await chat.say("after 5")  # the doctor works 10-11 only

    assert offer[0].startswith(f"Sorry, Dr. {doctor['name']} has no free time that fits in the next 7 days.")
    assert (await chat.say("yes")) == [
        f"You are on the waitlist for Dr. {doctor['name']}. We will message you when a time opens up."
    ]
    [entry] = await fhir.search("Appointment", {"patient": f"Patient/{patient['id']}", "status": "waitlist"})
    assert entry["participant"][1]["actor"]["reference"] == f"PractitionerRole/{doctor['practitioner_role']}"
    assert entry["specialty"][0]["coding"][0]["code"] == "endocrinology"
