"""API models of intake: questionnaires, a submission, what it wrote, and the 360's intake section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.fhir.client import Resource
from app.intake import resources as res
from app.intake.questionnaires import Questionnaire
from app.intake.service import IntakeRecord, Submitted

AnswerIn = str | bool | int | list[str] | list[int]


class QuestionOut(BaseModel):
    """One question, its texts per language and the answers it takes."""

    link_id: str
    type: str = Field(description="string, text, boolean, integer or choice")
    text: dict[str, str] = Field(description="language (en, hi, kn) -> question")
    required: bool
    repeats: bool = Field(description="Whether it takes several answers (a list)")
    options: list[str] = Field(description="The choices (English values, the ones to submit)")
    minimum: int | None
    maximum: int | None


class QuestionnaireOut(BaseModel):
    """A questionnaire a patient can answer."""

    id: str
    url: str
    version: str
    title: dict[str, str] = Field(description="language (en, hi, kn) -> title")
    specialty: str | None = Field(description="The department specialty it is asked before, if any")
    questions: list[QuestionOut]

    @classmethod
    def of(cls, q: Questionnaire) -> QuestionnaireOut:
        """From the parsed questionnaire."""
        return cls(
            id=q.id,
            url=q.url,
            version=q.version,
            title=q.titles,
            specialty=q.specialty,
            questions=[
                QuestionOut(
                    link_id=i.link_id,
                    type=i.kind,
                    text=i.texts,
                    required=i.required,
                    repeats=i.repeats,
                    options=[o.value for o in i.options],
                    minimum=i.minimum,
                    maximum=i.maximum,
                )
                for i in q.items
            ],
        )


class IntakeIn(BaseModel):
    """A patient's answers: `answers` maps each question's link_id to its answer (a list where the
    question repeats); unanswered optional questions are left out."""

    model_config = ConfigDict(extra="forbid")

    questionnaire: str = Field(pattern=r"^[A-Za-z0-9\-.]{1,64}$", description="The Questionnaire id")
    version: str | None = Field(
        default=None, max_length=32, description="The version answered; a different current version is 422"
    )
    answers: dict[str, Any] = Field(description="link_id -> answer (text, true/false, number, or a list)")


class IntakeOut(BaseModel):
    """What the intake wrote."""

    questionnaire_response: str = Field(description="QuestionnaireResponse/<id>")
    conditions: list[str]
    allergies: list[str]
    medications: list[str]
    appointment: str | None = Field(description="Appointment/<id> whose reason got the chief complaint")

    @classmethod
    def of(cls, s: Submitted) -> IntakeOut:
        """From the use case's result."""
        return cls(
            questionnaire_response=s.response,
            conditions=s.conditions,
            allergies=s.allergies,
            medications=s.medications,
            appointment=s.appointment,
        )


class ReportedOut(BaseModel):
    """A problem, allergy or medicine on record (patient-reported ones are unconfirmed)."""

    id: str
    text: str
    recorded: str | None


def _reported(resource: Resource) -> ReportedOut:
    recorded = resource.get("recordedDate") or resource.get("dateAsserted")
    return ReportedOut(id=str(resource["id"]), text=res.named(resource), recorded=recorded)


class IntakeSummaryOut(BaseModel):
    """The 360's intake section: the latest answers and the extracted lists."""

    latest: dict[str, list[Any]] | None = Field(description="link_id -> answers of the latest intake")
    latest_questionnaire: str | None = Field(description="url|version it answered")
    latest_authored: str | None
    conditions: list[ReportedOut]
    allergies: list[ReportedOut]
    medications: list[ReportedOut]

    @classmethod
    def of(cls, record: IntakeRecord) -> IntakeSummaryOut:
        """From the patient's intake record (any part may be missing when others wrote it)."""
        latest = record.latest
        return cls(
            latest=res.answers_of(latest) if latest else None,
            latest_questionnaire=latest.get("questionnaire") if latest else None,
            latest_authored=latest.get("authored") if latest else None,
            conditions=[_reported(r) for r in record.conditions],
            allergies=[_reported(r) for r in record.allergies],
            medications=[_reported(r) for r in record.medications],
        )
