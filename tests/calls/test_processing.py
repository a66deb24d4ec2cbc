"""The PROCESS_VOICE_EVENT job against the real HAPI and Redis: the call recorded, then the action its
intent calls for (booked only when free, sure and unambiguous; a ticket otherwise); replays change nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI

from app.calls.service import CallOutcome
from app.config import Settings
from app.fhir.builders import extension_value
from app.fhir.canonical import (
    EXT_BOOKING_CHANNEL,
    EXT_SOURCE_CHANNEL,
    EXT_TICKET_CATEGORY,
    EXT_VOICE_CALL,
    SID_PHONE,
)
from app.fhir.client import FhirClient
from app.main import create_app
from app.messaging.resources import Direction, message_of
from app.opportunities.resources import Stage, stage_of
from app.services import Services
from tests.calls.support import event, keyed, process, tomorrow_at
from tests.clinic import Clinic, make_patient, make_practitioner
from tests.conftest import started
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


@pytest.fixture
def services(app: FastAPI) -> Services:
    return app.state.services  # type: ignore[no-any-return]


def extension_parts(call: dict[str, Any]) -> dict[str, Any]:
    ext = next(e for e in call["extension"] if e["url"] == EXT_VOICE_CALL)
    return {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in ext["extension"]}


async def tickets_of(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    return [
        t
        for t in await fhir.search("Task", {"patient": f"Patient/{patient_id}"})
        if extension_value(t, EXT_TICKET_CATEGORY) is not None
    ]


async def appointments_of(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    return await fhir.search("Appointment", {"patient": f"Patient/{patient_id}"})


def booking_request(
    doctor: dict[str, Any] | None, *, hour: int = 10, minute: int = 15, **extra: Any
) -> dict[str, Any]:
    start = tomorrow_at(hour, minute)
    return {
        "practitioner_name": doctor["name"] if doctor else None,
        "specialty": "cardiology",
        "preferred_start": None,
        "preferred_date": start.date().isoformat(),
        "preferred_time": f"{hour:02d}:{minute:02d}",
        "reason": "chest pain on stairs",
        "location": None,
        **extra,
    }


async def test_a_sure_request_for_a_free_slot_books_it_once_with_the_voice_channel(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    patient = await make_patient(api, staff)
    body = event(caller=patient["phone"], appointment=booking_request(doctor))

    outcomes = [await process(services, body) for _ in range(5)]

    [appointment] = await appointments_of(fhir, patient["id"])
    assert appointment["status"] == "booked"
    assert extension_value(appointment, EXT_BOOKING_CHANNEL) == "voice"
    assert appointment["start"] == tomorrow_at(10, 15).isoformat()
    assert appointment["reasonCode"] == [{"text": "chest pain on stairs"}]
    [call] = await keyed(fhir, "Communication", body["call"]["id"])
    assert {o.communication for o in outcomes} == {f"Communication/{call['id']}"}
    assert len({o.outcome for o in outcomes}) == 1
    assert outcomes[0].outcome[0] == f"Appointment/{appointment['id']}"
    assert [a["reference"] for a in call["about"]] == list(outcomes[0].outcome)
    [lead] = [
        t
        for t in await fhir.search("Task", {"patient": f"Patient/{patient['id']}"})
        if t["id"] in outcomes[0].outcome[1]
    ]
    assert lead["businessStatus"]["coding"][0]["code"] == "booked"
    assert lead["focus"]["reference"] == f"Appointment/{appointment['id']}"
    [record] = await fhir.search("Provenance", {"target": f"Appointment/{appointment['id']}"})
    assert [a["type"]["coding"][0]["code"] for a in record["agent"]] == ["voice-agent"]
    assert await tickets_of(fhir, patient["id"]) == []


async def test_the_call_is_a_voice_message_on_the_patients_thread_with_recording_and_transcript(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, services: Services
) -> None:
    patient = await make_patient(api, staff)
    body = event(caller=patient["phone"], intent="inquiry", summary="Asked about parking.")

    await process(services, body)

    [call] = await keyed(fhir, "Communication", body["call"]["id"])
    message = message_of(call)
    assert (message.direction, message.channel, message.patient_id, message.text) == (
        Direction.INBOUND,
        "voice",
        patient["id"],
        "Asked about parking.",
    )
    assert call["medium"][0]["coding"][0]["code"] == "voice"
    parts = extension_parts(call)
    assert (parts["duration"], parts["language"], parts["agent"], parts["intent"]) == (
        184,
        "en-IN",
        "agent_reception_en",
        "inquiry",
    )
    threads = (
        await api.get("/api/v1/conversations", params={"phone": patient["phone"]}, headers=staff)
    ).json()
    [thread] = [t for t in threads if t["channel"] == "voice"]
    assert thread["patient"] == patient["id"]
    messages = (await api.get(f"/api/v1/conversations/{thread['id']}/messages", headers=staff)).json()
    assert [(m["direction"], m["text"]) for m in messages] == [("inbound", "Asked about parking.")]
    [recording] = await keyed(fhir, "DocumentReference", body["call"]["id"], "/recording")
    [transcript] = await keyed(fhir, "DocumentReference", body["call"]["id"], "/transcript")
    assert recording["content"][0]["attachment"]["url"] == body["recording"]["url"]
    text, turns = (base64.b64decode(c["attachment"]["data"]).decode() for c in transcript["content"])
    assert text == body["transcript"]["text"]
    assert json.loads(turns) == body["transcript"]["segments"]
    assert {p["contentReference"]["reference"] for p in call["payload"][1:]} == {
        f"DocumentReference/{recording['id']}",
        f"DocumentReference/{transcript['id']}",
    }
    view = (await api.get(f"/api/v1/patients/{patient['id']}/360", headers=staff)).json()
    assert call["id"] in [c["id"] for c in view["communications"]]
    assert [t["id"] for t in view["tickets"]] == [
        o.removeprefix("Task/") for o in [a["reference"] for a in call["about"]]
    ]


async def test_low_confidence_makes_a_callback_ticket_with_alternatives_and_books_nothing(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    patient = await make_patient(api, staff)
    body = event(caller=patient["phone"], confidence=0.6, appointment=booking_request(doctor))

    await process(services, body)

    assert await appointments_of(fhir, patient["id"]) == []
    [ticket] = await tickets_of(fhir, patient["id"])
    assert (extension_value(ticket, EXT_TICKET_CATEGORY), ticket["priority"]) == ("callback", "routine")
    assert "the voice agent was 60% sure; acting alone needs 80%" in ticket["description"]
    assert f"Dr. {doctor['name']}" in ticket["description"]
    assert ticket["description"].count("[Slot/") == 3
    [lead] = [t for t in await keyed(fhir, "Task", body["call"]["id"]) if stage_of(t) is not None]
    assert (stage_of(lead), extension_value(lead, EXT_SOURCE_CHANNEL)) == (Stage.NEW, "voice")


async def test_an_unknown_doctor_is_never_replaced_by_another(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    await make_practitioner(api, admin, clinic, name=person_name())
    patient = await make_patient(api, staff)
    wanted = booking_request(None, practitioner_name="Qzxwv Nobodyhere")
    body = event(caller=patient["phone"], appointment=wanted)

    await process(services, body)

    assert await appointments_of(fhir, patient["id"]) == []
    [ticket] = await tickets_of(fhir, patient["id"])
    assert "There is no practitioner called 'Qzxwv Nobodyhere'." in ticket["description"]
    assert "Free alternatives:" in ticket["description"]


async def test_a_taken_slot_becomes_a_ticket_with_other_free_times(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    first, second = await make_patient(api, staff), await make_patient(api, staff)
    await process(services, event(caller=first["phone"], appointment=booking_request(doctor)))

    await process(services, event(caller=second["phone"], appointment=booking_request(doctor)))

    assert await appointments_of(fhir, second["id"]) == []
    [ticket] = await tickets_of(fhir, second["id"])
    assert "is already taken" in ticket["description"]
    assert f"Dr. {doctor['name']} (cardiology), {tomorrow_at(10, 30).isoformat()}" in ticket["description"]


async def test_a_new_caller_is_registered_from_the_extraction(
    api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic, fhir: FhirClient, services: Services
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    number, name = phone(), person_name()
    body = event(
        caller=number,
        appointment=booking_request(doctor),
        patient={"name": name, "phone": number, "dob": "1985-02-03", "gender": "male"},
    )

    outcome: CallOutcome = await process(services, body)

    [patient] = await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{number}"})
    assert outcome.patient == f"Patient/{patient['id']}"
    assert (patient["birthDate"], patient["gender"]) == ("1985-02-03", "male")
    assert len(await appointments_of(fhir, patient["id"])) == 1


async def test_a_call_without_recording_transcript_or_extraction_is_still_recorded(
    fhir: FhirClient, services: Services
) -> None:
    body = event(caller=phone(), intent=None, recording=False, transcript=False)

    outcome = await process(services, body)

    [call] = await keyed(fhir, "Communication", body["call"]["id"])
    assert outcome.outcome == ()
    assert "payload" not in call and "subject" not in call
    assert await keyed(fhir, "DocumentReference", body["call"]["id"], "/recording") == []
    assert await keyed(fhir, "Task", body["call"]["id"]) == []


async def test_unknown_fields_are_kept_with_the_call(fhir: FhirClient, services: Services) -> None:
    body = event(caller=phone(), intent=None, metadata={"crm_ref": 42}, vendor="acme")
    body["call"]["sip_trunk"] = "trunk-7"
    body["transcript"]["segments"][0]["confidence"] = 0.8

    await process(services, body)

    [call] = await keyed(fhir, "Communication", body["call"]["id"])
    assert json.loads(extension_parts(call)["extra"]) == {
        "metadata": {"crm_ref": 42},
        "vendor": "acme",
        "call.sip_trunk": "trunk-7",
        "transcript.segments.0.confidence": 0.8,
    }


@pytest.mark.parametrize(
    ("intent", "category", "priority"),
    [
        ("emergency", "emergency", "stat"),
        ("complaint", "complaint", "urgent"),
        ("inquiry", "inquiry", "routine"),
        ("callback", "callback", "routine"),
        ("other", "other", "routine"),
    ],
)
async def test_intents_that_need_a_person_become_one_ticket(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    services: Services,
    intent: str,
    category: str,
    priority: str,
) -> None:
    patient = await make_patient(api, staff)
    body = event(
        caller=patient["phone"], intent=intent, appointment=booking_request(None), summary="Needs help"
    )

    for _ in range(2):
        await process(services, body)

    [ticket] = await tickets_of(fhir, patient["id"])
    assert (extension_value(ticket, EXT_TICKET_CATEGORY), ticket["priority"]) == (category, priority)
    assert "Summary: Needs help" in ticket["description"]
    assert await appointments_of(fhir, patient["id"]) == []
    [record] = await fhir.search("Provenance", {"target": f"Task/{ticket['id']}"})
    assert record["agent"][0]["type"]["coding"][0]["code"] == "voice-agent"


async def book_for(
    api: httpx.AsyncClient, staff: dict[str, str], patient: dict[str, Any], slot: str
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/appointments",
        json={"slot": slot, "patient": patient["id"], "channel": "dashboard"},
        headers=staff,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def slot_at(
    api: httpx.AsyncClient, staff: dict[str, str], doctor: dict[str, Any], hour: int, minute: int
) -> str:
    start = tomorrow_at(hour, minute)
    response = await api.get(
        "/api/v1/slots",
        params={
            "practitioner": doctor["id"],
            "start": start.isoformat(),
            "end": start.replace(minute=minute + 1).isoformat(),
        },
        headers=staff,
    )
    [slot] = response.json()
    return str(slot["id"])


async def test_a_sure_cancellation_of_the_one_upcoming_appointment_cancels_it(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    patient = await make_patient(api, staff)
    booked = await book_for(api, staff, patient, await slot_at(api, staff, doctor, 10, 0))
    body = event(
        caller=patient["phone"],
        intent="cancel_appointment",
        appointment=booking_request(doctor, hour=10, minute=0),
    )

    for _ in range(3):
        outcome = await process(services, body)

    assert outcome.outcome == (f"Appointment/{booked['id']}",)
    assert (await fhir.read("Appointment", booked["id"]))["status"] == "cancelled"
    assert await tickets_of(fhir, patient["id"]) == []


async def test_a_sure_reschedule_moves_the_appointment_to_the_new_time(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    patient = await make_patient(api, staff)
    booked = await book_for(api, staff, patient, await slot_at(api, staff, doctor, 10, 0))
    body = event(
        caller=patient["phone"],
        intent="reschedule_appointment",
        appointment=booking_request(None, hour=10, minute=45, specialty=None),
    )

    outcome = await process(services, body)
    await process(services, body)

    new, old = outcome.outcome
    assert old == f"Appointment/{booked['id']}"
    moved = await fhir.read("Appointment", new.removeprefix("Appointment/"))
    assert (moved["status"], moved["start"]) == ("booked", tomorrow_at(10, 45).isoformat())
    assert (await fhir.read("Appointment", booked["id"]))["status"] == "cancelled"
    assert len([a for a in await appointments_of(fhir, patient["id"]) if a["status"] == "booked"]) == 1


async def test_a_cancellation_that_matches_several_appointments_is_a_ticket_listing_them(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    services: Services,
) -> None:
    doctor = await make_practitioner(api, admin, clinic, name=person_name())
    patient = await make_patient(api, staff)
    one = await book_for(api, staff, patient, await slot_at(api, staff, doctor, 10, 0))
    two = await book_for(api, staff, patient, await slot_at(api, staff, doctor, 10, 30))
    body = event(caller=patient["phone"], intent="cancel_appointment", appointment=None)

    await process(services, body)

    assert {a["status"] for a in await appointments_of(fhir, patient["id"])} == {"booked"}
    [ticket] = await tickets_of(fhir, patient["id"])
    assert f"[Appointment/{one['id']}]" in ticket["description"]
    assert f"[Appointment/{two['id']}]" in ticket["description"]


async def test_a_recording_is_downloaded_into_a_binary_when_allowed(
    settings: Settings, fhir: FhirClient
) -> None:
    fetching = settings.model_copy(update={"voice_fetch_recordings": True})
    app = create_app(fetching)
    body = event(caller=phone(), intent=None)
    gone = event(caller=phone(), intent=None)
    audio = b"ID3" + bytes(range(200))

    async for _ in started(app):
        with respx.mock(assert_all_called=False) as platform:
            platform.route(url__startswith=settings.fhir_base_url).pass_through()
            platform.get(body["recording"]["url"]).respond(
                200, content=audio, headers={"content-type": "audio/mpeg"}
            )
            platform.get(gone["recording"]["url"]).respond(404)
            await process(app.state.services, body)
            await process(app.state.services, gone)

    [document] = await keyed(fhir, "DocumentReference", body["call"]["id"], "/recording")
    binary_ref = document["content"][0]["attachment"]["url"]
    assert binary_ref.startswith("Binary/")
    assert base64.b64decode((await fhir.read("Binary", binary_ref.removeprefix("Binary/")))["data"]) == audio
    [kept] = await keyed(fhir, "DocumentReference", gone["call"]["id"], "/recording")
    assert kept["content"][0]["attachment"]["url"] == gone["recording"]["url"]
    assert kept["description"] == "Call recording (not downloaded: not-found)"
