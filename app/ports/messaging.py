"""Outbound messages to patients (WhatsApp, SMS, email): the Messenger port and its DTOs.

A Messenger only transmits. Consent, quiet hours and the WhatsApp session window are the core's
rules, checked at send time before a Messenger is called; every message is a FHIR Communication
first, and its id travels as `reference` so a retried send is recognisable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class MessageChannel(StrEnum):
    """Channels a Messenger can send on."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    """Where a message is, as the provider reports it."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class MessengerUnavailable(Exception):
    """A passing failure (provider down, timeout, rate limited): the send job retries later."""


class MessageRejected(Exception):
    """A permanent failure (bad number, template not approved, blocked): retrying cannot help."""

    def __init__(self, reason: str, *, provider_code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.provider_code = provider_code


@dataclass(frozen=True)
class Recipient:
    """Where to send: an E.164 phone for WhatsApp/SMS, an address for email."""

    channel: MessageChannel
    address: str


@dataclass(frozen=True)
class SendResult:
    """What the provider answered: its id for the message (Twilio MessageSid, SMTP Message-ID)."""

    provider_id: str
    status: DeliveryStatus = DeliveryStatus.QUEUED


@dataclass(frozen=True)
class Choice:
    """One option of an interactive message (a quick-reply button or a list row)."""

    id: str
    title: str
    description: str | None = None  # a list row's second line (the doctor and branch of a slot)


# WhatsApp's list message holds at most this many rows; a longer list is cut to it.
MAX_LIST_CHOICES = 10


@dataclass(frozen=True)
class ChoiceList:
    """Options to pick one from, shown as a list where the channel has one (WhatsApp's list message).

    `body` is the message above the list's `button`; the message's own text (the options numbered) is
    what channels and moments without a list get.
    """

    body: str
    button: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class TemplateMessage:
    """An approved template (WhatsApp ContentSid, or the PRM's own template key for SMS/email)."""

    template_id: str
    variables: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"


class Messenger(Protocol):
    """Transmits one message; `reference` is the Communication id the message was recorded as."""

    async def send_text(
        self, to: Recipient, body: str, *, reference: str, subject: str | None = None
    ) -> SendResult:
        """Free text (WhatsApp only inside the 24-hour session window)."""
        ...

    async def send_template(self, to: Recipient, template: TemplateMessage, *, reference: str) -> SendResult:
        """An approved template (the only kind WhatsApp allows outside the session window)."""
        ...

    async def send_interactive(
        self, to: Recipient, body: str, choices: Sequence[Choice], *, reference: str
    ) -> SendResult:
        """A message with quick replies or a list (channels without them get numbered options)."""
        ...

    async def send_list(self, to: Recipient, text: str, options: ChoiceList, *, reference: str) -> SendResult:
        """A list to pick one option from (WhatsApp, inside the session window); else `text` as it is."""
        ...
