"""The send job's rules against the real HAPI and Redis, through the sandbox messenger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis
from rq import Queue
from rq.job import Job as RqJob
from rq.registry import ScheduledJobRegistry

from adapters.clock import FakeClock
from adapters.sandbox.messenger import SandboxMessenger
from app.config import Settings
from app.consents.resources import Decision
from app.errors import OutsideSessionWindow
from app.fhir.client import FhirClient
from app.messaging import service as messaging
from app.messaging.jobs import requeue_pending_sends
from app.messaging.resources import Priority
from app.messaging.sending import Outcome, deferred_job_id, send_job_id
from app.ports.jobs import Job
from app.services import Services, build_services
from tests.clinic import make_patient
from tests.factories import phone, unique
from tests.messaging.support import (
    CONTENT_SID,
    KOLKATA,
    STAFF,
    consent,
    inbound,
    policy,
    reason_of,
    send,
    today_at,
)
from workers.queue import RqJobQueue, rq_job_id
from workers.registry import JOBS

pytestmark = pytest.mark.integration
DAY = today_at(11)
CONFIRMATION = {
    "patient_name": "Asha",
    "clinic_name": "Sunrise",
    "practitioner_name": "Dr. Meera Rao",
    "date": "1 December 2026",
    "time": "10:30 AM",
    "location_name": "Indiranagar",
    "maps_link": "https://www.google.com/maps/search/?api=1&query=Indiranagar",
    "clinic_phone": "+918041234567",
}


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


async def _confirmation(
    services: Services, patient: dict[str, Any], channel: str, at: datetime = DAY
) -> dict[str, Any]:
    return await messaging.prepare_template_message(
        services.fhir,
        services.state,
        services.queue,
        template="appointment_confirmation",
        variables=CONFIRMATION,
        sender=STAFF,
        at=at,
        patient_id=str(patient["id"]),
        channel=channel,
    )


async def test_an_opt_out_after_preparing_blocks_the_send_and_records_the_reason(
    services: Services, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)
    await consent(fhir, patient["id"], "sms", Decision.OPT_IN, DAY - timedelta(days=3))
    message = await _confirmation(services, patient, "sms")
    await consent(fhir, patient["id"], "sms", Decision.OPT_OUT, DAY)
    sandbox = SandboxMessenger()

    outcome = await send(fhir, services.queue, sandbox, message, now=DAY)

    assert outcome is Outcome.REFUSED
    assert await reason_of(fhir, message) == ("not-done", "opted-out", None)
    assert sandbox.sent == []


async def test_business_initiated_needs_an_opt_in_and_a_reply_inside_the_window_does_not(
    services: Services, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    queue, state = services.queue, services.state
    never_asked = await make_patient(api, staff)
    opted_in = await make_patient(api, staff)
    await consent(fhir, opted_in["id"], "whatsapp", Decision.OPT_IN, DAY - timedelta(days=1))
    sandbox = SandboxMessenger()
    sids = {"appointment_confirmation.en": CONTENT_SID}

    unasked = await _confirmation(services, never_asked, "whatsapp")
    allowed = await _confirmation(services, opted_in, "whatsapp")
    assert await send(fhir, queue, sandbox, unasked, now=DAY, content_sids=sids) is Outcome.REFUSED
    assert await send(fhir, queue, sandbox, allowed, now=DAY, content_sids=sids) is Outcome.SENT

    assert await reason_of(fhir, unasked) == ("not-done", "no-consent", None)
    [sent] = sandbox.sent
    assert (sent.reference, sent.to.address) == (allowed["id"], opted_in["phone"])
    assert sent.template is not None and sent.template.template_id == CONTENT_SID
    assert sent.template.variables["1"] == "Asha"  # numbered in the file's order for Twilio

    # The never-asked patient writes: the clinic may answer with free text inside the window.
    await inbound(fhir, state, phone=never_asked["phone"], patient_id=never_asked["id"], at=DAY)
    reply = await messaging.prepare_message(
        fhir,
        state,
        queue,
        channel="whatsapp",
        text="Yes, we are open",
        sender=STAFF,
        at=DAY + timedelta(minutes=5),
        patient_id=never_asked["id"],
    )
    assert await send(fhir, queue, sandbox, reply, now=DAY + timedelta(minutes=6)) is Outcome.SENT
    assert sandbox.sent[-1].body == "Yes, we are open"
    stored = await fhir.read("Communication", reply["id"])
    assert stored["status"] == "completed"
    assert datetime.fromisoformat(stored["sent"]) == DAY + timedelta(minutes=6)
    assert {
        "system": "https://fhir.prm.health/sid/twilio-message-sid",
        "value": sandbox.sent[-1].provider_id,
    } in stored["identifier"]


async def test_free_text_outside_the_window_is_409_at_prepare_and_not_done_at_send(
    services: Services, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    queue, state = services.queue, services.state
    patient = await make_patient(api, staff)
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, DAY - timedelta(days=2))

    with pytest.raises(OutsideSessionWindow) as refused:
        await messaging.prepare_message(
            fhir, state, queue, channel="whatsapp", text="hi", sender=STAFF, at=DAY, patient_id=patient["id"]
        )
    assert "appointment_reminder_24h" in refused.value.details["templates"]
    assert "opt_out_confirmation" in refused.value.details["templates"]

    # Written inside the window, sent after it closed (the job was late): the send-time rule refuses.
    await inbound(fhir, state, phone=patient["phone"], patient_id=patient["id"], at=DAY - timedelta(hours=23))
    late = await messaging.prepare_message(
        fhir, state, queue, channel="whatsapp", text="hi", sender=STAFF, at=DAY, patient_id=patient["id"]
    )
    sandbox = SandboxMessenger()
    assert await send(fhir, queue, sandbox, late, now=DAY + timedelta(hours=2)) is Outcome.REFUSED
    assert await reason_of(fhir, late) == ("not-done", "outside-session-window", None)
    # A template without an approved ContentSid cannot go outside the window either.
    template = await _confirmation(services, patient, "whatsapp")
    assert await send(fhir, queue, sandbox, template, now=DAY + timedelta(hours=2)) is Outcome.REFUSED
    assert await reason_of(fhir, template) == ("not-done", "outside-session-window", None)
    assert sandbox.sent == []


async def test_the_api_answers_409_naming_the_templates_when_the_window_is_closed(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)
    plan = await api.post(
        "/api/v1/assistant/interpret",
        json={"text": f"Send a WhatsApp message to {patient['phone']}: your reports are ready"},
        headers=staff,
    )

    confirmed = await api.post(f"/api/v1/assistant/plans/{plan.json()['plan_id']}/confirm", headers=staff)

    assert confirmed.status_code == 409, confirmed.text
    assert confirmed.json()["error"] == "outside_session_window"
    assert "welcome" in confirmed.json()["templates"]


async def test_quiet_hours_defer_a_routine_message_to_8am_and_it_is_sent_then(
    settings: Settings, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    night = today_at(22)
    clock, sandbox = FakeClock(night), SandboxMessenger()
    services = build_services(settings, clock=clock, messenger=sandbox, transcriber=None)
    try:
        patient = await make_patient(api, staff)
        await consent(fhir, patient["id"], "sms", Decision.OPT_IN, night - timedelta(days=1))
        routine = await _confirmation(services, patient, "sms", at=night)
        urgent = await messaging.prepare_message(
            fhir,
            services.state,
            services.queue,
            channel="sms",
            text="Your report needs a call today",
            sender=STAFF,
            at=night,
            patient_id=patient["id"],
            priority=Priority.URGENT,
        )

        await JOBS[Job.SEND_MESSAGE](services, {"communication": routine["id"]})
        await JOBS[Job.SEND_MESSAGE](services, {"communication": urgent["id"]})

        morning = datetime.combine(
            night.date() + timedelta(days=1), datetime.min.time(), KOLKATA
        ) + timedelta(hours=8)
        assert (await fhir.read("Communication", routine["id"]))["status"] == "on-hold"
        assert [m.reference for m in sandbox.sent] == [urgent["id"]]
        registry = ScheduledJobRegistry(
            queue=Queue(settings.queue_name, connection=Redis.from_url(settings.redis_url))
        )
        job_id = rq_job_id(deferred_job_id(routine["id"], morning))
        assert job_id in registry.get_job_ids()
        assert registry.get_scheduled_time(job_id).timestamp() == morning.timestamp()
        # A replay of the first job at night changes nothing.
        await JOBS[Job.SEND_MESSAGE](services, {"communication": routine["id"]})
        assert len(sandbox.sent) == 1

        clock.advance(hours=10)  # 08:00 the next morning
        await JOBS[Job.SEND_MESSAGE](services, {"communication": routine["id"]})

        stored = await fhir.read("Communication", routine["id"])
        assert stored["status"] == "completed"
        assert datetime.fromisoformat(stored["sent"]) == morning
        assert [m.reference for m in sandbox.sent] == [urgent["id"], routine["id"]]
    finally:
        await services.aclose()


async def test_a_replayed_or_concurrent_send_job_sends_once(
    services: Services, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    queue = services.queue
    patient = await make_patient(api, staff)
    await consent(fhir, patient["id"], "sms", Decision.OPT_IN, DAY - timedelta(days=1))
    message = await _confirmation(services, patient, "sms")
    sandbox = SandboxMessenger()

    racing = await asyncio.gather(*(send(fhir, queue, sandbox, message, now=DAY) for _ in range(3)))
    replayed = await send(fhir, queue, sandbox, message, now=DAY)

    assert sorted(racing) == sorted([Outcome.SENT, Outcome.DONE_ALREADY, Outcome.DONE_ALREADY])
    assert replayed is Outcome.DONE_ALREADY
    assert [m.reference for m in sandbox.sent] == [message["id"]]
    assert (await fhir.read("Communication", message["id"]))["status"] == "completed"


async def test_the_sweep_queues_a_lost_send_and_resumes_a_held_one_after_quiet_hours(
    services: Services, settings: Settings, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)
    await consent(fhir, patient["id"], "sms", Decision.OPT_IN, DAY - timedelta(days=1))
    down = RqJobQueue("redis://127.0.0.1:1/0", queue_name=settings.queue_name, timeout_seconds=0.2)
    lost = await _confirmation_on(down, services, patient)  # stored, but its job never queued
    held = await _confirmation(services, patient, "sms")
    assert await send(fhir, services.queue, SandboxMessenger(), held, now=today_at(23)) is Outcome.DEFERRED
    redis = Redis.from_url(settings.redis_url)
    assert not RqJob.exists(send_job_id(lost["id"]), connection=redis)
    later = datetime.now(UTC) + timedelta(minutes=2)  # the sweep looks at messages untouched for a minute
    resume = rq_job_id(f"{send_job_id(held['id'])}-resume-{later.astimezone(KOLKATA):%Y%m%d}")

    await requeue_pending_sends(
        fhir=fhir, queue=services.queue, policy=policy(quiet_start=time(0), quiet_end=time(23, 59)), now=later
    )
    assert RqJob.exists(send_job_id(lost["id"]), connection=redis)
    assert not RqJob.exists(resume, connection=redis)  # quiet (all day): its deferred job sends it

    await requeue_pending_sends(
        fhir=fhir, queue=services.queue, policy=policy(quiet_start=time(0), quiet_end=time(0)), now=later
    )
    assert RqJob.exists(resume, connection=redis)  # no quiet hours now: resumed


async def _confirmation_on(queue: RqJobQueue, services: Services, patient: dict[str, Any]) -> dict[str, Any]:
    return await messaging.prepare_template_message(
        services.fhir,
        services.state,
        queue,
        template="appointment_confirmation",
        variables=CONFIRMATION,
        sender=STAFF,
        at=DAY,
        patient_id=str(patient["id"]),
        channel="sms",
    )


async def test_an_unknown_number_is_answered_inside_the_window_only(
    services: Services, fhir: FhirClient
) -> None:
    number = phone()
    conversation = await inbound(fhir, services.state, phone=number, patient_id=None, at=DAY)
    sandbox = SandboxMessenger()

    answer = await messaging.prepare_message(
        fhir, services.state, services.queue, channel="whatsapp", text="Which doctor would you like?",
        sender=STAFF, at=DAY, conversation_id=conversation,
    )  # fmt: skip
    late = await messaging.prepare_message(
        fhir, services.state, services.queue, channel="whatsapp", text="Are you still there?",
        sender=STAFF, at=DAY, conversation_id=conversation,
    )  # fmt: skip

    assert await send(fhir, services.queue, sandbox, answer, now=DAY + timedelta(minutes=1)) is Outcome.SENT
    assert await send(fhir, services.queue, sandbox, late, now=DAY + timedelta(hours=25)) is Outcome.REFUSED
    assert await reason_of(fhir, late) == ("not-done", "no-consent", None)
    assert [(m.reference, m.to.address) for m in sandbox.sent] == [(answer["id"], number)]


async def test_an_email_goes_with_its_subject_and_keeps_the_message_id(
    services: Services, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff, preferred_language="hi", preferred_channel="email")
    stored = await fhir.read("Patient", patient["id"])
    stored["telecom"].append({"system": "email", "value": f"{unique()}@example.org"})
    await fhir.update(stored)
    message = await messaging.prepare_template_message(
        fhir, services.state, services.queue, template="appointment_confirmation", variables=CONFIRMATION,
        sender=STAFF, at=DAY, patient_id=patient["id"],
    )  # fmt: skip
    sandbox = SandboxMessenger()

    assert await send(fhir, services.queue, sandbox, message, now=DAY) is Outcome.SENT

    [sent] = sandbox.sent
    assert sent.to.channel.value == "email" and sent.to.address == stored["telecom"][-1]["value"]
    assert (
        sent.subject is not None
        and "10:30 AM" in sent.subject
        and sent.body == message["payload"][0]["contentString"]
    )
    written = await fhir.read("Communication", message["id"])
    assert {"system": "https://fhir.prm.health/sid/email-message-id", "value": sent.provider_id} in written[
        "identifier"
    ]


async def test_the_send_job_is_retried_five_times_with_growing_intervals(
    services: Services, settings: Settings, api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)

    message = await _confirmation(services, patient, "sms")

    job = RqJob.fetch(send_job_id(message["id"]), connection=Redis.from_url(settings.redis_url))
    assert (job.retries_left, job.retry_intervals) == (5, [10, 30, 120, 600, 1800])
