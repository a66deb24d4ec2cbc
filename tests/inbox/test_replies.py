"""Staff replies (text, template, canned response) become queued outbound Communications on the
thread with their send job; canned responses are stored in FHIR and managed through the API."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis
from rq.job import Job as RqJob

from app.config import Settings
from app.fhir.canonical import EXT_DELIVERY_STATUS, EXT_MESSAGE_TEMPLATE, EXT_THREAD, PROFILE_CANNED_RESPONSE
from app.fhir.client import FhirClient
from app.messaging.service import send_job_id
from tests.clinic import make_patient
from tests.factories import unique
from tests.messaging.support import inbound
from workers.queue import rq_job_id

pytestmark = pytest.mark.integration

HOURS = {"en": "We are open 9 to 8.", "hi": "हम 9 से 8 बजे तक खुले हैं।", "kn": "ನಾವು 9 ರಿಂದ 8 ರವರೆಗೆ ತೆರೆದಿರುತ್ತೇವೆ."}


def queued(settings: Settings, communication_id: str) -> dict[str, Any]:
    """The arguments of the Communication's send job, read from rq in Redis."""
    with Redis.from_url(settings.redis_url) as redis:
        kwargs: dict[str, Any] = RqJob.fetch(
            rq_job_id(send_job_id(communication_id)), connection=redis
        ).kwargs
    return kwargs


def send_job(communication_id: str) -> dict[str, Any]:
    """What the send job of a Communication is queued with."""
    return {"job": "send_message", "payload": {"communication": communication_id}}


async def _thread_of(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient, **fields: Any
) -> tuple[dict[str, Any], str]:
    """A patient who just wrote on WhatsApp (so free text may answer) and their thread."""
    services = app.state.services
    patient = await make_patient(api, staff, **fields)
    thread = await inbound(
        fhir, services.state, phone=patient["phone"], patient_id=patient["id"], at=services.clock.now()
    )
    return patient, thread


