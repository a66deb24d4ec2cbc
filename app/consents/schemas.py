"""API models of consents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from app.consents.resources import ConsentRecord, ConsentSource, Decision, Purpose, current_of, marketing_of
from app.inputs import InputModel
from app.vocabulary import ContactChannel


class ConsentIn(InputModel):
    """A patient's decision for one channel, or for marketing."""

    decision: Decision
    source: ConsentSource = Field(default=ConsentSource.STAFF, description="How the decision reached us")


class ConsentEntryOut(BaseModel):
    """One recorded decision."""

    id: str
    purpose: Purpose = Field(description="contact (on `channel`) or marketing (every channel)")
    channel: str | None = Field(description="null for a marketing decision")
    decision: Decision
    source: str | None = Field(description="staff, whatsapp, sms, voice, registration, import")
    recorded_at: datetime | None

    @classmethod
    def of(cls, record: ConsentRecord) -> ConsentEntryOut:
        """The API view of a stored decision."""
        return cls(
            id=record.consent_id,
            purpose=record.purpose,
            channel=record.channel,
            decision=record.decision,
            source=record.source,
            recorded_at=record.recorded_at,
        )


class ConsentsOut(BaseModel):
    """The winning decision per channel (null: never asked), the winning marketing decision and every
    decision, newest first."""

    current: dict[ContactChannel, ConsentEntryOut | None]
    marketing: ConsentEntryOut | None = Field(
        description="Marketing (campaigns) on every channel; opt-out = do not disturb. Null: never asked "
        "(campaigns follow the channel's decision). A channel opt-out stops marketing on it too."
    )
    history: list[ConsentEntryOut]

    @classmethod
    def of(cls, records: Sequence[ConsentRecord]) -> ConsentsOut:
        """Current and history from records sorted newest first."""
        latest = current_of(records)
        marketing = marketing_of(records)
        return cls(
            current={
                c: (ConsentEntryOut.of(latest[c.value]) if c.value in latest else None)
                for c in ContactChannel
            },
            marketing=ConsentEntryOut.of(marketing) if marketing else None,
            history=[ConsentEntryOut.of(r) for r in records],
        )
