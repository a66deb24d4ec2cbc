"""SmtpMessenger: plain-text email through any SMTP relay (aiosmtplib), one connection per message.

The Message-ID is made from the `reference` (the Communication id), so a retried send carries the
same id and the recipient's mail system can recognise the duplicate. Addresses, subjects and bodies
are never logged; server replies can quote the address, so only SMTP codes reach exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib
import structlog

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

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_SUBJECT = "A message from your clinic"
PERMANENT_SMTP_CODES = range(500, 600)


class SmtpMessenger:
    """Sends email; the SMTP relay does the delivery, so a send that it accepted is reported `sent`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout_seconds
        # Message-IDs name the sender's domain ("Clinic <noreply@clinic.in>" gives clinic.in).
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or host

    async def send_text(
        self, to: Recipient, body: str, *, reference: str, subject: str | None = None
    ) -> SendResult:
        """A plain-text email."""
        return await self._send(to, body, subject=subject or DEFAULT_SUBJECT, reference=reference)

    async def send_template(self, to: Recipient, template: TemplateMessage, *, reference: str) -> SendResult:
        """The already rendered `body` (and `subject`) variables; this adapter renders no templates."""
        # Email templates are the core's (localised, with the clinic's wording); a template that
        # reaches this adapter unrendered cannot be sent as anything meaningful.
        body = template.variables.get("body")
        if not body:
            raise MessageRejected("email templates are rendered by the core")
        subject = template.variables.get("subject") or DEFAULT_SUBJECT
        return await self._send(to, body, subject=subject, reference=reference)

    async def send_interactive(
        self, to: Recipient, body: str, choices: Sequence[Choice], *, reference: str
    ) -> SendResult:
        """The body with the choices as numbered lines (email has no buttons)."""
        options = "\n".join(f"{number}. {choice.title}" for number, choice in enumerate(choices, start=1))
        text = f"{body}\n\n{options}" if options else body
        return await self._send(to, text, subject=DEFAULT_SUBJECT, reference=reference)

    async def send_list(self, to: Recipient, text: str, options: ChoiceList, *, reference: str) -> SendResult:
        """The text with its numbered options (email has no lists)."""
        return await self._send(to, text, subject=DEFAULT_SUBJECT, reference=reference)

    def message_id(self, reference: str) -> str:
        """The Message-ID of the email sent for a reference (the same on every retry)."""
        return f"<{reference}@{self._domain}>"

    async def _send(self, to: Recipient, body: str, *, subject: str, reference: str) -> SendResult:
        if to.channel is not MessageChannel.EMAIL:
            raise MessageRejected(f"SMTP does not send {to.channel.value} messages")
        message_id = self.message_id(reference)
        try:
            message = self._message(to.address, body, subject=subject, message_id=message_id)
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise self._failure(codes[0] if codes else None, "refused the recipient", reference) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._failure(exc.code, f"answered {type(exc).__name__}", reference) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("messaging.smtp.unavailable", reference=reference, error=type(exc).__name__)
            raise MessengerUnavailable(
                f"the SMTP server could not be reached ({type(exc).__name__})"
            ) from None
        except ValueError:
            # Header values with line breaks, and addresses aiosmtplib cannot send safely.
            raise MessageRejected("the email address cannot be sent to") from None
        log.info("messaging.smtp.sent", reference=reference, message_id=message_id)
        return SendResult(provider_id=message_id, status=DeliveryStatus.SENT)

    def _message(self, address: str, body: str, *, subject: str, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = address
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id
        message.set_content(body)
        return message

    @staticmethod
    def _failure(code: int | None, what: str, reference: str) -> Exception:
        log.warning("messaging.smtp.refused", reference=reference, code=code)
        reason = f"the SMTP server {what} ({code})"
        # 5xx is permanent (RFC 5321 4.2.1); 4xx, and authentication trouble, pass with time or an
        # operator's fix, so the send job retries them.
        if code in PERMANENT_SMTP_CODES and code not in (530, 534, 535, 538):
            return MessageRejected(reason, provider_code=str(code))
        return MessengerUnavailable(reason)
