"""Inbound WhatsApp/SMS against the real HAPI and Redis: signed webhook -> queue -> worker -> FHIR."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis

from adapters.twilio.webhooks import DEDUPE_TTL_SECONDS
from app.changes.model import Change, ChangeKind
from app.config import Settings
from app.conversations.resources import conversation_of
from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_THREAD, SID_CONVERSATION
from app.fhir.client import FhirClient
from app.main import create_app
from app.messaging import inbound
from app.messaging.resources import Direction, message_of
from app.ports.inbound import InboundMessage
from app.ports.messaging import MessageChannel
from app.services import build_queue
from tests.clinic import make_patient
from tests.conftest import started
from tests.factories import phone
from tests.messaging.twilio_webhooks import TWIML, communications, drain, post_signed
from tests.support.servers import free_port
from tests.support.twilio import INBOUND_PATH, inbound_form, message_sid
from workers.registry import change_context

pytestmark = pytest.mark.integration


async def thread_of(fhir: FhirClient, communication: dict[str, Any]) -> dict[str, Any]:
    return await fhir.read("Task", extension_value(communication, EXT_THREAD))


async def provenances(fhir: FhirClient, communication: dict[str, Any]) -> list[dict[str, Any]]:
    return await fhir.search("Provenance", {"target": f"Communication/{communication['id']}"})


async def test_a_signed_message_from_a_patient_is_stored_on_the_patients_thread(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings
) -> None:
    patient = await make_patient(api, staff)
    form = inbound_form(sender=patient["phone"], text="Can I see Dr Rao tomorrow?")

    response = await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    assert response.status_code == 200
    assert (response.text, response.headers["content-type"]) == (TWIML, "text/xml; charset=utf-8")
    [stored] = await communications(fhir, form["MessageSid"])
    message = message_of(stored)
    assert (message.direction, message.channel, message.patient_id) == (
        Direction.INBOUND,
        "whatsapp",
        patient["id"],
    )
    assert (message.text, message.delivery_status, stored["status"]) == (
        "Can I see Dr Rao tomorrow?",
        "received",
        "completed",
    )
    assert stored["sender"] == {"reference": f"Patient/{patient['id']}"}
    thread = conversation_of(await thread_of(fhir, stored))
    assert (thread.channel, thread.address, thread.patient_id) == (
        "whatsapp",
        patient["phone"],
        patient["id"],
    )
    # The message moved the thread up the inbox; the WhatsApp bot's answer (later) moves it on again.
    assert thread.last_message_at is not None and message.sent_at is not None
    assert thread.last_message_at >= message.sent_at
    [provenance] = await provenances(fhir, stored)
    assert provenance["agent"][0]["type"]["coding"][0]["code"] == "whatsapp-bot"


async def test_a_message_from_an_unknown_number_opens_a_thread_by_number_joined_when_the_patient_registers(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, app: FastAPI
) -> None:
    number = phone()
    form = inbound_form(sender=number, text="Hi, what are your timings?")

    await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    [stored] = await communications(fhir, form["MessageSid"])
    assert "subject" not in stored and message_of(stored).text == "Hi, what are your timings?"
    before = await thread_of(fhir, stored)
    assert conversation_of(before).address == number
    assert conversation_of(before).patient_id is None

    patient = await make_patient(api, staff, phone=number)
    services = app.state.services
    context = change_context(services)
    change = Change(
        "Patient", patient["id"], "1", ChangeKind.CREATED, await fhir.read("Patient", patient["id"])
    )
    await inbound.join_conversations(change, context=context)
    joined = await fhir.read("Task", before["id"])
    await inbound.join_conversations(change, context=context)  # again: nothing changes

    assert conversation_of(joined).patient_id == patient["id"]
    assert (await fhir.read("Task", before["id"]))["meta"]["versionId"] == joined["meta"]["versionId"]
    attributed = await fhir.read("Communication", stored["id"])
    assert attributed["subject"] == attributed["sender"] == {"reference": f"Patient/{patient['id']}"}
    assert attributed["meta"]["versionId"] == "2"  # attributed once, not again by the second call
    listed = await api.get("/api/v1/patients", params={"phone": number}, headers=staff)
    assert [p["id"] for p in listed.json()] == [patient["id"]]


async def test_a_number_shared_by_two_patients_keeps_its_thread_unjoined(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings
) -> None:
    number = phone()
    first = await make_patient(api, staff, phone=number)
    original = await fhir.read("Patient", first["id"])
    twin = {k: v for k, v in original.items() if k not in ("id", "meta")}
    second = await fhir.create({**twin, "meta": {"profile": original["meta"]["profile"]}})
    assert second["id"] != first["id"]
    form = inbound_form(sender=number, text="hello")

    await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    [stored] = await communications(fhir, form["MessageSid"])
    assert "subject" not in stored
    assert conversation_of(await thread_of(fhir, stored)).patient_id is None


async def test_an_sms_is_stored_on_the_numbers_sms_thread(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings
) -> None:
    patient = await make_patient(api, staff)
    form = inbound_form(sender=patient["phone"], text="Running late", whatsapp=False)

    await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    [stored] = await communications(fhir, form["MessageSid"])
    thread = conversation_of(await thread_of(fhir, stored))
    assert (message_of(stored).channel, thread.channel, thread.patient_id) == ("sms", "sms", patient["id"])
    [provenance] = await provenances(fhir, stored)
    assert provenance["agent"][0]["type"]["coding"][0]["code"] == "system"


async def test_a_bad_signature_is_403_and_nothing_is_queued_or_stored(
    api: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    form = inbound_form(sender=phone())
    redis = Redis.from_url(settings.redis_url)

    unsigned = await api.post(INBOUND_PATH, data=form)
    forged = await api.post(INBOUND_PATH, data=form, headers={"X-Twilio-Signature": "bm90IHR3aWxpbw=="})
    await drain(settings)

    assert (unsigned.status_code, forged.status_code) == (403, 403)
    assert not redis.exists(f"rq:job:inbound-{form['MessageSid']}")
    assert not redis.exists(f"prm:ingress:twilio:message:{form['MessageSid']}")
    assert await communications(fhir, form["MessageSid"]) == []


async def test_a_replayed_webhook_stores_one_communication(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, app: FastAPI
) -> None:
    patient = await make_patient(api, staff)
    form = inbound_form(sender=patient["phone"], text="Thanks!")

    answers = [await post_signed(api, INBOUND_PATH, form) for _ in range(3)]
    await drain(settings)
    [stored] = await communications(fhir, form["MessageSid"])
    # The job itself run again (a retry after a crash): nothing new either.
    services = app.state.services
    message = InboundMessage(
        provider_id=form["MessageSid"],
        channel=MessageChannel.WHATSAPP,
        sender=patient["phone"],
        recipient=None,
        text="Thanks!",
        received_at=datetime.fromisoformat(stored["received"]),
    )
    again = await inbound.receive_message(
        fhir,
        services.state,
        services.queue,
        message=message,
        region="IN",
        fetcher=services.media,
        transcriber=None,
    )

    assert [(a.status_code, a.text) for a in answers] == [(200, TWIML)] * 3
    assert again["id"] == stored["id"]
    assert [c["id"] for c in await communications(fhir, form["MessageSid"])] == [stored["id"]]
    assert len(await provenances(fhir, stored)) == 1
    ttl = Redis.from_url(settings.redis_url).ttl(f"prm:ingress:twilio:message:{form['MessageSid']}")
    assert DEDUPE_TTL_SECONDS - 60 < ttl <= DEDUPE_TTL_SECONDS


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"From": "whatsapp:+919844111173", "Body": "no sid"}, 422, "MessageSid: is required"),
        (
            {"MessageSid": "SM;DROP", "From": "whatsapp:+919844111173"},
            422,
            "MessageSid: is not a message SID",
        ),
        ({"MessageSid": message_sid(), "From": "whatsapp:hello"}, 422, "From: is not a phone number"),
    ],
)
async def test_a_malformed_form_is_4xx_and_queues_nothing(
    api: httpx.AsyncClient, settings: Settings, form: dict[str, str], status: int, message: str
) -> None:
    redis = Redis.from_url(settings.redis_url)
    queued_before = redis.llen(f"rq:queue:{settings.queue_name}")

    response = await post_signed(api, INBOUND_PATH, form)

    assert response.status_code == status
    assert response.json()["message"].startswith(message)
    assert redis.llen(f"rq:queue:{settings.queue_name}") == queued_before


async def test_unknown_and_odd_fields_are_ignored_and_the_message_kept(
    api: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    form = inbound_form(
        sender=phone(), text="hi\x00 there", NumMedia="x", Latitude="12.9", FutureField="{}", To="garbage"
    )

    response = await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    assert response.status_code == 200
    [stored] = await communications(fhir, form["MessageSid"])
    assert message_of(stored).text == "hi there"


async def test_with_the_queue_down_the_webhook_is_503_and_twilios_retry_is_accepted(
    api: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(settings, queue=build_queue(down))
    form = inbound_form(sender=phone(), text="Are you open on Sunday?")

    async for client in started(app):
        refused = await post_signed(client, INBOUND_PATH, form)
    retried = await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert retried.status_code == 200
    assert len(await communications(fhir, form["MessageSid"])) == 1


async def test_a_closed_thread_reopens_when_the_patient_writes(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings
) -> None:
    patient = await make_patient(api, staff)
    first = inbound_form(sender=patient["phone"], text="first")
    await post_signed(api, INBOUND_PATH, first)
    await drain(settings)
    [stored] = await communications(fhir, first["MessageSid"])
    task = await thread_of(fhir, stored)
    await fhir.update({**task, "status": "completed"})

    second = inbound_form(sender=patient["phone"], text="second")
    await post_signed(api, INBOUND_PATH, second)
    await drain(settings)

    reopened = await fhir.read("Task", task["id"])
    assert reopened["status"] == "in-progress"
    [later] = await communications(fhir, second["MessageSid"])
    assert extension_value(later, EXT_THREAD) == task["id"]
    assert (
        len(await fhir.search("Task", {"identifier": f"{SID_CONVERSATION}|whatsapp:{patient['phone']}"})) == 1
    )


async def test_webhooks_and_jobs_log_no_phone_text_or_profile_name(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    patient = await make_patient(api, staff)
    text = "confidential: my sugar readings are 310"
    form = inbound_form(sender=patient["phone"], text=text, ProfileName="Secret Profile Name")
    capsys.readouterr()

    await post_signed(api, INBOUND_PATH, form)
    await post_signed(api, INBOUND_PATH, form)
    await api.post(INBOUND_PATH, data=form)  # unsigned
    await drain(settings)

    logged = capsys.readouterr().out
    assert '"twilio.message.received"' in logged and '"message.received"' in logged  # webhook and job
    assert form["MessageSid"] in logged
    for secret in (
        patient["phone"],
        patient["phone"][3:],
        text,
        "sugar",
        "Secret Profile Name",
        patient["name"],
    ):
        assert secret not in logged
