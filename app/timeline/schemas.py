"""Timeline API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.timeline.entries import Entry, Kind
from app.timeline.service import TimelinePage


class EntryOut(BaseModel):
    """One line of a patient's timeline."""

    kind: Kind
    time: datetime | None = Field(description="When it happened; None when the resource carries no time")
    summary: str = Field(description="Kind, codes and status only (never message text)")
    reference: str = Field(description="The FHIR resource: Appointment/<id>, Communication/<id>, Task/<id>")

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        """The API view of an entry."""
        return cls(kind=entry.kind, time=entry.time, summary=entry.summary, reference=entry.reference)


class TimelineOut(BaseModel):
    """A page of the timeline, newest first."""

    entries: list[EntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; None on the last")

    @classmethod
    def of(cls, page: TimelinePage) -> TimelineOut:
        """The API view of a page."""
        return cls(entries=[EntryOut.of(e) for e in page.entries], next_cursor=page.next_cursor)
