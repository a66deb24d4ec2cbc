"""STOP / START from a patient's phone, in English, Hindi and Kannada: the consent changes at once and one
confirmation is queued in the patient's language; an unknown number's STOP is stored and changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis

from app.config import Settings
from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_THREAD, SID_MESSAGE_KEY
from app.fhir.client import FhirClient
from app.messaging import catalog, inbound
from app.messaging.resources import Direction, message_of
from app.ports.inbound import InboundMessage
from app.ports.messaging import MessageChannel
from tests.clinic import make_patient
from tests.factories import phone
from tests.messaging.twilio_webhooks import communications, drain, post_signed
from tests.support.twilio import INBOUND_PATH, inbound_form

pytestmark = pytest.mark.integration


async def consents(api: httpx.AsyncClient, staff: dict[str, str], patient_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/patients/{patient_id}/consents", headers=staff)
    body: dict[str, Any] = response.json()
    return body


async def by_key(fhir: FhirClient, key: str) -> list[dict[str, Any]]:
    return await fhir.search("Communication", {"identifier": f"{SID_MESSAGE_KEY}|{key}"})


async def send(api: httpx.AsyncClient, settings: Settings, sender: str, text: str, **extra: Any) -> str:
    form = inbound_form(sender=sender, text=text, **extra)
    assert (await post_signed(api, INBOUND_PATH, form)).status_code == 200
    await drain(settings)
    return form["MessageSid"]


@pytest.mark.parametrize(
    ("language", "stop", "start"),
    [("en", "STOP", "Start"), ("hi", "बंद करो", "शुरू"), ("kn", "ನಿಲ್ಲಿಸಿ.", "ಪ್ರಾರಂಭಿಸಿ")],
)
async def test_stop_then_start_change_the_consent_and_queue_one_confirmation_each(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    demo_clinic: None,
    language: str,
    stop: str,
    start: str,
) -> None:
    patient = await make_patient(api, staff, preferred_language=language)
    await api.put(
        f"/api/v1/patients/{patient['id']}/consents/whatsapp",
        json={"decision": "opt-in", "source": "registration"},
        headers=staff,
    )
    redis = Redis.from_url(settings.redis_url)

    stop_sid = await send(api, settings, patient["phone"], stop)

    after_stop = await consents(api, staff, patient["id"])
    assert after_stop["current"]["whatsapp"]["decision"] == "opt-out"
    assert after_stop["current"]["whatsapp"]["source"] == "whatsapp"
    [confirmation] = await by_key(fhir, f"optout/{stop_sid}")
    clinic = await inbound.clinic_contact(fhir)
    assert clinic is not None
    expected = catalog.render(
        "opt_out_confirmation",
        language=language,
        variables={"clinic_name": clinic[0], "clinic_phone": clinic[1]},
    )
    read = message_of(confirmation)
    assert (read.direction, read.text, read.patient_id) == (Direction.OUTBOUND, expected.body, patient["id"])
    assert read.template is not None and (read.template.name, read.template.language) == (
        "opt_out_confirmation",
        language,
    )
    [inbound_stop] = await communications(fhir, stop_sid)
    assert read.thread_id == extension_value(inbound_stop, EXT_THREAD)
    assert redis.exists(f"rq:job:send-{confirmation['id']}")  # the send job was queued

    start_sid = await send(api, settings, patient["phone"], start)

    after_start = await consents(api, staff, patient["id"])
    assert after_start["current"]["whatsapp"]["decision"] == "opt-in"
    assert [c["decision"] for c in after_start["history"]] == ["opt-in", "opt-out", "opt-in"]
    [welcome_back] = await by_key(fhir, f"optin/{start_sid}")
    assert message_of(welcome_back).text == inbound.OPTED_IN_TEXT[language]
    assert message_of(welcome_back).template is None
    assert redis.exists(f"rq:job:send-{welcome_back['id']}")
    # Other channels are untouched.
    assert after_start["current"]["sms"] is None


async def test_a_retried_stop_job_records_and_confirms_once(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    app: FastAPI,
    demo_clinic: None,
) -> None:
    patient = await make_patient(api, staff)
    sid = await send(api, settings, patient["phone"], "stop")
    [stored] = await communications(fhir, sid)
    services = app.state.services
    message = InboundMessage(
        provider_id=sid,
        channel=MessageChannel.WHATSAPP,
        sender=patient["phone"],
        recipient=None,
        text="stop",
        received_at=datetime.fromisoformat(stored["received"]),
    )

    await inbound.receive_message(
        fhir,
        services.state,
        services.queue,
        message=message,
        region="IN",
        fetcher=services.media,
        transcriber=None,
    )

    assert len((await consents(api, staff, patient["id"]))["history"]) == 1
    assert len(await by_key(fhir, f"optout/{sid}")) == 1
    assert len(await communications(fhir, sid)) == 1


async def test_an_sms_stop_opts_out_of_sms_only(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, demo_clinic: None
) -> None:
    patient = await make_patient(api, staff)

    sid = await send(api, settings, patient["phone"], "UNSUBSCRIBE", whatsapp=False)

    current = (await consents(api, staff, patient["id"]))["current"]
    assert current["sms"]["decision"] == "opt-out" and current["sms"]["source"] == "sms"
    assert current["whatsapp"] is None
    [confirmation] = await by_key(fhir, f"optout/{sid}")
    assert message_of(confirmation).channel == "sms"


async def test_cancel_is_not_an_opt_out(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings
) -> None:
    patient = await make_patient(api, staff)

    sid = await send(api, settings, patient["phone"], "CANCEL")

    assert (await consents(api, staff, patient["id"]))["history"] == []
    assert await by_key(fhir, f"optout/{sid}") == []
    assert len(await communications(fhir, sid)) == 1


async def test_stop_from_an_unknown_number_is_stored_and_records_nothing(
    api: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    sid = await send(api, settings, phone(), "STOP")

    [stored] = await communications(fhir, sid)
    thread = extension_value(stored, EXT_THREAD)
    on_thread = await fhir.search("Communication", {"conversation-thread": thread})
    assert [c["id"] for c in on_thread] == [stored["id"]]  # no confirmation: there is no one to confirm to
    assert await by_key(fhir, f"optout/{sid}") == []
