"""Twilio status callbacks against the real HAPI and Redis: forward-only delivery status, failures with
Twilio's error code, 21610 records an opt-out, a callback before the send job stored the sid retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis

from app.config import Settings
from app.conversations.service import ensure_conversation
from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient
from app.fhir.records import create_with_provenance
from app.messaging import inbound
from app.messaging import resources as res
from app.ports.inbound import DeliveryReport, ReportedStatus
from tests.clinic import make_patient
from tests.messaging.twilio_webhooks import TWIML, drain, post_signed
from tests.support.twilio import STATUS_PATH, message_sid, status_form

pytestmark = pytest.mark.integration


async def sent_message(fhir: FhirClient, app: FastAPI, patient: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An outbound WhatsApp message as the send job leaves it: completed, sent, Twilio's sid as identifier."""
    sid = message_sid()
    thread = await ensure_conversation(
        fhir,
        app.state.services.state,
        channel="whatsapp",
        address=patient["phone"],
        patient_id=patient["id"],
        at=datetime.now(UTC),
    )
    message = res.outbound_message(
        channel="whatsapp",
        thread_id=thread["id"],
        patient_id=patient["id"],
        text="Your appointment is confirmed",
        sender=Actor(kind=AgentKind.SYSTEM),
    )
    message["identifier"] = [{"system": SID_TWILIO_MESSAGE, "value": sid}]
    message["status"] = "completed"
    res.set_delivery_status(message, "sent")
    stored = await create_with_provenance(
        fhir, message, actors=[Actor(kind=AgentKind.SYSTEM)], activity="test"
    )
    return sid, stored


async def test_status_callbacks_out_of_order_end_at_the_furthest_status(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, app: FastAPI
) -> None:
    patient = await make_patient(api, staff)
    sid, stored = await sent_message(fhir, app, patient)

    answers = [
        await post_signed(api, STATUS_PATH, status_form(sid=sid, status=status))
        for status in ("delivered", "sent", "read", "delivered", "queued", "sending")
    ]
    await drain(settings)

    assert [(a.status_code, a.text) for a in answers] == [(200, TWIML)] * 6
    final = await fhir.read("Communication", stored["id"])
    assert res.message_of(final).delivery_status == "read"
    # sent -> delivered -> read: two updates; the late sent, the duplicate delivered and queued changed nothing.
    assert final["meta"]["versionId"] == "3"


async def test_a_failure_keeps_twilios_error_code_and_stays_final(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, app: FastAPI
) -> None:
    patient = await make_patient(api, staff)
    sid, stored = await sent_message(fhir, app, patient)

    await post_signed(api, STATUS_PATH, status_form(sid=sid, status="failed", error_code="30008"))
    await post_signed(api, STATUS_PATH, status_form(sid=sid, status="delivered"))
    await drain(settings)

    message = res.message_of(await fhir.read("Communication", stored["id"]))
    assert (message.delivery_status, message.reason, message.provider_code) == (
        "failed",
        "undeliverable",
        "30008",
    )
    consents = await api.get(f"/api/v1/patients/{patient['id']}/consents", headers=staff)
    assert consents.json()["history"] == []


async def test_21610_unsubscribed_records_an_opt_out_for_the_channel(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, app: FastAPI
) -> None:
    patient = await make_patient(api, staff)
    await api.put(
        f"/api/v1/patients/{patient['id']}/consents/whatsapp",
        json={"decision": "opt-in", "source": "registration"},
        headers=staff,
    )
    sid, stored = await sent_message(fhir, app, patient)

    await post_signed(api, STATUS_PATH, status_form(sid=sid, status="undelivered", error_code="21610"))
    await drain(settings)

    message = res.message_of(await fhir.read("Communication", stored["id"]))
    assert (message.delivery_status, message.provider_code) == ("undelivered", "21610")
    consents = (await api.get(f"/api/v1/patients/{patient['id']}/consents", headers=staff)).json()
    assert consents["current"]["whatsapp"]["decision"] == "opt-out"
    assert consents["current"]["whatsapp"]["source"] == "whatsapp"
    assert [c["decision"] for c in consents["history"]] == ["opt-out", "opt-in"]


async def test_a_callback_before_the_sid_is_stored_fails_the_job_so_rq_retries(fhir: FhirClient) -> None:
    report = DeliveryReport(message_sid(), ReportedStatus.DELIVERED, None, datetime.now(UTC))

    with pytest.raises(inbound.MessageNotStoredYet):
        await inbound.record_delivery_status(fhir, report=report)


async def test_an_unsigned_status_callback_is_403_and_queues_nothing(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    sid = message_sid()

    response = await api.post(STATUS_PATH, data=status_form(sid=sid, status="read"))

    assert response.status_code == 403
    assert not Redis.from_url(settings.redis_url).exists(f"rq:job:delivery-{sid}-read")
