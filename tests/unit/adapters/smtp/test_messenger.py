"""SmtpMessenger against a real SMTP server (aiosmtpd) in this process, on a free loopback port."""

from __future__ import annotations

import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller

from adapters.smtp.messenger import SmtpMessenger
from app.logging import configure_logging
from app.ports.messaging import (
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
from tests.support.servers import free_port

SENDER = "Sunrise Clinic <noreply@sunrise.example>"
PATIENT = Recipient(MessageChannel.EMAIL, "ananya.reddy@mail.example")
REFUSED = Recipient(MessageChannel.EMAIL, "gone@mail.example")
BODY = "Your appointment with Dr Sharma is tomorrow at 10:00."


def text_of(message: Message) -> str:
    """The plain-text body as written (SMTP carries CRLF line ends and a final line break)."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n").removesuffix("\n")


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses one mailbox permanently."""

    received: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address == REFUSED.address:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content))
        )
        return "250 Message accepted"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    smtp_server[0].received.clear()
    return smtp_server[0]


@pytest.fixture
def messenger(smtp_server: tuple[Mailbox, int]) -> SmtpMessenger:
    return SmtpMessenger(
        host="127.0.0.1", port=smtp_server[1], sender=SENDER, starttls=False, timeout_seconds=2
    )


async def test_a_text_is_a_plain_email_with_a_message_id_from_the_reference(
    mailbox: Mailbox, messenger: SmtpMessenger
) -> None:
    result = await messenger.send_text(PATIENT, BODY, reference="comm-1", subject="Your appointment")

    assert result == SendResult(provider_id="<comm-1@sunrise.example>", status=DeliveryStatus.SENT)
    [(mail_from, rcpt_tos, message)] = mailbox.received
    assert (mail_from, rcpt_tos) == ("noreply@sunrise.example", [PATIENT.address])
    assert message["From"] == SENDER
    assert message["To"] == PATIENT.address
    assert message["Subject"] == "Your appointment"
    assert message["Message-ID"] == "<comm-1@sunrise.example>"
    assert message.get_content_type() == "text/plain"
    assert text_of(message) == BODY


async def test_a_retry_carries_the_same_message_id(mailbox: Mailbox, messenger: SmtpMessenger) -> None:
    first = await messenger.send_text(PATIENT, BODY, reference="comm-2")
    again = await messenger.send_text(PATIENT, BODY, reference="comm-2")

    assert first == again
    assert [message["Message-ID"] for _, _, message in mailbox.received] == ["<comm-2@sunrise.example>"] * 2


async def test_a_template_sends_its_rendered_body_and_subject(
    mailbox: Mailbox, messenger: SmtpMessenger
) -> None:
    template = TemplateMessage("reminder", {"subject": "Reminder", "body": BODY})

    await messenger.send_template(PATIENT, template, reference="comm-3")

    [(_, _, message)] = mailbox.received
    assert (message["Subject"], text_of(message)) == ("Reminder", BODY)


async def test_an_unrendered_template_is_refused_without_sending(
    mailbox: Mailbox, messenger: SmtpMessenger
) -> None:
    with pytest.raises(MessageRejected, match=r"^email templates are rendered by the core$"):
        await messenger.send_template(PATIENT, TemplateMessage("reminder", {"name": "Ananya"}), reference="c")

    assert mailbox.received == []


async def test_interactive_lists_the_choices_as_numbered_lines(
    mailbox: Mailbox, messenger: SmtpMessenger
) -> None:
    choices = [Choice("confirm", "Confirm"), Choice("reschedule", "Reschedule")]

    await messenger.send_interactive(PATIENT, "Tomorrow at 10:00?", choices, reference="comm-4")

    [(_, _, message)] = mailbox.received
    assert text_of(message) == "Tomorrow at 10:00?\n\n1. Confirm\n2. Reschedule"


async def test_a_list_goes_as_its_numbered_text(mailbox: Mailbox, messenger: SmtpMessenger) -> None:
    options = ChoiceList("Which time?", "Choose", (Choice("slot-1", "2 December, 10:30 AM", "Dr. Rao"),))

    await messenger.send_list(PATIENT, "Which time?\n1. 2 December 2026, 10:30 AM", options, reference="c")

    [(_, _, message)] = mailbox.received
    assert text_of(message) == "Which time?\n1. 2 December 2026, 10:30 AM"


async def test_a_permanently_refused_recipient_is_rejected_with_the_smtp_code(
    mailbox: Mailbox, messenger: SmtpMessenger
) -> None:
    with pytest.raises(MessageRejected) as caught:
        await messenger.send_text(REFUSED, BODY, reference="comm-5")

    assert caught.value.provider_code == "550"
    assert caught.value.reason == "the SMTP server refused the recipient (550)"
    assert mailbox.received == []


async def test_an_unreachable_server_is_passing() -> None:
    nobody = SmtpMessenger(
        host="127.0.0.1", port=free_port(), sender=SENDER, starttls=False, timeout_seconds=2
    )

    with pytest.raises(
        MessengerUnavailable, match=r"^the SMTP server could not be reached \(SMTPConnectError\)$"
    ):
        await nobody.send_text(PATIENT, BODY, reference="comm-6")


async def test_other_channels_are_refused(messenger: SmtpMessenger) -> None:
    with pytest.raises(MessageRejected, match=r"^SMTP does not send sms messages$"):
        await messenger.send_text(Recipient(MessageChannel.SMS, "+919844111173"), BODY, reference="comm-7")


async def test_logs_carry_the_reference_never_the_address_or_body(
    mailbox: Mailbox, messenger: SmtpMessenger
) -> None:
    configure_logging(level="INFO")  # a WARNING level set by an earlier test would hide the info line

    with structlog.testing.capture_logs() as logs:
        await messenger.send_text(PATIENT, BODY, reference="comm-8", subject="Dr Sharma tomorrow")
        with pytest.raises(MessageRejected):
            await messenger.send_text(REFUSED, BODY, reference="comm-9")

    assert logs == [
        {
            "event": "messaging.smtp.sent",
            "log_level": "info",
            "reference": "comm-8",
            "message_id": "<comm-8@sunrise.example>",
        },
        {"event": "messaging.smtp.refused", "log_level": "warning", "reference": "comm-9", "code": 550},
    ]
    assert "mail.example" not in repr(logs) and "Sharma" not in repr(logs)