async def test_free_text_to_a_patient_who_has_not_written_for_a_day_is_409_naming_the_templates(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    patient = await make_patient(api, staff)
    thread = await inbound(
        fhir, services.state, phone=patient["phone"], patient_id=patient["id"],
        at=services.clock.now() - timedelta(hours=25),
    )  # fmt: skip

    refused = await api.post(f"/api/v1/conversations/{thread}/messages", json={"text": "Hi"}, headers=staff)
    messages = await api.get(f"/api/v1/conversations/{thread}/messages", headers=staff)

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "outside_session_window"
    assert "appointment_reminder_24h" in refused.json()["templates"]
    assert [m["direction"] for m in messages.json()] == ["inbound"]


async def test_a_text_reply_is_a_queued_communication_on_the_thread_with_a_send_job(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient, settings: Settings
) -> None:
    patient, thread = await _thread_of(api, staff, app, fhir)

    replied = await api.post(
        f"/api/v1/conversations/{thread}/messages", json={"text": "See you at 5."}, headers=staff
    )

    assert replied.status_code == 202, replied.text
    body = replied.json()
    assert (body["direction"], body["status"], body["channel"], body["text"]) == (
        "outbound",
        "queued",
        "whatsapp",
        "See you at 5.",
    )
    stored = await fhir.read("Communication", body["id"])
    extensions = {e["url"]: e for e in stored["extension"]}
    assert stored["status"] == "preparation"
    assert extensions[EXT_THREAD]["valueString"] == thread
    assert extensions[EXT_DELIVERY_STATUS]["valueCode"] == "queued"
    assert stored["recipient"] == [{"reference": f"Patient/{patient['id']}"}]
    assert stored["sender"]["identifier"]["value"] == "reception@test"
    assert queued(settings, body["id"]) == send_job(body["id"])


async def test_a_template_reply_is_rendered_in_the_patients_language(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient, settings: Settings
) -> None:
    _, thread = await _thread_of(api, staff, app, fhir, preferred_language="hi")
    variables = {"patient_name": "Asha", "clinic_name": "City Clinic", "clinic_phone": "+918000000000"}

    replied = await api.post(
        f"/api/v1/conversations/{thread}/messages",
        json={"template": "welcome", "variables": variables},
        headers=staff,
    )
    english = await api.post(
        f"/api/v1/conversations/{thread}/messages",
        json={"template": "welcome", "variables": variables, "language": "en"},
        headers=staff,
    )

    assert replied.status_code == 202, replied.text
    assert replied.json()["template"] == "welcome"
    stored = await fhir.read("Communication", replied.json()["id"])
    template = {
        p["url"]: p
        for p in next(e for e in stored["extension"] if e["url"] == EXT_MESSAGE_TEMPLATE)["extension"]
    }
    assert template["language"]["valueCode"] == "hi"
    assert "City Clinic" in replied.json()["text"] and replied.json()["text"] != english.json()["text"]
    assert any("\u0900" <= ch <= "\u097f" for ch in replied.json()["text"])  # Devanagari
    assert "Asha" in english.json()["text"]
    assert queued(settings, replied.json()["id"]) == send_job(replied.json()["id"])


async def test_a_canned_reply_uses_the_patients_language_then_english(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient, settings: Settings
) -> None:
    created = await api.post(
        "/api/v1/canned-responses",
        json={"title": "Hours", "texts": {"en": HOURS["en"], "kn": HOURS["kn"]}},
        headers=staff,
    )
    canned_id = created.json()["id"]
    _, kannada = await _thread_of(api, staff, app, fhir, preferred_language="kn")
    _, hindi = await _thread_of(api, staff, app, fhir, preferred_language="hi")

    in_kannada = await api.post(
        f"/api/v1/conversations/{kannada}/messages", json={"canned_response": canned_id}, headers=staff
    )
    fallback = await api.post(
        f"/api/v1/conversations/{hindi}/messages", json={"canned_response": canned_id}, headers=staff
    )

    assert (in_kannada.status_code, fallback.status_code) == (202, 202), in_kannada.text
    assert in_kannada.json()["text"] == HOURS["kn"]
    assert fallback.json()["text"] == HOURS["en"]
    assert queued(settings, fallback.json()["id"]) == send_job(fallback.json()["id"])


async def test_a_reply_to_an_opted_out_patient_is_409_and_writes_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    patient, thread = await _thread_of(api, staff, app, fhir)
    opt_out = await api.put(
        f"/api/v1/patients/{patient['id']}/consents/whatsapp", json={"decision": "opt-out"}, headers=staff
    )
    assert opt_out.status_code == 200, opt_out.text

    refused = await api.post(
        f"/api/v1/conversations/{thread}/messages", json={"text": "Hello?"}, headers=staff
    )

    assert refused.status_code == 409
    assert refused.json()["error"] == "opted_out"
    assert await fhir.count("Communication", {"conversation-thread": thread}) == 1  # only what they wrote


async def test_canned_responses_crud_in_fhir(
    api: httpx.AsyncClient, staff: dict[str, str], admin: dict[str, str], fhir: FhirClient
) -> None:
    shortcut = unique("hours-")
    tag = unique("faq-")
    created = await api.post(
        "/api/v1/canned-responses",
        json={"title": "Opening hours", "texts": HOURS, "tags": [tag], "shortcut": shortcut},
        headers=staff,
    )
    assert created.status_code == 201, created.text
    canned = created.json()
    stored = await fhir.read("Library", canned["id"])
    assert stored["meta"]["profile"] == [PROFILE_CANNED_RESPONSE]
    assert {c["language"]: base64.b64decode(c["data"]).decode() for c in stored["content"]} == HOURS
    outcome = await fhir.validate(stored, profile=PROFILE_CANNED_RESPONSE)
    assert [i for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")] == []
    assert {(k, canned[k]) for k in ("title", "shortcut")} == {
        ("title", "Opening hours"),
        ("shortcut", shortcut),
    }
    assert canned["texts"] == HOURS and canned["tags"] == [tag]

    listed = await api.get("/api/v1/canned-responses", params={"tag": tag}, headers=staff)
    taken = await api.post(
        "/api/v1/canned-responses",
        json={"title": "Other", "texts": {"en": "x"}, "shortcut": shortcut},
        headers=admin,
    )
    replaced = await api.put(
        f"/api/v1/canned-responses/{canned['id']}",
        json={"title": "Hours (winter)", "texts": {"en": "9 to 6."}, "tags": [tag], "shortcut": shortcut},
        headers=admin,
    )

    assert [c["id"] for c in listed.json()] == [canned["id"]]
    assert taken.status_code == 409 and taken.json()["error"] == "shortcut_taken"
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["title"], replaced.json()["texts"]) == ("Hours (winter)", {"en": "9 to 6."})
    assert (
        await api.get(f"/api/v1/canned-responses/{canned['id']}", headers=staff)
    ).json() == replaced.json()

    deleted = await api.delete(f"/api/v1/canned-responses/{canned['id']}", headers=staff)
    assert deleted.status_code == 204
    assert (await api.get(f"/api/v1/canned-responses/{canned['id']}", headers=staff)).status_code == 404
    assert (await api.delete(f"/api/v1/canned-responses/{canned['id']}", headers=staff)).status_code == 404
    assert (await api.get("/api/v1/canned-responses", params={"tag": tag}, headers=staff)).json() == []
    assert (await fhir.read("Library", canned["id"]))["status"] == "retired"
    provenance = await fhir.search("Provenance", {"target": f"Library/{canned['id']}"})
    assert sorted(p["activity"]["text"] for p in provenance) == [
        "canned-response.create", "canned-response.delete", "canned-response.update",
    ]  # fmt: skip
    reused = await api.post(
        "/api/v1/canned-responses",
        json={"title": "New", "texts": {"en": "x"}, "shortcut": shortcut},
        headers=staff,
    )
    assert reused.status_code == 201, reused.text


async def test_bad_canned_responses_are_refused(
    api: httpx.AsyncClient, staff: dict[str, str], integration: dict[str, str], fhir: FhirClient
) -> None:
    bodies: list[dict[str, Any]] = [
        {"title": "No English", "texts": {"hi": "नमस्ते"}},
        {"title": "", "texts": {"en": "x"}},
        {"title": "Empty text", "texts": {"en": ""}},
        {"title": "Bad language", "texts": {"en": "x", "Hindi!": "y"}},
        {"title": "Bad tag", "texts": {"en": "x"}, "tags": ["Bad Tag"]},
        {"title": "Bad shortcut", "texts": {"en": "x"}, "shortcut": "/hours"},
        {"title": "Unknown field", "texts": {"en": "x"}, "colour": "red"},
    ]
    for body in bodies:
        response = await api.post("/api/v1/canned-responses", json=body, headers=staff)
        assert response.status_code == 422, (body, response.text)
    assert (await api.get("/api/v1/canned-responses/no-such", headers=staff)).status_code == 404
    assert (
        await api.put(
            "/api/v1/canned-responses/no-such", json={"title": "t", "texts": {"en": "x"}}, headers=staff
        )
    ).status_code == 404
    assert (await api.get("/api/v1/canned-responses", headers=integration)).status_code == 403
    assert (
        await api.post("/api/v1/canned-responses", json=bodies[0], headers=integration)
    ).status_code == 403
