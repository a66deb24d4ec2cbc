"""TwilioMessenger against a faked Twilio REST API (respx): the exact form sent and the status mapping."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
import structlog

from adapters.twilio.messenger import TwilioMessenger
from app.logging import configure_logging
from app.ports.messaging import (
    Choice,
    DeliveryStatus,
    MessageChannel,
    MessageRejected,
    MessengerUnavailable,
    Recipient,
    SendResult,
    TemplateMessage,
)

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "test-twilio-auth-token"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
WHATSAPP_FROM = "+14155238886"
SMS_FROM = "+15005550006"
PATIENT_PHONE = "+919844111173"
BODY = "Your appointment with Dr Sharma is tomorrow at 10:00"
CALLBACK = "https://prm.clinic.example/webhooks/whatsapp/twilio/status"
WHATSAPP = Recipient(MessageChannel.WHATSAPP, PATIENT_PHONE)
SMS = Recipient(MessageChannel.SMS, PATIENT_PHONE)
SID = "SM0123456789abcdef0123456789abcdef"


def created(status: str = "queued") -> httpx.Response:
    """Twilio's 201 answer to a message creation (abridged)."""
    return httpx.Response(201, json={"sid": SID, "status": status, "error_code": None})


def form_of(request: httpx.Request) -> dict[str, str]:
    """The form-encoded body of a request, one value per field."""
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def only_request(route: respx.Route) -> httpx.Request:
    """The one request a route received."""
    assert route.call_count == 1
    return route.calls.last.request


@pytest.fixture
def twilio() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # One client for the module: each new one loads the CA bundle (~0.1 s).
    async with httpx.AsyncClient(timeout=2.0) as client:
        yield client


@pytest.fixture
def messenger(http: httpx.AsyncClient) -> TwilioMessenger:
    return TwilioMessenger(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        whatsapp_from=WHATSAPP_FROM,
        sms_from=SMS_FROM,
        public_base_url="https://prm.clinic.example/",
        http_client=http,
    )


async def test_whatsapp_text_is_a_body_from_the_whatsapp_sender(
    twilio: respx.MockRouter, messenger: TwilioMessenger
) -> None:
    route = twilio.post(MESSAGES_URL).mock(return_value=created())

    result = await messenger.send_text(WHATSAPP, BODY, reference="comm-1")

    assert result == SendResult(provider_id=SID, status=DeliveryStatus.QUEUED)
    request = only_request(route)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    basic = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {basic}"
    assert form_of(request) == {
        "From": f"whatsapp:{WHATSAPP_FROM}",
        "To": f"whatsapp:{PATIENT_PHONE}",
        "Body": BODY,
        "StatusCallback": CALLBACK,
    }


async def test_sms_text_uses_plain_numbers(twilio: respx.MockRouter, messenger: TwilioMessenger) -> None:
    route = twilio.post(MESSAGES_URL).mock(return_value=created("sent"))

    result = await messenger.send_text(SMS, BODY, reference="comm-2", subject="ignored on SMS")

    assert result == SendResult(provider_id=SID, status=DeliveryStatus.SENT)
    assert form_of(only_request(route)) == {
        "From": SMS_FROM,
        "To": PATIENT_PHONE,
        "Body": BODY,
        "StatusCallback": CALLBACK,
    }


async def test_a_template_is_a_content_sid_with_its_variables(
    twilio: respx.MockRouter, messenger: TwilioMessenger
) -> None:
    route = twilio.post(MESSAGES_URL).mock(return_value=created())
    template = TemplateMessage("HX0123456789abcdef0123456789abcdef", {"1": "Dr Sharma", "2": "10:00"})

    await messenger.send_template(WHATSAPP, template, reference="comm-3")

    form = form_of(only_request(route))
    assert form == {
        "From": f"whatsapp:{WHATSAPP_FROM}",
        "To": f"whatsapp:{PATIENT_PHONE}",
        "ContentSid": "HX0123456789abcdef0123456789abcdef",
        "ContentVariables": form["ContentVariables"],
        "StatusCallback": CALLBACK,
    }
    assert json.loads(form["ContentVariables"]) == {"1": "Dr Sharma", "2": "10:00"}


async def test_interactive_is_the_body_with_numbered_options(
    twilio: respx.MockRouter, messenger: TwilioMessenger
) -> None:
    route = twilio.post(MESSAGES_URL).mock(return_value=created())
    choices = [Choice("confirm", "Confirm"), Choice("reschedule", "Reschedule")]

    await messenger.send_interactive(WHATSAPP, "Tomorrow at 10:00?", choices, reference="comm-4")

    form = form_of(only_request(route))
    assert form["Body"] == "Tomorrow at 10:00?\n\n1. Confirm\n2. Reschedule"
    assert "ContentSid" not in form


