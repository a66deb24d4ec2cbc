"""Twilio's webhook forms (inbound messages, status callbacks) read into the core's DTOs.

Lenient where Twilio may add or vary fields (unknown fields are ignored, an unreadable optional field is
dropped), strict where the PRM cannot work without it: MessageSid and the sender (422 naming the field).
The form models document the fields in the OpenAPI; parsing keeps what is valid field by field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.errors import Invalid
from app.language.phones import InvalidPhone, normalize_phone
from app.ports.inbound import DeliveryReport, InboundMedia, InboundMessage, ReportedStatus
from app.ports.messaging import MessageChannel

WHATSAPP_PREFIX = "whatsapp:"
# Twilio's SIDs are two letters and 32 hex digits; other providers' ids stay within this too.
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
_ERROR_CODE = re.compile(r"^[0-9]{1,8}$")
# A WhatsApp message carries at most one file, an MMS at most ten.
MAX_MEDIA = 10
MAX_TEXT_CHARS = 4096  # WhatsApp's limit (a concatenated SMS is at most 1600)
MAX_LABEL_CHARS = 256  # profile names and button payloads
MAX_URL_CHARS = 2048
MAX_LIST_ID_CHARS = 200  # a list row's id, as Twilio's list-picker allows it
# Twilio's statuses for a message it sends, as the PRM records them (queued/accepted/sending are "on
# the way"); `received`, `receiving`, `scheduled`, `canceled` ... say nothing about delivery.
STATUSES = {
    "accepted": ReportedStatus.QUEUED,
    "queued": ReportedStatus.QUEUED,
    "sending": ReportedStatus.QUEUED,
    "sent": ReportedStatus.SENT,
    "delivered": ReportedStatus.DELIVERED,
    "read": ReportedStatus.READ,
    "failed": ReportedStatus.FAILED,
    "undelivered": ReportedStatus.UNDELIVERED,
}


class TwilioMessageForm(BaseModel):
    """An inbound WhatsApp or SMS message, as Twilio posts it (the fields the PRM reads; others are ignored)."""

    model_config = ConfigDict(extra="allow")

    MessageSid: str = Field(description="Twilio's id of the message (de-duplication key)")
    AccountSid: str | None = None
    From: str = Field(description="`whatsapp:+<E.164>` for WhatsApp, `+<E.164>` for SMS")
    To: str | None = Field(default=None, description="The clinic's number, in the same form as From")
    Body: str | None = Field(default=None, description="The text (empty for media-only messages)")
    NumMedia: str | None = Field(default=None, description="How many MediaUrl<N> follow")
    MediaUrl0: str | None = Field(default=None, description="The first file (MediaUrl1 ... follow)")
    MediaContentType0: str | None = None
    ProfileName: str | None = Field(default=None, description="WhatsApp profile name")
    ButtonPayload: str | None = Field(default=None, description="The id of a quick reply tapped")
    ListId: str | None = Field(
        default=None, description="The id of the list row picked (a list-picker reply)"
    )
    ListTitle: str | None = Field(default=None, description="The title of the list row picked")


class TwilioStatusForm(BaseModel):
    """A status callback for a message the clinic sent."""

    model_config = ConfigDict(extra="allow")

    MessageSid: str
    MessageStatus: str = Field(description="queued, sending, sent, delivered, read, failed, undelivered ...")
    ErrorCode: str | None = Field(default=None, description="Twilio's error code when failed/undelivered")
    AccountSid: str | None = None


def channel_and_address(raw: str, *, region: str) -> tuple[MessageChannel, str]:
    """The channel (`whatsapp:` prefix or not) and the E.164 number of a Twilio address."""
    text = raw.strip()
    channel = MessageChannel.SMS
    if text.lower().startswith(WHATSAPP_PREFIX):
        channel, text = MessageChannel.WHATSAPP, text[len(WHATSAPP_PREFIX) :]
    return channel, normalize_phone(text, region=region)


def parse_message(form: Mapping[str, str], *, region: str, received_at: datetime) -> InboundMessage:
    """The inbound message in Twilio's form; Invalid names a missing MessageSid or an unusable From."""
    sender = form.get("From", "")
    if not sender.strip():
        raise Invalid("From", "is required: the number the message came from")
    try:
        channel, address = channel_and_address(sender, region=region)
    except InvalidPhone as exc:
        raise Invalid("From", f"is not a phone number ({exc})") from None
    return InboundMessage(
        provider_id=_sid(form),
        channel=channel,
        sender=address,
        recipient=_recipient(form.get("To"), region=region),
        # A list reply's Body is the row's title; ListTitle stands in should a Body be missing.
        text=_text(form.get("Body"), MAX_TEXT_CHARS) or _text(form.get("ListTitle"), MAX_LABEL_CHARS),
        received_at=received_at,
        media=_media(form),
        profile_name=_text(form.get("ProfileName"), MAX_LABEL_CHARS),
        button_payload=_text(form.get("ButtonPayload"), MAX_LABEL_CHARS),
        list_id=_text(form.get("ListId"), MAX_LIST_ID_CHARS),
    )


def parse_status(form: Mapping[str, str], *, reported_at: datetime) -> DeliveryReport | None:
    """The delivery report in a status callback; None for a status that says nothing about delivery."""
    sid = _sid(form)
    raw = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not raw:
        raise Invalid("MessageStatus", "is required")
    status = STATUSES.get(raw)
    if status is None:
        return None
    code = (form.get("ErrorCode") or "").strip()
    return DeliveryReport(
        provider_id=sid,
        status=status,
        error_code=code if _ERROR_CODE.fullmatch(code) else None,
        reported_at=reported_at,
    )


def _sid(form: Mapping[str, str]) -> str:
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not sid:
        raise Invalid("MessageSid", "is required")
    if not _SID.fullmatch(sid):
        raise Invalid("MessageSid", "is not a message SID (letters and digits, at most 64)")
    return sid


def _recipient(raw: str | None, *, region: str) -> str | None:
    if not raw:
        return None
    try:
        return channel_and_address(raw, region=region)[1]
    except InvalidPhone:
        return None  # the clinic's own number: nothing depends on reading it


def _text(raw: str | None, limit: int) -> str | None:
    """The text without the control characters FHIR strings may not hold, cut at `limit`; None if empty."""
    if raw is None:
        return None
    kept = "".join(c for c in raw if c in "\t\n\r" or unicodedata.category(c) not in ("Cc", "Cs"))
    kept = kept[:limit]
    return kept if kept.strip() else None


def _media(form: Mapping[str, str]) -> tuple[InboundMedia, ...]:
    """Every MediaUrl<N> that is an http(s) URL, with its content type (NumMedia only bounds the search)."""
    declared = (form.get("NumMedia") or "").strip()
    count = min(int(declared), MAX_MEDIA) if declared.isdigit() else MAX_MEDIA
    items = []
    for index in range(count):
        url = (form.get(f"MediaUrl{index}") or "").strip()
        if not url.lower().startswith(("https://", "http://")) or len(url) > MAX_URL_CHARS:
            continue
        content_type = _text(form.get(f"MediaContentType{index}"), MAX_LABEL_CHARS)
        items.append(InboundMedia(url=url, content_type=content_type.strip() if content_type else None))
    return tuple(items)
