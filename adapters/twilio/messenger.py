"""TwilioMessenger: WhatsApp and SMS through Twilio's Messages REST API, over httpx.

httpx rather than the SDK's transport, so that one HTTP stack serves the service and respx can fake
Twilio in tests (DESIGN.md section 8). Twilio's error messages can quote the phone number, so only
its numeric code reaches exceptions and logs; bodies and numbers are never logged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import structlog

from app.ports.messaging import (
    MAX_LIST_CHOICES,
    Choice,
    ChoiceList,
    DeliveryStatus,
    MessageChannel,
    MessageRejected,
    MessengerUnavailable,
    Recipient,
    SendResult,
    TemplateMessage,
)

log = structlog.get_logger(__name__)

API_BASE_URL = "https://api.twilio.com/2010-04-01"
STATUS_CALLBACK_PATH = "/webhooks/whatsapp/twilio/status"
DEFAULT_TIMEOUT_SECONDS = 10.0
# Twilio's creation statuses that say more than "queued"; the rest (accepted, scheduled, sending ...)
# are still on their way.
TWILIO_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
}
# What the codes callers are most likely to meet mean (https://www.twilio.com/docs/api/errors).
KNOWN_CODES = {
    "21211": "the number is not a valid phone number",
    "21408": "the number's region is not enabled for this account",
    "21610": "the recipient has unsubscribed (replied STOP)",
    "21614": "the number cannot receive SMS",
    "63016": "outside the WhatsApp session window: an approved template is required",
}


# WhatsApp's list message (Twilio's twilio/list-picker): the lengths Twilio accepts.
MAX_LIST_BODY = 1024
MAX_LIST_BUTTON = 20
MAX_ITEM_TITLE = 24
MAX_ITEM_ID = 200
MAX_ITEM_DESCRIPTION = 72
# A list-picker Content's variables: 1 the body, 2 the button, then 3 per row (title, id, description).
FIRST_ROW_VARIABLE = 3


def numbered_options(body: str, choices: Sequence[Choice]) -> str:
    """The body with the choices appended as numbered lines ("1. Confirm"), for channels without buttons."""
    options = "\n".join(f"{number}. {choice.title}" for number, choice in enumerate(choices, start=1))
    return f"{body}\n\n{options}" if options else body


class TwilioMessenger:
    """Sends WhatsApp and SMS messages; each send is one POST to Twilio's Messages resource."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        whatsapp_from: str | None,
        sms_from: str | None,
        public_base_url: str,
        list_picker_sids: Mapping[int, str] | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        http_client: httpx.AsyncClient | None = None,
        api_base_url: str = API_BASE_URL,
    ) -> None:
        self._url = f"{api_base_url}/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._senders = {MessageChannel.WHATSAPP: whatsapp_from, MessageChannel.SMS: sms_from}
        self._status_callback = public_base_url.rstrip("/") + STATUS_CALLBACK_PATH
        # The twilio/list-picker Content for each number of rows (`python -m app.cli twilio-content`).
        self._list_pickers = dict(list_picker_sids or {})
        self._owns_client = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))

    async def send_text(
        self, to: Recipient, body: str, *, reference: str, subject: str | None = None
    ) -> SendResult:
        """Free text as `Body` (the subject has no place in WhatsApp or SMS and is dropped)."""
        return await self._send(to, {"Body": body}, reference=reference)

    async def send_template(self, to: Recipient, template: TemplateMessage, *, reference: str) -> SendResult:
        """An approved Content template: `ContentSid` and its `ContentVariables` as JSON."""
        return await self._send(to, template_form(template), reference=reference)

    async def send_interactive(
        self,
        to: Recipient,
        body: str,
        choices: Sequence[Choice],
        *,
        reference: str,
    ) -> SendResult:
        """The body with numbered options (lists of slots go through `send_list`)."""
        # WhatsApp only shows buttons from an approved quick-reply template; free text with numbered
        # options works on both channels and inside the session window, and the inbound side
        # reads "1"/"2" as well as the titles.
        return await self._send(to, {"Body": numbered_options(body, choices)}, reference=reference)

    async def send_list(self, to: Recipient, text: str, options: ChoiceList, *, reference: str) -> SendResult:
        """A WhatsApp list message (the list-picker Content for its number of rows, at most 10); `text`
        as free text on SMS, or when no list-picker Content is configured for that many rows."""
        rows = options.choices[:MAX_LIST_CHOICES]
        sid = self._list_pickers.get(len(rows))
        if to.channel is not MessageChannel.WHATSAPP or sid is None or not rows:
            return await self._send(to, {"Body": text}, reference=reference)
        return await self._send(to, list_picker_form(sid, options), reference=reference)

    async def aclose(self) -> None:
        """Close the HTTP client, if it was made here."""
        if self._owns_client:
            await self._http.aclose()

    async def _send(self, to: Recipient, content: Mapping[str, str], *, reference: str) -> SendResult:
        form = {**self._addresses(to), **content, "StatusCallback": self._status_callback}
        channel = to.channel.value
        try:
            response = await self._http.post(self._url, data=form, auth=self._auth)
        except httpx.TransportError as exc:
            log.warning(
                "messaging.twilio.unavailable", channel=channel, reference=reference, error=type(exc).__name__
            )
            raise MessengerUnavailable(f"Twilio could not be reached ({type(exc).__name__})") from None
        answer = _json(response)
        if response.status_code in (200, 201):
            return _sent(answer, channel=channel, reference=reference)
        code = str(answer["code"]) if answer.get("code") is not None else None
        log.warning(
            "messaging.twilio.refused",
            channel=channel,
            reference=reference,
            http_status=response.status_code,
            code=code,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise MessengerUnavailable(f"Twilio answered HTTP {response.status_code}")
        meaning = KNOWN_CODES.get(code or "", "see Twilio's error reference")
        raise MessageRejected(
            f"Twilio refused the message (HTTP {response.status_code}, code {code}): {meaning}",
            provider_code=code,
        )

    def _addresses(self, to: Recipient) -> dict[str, str]:
        if to.channel not in self._senders:
            raise MessageRejected(f"Twilio does not send {to.channel.value} messages")
        sender = self._senders[to.channel]
        if not sender:
            raise MessageRejected(f"no Twilio sender is configured for {to.channel.value}")
        if to.channel is MessageChannel.WHATSAPP:
            return {"From": f"whatsapp:{sender}", "To": f"whatsapp:{to.address}"}
        return {"From": sender, "To": to.address}


def template_form(template: TemplateMessage) -> dict[str, str]:
    """The form fields of a Content template send."""
    return {"ContentSid": template.template_id, "ContentVariables": json.dumps(dict(template.variables))}


def list_picker_form(content_sid: str, options: ChoiceList) -> dict[str, str]:
    """The form fields of a list-picker send: every text cut to Twilio's limits (a long title is shortened,
    never refused), empty ones filled (Twilio refuses an empty variable)."""
    rows = options.choices[:MAX_LIST_CHOICES]
    variables = {"1": fit(options.body, MAX_LIST_BODY), "2": fit(options.button, MAX_LIST_BUTTON, line=True)}
    for number, choice in enumerate(rows):
        first = FIRST_ROW_VARIABLE + 3 * number
        variables[str(first)] = fit(choice.title, MAX_ITEM_TITLE, line=True)
        variables[str(first + 1)] = choice.id[:MAX_ITEM_ID]
        variables[str(first + 2)] = fit(choice.description or choice.title, MAX_ITEM_DESCRIPTION, line=True)
    return {"ContentSid": content_sid, "ContentVariables": json.dumps(variables, ensure_ascii=False)}


def fit(text: str, limit: int, *, line: bool = False) -> str:
    """`text` within `limit` characters (cut with an ellipsis), on one line when `line`; never empty."""
    if line:
        text = " ".join(text.split())
    text = text.strip() or "-"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _sent(answer: Mapping[str, Any], *, channel: str, reference: str) -> SendResult:
    sid = answer.get("sid")
    if not isinstance(sid, str) or not sid:
        # Twilio took the request but its answer is unreadable: nothing to correlate callbacks with.
        log.warning("messaging.twilio.malformed_answer", channel=channel, reference=reference)
        raise MessengerUnavailable("Twilio accepted the request but answered without a message SID")
    status = TWILIO_STATUSES.get(str(answer.get("status")), DeliveryStatus.QUEUED)
    log.info("messaging.twilio.sent", channel=channel, reference=reference, sid=sid, status=status.value)
    return SendResult(provider_id=sid, status=status)
