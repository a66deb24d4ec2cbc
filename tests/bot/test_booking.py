"""Booking by WhatsApp end to end (webhook -> receive job -> bot job -> send job) against HAPI and Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.changes.model import Change, ChangeKind
from app.config import Settings
from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_BOOKING_CHANNEL, SID_MESSAGE_KEY
from app.fhir.client import FhirClient
from app.messaging.notifications import notify_patient
from app.messaging.resources import message_of
from tests.bot.support import Chat
from tests.clinic import KOLKATA, make_patient
from workers.registry import change_context

pytestmark = pytest.mark.integration


async def booked(fhir: FhirClient, patient_id: str) -> list[dict]:
    return await fhir.search("Appointment", {"patient": f"Patient/{patient_id}", "status": "booked"})


async def test_an_existing_patient_books_a_heart_doctor_tomorrow_morning(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    app: FastAPI,
    demo_clinic: None,
) -> None:
    patient = await make_patient(api, staff, name="Asha Kulkarni", preferred_language="en")
    chat = Chat(api, fhir, settings, patient["phone"])

    offered = await chat.say("heart doctor tomorrow morning")

    assert offered[0] == "Hello Asha!"
    assert offered[1].startswith("Free times with Cardiology:\n1. ")
    tomorrow = (datetime.now(KOLKATA) + timedelta(days=1)).day
    lines = [line for line in offered[1].splitlines() if line[:2] in {f"{n}." for n in range(1, 10)} | {"10"}]
    assert 1 <= len(lines) <= 10
    assert lines[0].startswith(f"1. {tomorrow} ") and " AM - Dr. " in lines[0]

    # A demo cardiologist's time (the session's test clinics have doctors too, without the clinic phone
    # the confirmation names), picked by its ordinal as a patient would ("1st", "2nd", "3rd", "4th").
    chosen = next(n for n, line in enumerate(lines) if "Dr. Rajiv Sharma" in line)
    confirm = await chat.say(["1st", "2nd", "3rd"][chosen] if chosen < 3 else f"{chosen + 1}th")
    assert confirm[0].startswith("Book Dr. ") and confirm[0].endswith("Reply yes or no.")
    assert await booked(fhir, patient["id"]) == []

    done = await chat.say("yes")

    # One message, complete: the bot answers its booking with the confirmation itself (no line of its own);
    # then, cardiology having a pre-visit questionnaire, the offer (tests/bot/test_intake_chat.py answers it).
    text, offer = done
    assert offer == "Would you answer 7 short questions for the doctor before your visit? Reply yes or no."
    [appointment] = await booked(fhir, patient["id"])
    assert extension_value(appointment, EXT_BOOKING_CHANNEL) == "whatsapp"
    when = lines[chosen].split(" - ")[0].split(". ", 1)[1]
    start = datetime.fromisoformat(appointment["start"]).astimezone(KOLKATA)
    assert when == f"{start.day} {start:%B} {start.year}, {start:%I:%M %p}".replace(", 0", ", ")
    [opportunity] = await fhir.search(
        "Task", {"patient": f"Patient/{patient['id']}", "focus": f"Appointment/{appointment['id']}"}
    )
    assert opportunity["businessStatus"]["coding"][0]["code"] == "booked"
    provenance = await fhir.search("Provenance", {"target": f"Appointment/{appointment['id']}"})
    assert any(a["type"]["coding"][0]["code"] == "whatsapp-bot" for p in provenance for a in p["agent"])
    assert text.startswith("Hello Asha Kulkarni, your appointment with Dr. ")
    assert (
        f"{start.day} {start:%B} {start.year}" in text and "(map: https://www.google.com/maps/search/" in text
    )
    assert "reply here or call us on +918041234567" in text

    # The change feed then handles the same version (twice: a replay) and finds the confirmation made.
    change = Change(
        "Appointment", appointment["id"], appointment["meta"]["versionId"], ChangeKind.CREATED, appointment
    )
    for _ in range(2):
        await notify_patient(change, context=change_context(app.state.services))
    key = f"appointment/{appointment['id']}/{appointment['meta']['versionId']}/appointment_confirmation"
    [confirmation] = await fhir.search("Communication", {"identifier": f"{SID_MESSAGE_KEY}|{key}"})
    assert message_of(confirmation).text == text
    # Greeting, slot list, "book ...?", the confirmation, the intake offer: nothing else went to the patient.
    on_thread = await fhir.search("Communication", {"conversation-thread": chat.thread})
    assert len([m for m in on_thread if message_of(m).direction.value == "outbound"]) == 5
