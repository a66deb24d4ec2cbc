"""The send job through the real Twilio adapter, Twilio faked over HTTP (respx); HAPI and Redis real."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from fastapi import FastAPI

from adapters.twilio.messenger import TwilioMessenger
from app.consents import service as consents
from app.consents.resources import Decision
from app.fhir.client import FhirClient
from app.messaging import service as messaging
from app.messaging.resources import message_of
from app.messaging.sending import Outcome
from app.ports.messaging import Choice, ChoiceList, MessengerUnavailable
from app.services import Services
from tests.clinic import make_patient
from tests.messaging.support import CONTENT_SID, STAFF, consent, inbound, reason_of, send, today_at

pytestmark = pytest.mark.integration
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SID = "SM0123456789abcdef0123456789abcdef"
DAY = today_at(11)
LIST_PICKERS = {n: f"HX{n:032x}" for n in range(1, 11)}
SLOTS = ChoiceList(
    body="Free times with Dr. Rao:",
    button="Choose",
    choices=(
        Choice("slot-a", "2 December, 10:30 AM", "Dr. Rao (Whitefield)"),
        Choice("slot-b", "3 December, 10:30 AM", "Dr. Rao (Whitefield)"),
    ),
)
SLOTS_TEXT = (
    "Free times with Dr. Rao:\n1. 2 December 2026, 10:30 AM - Dr. Rao\n2. 3 December 2026, 10:30 AM - Dr. Rao"
)
WELCOME = {"patient_name": "Ravi", "clinic_name": "Sunrise", "clinic_phone": "+918041234567"}


@pytest.fixture
def twilio_api() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False)


@pytest.fixture
async def twilio(twilio_api: respx.MockRouter) -> AsyncIterator[TwilioMessenger]:
    # Only the adapter's client goes to the fake: HAPI is spoken to for real.
    client = httpx.AsyncClient(transport=httpx.MockTransport(twilio_api.handler))
    yield TwilioMessenger(
        account_sid=ACCOUNT_SID,
        auth_token="test-twilio-auth-token",
        whatsapp_from="+14155238886",
        sms_from="+15005550006",
        public_base_url="https://prm.clinic.example",
        list_picker_sids=LIST_PICKERS,
        http_client=client,
    )
    await client.aclose()


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


def refused(code: int) -> httpx.Response:
    return httpx.Response(400, json={"code": code, "message": "refused", "status": 400})


async def _welcome(services: Services, patient_id: str) -> dict[str, Any]:
    return await messaging.prepare_template_message(
        services.fhir,
        services.state,
        services.queue,
        template="welcome",
        variables=WELCOME,
        sender=STAFF,
        at=DAY,
        patient_id=patient_id,
        channel="whatsapp",
    )


async def _opted_in(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, **fields: str
) -> dict[str, str]:
    patient = await make_patient(api, staff, **fields)
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, DAY - timedelta(days=1))
    return patient


async def test_a_template_outside_the_window_goes_as_content_sid_and_variables(
    services: Services,
    twilio: TwilioMessenger,
    twilio_api: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
) -> None:
    route = twilio_api.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})
    patient = await _opted_in(api, staff, fhir, preferred_language="kn")
    message = await _welcome(services, patient["id"])

    outcome = await send(
        fhir, services.queue, twilio, message, now=DAY, content_sids={"welcome.kn": CONTENT_SID}
    )

    assert outcome is Outcome.SENT
    form = {k: v[0] for k, v in parse_qs(route.calls.last.request.content.decode()).items()}
    assert form["ContentSid"] == CONTENT_SID
    assert json.loads(form["ContentVariables"]) == {"1": "Ravi", "2": "Sunrise", "3": "+918041234567"}
    assert "Body" not in form
    assert form["To"] == f"whatsapp:{patient['phone']}"
    stored = await fhir.read("Communication", str(message["id"]))
    assert stored["status"] == "completed"
    assert {"system": "https://fhir.prm.health/sid/twilio-message-sid", "value": SID} in stored["identifier"]


async def test_twilio_429_then_success_sends_once(
    services: Services,
    twilio: TwilioMessenger,
    twilio_api: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
) -> None:
    route = twilio_api.post(MESSAGES_URL).mock(
        side_effect=[
            httpx.Response(429, json={"code": 20429}),
            httpx.Response(201, json={"sid": SID, "status": "sent"}),
        ]
    )
    patient = await _opted_in(api, staff, fhir)
    message = await _welcome(services, patient["id"])
    sids = {"welcome.en": CONTENT_SID}

    with pytest.raises(MessengerUnavailable):
        await send(fhir, services.queue, twilio, message, now=DAY, content_sids=sids)
    assert (await fhir.read("Communication", str(message["id"])))["status"] == "preparation"
    retried = await send(
        fhir, services.queue, twilio, message, now=DAY + timedelta(seconds=10), content_sids=sids
    )
    replayed = await send(
        fhir, services.queue, twilio, message, now=DAY + timedelta(seconds=40), content_sids=sids
    )

    assert (retried, replayed) == (Outcome.SENT, Outcome.DONE_ALREADY)
    assert route.call_count == 2
    stored = await fhir.read("Communication", str(message["id"]))
    assert stored["status"] == "completed"
    assert [i["value"] for i in stored["identifier"]] == [SID]


async def test_twilio_63016_is_a_permanent_failure_with_its_code(
    services: Services,
    twilio: TwilioMessenger,
    twilio_api: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
) -> None:
    route = twilio_api.post(MESSAGES_URL).mock(return_value=refused(63016))
    patient = await _opted_in(api, staff, fhir)
    message = await _welcome(services, patient["id"])

    outcome = await send(
        fhir, services.queue, twilio, message, now=DAY, content_sids={"welcome.en": CONTENT_SID}
    )
    again = await send(
        fhir, services.queue, twilio, message, now=DAY, content_sids={"welcome.en": CONTENT_SID}
    )

    assert (outcome, again) == (Outcome.REJECTED, Outcome.DONE_ALREADY)
    assert route.call_count == 1
    assert await reason_of(fhir, message) == ("not-done", "rejected", "63016")
    assert (await consents.current(fhir, patient_id=patient["id"]))["whatsapp"] == Decision.OPT_IN


async def test_twilio_21610_unsubscribed_records_an_opt_out(
    services: Services,
    twilio: TwilioMessenger,
    twilio_api: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
) -> None:
    twilio_api.post(MESSAGES_URL).mock(return_value=refused(21610))
    patient = await _opted_in(api, staff, fhir)
    message = await _welcome(services, patient["id"])

    outcome = await send(
        fhir, services.queue, twilio, message, now=DAY, content_sids={"welcome.en": CONTENT_SID}
    )

    assert outcome is Outcome.REJECTED
    assert await reason_of(fhir, message) == ("not-done", "rejected", "21610")
    [latest, *_] = await consents.history(fhir, patient_id=patient["id"])
    assert (latest.channel, latest.decision, latest.source) == ("whatsapp", Decision.OPT_OUT, "whatsapp")


async def _offer(
    services: Services, patient: dict[str, str], channel: str, *, wrote_at: datetime
) -> dict[str, Any]:
    """The patient wrote on `channel` at `wrote_at`; the clinic answers with the slot list."""
    thread = await inbound(
        services.fhir,
        services.state,
        phone=patient["phone"],
        patient_id=patient["id"],
        at=wrote_at,
        channel=channel,
    )
    return await messaging.prepare_message(
        services.fhir,
        services.state,
        services.queue,
        channel=channel,
        text=SLOTS_TEXT,
        sender=STAFF,
        at=wrote_at,
        conversation_id=thread,
        choices=SLOTS,
    )


async def test_a_list_inside_the_window_is_the_list_picker_and_on_sms_the_numbered_text(
    services: Services,
    twilio: TwilioMessenger,
    twilio_api: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
) -> None:
    route = twilio_api.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})
    patient = await _opted_in(api, staff, fhir)
    await consent(fhir, patient["id"], "sms", Decision.OPT_IN, DAY - timedelta(days=1))
    on_whatsapp = await _offer(services, patient, "whatsapp", wrote_at=DAY - timedelta(hours=23))
    on_sms = await _offer(services, patient, "sms", wrote_at=DAY - timedelta(hours=1))

    assert await send(fhir, services.queue, twilio, on_whatsapp, now=DAY) is Outcome.SENT
    assert await send(fhir, services.queue, twilio, on_sms, now=DAY) is Outcome.SENT

    whatsapp, sms = ({k: v[0] for k, v in parse_qs(c.request.content.decode()).items()} for c in route.calls)
    assert (whatsapp["To"], whatsapp["ContentSid"]) == (f"whatsapp:{patient['phone']}", LIST_PICKERS[2])
    assert json.loads(whatsapp["ContentVariables"]) == {
        "1": "Free times with Dr. Rao:",
        "2": "Choose",
        "3": "2 December, 10:30 AM",
        "4": "slot-a",
        "5": "Dr. Rao (Whitefield)",
        "6": "3 December, 10:30 AM",
        "7": "slot-b",
        "8": "Dr. Rao (Whitefield)",
    }
    assert "Body" not in whatsapp
    assert (sms["To"], sms["Body"]) == (patient["phone"], SLOTS_TEXT)
    assert "ContentSid" not in sms
    stored = await fhir.read("Communication", str(on_whatsapp["id"]))
    assert (stored["status"], message_of(stored).choices) == ("completed", SLOTS)


async def test_a_list_after_the_window_closed_is_not_sent(
    services: Services,
    twilio: TwilioMessenger,
    twilio_api: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
) -> None:
    route = twilio_api.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})
    patient = await _opted_in(api, staff, fhir)
    message = await _offer(services, patient, "whatsapp", wrote_at=DAY - timedelta(hours=23))

    outcome = await send(fhir, services.queue, twilio, message, now=DAY + timedelta(hours=2))

    assert outcome is Outcome.REFUSED
    assert await reason_of(fhir, message) == ("not-done", "outside-session-window", None)
    assert route.call_count == 0
