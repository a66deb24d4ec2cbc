"""Timeline and patient 360 API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.consents.schemas import ConsentsOut
from app.engagement.schemas import EngagementOut
from app.intake.schemas import IntakeSummaryOut
from app.journeys.schemas import JourneyOut
from app.opportunities.schemas import OpportunityOut
from app.patients.schemas import CoverageOut, PatientOut
from app.scheduling.schemas import AppointmentOut
from app.tickets.schemas import TicketSummary
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


class Patient360Out(BaseModel):
    """Everything about one patient: the dashboard's patient page."""

    patient: PatientOut
    upcoming_appointments: list[AppointmentOut]
    past_appointments: list[AppointmentOut]
    communications: list[dict[str, Any]] = Field(description="FHIR Communication resources, newest first")
    opportunities: list[dict[str, Any]] = Field(description="FHIR Task (prm-opportunity) resources")
    tickets: list[dict[str, Any]] = Field(description="FHIR Task (prm-ticket) resources")
    ticket_summaries: list[TicketSummary] = Field(description="The patient's tickets, newest first")
    open_opportunity: OpportunityOut | None = Field(description="The newest lead not yet won or lost")
    consents: list[dict[str, Any]] = Field(description="FHIR Consent resources")
    consent_decisions: ConsentsOut | None = Field(
        default=None,
        description="The winning decision per channel and for marketing (opt-out = do not disturb: no "
        "campaigns), read from `consents`",
    )
    coverages: list[CoverageOut] = Field(default_factory=list, description="Insurance, newest first")
    timeline: str = Field(
        description="Path of the patient's single timeline (appointments, messages, calls, tickets, journey "
        "steps), newest first, paged: GET it"
    )
    intake: IntakeSummaryOut | None = Field(
        default=None, description="The latest intake answers and the problems, allergies and medicines"
    )
    engagement: EngagementOut | None = Field(default=None, description="Engagement score and its factors")
    journeys: list[JourneyOut] = Field(
        default_factory=list, description="The patient's journeys (active and finished), newest first"
    )
