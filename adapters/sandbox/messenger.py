"""SandboxMessenger: a Messenger that records every message and reports it delivered (local stack, tests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from app.ports.messaging import (
    Choice,
    ChoiceList,
    DeliveryStatus,
    Recipient,
    SendResult,
    TemplateMessage,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SentMessage:
    """One message the sandbox took: what a real provider would have transmitted."""

    provider_id: str
    to: Recipient
    reference: str
    body: str | None = None
    template: TemplateMessage | None = None
    choices: tuple[Choice, ...] = ()
    subject: str | None = None
    options: ChoiceList | None = None  # a list message (its numbered fallback is `body`)


class SandboxMessenger:
    """Records messages in memory; `fail_next` makes the next send raise (to test retries)."""

    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.fail_next: Exception | None = None

    async def send_text(
        self, to: Recipient, body: str, *, reference: str, subject: str | None = None
    ) -> SendResult:
        """Record free text."""
        return self._take(SentMessage(self._id(), to, reference, body=body, subject=subject))

    async def send_template(self, to: Recipient, template: TemplateMessage, *, reference: str) -> SendResult:
        """Record a template."""
        return self._take(SentMessage(self._id(), to, reference, template=template))

    async def send_interactive(
        self, to: Recipient, body: str, choices: Sequence[Choice], *, reference: str
    ) -> SendResult:
        """Record an interactive message."""
        return self._take(SentMessage(self._id(), to, reference, body=body, choices=tuple(choices)))

    async def send_list(self, to: Recipient, text: str, options: ChoiceList, *, reference: str) -> SendResult:
        """Record a list message with its numbered text."""
        return self._take(SentMessage(self._id(), to, reference, body=text, options=options))

    def _take(self, message: SentMessage) -> SendResult:
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        self.sent.append(message)
        log.info("sandbox.message.sent", channel=message.to.channel.value, reference=message.reference)
        return SendResult(provider_id=message.provider_id, status=DeliveryStatus.DELIVERED)

    @staticmethod
    def _id() -> str:
        return "SB" + uuid.uuid4().hex
