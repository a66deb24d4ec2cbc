"""Conversation memory on the demo clinic in the real HAPI: follow-ups refer to the same staff user's
previous plan, never to another user's, and not after the session expired or was restarted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from adapters.clock import FakeClock
from app.config import Settings
from app.fhir.client import FhirClient
from app.main import create_app
from tests.assistant.test_compound import free_slots, interpret, new_patient, when
from tests.conftest import STAFF_KEY, bearer, make_settings, started
from tests.messaging.support import inbound

pytestmark = pytest.mark.integration


async def test_a_follow_up_refers_to_the_previous_plan_of_the_same_user_only(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    admin: dict[str, str],
    demo_clinic: None,
    fhir: FhirClient,
    app: FastAPI,
) -> None:
    await api.delete("/api/v1/assistant/session", headers=staff)
    patient = await new_patient(api, staff)
    slots = await free_slots(api, staff, "rahul-verma")
    booking = await interpret(api, staff, f"book {patient['phone']} with Dr Rahul Verma on {when(slots[0])}")
    booked = await api.post(f"/api/v1/assistant/plans/{booking['plan_id']}/confirm", headers=staff)
    assert booked.status_code == 200, booked.text
    appointment = booked.json()["appointment"]
    # Free text goes on WhatsApp only inside the session window: the patient wrote a minute ago.
    await inbound(
        fhir,
        app.state.services.state,
        phone=patient["phone"],
        patient_id=patient["id"],
        at=datetime.now(UTC) - timedelta(minutes=1),
    )

    follow_up = await interpret(api, staff, "and send her the confirmation")

    assert follow_up["intent"] == "send_message"
    assert follow_up["resolved"]["patient"] == f"Patient/{patient['id']}"
    assert "is confirmed" in follow_up["entities"]["message"]
    assert any("previous instruction" in note for note in follow_up["notes"])
    assert follow_up["executable"] is True, follow_up["clarifications"]
    sent = await api.post(f"/api/v1/assistant/plans/{follow_up['plan_id']}/confirm", headers=staff)
    assert sent.status_code == 200, sent.text
    [message_ref] = sent.json()["written"]
    message = await fhir.read("Communication", message_ref.removeprefix("Communication/"))
    assert message["subject"] == {"reference": f"Patient/{patient['id']}"}

    same_doctor = await interpret(api, staff, f"book her with the same doctor on {when(slots[2])}")
    assert same_doctor["resolved"]["practitioner"] == "Practitioner/rahul-verma"
    assert same_doctor["resolved"]["patient"] == f"Patient/{patient['id']}"

    cancel_that = await interpret(api, staff, "cancel that appointment")
    assert cancel_that["resolved"]["appointment"] == appointment

    # Another staff user's "her" is nobody.
    elsewhere = await interpret(api, admin, "and send her the confirmation")
    assert elsewhere["resolved"]["patient"] is None
    assert elsewhere["executable"] is False
    await api.post(f"/api/v1/appointments/{appointment.removeprefix('Appointment/')}/cancel", headers=staff)


async def test_a_new_or_expired_session_forgets(
    api: httpx.AsyncClient, staff: dict[str, str], demo_clinic: None, settings: Settings
) -> None:
    patient = await new_patient(api, staff)
    await interpret(api, staff, f"find {patient['phone']}")
    remembered = await interpret(api, staff, "send her a message: your report is ready")
    assert remembered["resolved"]["patient"] == f"Patient/{patient['id']}"

    restarted = await api.delete("/api/v1/assistant/session", headers=staff)
    forgotten = await interpret(api, staff, "send her a message: your report is ready")

    assert restarted.status_code == 204
    assert forgotten["resolved"]["patient"] is None

    clock = FakeClock(datetime.now(UTC))
    short = create_app(
        make_settings(
            fhir_base_url=settings.fhir_base_url,
            redis_url=settings.redis_url,
            assistant_session_ttl_seconds=60,
        ),
        clock=clock,
    )
    async for client in started(short):
        await interpret(client, bearer(STAFF_KEY), f"find {patient['phone']}")
        clock.advance(seconds=30)
        kept = await interpret(client, bearer(STAFF_KEY), "send her a message: your report is ready")
        clock.advance(seconds=90)
        expired = await interpret(client, bearer(STAFF_KEY), "send her a message: your report is ready")
    assert kept["resolved"]["patient"] == f"Patient/{patient['id']}"
    assert expired["resolved"]["patient"] is None


async def test_a_correction_cannot_move_a_plan_to_another_patient(
    api: httpx.AsyncClient, staff: dict[str, str], demo_clinic: None
) -> None:
    patient, other = await new_patient(api, staff), await new_patient(api, staff)
    plan = await interpret(api, staff, f"send {patient['phone']} a message: your report is ready")
    assert plan["resolved"]["patient"] == f"Patient/{patient['id']}"

    confirmed = await api.post(
        f"/api/v1/assistant/plans/{plan['plan_id']}/confirm",
        json={"form": {"patient": f"Patient/{other['id']}"}},
        headers=staff,
    )

    assert confirmed.status_code == 422
    assert confirmed.json()["error"] == "other_patient"


async def test_summaries_answer_questions_in_words(
    api: httpx.AsyncClient, staff: dict[str, str], demo_clinic: None
) -> None:
    patient = await new_patient(api, staff)

    found = await interpret(api, staff, f"find {patient['phone']}")
    unknown = await interpret(api, staff, "what is the weather in Delhi")

    assert found["summary"] == f"1 patient found: {patient['name']}."
    assert unknown["summary"].startswith("That is not something I can do.")
