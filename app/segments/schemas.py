"""API models of segments."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.inputs import CalendarDate, FhirId, InputModel
from app.segments.resources import Criteria, Segment
from app.vocabulary import ContactChannel, Gender

Stage = Literal["new", "contacted", "qualified", "booked", "won", "lost"]
Age = Annotated[int, Field(ge=0, le=130)]


class CriteriaIn(InputModel):
    """Who is in the segment: every criterion given must hold (leave out what does not matter)."""

    age_min: Age | None = None
    age_max: Age | None = None
    gender: Gender | None = None
    specialty_seen: str | None = Field(
        default=None, description="Had a fulfilled (or arrived) appointment in this department"
    )
    practitioner_seen: FhirId | None = Field(
        default=None, description="Practitioner id: had a fulfilled (or arrived) appointment with them"
    )
    last_visit_before: CalendarDate | None = Field(default=None, description="Last visit before this date")
    last_visit_after: CalendarDate | None = Field(
        default=None, description="Last visit on or after this date"
    )
    upcoming_appointment: bool | None = Field(default=None, description="Has (true) or has not (false) one")
    journey: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = Field(
        default=None, description="On an active journey of this template, e.g. diabetes-management"
    )
    opportunity_stage: Stage | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] | None = Field(
        default=None, description="Preferred language code as stored, e.g. hi"
    )
    channel_consent: Literal[ContactChannel.WHATSAPP, ContactChannel.SMS, ContactChannel.VOICE] | None = (
        Field(default=None, description="Opted in to this channel (latest decision)")
    )
    marketing_opt_out: bool | None = Field(
        default=None,
        description="Opted out of marketing, do not disturb (true), or not (false: opted in or never asked)",
    )
    engagement: Literal["high", "medium", "low"] | None = None
    search: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None,
        description="More FHIR Patient search parameters as a query string, e.g. address-city=Bengaluru",
    )

    def criteria(self) -> Criteria:
        """The definition."""
        return Criteria(**self.model_dump())


class SegmentIn(InputModel):
    """A segment to save."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    criteria: CriteriaIn


class CriteriaOut(BaseModel):
    """A stored definition."""

    age_min: int | None
    age_max: int | None
    gender: str | None
    specialty_seen: str | None
    practitioner_seen: str | None
    last_visit_before: str | None
    last_visit_after: str | None
    upcoming_appointment: bool | None
    journey: str | None
    opportunity_stage: str | None
    language: str | None
    channel_consent: str | None
    marketing_opt_out: bool | None
    engagement: str | None
    search: str | None


class SegmentOut(BaseModel):
    """A saved segment (a prm-segment Group)."""

    id: str
    name: str
    description: str | None
    criteria: CriteriaOut
    fhir_search: str = Field(
        description="The Patient search HAPI runs (age bands are added as birthdate ranges)"
    )

    @classmethod
    def of(cls, segment: Segment) -> SegmentOut:
        """The API view."""
        c = segment.criteria
        dates = {
            "last_visit_before": c.last_visit_before.isoformat() if c.last_visit_before else None,
            "last_visit_after": c.last_visit_after.isoformat() if c.last_visit_after else None,
        }
        values = {**c.__dict__, **dates}
        return cls(
            id=segment.id,
            name=segment.name,
            description=segment.description,
            criteria=CriteriaOut(**values),
            fhir_search=segment.search,
        )


class CountOut(BaseModel):
    """How many patients a segment selects now."""

    count: int


class MembersOut(BaseModel):
    """One page of a segment's members."""

    segment: str
    total: int
    page: int
    count: int
    members: list[str] = Field(description="Patient ids, sorted")
