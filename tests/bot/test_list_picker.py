"""The bot's lists end to end (webhook -> receive -> bot -> send jobs, real HAPI and Redis): the slots and
the appointments it offers are recorded as options on its reply, and a row picked in WhatsApp's list
(Twilio's ListId) chooses exactly that option, as typing its number would."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.fhir.canonical import SID_MESSAGE_KEY, SID_PHONE
from app.fhir.client import FhirClient
from app.messaging.resources import message_of
from app.ports.messaging import Choice, ChoiceList
from tests.bot.support import MAX_REPLIES, Chat
from tests.clinic import KOLKATA, Clinic, free_slots, make_patient, make_practitioner
from tests.factories import person_name

pytestmark = pytest.mark.integration

_NUMBERED = re.compile(r"^\d{1,2}\. ")


async def offered_list(fhir: FhirClient, chat: Chat) -> tuple[str, ChoiceList]:
    """The bot's last reply with options to the patient's last message: its text and the options."""
    inbound = chat.inbound[-1]["id"]
    found = None
    for n in range(MAX_REPLIES):
        [*replies] = await fhir.search(
            "Communication", {"identifier": f"{SID_MESSAGE_KEY}|bot/{inbound}/{n}"}
        )
        for reply in replies:
            read = message_of(reply)
            if read.choices is not None:
                assert read.text is not None
                found = (read.text, read.choices)
    assert found is not None, "no reply offered options"
    return found


async def tap(chat: Chat, row: Choice) -> list[str]:
    """The patient picks a row of the list: Twilio posts its title as Body, with ListId and ListTitle."""
    return await chat.say(row.title, ListId=row.id, ListTitle=row.title)


async def family_member(fhir: FhirClient, patient_id: str) -> dict[str, Any]:
    """Another patient on the same phone, as an EHR would write one (the API keeps one patient per phone)."""
    stored = await fhir.read("Patient", patient_id)
    name = person_name()
    given, family = name.split()
    return await fhir.create(
        {
            **{k: v for k, v in stored.items() if k not in ("id", "meta", "name", "identifier")},
            "meta": {"profile": stored["meta"]["profile"]},
            "identifier": [i for i in stored["identifier"] if i.get("system") == SID_PHONE],
            "name": [{"use": "official", "text": name, "family": family, "given": [given]}],
        }
    )


async def booked(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    return await fhir.search("Appointment", {"patient": f"Patient/{patient_id}", "status": "booked"})


async def test_slots_are_offered_as_a_list_and_a_tapped_row_books_that_slot(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    free = {s["id"] for s in await free_slots(api, staff, doctor)}
    patient = await make_patient(api, staff, preferred_language="en")
    chat = Chat(api, fhir, settings, patient["phone"])

    await chat.say(f"book an appointment with Dr {doctor['name']}")

    text, options = await offered_list(fhir, chat)
    lines = [line for line in text.splitlines() if _NUMBERED.match(line)]
    assert text.startswith(f"Free times with Dr. {doctor['name']}:\n1. ")
    assert 4 <= len(options.choices) == len(lines) <= 10
    assert options.button == "Choose"
    assert options.body == (
        f"Free times with Dr. {doctor['name']}:\n"
        'Reply with a number, a time ("the 10:30 one"), "afternoon", "after 5", or "none of these".'
    )
    for row, line in zip(options.choices, lines, strict=True):
        day, at = row.title.split(", ")
        assert row.id in free and len(row.title) <= 24
        assert line.split(". ", 1)[1].startswith(f"{day} ") and f", {at} - Dr. {doctor['name']}" in line
        assert row.description is not None and row.description.startswith(f"Dr. {doctor['name']} (")

    # Staff see the options in the inbox, as the patient got them.
    listed = await api.get(f"/api/v1/conversations/{chat.thread}/messages", headers=staff)
    assert listed.status_code == 200, listed.text
    [shown] = [m for m in listed.json() if m["choices"]]
    assert [c["id"] for c in shown["choices"]] == [row.id for row in options.choices]
    assert shown["choices"][0] == {
        "id": options.choices[0].id,
        "title": options.choices[0].title,
        "description": options.choices[0].description,
    }

    second = options.choices[1]
    confirm = await tap(chat, second)

    day, at = second.title.split(", ")
    assert confirm[0].startswith(f"Book Dr. {doctor['name']} on {day} ") and f" at {at}, " in confirm[0]
    assert await booked(fhir, patient["id"]) == []
    await chat.say("yes")
    [appointment] = await booked(fhir, patient["id"])
    assert appointment["slot"] == [{"reference": f"Slot/{second.id}"}]


async def test_a_tapped_row_is_its_slot_even_when_an_earlier_row_has_the_same_time(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    patient = await make_patient(api, staff, preferred_language="hi")
    chat = Chat(api, fhir, settings, patient["phone"])
    await chat.say(f"book an appointment with Dr {doctor['name']}")
    _, options = await offered_list(fhir, chat)
    # Ten rows over days of four slots (10:00-11:00): a later day repeats a time. Typed, "10:15" would
    # be the first row at 10:15; tapped, it is the row's own slot.
    times = [row.title.split(", ")[1] for row in options.choices]
    later = max(n for n, at in enumerate(times) if at in times[:n])
    assert options.button == "चुनें"

    confirm = await tap(chat, options.choices[later])
    await chat.say("haan")

    day, at = options.choices[later].title.split(", ")
    assert confirm[0].startswith(f"{day} ") and f" को {at} पर Dr. {doctor['name']} (" in confirm[0]
    [appointment] = await booked(fhir, patient["id"])
    assert appointment["slot"] == [{"reference": f"Slot/{options.choices[later].id}"}]


async def test_which_appointment_is_a_list_and_the_tapped_one_is_cancelled(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    slots = await free_slots(api, staff, doctor)
    patient = await make_patient(api, staff, preferred_language="en")
    made = []
    for slot in (slots[0], slots[5]):
        response = await api.post(
            "/api/v1/appointments",
            json={"slot": slot["id"], "patient": patient["id"], "reason": "check-up", "channel": "dashboard"},
            headers=staff,
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    chat = Chat(api, fhir, settings, patient["phone"])

    await chat.say("cancel my appointment")

    text, options = await offered_list(fhir, chat)
    assert text.startswith("Which appointment?\n1. ")
    assert [row.id for row in options.choices] == [a["id"] for a in made]
    assert options.choices[1].description == f"Dr. {doctor['name']}"
    asked = await tap(chat, options.choices[1])
    start = datetime.fromisoformat(made[1]["start"]).astimezone(KOLKATA)
    assert asked[0].startswith(f"Cancel your appointment with Dr. {doctor['name']} on {start.day} ")
    await chat.say("yes")
    assert (await fhir.read("Appointment", made[1]["id"]))["status"] == "cancelled"
    assert (await fhir.read("Appointment", made[0]["id"]))["status"] == "booked"


async def test_who_is_writing_is_a_list_and_the_tapped_patient_books(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, specialty="endocrinology")
    mother = await make_patient(api, staff, preferred_language="en")
    son = await family_member(fhir, mother["id"])
    chat = Chat(api, fhir, settings, mother["phone"])

    await chat.say(f"book an appointment with Dr {doctor['name']}")

    text, options = await offered_list(fhir, chat)
    assert text.startswith("This number belongs to more than one patient. Who is writing?\n1. ")
    assert sorted(row.id for row in options.choices) == sorted([mother["id"], son["id"]])
    offered = await tap(chat, next(row for row in options.choices if row.id == son["id"]))
    assert offered[-1].startswith(f"Free times with Dr. {doctor['name']}:\n1. ")
    await chat.say("1")
    await chat.say("yes")
    assert len(await booked(fhir, son["id"])) == 1
    assert await booked(fhir, mother["id"]) == []
