"""API models of consents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from app.consents.resources import ConsentRecord, ConsentSource, Decision, current_of
from app.inputs import InputModel
from app.vocabulary import ContactChannel


class ConsentIn(InputModel):
    """A patient's decision for one channel."""

    decision: Decision
    source: ConsentSource = Field(default=ConsentSource.STAFF, description="How the decision reached us")


class ConsentEntryOut(BaseModel):
    """One recorded decision."""

    id: str
    channel: str
    decision: Decision
    source: str | None = Field(description="staff, whatsapp, sms, voice, registration, import")
    recorded_at: datetime | None

    @classmethod
    def of(cls, record: ConsentRecord) -> ConsentEntryOut:
        """The API view of a stored decision."""
        return cls(
            id=record.consent_id,
            channel=record.channel,
            decision=record.decision,
            source=record.source,
            recorded_at=record.recorded_at,
        )


class ConsentsOut(BaseModel):
    """The winning decision per channel (null: never asked) and every decision, newest first."""

    current: dict[ContactChannel, ConsentEntryOut | None]
    history: list[ConsentEntryOut]

    @classmethod
    def of(cls, records: Sequence[ConsentRecord]) -> ConsentsOut:
        """Current and history from records sorted newest first."""
        latest = current_of(records)
        return cls(
            current={
                c: (ConsentEntryOut.of(latest[c.value]) if c.value in latest else None)
                for c in ContactChannel
            },
            history=[ConsentEntryOut.of(r) for r in records],
        )
