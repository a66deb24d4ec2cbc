"""What an instruction means once normalised and resolved: shared by the assistant, the WhatsApp bot and
voice calls."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field


class Entities(BaseModel):
    """What the instruction says, normalised: E.164 phone, specialty code, start in the clinic's zone."""

    patient_phone: str | None = None
    patient_name: str | None = None
    practitioner_name: str | None = None
    specialty: str | None = None
    start: AwareDatetime | None = None
    date: str | None = Field(default=None, description="YYYY-MM-DD")
    time: str | None = Field(default=None, description="HH:MM")
    reason: str | None = None
    message: str | None = None
    period_start: str | None = Field(default=None, description="YYYY-MM-DD: first day of a date range")
    period_end: str | None = Field(default=None, description="YYYY-MM-DD: last day of a date range")
    channel: str | None = None
    template: str | None = None
    segment: str | None = None
    tag: str | None = Field(default=None, description="A patient tag code to add")
    ticket: str | None = None
    category: str | None = None
    priority: str | None = None
    assignee: str | None = None
    mine: bool | None = None
    overdue: bool | None = None
    stage: str | None = None
    lost_reason: str | None = None
    new_phone: str | None = Field(default=None, description="E.164")
    email: str | None = None
    address: str | None = None
    language: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = Field(default=None, description="E.164")
    contact_relationship: str | None = None
    metric: str | None = None


class Resolved(BaseModel):
    """FHIR references the code resolved the entities to (`Type/id`)."""

    patient: str | None = None
    practitioner: str | None = None
    slot: str | None = None
    appointment: str | None = None
    ticket: str | None = None
    opportunity: str | None = None
    journey: str | None = None


class Action(BaseModel):
    """One write the plan will make when confirmed, described for the person confirming it."""

    type: str
    summary: str
    destructive: bool = Field(default=False, description="It cancels, closes or ends something")


class FormField(BaseModel):
    """One field of the dashboard form, pre-filled, with where its value came from."""

    value: Any = None
    source: Literal["extracted", "resolved", "default", "missing"]
    label: str
    confidence: float | None = Field(
        default=None,
        description="0-1: checked against the records (resolved) > extracted > default > missing",
    )