@pytest.mark.parametrize(
    ("status_code", "answer"),
    [
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
        (500, {"code": 20500, "message": "Internal Server Error", "status": 500}),
        (503, None),
    ],
)
async def test_rate_limits_and_server_errors_are_passing(
    twilio: respx.MockRouter, messenger: TwilioMessenger, status_code: int, answer: dict[str, Any] | None
) -> None:
    response = (
        httpx.Response(status_code, json=answer) if answer else httpx.Response(status_code, text="<html>")
    )
    twilio.post(MESSAGES_URL).mock(return_value=response)

    with pytest.raises(MessengerUnavailable, match=f"^Twilio answered HTTP {status_code}$"):
        await messenger.send_text(WHATSAPP, BODY, reference="comm-5")


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("timed out"), httpx.ConnectError("refused")])
async def test_timeouts_and_connection_errors_are_passing(
    twilio: respx.MockRouter, messenger: TwilioMessenger, failure: Exception
) -> None:
    twilio.post(MESSAGES_URL).mock(side_effect=failure)

    with pytest.raises(MessengerUnavailable, match=f"could not be reached \\({type(failure).__name__}\\)"):
        await messenger.send_text(WHATSAPP, BODY, reference="comm-6")


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (21610, "the recipient has unsubscribed (replied STOP)"),
        (63016, "outside the WhatsApp session window: an approved template is required"),
        (21211, "the number is not a valid phone number"),
    ],
)
async def test_client_errors_are_permanent_with_twilios_code(
    twilio: respx.MockRouter, messenger: TwilioMessenger, code: int, meaning: str
) -> None:
    # Twilio's message quotes the number: it must not travel in the exception.
    answer = {"code": code, "message": f"Attempt to send to {PATIENT_PHONE} failed", "status": 400}
    twilio.post(MESSAGES_URL).mock(return_value=httpx.Response(400, json=answer))

    with pytest.raises(MessageRejected) as caught:
        await messenger.send_text(WHATSAPP, BODY, reference="comm-7")

    assert caught.value.provider_code == str(code)
    assert caught.value.reason == f"Twilio refused the message (HTTP 400, code {code}): {meaning}"


async def test_sms_without_a_configured_sender_is_refused_before_any_request(
    twilio: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    sender = TwilioMessenger(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        whatsapp_from=WHATSAPP_FROM,
        sms_from=None,
        public_base_url="https://prm.clinic.example",
        http_client=http,
    )

    with pytest.raises(MessageRejected, match=r"^no Twilio sender is configured for sms$"):
        await sender.send_text(SMS, BODY, reference="comm-8")
    with pytest.raises(MessageRejected, match=r"^Twilio does not send email messages$"):
        await sender.send_text(Recipient(MessageChannel.EMAIL, "a@b.example"), BODY, reference="comm-8")
    assert twilio.calls.call_count == 0


async def test_logs_carry_the_sid_and_reference_never_the_body_or_number(
    twilio: respx.MockRouter, messenger: TwilioMessenger
) -> None:
    twilio.post(MESSAGES_URL).mock(
        side_effect=[created(), httpx.Response(400, json={"code": 21610, "message": PATIENT_PHONE})]
    )
    # An app built earlier in the session may have set the level to WARNING (levels are global).
    configure_logging(level="INFO")

    with structlog.testing.capture_logs() as logs:
        await messenger.send_text(WHATSAPP, BODY, reference="comm-9")
        with pytest.raises(MessageRejected):
            await messenger.send_text(WHATSAPP, BODY, reference="comm-10")

    assert logs == [
        {
            "event": "messaging.twilio.sent",
            "log_level": "info",
            "channel": "whatsapp",
            "reference": "comm-9",
            "sid": SID,
            "status": "queued",
        },
        {
            "event": "messaging.twilio.refused",
            "log_level": "warning",
            "channel": "whatsapp",
            "reference": "comm-10",
            "http_status": 400,
            "code": "21610",
        },
    ]
    assert PATIENT_PHONE[1:] not in repr(logs) and "Dr Sharma" not in repr(logs)


async def test_aclose_leaves_an_injected_client_open(http: httpx.AsyncClient) -> None:
    sender = TwilioMessenger(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        whatsapp_from=WHATSAPP_FROM,
        sms_from=None,
        public_base_url="https://prm.clinic.example",
        http_client=http,
    )

    await sender.aclose()

    assert not http.is_closed
