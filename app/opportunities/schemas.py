"""API models of opportunities and the pipeline report."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from app.fhir.client import Resource
from app.inputs import USER_PATTERN, FhirId, InputModel
from app.opportunities.pipeline import GroupFigures, Pipeline
from app.opportunities.resources import LostReason, Stage, opportunity_of
from app.vocabulary import SourceChannel

User = Annotated[str, Field(pattern=USER_PATTERN, description="A staff user, e.g. reception@clinic")]
Money = Annotated[Decimal, Field(ge=0, le=100_000_000, decimal_places=2, description="In INR")]
Text = Annotated[str, Field(min_length=1, max_length=4096)]


class OpportunityIn(InputModel):
    """A new lead (stage new); without `estimated_value`, the consultation fee of `department` or `specialty`."""

    patient: FhirId
    source: SourceChannel
    description: Text | None = None
    owner: User | None = None
    estimated_value: Money | None = None
    specialty: str | None = Field(default=None, max_length=40, description="Specialty code, e.g. cardiology")
    department: FhirId | None = Field(default=None, description="HealthcareService id (its fee is the value)")


class OpportunityChangeIn(InputModel):
    """A move along the pipeline or a change of owner, value or text; `lost_reason` is required for lost."""

    not_null = frozenset({"stage", "estimated_value", "description"})

    stage: Stage | None = None
    lost_reason: LostReason | None = None
    lost_note: Text | None = None
    appointment: FhirId | None = Field(default=None, description="The Appointment the lead is about")
    owner: User | None = None
    estimated_value: Money | None = None
    description: Text | None = None


class OpportunityOut(BaseModel):
    """A lead."""

    id: str
    patient: str | None
    stage: Stage | None
    source: str | None
    appointment: str | None = Field(description="Appointment/<id> once booked")
    estimated_value: float | None
    currency: str | None
    owner: str | None
    description: str | None
    created: datetime | None
    lost_reason: str | None
    lost_note: str | None
    lost_at_stage: str | None

    @classmethod
    def of(cls, task: Resource) -> OpportunityOut:
        """The API view of a prm-opportunity Task."""
        o = opportunity_of(task)
        return cls(
            id=o.id,
            patient=o.patient,
            stage=o.stage,
            source=o.source,
            appointment=o.appointment,
            estimated_value=float(o.estimated_value) if o.estimated_value is not None else None,
            currency=o.currency,
            owner=o.owner,
            description=o.description,
            created=o.created,
            lost_reason=o.lost_reason,
            lost_note=o.lost_note,
            lost_at_stage=o.lost_at_stage,
        )


class StageOut(BaseModel):
    """Leads now at a stage."""

    stage: Stage
    count: int
    estimated_value: float


class ConversionOut(BaseModel):
    """How many of the leads that reached `from_stage` reached `to_stage`."""

    from_stage: Stage
    to_stage: Stage
    rate: float | None = Field(description="null when no lead reached from_stage")


class FiguresOut(BaseModel):
    """Pipeline figures of a group of leads."""

    count: int
    estimated_value: float
    stages: list[StageOut]
    conversion: list[ConversionOut]

    @classmethod
    def of(cls, figures: GroupFigures) -> FiguresOut:
        """The API view of a group's figures."""
        return cls(
            count=figures.count,
            estimated_value=float(figures.value),
            stages=[
                StageOut(stage=s, count=f.count, estimated_value=float(f.value))
                for s, f in figures.by_stage.items()
            ],
            conversion=[ConversionOut(from_stage=a, to_stage=b, rate=r) for a, b, r in figures.conversion()],
        )


class SourceFiguresOut(FiguresOut):
    """The figures of one source channel."""

    source: str


class PeriodFiguresOut(FiguresOut):
    """The figures of one period (by creation time)."""

    period: str


class PipelineOut(BaseModel):
    """The pipeline report."""

    total: FiguresOut
    by_source: list[SourceFiguresOut]
    by_period: list[PeriodFiguresOut]

    @classmethod
    def of(cls, report: Pipeline) -> PipelineOut:
        """The API view of the report (sources by name, periods in order)."""
        return cls(
            total=FiguresOut.of(report.total),
            by_source=[
                SourceFiguresOut(source=k, **FiguresOut.of(v).model_dump())
                for k, v in sorted(report.by_source.items())
            ],
            by_period=[
                PeriodFiguresOut(period=k, **FiguresOut.of(v).model_dump())
                for k, v in sorted(report.by_period.items())
            ],
        )
