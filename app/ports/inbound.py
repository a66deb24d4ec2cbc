"""What a messaging provider tells the PRM (a patient's message, a delivery report): the DTOs a webhook
adapter hands to the core as job payloads. Vendor-neutral: Twilio's form is parsed in adapters/twilio.

An InboundMessage exists nowhere else until its job stores it (Redis persists the queue): it carries a
phone number and the text, so it is never logged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.ports.messaging import MessageChannel


class ReportedStatus(StrEnum):
    """A delivery status as providers report it (the Communication's delivery-status codes)."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    UNDELIVERED = "undelivered"


@dataclass(frozen=True)
class InboundMedia:
    """A file attached to an inbound message, still at the provider (downloaded by the media job)."""

    url: str
    content_type: str | None


@dataclass(frozen=True)
class InboundMessage:
    """A message a phone sent to the clinic (WhatsApp or SMS), as the provider delivered it."""

    provider_id: str  # Twilio's MessageSid: the Communication's identifier, the de-duplication key
    channel: MessageChannel
    sender: str  # E.164
    recipient: str | None  # the clinic's number it was sent to (E.164), when readable
    text: str | None
    received_at: datetime
    media: tuple[InboundMedia, ...] = ()
    profile_name: str | None = None  # the sender's WhatsApp profile name (not a verified name)
    button_payload: str | None = None  # the id of a quick reply the patient tapped
    list_id: str | None = None  # the id of the list row the patient picked

    def to_payload(self) -> dict[str, Any]:
        """The job payload (JSON)."""
        payload = asdict(self)
        payload["channel"] = self.channel.value
        payload["received_at"] = self.received_at.isoformat()
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> InboundMessage:
        """Read a job payload back."""
        return cls(
            provider_id=str(payload["provider_id"]),
            channel=MessageChannel(payload["channel"]),
            sender=str(payload["sender"]),
            recipient=payload.get("recipient"),
            text=payload.get("text"),
            received_at=datetime.fromisoformat(payload["received_at"]),
            media=tuple(InboundMedia(**item) for item in payload.get("media", ())),
            profile_name=payload.get("profile_name"),
            button_payload=payload.get("button_payload"),
            list_id=payload.get("list_id"),
        )


@dataclass(frozen=True)
class DeliveryReport:
    """The provider's news about a message the clinic sent."""

    provider_id: str
    status: ReportedStatus
    error_code: str | None
    reported_at: datetime

    def to_payload(self) -> dict[str, Any]:
        """The job payload (JSON)."""
        return {
            "provider_id": self.provider_id,
            "status": self.status.value,
            "error_code": self.error_code,
            "reported_at": self.reported_at.isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DeliveryReport:
        """Read a job payload back."""
        return cls(
            provider_id=str(payload["provider_id"]),
            status=ReportedStatus(payload["status"]),
            error_code=payload.get("error_code"),
            reported_at=datetime.fromisoformat(payload["reported_at"]),
        )
