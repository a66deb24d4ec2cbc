"""Twilio's side of the webhooks, for tests: forms shaped like Twilio's, signed exactly as Twilio signs
them (the SDK's RequestValidator.compute_signature over the public URL and every parameter)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from adapters.twilio.signing import webhook_signature

INBOUND_PATH = "/webhooks/whatsapp/twilio"
STATUS_PATH = "/webhooks/whatsapp/twilio/status"
CLINIC_WHATSAPP = "+918041234567"


def message_sid() -> str:
    """A fresh Twilio-shaped message SID."""
    return "SM" + uuid.uuid4().hex


def inbound_form(
    *, sender: str, text: str | None = "Hello", sid: str | None = None, whatsapp: bool = True, **extra: str
) -> dict[str, str]:
    """An inbound message as Twilio posts it (WhatsApp: `whatsapp:` addresses; SMS: bare numbers)."""
    prefix = "whatsapp:" if whatsapp else ""
    form = {
        "MessageSid": sid or message_sid(),
        "SmsMessageSid": sid or "",
        "AccountSid": "AC" + "0" * 32,
        "MessagingServiceSid": "",
        "From": f"{prefix}{sender}",
        "To": f"{prefix}{CLINIC_WHATSAPP}",
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
        "SmsStatus": "received",
        **({"Body": text} if text is not None else {}),
        **({"ProfileName": "Test Profile", "WaId": sender.lstrip("+")} if whatsapp else {}),
    }
    form["SmsMessageSid"] = form["MessageSid"]
    form.update(extra)
    return form


def status_form(*, sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    """A status callback as Twilio posts it."""
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    return form


def signature(token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature of a POST of `params` to `url`."""
    return webhook_signature(token, url, params)


def signed_headers(token: str, url: str, params: Mapping[str, str]) -> dict[str, str]:
    """The headers Twilio sends with a form POST."""
    return {
        "X-Twilio-Signature": signature(token, url, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }
