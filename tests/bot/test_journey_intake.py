"""A journey stage that sends an intake questionnaire (issue 15): the journey job hands it to the bot's
START_INTAKE job (journeys sit below the bot), which asks the first question on the patient's WhatsApp
thread inside the session window, or sends the approved invitation outside it; once, however often the
jobs run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.fhir.canonical import SID_MESSAGE_KEY
from app.fhir.client import FhirClient
from app.messaging.resources import message_of
from app.ports.jobs import Job
from tests.bot.support import Chat
from tests.clinic import make_patient
from tests.factories import unique
from tests.messaging.twilio_webhooks import drain
from workers.registry import JOBS

pytestmark = pytest.mark.integration

FIRST_QUESTION = "1/7. What is the main reason for your visit?"


def _template(name: str, questionnaire: str = "intake-cardiology") -> dict[str, Any]:
    return {
        "name": name,
        "title": "Pre-visit questions",
        "stages": [
            {
                "code": "pre-visit",
                "title": "Before the visit",
                "actions": [{"kind": "intake", "questionnaire": questionnaire, "days": 0}],
            }
        ],
    }


async def _journey_with_intake(
    app: FastAPI, api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], patient_id: str
) -> str:
    """Start a journey whose first stage sends the cardiology questionnaire now, and run its due actions."""
    name = f"t-{unique().lower()}"
    saved = await api.post("/api/v1/journey-templates", json=_template(name), headers=admin)
    assert saved.status_code == 201, saved.text
    assert saved.json()["stages"][0]["actions"][0]["questionnaire"] == "intake-cardiology"
    started = await api.post(
        f"/api/v1/patients/{patient_id}/journeys", json={"template": name}, headers=staff
    )
    assert started.status_code == 201, started.text
    journey_id = str(started.json()["id"])
    report = await JOBS[Job.RUN_JOURNEY_ACTIONS](app.state.services, {})
    assert f"CarePlan/{journey_id}/pre-visit/0" in report.intakes
    return journey_id


async def _keyed(fhir: FhirClient, key: str) -> list[str]:
    found = await fhir.search("Communication", {"identifier": f"{SID_MESSAGE_KEY}|{key}"})
    return [str(message_of(m).text) for m in found]


async def test_an_unknown_questionnaire_is_refused_when_the_template_is_saved(
    api: httpx.AsyncClient, admin: dict[str, str], demo_clinic: None
) -> None:
    refused = await api.post(
        "/api/v1/journey-templates", json=_template(f"t-{unique().lower()}", "no-such-form"), headers=admin
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["fields"][0]["field"] == "stages[0].actions[0].questionnaire"
    missing = _template(f"t-{unique().lower()}")
    del missing["stages"][0]["actions"][0]["questionnaire"]
    refused = await api.post("/api/v1/journey-templates", json=missing, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["fields"][0]["field"] == "stages[0].actions[0].questionnaire"


async def test_a_journey_stage_asks_the_first_intake_question_on_the_thread_once(
    app: FastAPI,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    demo_clinic: None,
) -> None:
    patient = await make_patient(api, staff, preferred_language="en")
    chat = Chat(api, fhir, settings, patient["phone"])
    await chat.say("hello")  # the patient wrote today: the session window is open

    journey_id = await _journey_with_intake(app, api, admin, staff, patient["id"])
    await drain(settings)  # the START_INTAKE job, then the send jobs
    key = f"journey/{journey_id}/pre-visit/0"
    assert await _keyed(fhir, f"bot/{key}/0") == [FIRST_QUESTION]

    # Replays: the journey job records the action done, the bot's job asks once.
    again = await JOBS[Job.RUN_JOURNEY_ACTIONS](app.state.services, {})
    assert f"CarePlan/{journey_id}/pre-visit/0" not in again.intakes
    payload = {"patient": patient["id"], "questionnaire": "intake-cardiology", "key": key}
    assert await JOBS[Job.START_INTAKE](app.state.services, payload) == "duplicate"
    thread = await fhir.search("Communication", {"conversation-thread": chat.thread, "_count": "100"})
    assert [message_of(m).text for m in thread].count(FIRST_QUESTION) == 1

    # The patient answers in chat: the questions go on from the dialogue the job left.
    assert (await chat.say("Chest pain on walking"))[0].startswith("2/7. Which of these symptoms")


async def test_outside_the_session_window_the_invitation_goes_and_yes_starts_the_questions(
    app: FastAPI,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    demo_clinic: None,
) -> None:
    patient = await make_patient(api, staff, preferred_language="en")
    journey_id = await _journey_with_intake(app, api, admin, staff, patient["id"])
    await drain(settings)

    key = f"journey/{journey_id}/pre-visit/0"
    [invitation] = await _keyed(fhir, f"bot/{key}/invitation")
    assert "answer 7 short questions" in invitation
    assert await _keyed(fhir, f"bot/{key}/0") == []

    chat = Chat(api, fhir, settings, patient["phone"])
    assert await chat.say("yes") == [FIRST_QUESTION]


async def test_a_patient_who_already_answered_is_not_asked_again(
    app: FastAPI,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    demo_clinic: None,
) -> None:
    patient = await make_patient(api, staff, preferred_language="en")
    answers = {
        "questionnaire": "intake-cardiology",
        "version": "1.0.0",
        "answers": {"chief-complaint": "Chest pain", "consent": True},
    }
    submitted = await api.post(f"/api/v1/patients/{patient['id']}/intake", json=answers, headers=staff)
    assert submitted.status_code == 201, submitted.text
    payload = {
        "patient": patient["id"],
        "questionnaire": "intake-cardiology",
        "key": f"journey/{unique()}",
        "since": "2020-01-01T00:00:00Z",
    }
    assert await JOBS[Job.START_INTAKE](app.state.services, payload) == "answered"
    assert await _keyed(fhir, f"bot/{payload['key']}/invitation") == []
