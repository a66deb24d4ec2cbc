"""The assistant's send_message really sends: confirm the plan, run the send job, the sandbox has it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from fastapi import FastAPI

from adapters.clock import FakeClock
from adapters.sandbox.messenger import SandboxMessenger
from app.fhir.client import FhirClient
from app.messaging.rules import quiet_hours_end
from app.ports.jobs import Job
from app.services import Services
from tests.clinic import make_patient
from tests.messaging.support import KOLKATA, inbound
from workers.registry import JOBS

pytestmark = pytest.mark.integration


async def test_a_confirmed_send_message_plan_is_sent_by_the_send_job(
    app: FastAPI, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    services: Services = app.state.services
    assert isinstance(services.messenger, SandboxMessenger)
    patient = await make_patient(api, staff)
    wrote = datetime.now(UTC) - timedelta(hours=1)
    await inbound(fhir, services.state, phone=patient["phone"], patient_id=patient["id"], at=wrote)
    plan = await api.post(
        "/api/v1/assistant/interpret",
        json={"text": f"Send a WhatsApp message to {patient['phone']}: please bring your old reports"},
        headers=staff,
    )
    confirmed = await api.post(f"/api/v1/assistant/plans/{plan.json()['plan_id']}/confirm", headers=staff)
    assert confirmed.status_code == 200, confirmed.text
    [ref] = confirmed.json()["written"]
    communication_id = ref.removeprefix("Communication/")

    # The worker runs it outside quiet hours (at night a routine message waits for the morning).
    now = datetime.now(UTC)
    awake = quiet_hours_end(now, start=time(21, 0), end=time(8, 0), tz=KOLKATA) or now
    outcome = await JOBS[Job.SEND_MESSAGE](
        replace(services, clock=FakeClock(awake)), {"communication": communication_id}
    )

    assert outcome == "sent"
    [sent] = [m for m in services.messenger.sent if m.reference == communication_id]
    assert (sent.to.channel.value, sent.to.address, sent.body) == (
        "whatsapp",
        patient["phone"],
        "please bring your old reports",
    )
    stored = await fhir.read("Communication", communication_id)
    assert stored["status"] == "completed"
    assert stored["identifier"][-1]["value"] == sent.provider_id
