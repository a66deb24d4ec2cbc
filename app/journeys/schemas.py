"""API models of journeys: templates (stages and their actions) and a patient's journeys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.inputs import FhirId, InputModel, Instant
from app.journeys import model
from app.journeys.model import ActionKind, Event

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Priority = Literal["routine", "urgent", "asap", "stat"]


class ActionIn(InputModel):
    """A stage action: `message` (a catalog template), `ticket` (a category) or `intake` (a questionnaire
    the WhatsApp bot asks) `days` from the anchor, or `wait` for an appointment event."""

    kind: ActionKind
    days: int = Field(
        0, ge=-365, le=365, description="Days from the anchor: negative before, 0 on, positive after"
    )
    template: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="message: the message template's name (GET /api/v1/message-templates)"
    )
    category: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="ticket: the ticket category"
    )
    priority: Priority = "routine"
    description: Description | None = Field(None, description="ticket: what staff should do")
    event: Event | None = Field(None, description="wait: the appointment event that ends the stage")
    questionnaire: FhirId | None = Field(
        None, description="intake: the questionnaire's id (GET /api/v1/questionnaires)"
    )

    def action(self) -> model.Action:
        """The domain action."""
        return model.Action(
            kind=self.kind,
            days=0 if self.kind is ActionKind.WAIT else self.days,
            template=self.template,
            category=self.category,
            priority=self.priority,
            description=self.description,
            event=self.event,
            questionnaire=self.questionnaire,
        )


class StageIn(InputModel):
    """A stage: a code unique in the template, a title and its actions in order."""

    code: Slug
    title: Title
    actions: list[ActionIn] = Field(default_factory=list, max_length=20)


class TemplateIn(InputModel):
    """A journey template; with a `department` (specialty code) it starts by itself when an appointment
    of that department is booked (at `location` only, when given)."""

    title: Title
    description: Description | None = None
    department: Annotated[str, StringConstraints(max_length=64)] | None = None
    location: FhirId | None = None
    stages: list[StageIn] = Field(min_length=1, max_length=20)

    def template(self, name: str) -> model.Template:
        """The domain template named `name`."""
        return model.Template(
            name=name,
            title=self.title,
            description=self.description,
            department=self.department,
            location=self.location,
            stages=tuple(
                model.Stage(code=s.code, title=s.title, actions=tuple(a.action() for a in s.actions))
                for s in self.stages
            ),
        )


class TemplateCreate(TemplateIn):
    """A new template and its name (the id of its PlanDefinition)."""

    name: Slug


class ActionOut(BaseModel):
    """A stage action."""

    kind: ActionKind
    days: int
    template: str | None
    category: str | None
    priority: str
    description: str | None
    event: Event | None
    questionnaire: str | None


class StageOut(BaseModel):
    """A stage of a template."""

    code: str
    title: str
    actions: list[ActionOut]


class TemplateOut(BaseModel):
    """A journey template."""

    name: str
    title: str
    description: str | None
    department: str | None
    location: str | None
    active: bool
    stages: list[StageOut]

    @classmethod
    def of(cls, template: model.Template) -> TemplateOut:
        """The API view of a template."""
        return cls(
            name=template.name,
            title=template.title,
            description=template.description,
            department=template.department,
            location=template.location,
            active=template.active,
            stages=[
                StageOut(
                    code=s.code,
                    title=s.title,
                    actions=[
                        ActionOut(
                            kind=a.kind,
                            days=a.days,
                            template=a.template,
                            category=a.category,
                            priority=a.priority,
                            description=a.description,
                            event=a.event,
                            questionnaire=a.questionnaire,
                        )
                        for a in s.actions
                    ],
                )
                for s in template.stages
            ],
        )


class JourneyStart(InputModel):
    """Start a journey: from a template, anchored at an appointment's start or at `anchor` (default now)."""

    template: Slug
    appointment: FhirId | None = None
    anchor: Instant | None = None


class StageStateOut(BaseModel):
    """A stage of a journey."""

    code: str
    title: str
    status: model.StageStatus
    actions_done: list[int] = Field(description="Positions of the stage's actions already run")
    next_due: datetime | None = Field(description="When the stage's next timed action is due")


class JourneyOut(BaseModel):
    """A patient's journey."""

    id: str
    template: str
    patient: str
    appointment: str | None
    status: model.JourneyStatus
    anchor: datetime
    current_stage: str | None
    stages: list[StageStateOut]

    @classmethod
    def of(cls, journey: model.Journey) -> JourneyOut:
        """The API view of a journey."""
        current = journey.current()
        return cls(
            id=str(journey.id),
            template=journey.template,
            patient=journey.patient_id,
            appointment=journey.appointment_id,
            status=journey.status,
            anchor=journey.anchor,
            current_stage=current.code if current and journey.status is model.JourneyStatus.ACTIVE else None,
            stages=[
                StageStateOut(
                    code=s.code,
                    title=s.title,
                    status=s.status,
                    actions_done=sorted(s.done),
                    next_due=s.next_due,
                )
                for s in journey.stages
            ],
        )
