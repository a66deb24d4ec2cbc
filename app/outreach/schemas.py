"""API models of the outreach: waitlist entries, at-risk appointments, care gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.fhir.builders import instant
from app.inputs import FhirId, InputModel, Instant
from app.outreach.resources import Entry
from app.outreach.risk import AtRisk


class WaitlistIn(InputModel):
    """Join the waitlist for a doctor or a department (exactly one of them) between start and end."""

    patient: FhirId
    specialty: str | None = Field(default=None, description="Department code, e.g. cardiology")
    practitioner: FhirId | None = None
    start: Instant
    end: Instant
    part_of_day: Literal["morning", "afternoon", "evening"] | None = None


class PeriodOut(BaseModel):
    """A time that suits the patient."""

    start: str
    end: str


class WaitlistOut(BaseModel):
    """A waitlist entry (an Appointment with status `waitlist`)."""

    id: str
    status: str
    patient: str | None = Field(description="Patient id")
    practitioner_role: str | None = Field(description="PractitionerRole id, when one doctor was asked for")
    specialties: list[str]
    periods: list[PeriodOut]
    created: datetime | None

    @classmethod
    def of(cls, entry: Entry) -> WaitlistOut:
        """The API view of an entry."""
        return cls(
            id=entry.id,
            status=entry.status,
            patient=entry.patient_id,
            practitioner_role=entry.role_id,
            specialties=sorted(entry.specialties),
            periods=[PeriodOut(start=instant(s), end=instant(e)) for s, e in entry.periods],
            created=entry.created,
        )


class FactorOut(BaseModel):
    """What one feature added to the log-odds of a no-show."""

    factor: str
    value: float
    contribution: float


class AtRiskOut(BaseModel):
    """An upcoming appointment, its no-show probability and why."""

    appointment: str = Field(description="Appointment id")
    patient: str = Field(description="Patient id")
    start: str
    score: float = Field(ge=0, le=1, description="Probability of a no-show")
    model: Literal["heuristic", "fitted"]
    factors: list[FactorOut]

    @classmethod
    def of(cls, risky: AtRisk) -> AtRiskOut:
        """The API view of a scored appointment."""
        return cls(
            appointment=str(risky.appointment["id"]),
            patient=risky.patient_id,
            start=str(risky.appointment.get("start")),
            score=round(risky.score.probability, 4),
            model="fitted" if risky.score.model == "fitted" else "heuristic",
            factors=[
                FactorOut(factor=f.name, value=f.value, contribution=round(f.contribution, 4))
                for f in risky.score.factors
            ],
        )


class GapOut(BaseModel):
    """A patient a care-gap rule finds."""

    patient: str = Field(description="Patient id")
    since: datetime | None = Field(description="The last visit, or the journey's start")
    anchor: str = Field(description="What the gap is counted from: Appointment/<id> or CarePlan/<id>")


class CareGapOut(BaseModel):
    """One rule and the patients it finds today."""

    rule: str
    title: str
    days: int
    patients: list[GapOut]
