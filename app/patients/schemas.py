"""API models of patients."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.directory.resources import display_name
from app.fhir.client import Resource
from app.inputs import CalendarDate, FhirId, InputModel
from app.opportunities.schemas import OpportunityOut
from app.patients import resources as res
from app.scheduling.schemas import AppointmentOut
from app.tickets.schemas import TicketSummary
from app.vocabulary import ContactChannel, Gender

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Z]{2})?$"


class PatientIn(InputModel):
    """A patient to register."""

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=32, description="Any common format; default region IN")
    gender: Gender | None = None
    birth_date: CalendarDate | None = None
    preferred_language: str | None = Field(
        default=None, pattern=LANGUAGE_PATTERN, examples=["en", "hi", "kn"]
    )
    preferred_channel: ContactChannel | None = None


class PatientUpdate(InputModel):
    """Changes to a patient; fields left out stay as they are."""

    not_null = frozenset({"name", "phone"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    gender: Gender | None = None
    birth_date: CalendarDate | None = None
    preferred_language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN)
    preferred_channel: ContactChannel | None = None


class MergeIn(InputModel):
    """Merge a duplicate into this patient."""

    source: FhirId = Field(description="The duplicate Patient id, merged into the path's patient")


class PatientOut(BaseModel):
    """A patient's demographics and preferences."""

    id: str
    name: str
    phone: str | None
    gender: str | None
    birth_date: str | None = Field(description="As recorded: YYYY, YYYY-MM or YYYY-MM-DD")
    preferred_language: str | None
    preferred_channel: str | None
    active: bool
    replaced_by: str | None = Field(default=None, description="Patient/<id> this record was merged into")

    @classmethod
    def of(cls, patient: Resource) -> PatientOut:
        """From a FHIR Patient."""
        replaced = next(
            (
                link["other"]["reference"]
                for link in patient.get("link", [])
                if link.get("type") == "replaced-by"
            ),
            None,
        )
        return cls(
            id=patient["id"],
            name=display_name(patient),
            phone=res.phone_of(patient),
            gender=patient.get("gender"),
            birth_date=patient.get("birthDate"),
            preferred_language=res.preferred_language(patient),
            preferred_channel=res.preferred_channel(patient),
            active=patient.get("active", True),
            replaced_by=replaced,
        )


class DuplicateOut(BaseModel):
    """A possible duplicate and why."""

    patient: PatientOut
    reasons: list[str]
    name_similarity: float


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
