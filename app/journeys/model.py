"""The journey model, pure: templates (stages and their actions), instances (stage states), and how an
instance moves (settle, due actions, events, completion, skipping, cancellation). No FHIR here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from app.fhir.client import Resource

# An action due before the anchor is stale once the anchor has passed (a pre-visit message after the
# visit is noise), any other one this long after its time (the job was down, or the stage started late).
STALE_AFTER = timedelta(days=1)


class ActionKind(StrEnum):
    """What a stage action does (CodeSystem journey-action-kind)."""

    MESSAGE = "message"
    TICKET = "ticket"
    WAIT = "wait"
    INTAKE = "intake"  # send an intake questionnaire (the WhatsApp bot asks it)


class Event(StrEnum):
    """Appointment events a stage can wait for (the Appointment status that signals it)."""

    ARRIVED = "arrived"
    FULFILLED = "fulfilled"


class StageStatus(StrEnum):
    """A stage's state in an instance, as the API shows it."""

    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class JourneyStatus(StrEnum):
    """An instance's state, as the API shows it (CarePlan.status active, completed, revoked)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


FINISHED = frozenset({StageStatus.COMPLETED, StageStatus.SKIPPED, StageStatus.CANCELLED})


@dataclass(frozen=True)
class Action:
    """One thing a stage does: a message, a ticket or an intake questionnaire `days` from the anchor, or a
    wait for an event."""

    kind: ActionKind
    days: int = 0
    template: str | None = None
    category: str | None = None
    priority: str = "routine"
    description: str | None = None
    event: Event | None = None
    questionnaire: str | None = None  # intake: the Questionnaire's id

    @property
    def timed(self) -> bool:
        """Whether the due-action job runs it (a wait is ended by an event, not by time)."""
        return self.kind is not ActionKind.WAIT

    def due(self, anchor: datetime) -> datetime:
        """When it is due for a journey anchored at `anchor`."""
        return anchor + timedelta(days=self.days)

    def stale(self, anchor: datetime, now: datetime) -> bool:
        """Too late to run: a before-the-anchor action once the anchor passed, any other a day late."""
        return (self.days < 0 and now > anchor) or now > self.due(anchor) + STALE_AFTER


@dataclass(frozen=True)
class Stage:
    """A named step of a journey and its actions."""

    code: str
    title: str
    actions: tuple[Action, ...] = ()

    def waits_for(self) -> Event | None:
        """The event that ends this stage, if it waits for one."""
        return next((a.event for a in self.actions if a.kind is ActionKind.WAIT), None)


@dataclass(frozen=True)
class Template:
    """A journey template; with a department it starts by itself when an appointment there is booked."""

    name: str
    title: str
    stages: tuple[Stage, ...]
    description: str | None = None
    department: str | None = None
    location: str | None = None
    active: bool = True

    def stage(self, code: str) -> Stage | None:
        """The stage with this code."""
        return next((s for s in self.stages if s.code == code), None)


@dataclass(frozen=True)
class StageState:
    """A stage of an instance: its state, the actions done (by position), and its stored Task (empty
    until written)."""

    code: str
    title: str
    status: StageStatus = StageStatus.NOT_STARTED
    done: frozenset[int] = frozenset()
    next_due: datetime | None = None
    task: Resource = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Journey:
    """A patient's journey (a CarePlan and its stage Tasks), as the use cases work on it."""

    id: str | None
    template: str
    patient_id: str
    anchor: datetime
    stages: tuple[StageState, ...]
    status: JourneyStatus = JourneyStatus.ACTIVE
    appointment_id: str | None = None
    identifier: str | None = None
    resource: Resource = field(default_factory=dict, compare=False)

    def current(self) -> StageState | None:
        """The first stage not finished (None when every stage is)."""
        return next((s for s in self.stages if s.status not in FINISHED), None)


def new_journey(
    template: Template,
    *,
    patient_id: str,
    anchor: datetime,
    appointment_id: str | None,
    identifier: str,
) -> Journey:
    """A journey not yet started (settle() starts its first stage)."""
    return Journey(
        id=None,
        template=template.name,
        patient_id=patient_id,
        anchor=anchor,
        appointment_id=appointment_id,
        identifier=identifier,
        stages=tuple(StageState(code=s.code, title=s.title) for s in template.stages),
    )


@dataclass(frozen=True)
class DueAction:
    """An action of the current stage that is due now."""

    stage: str
    index: int
    action: Action


def settle(journey: Journey, template: Template) -> Journey:
    """Start the current stage, finish every stage with nothing left to do or wait for, set the due time
    of the next timed action, and complete the journey when every stage is finished."""
    if journey.status is not JourneyStatus.ACTIVE:
        return replace(journey, stages=tuple(replace(s, next_due=None) for s in journey.stages))
    stages = [replace(s, next_due=None) for s in journey.stages]
    for i, state in enumerate(stages):
        if state.status in FINISHED:
            continue
        stage = template.stage(state.code) or Stage(code=state.code, title=state.title)
        pending = [n for n, a in enumerate(stage.actions) if a.timed and n not in state.done]
        if not pending and stage.waits_for() is None:
            stages[i] = replace(state, status=StageStatus.COMPLETED)
            continue
        due = min((stage.actions[n].due(journey.anchor) for n in pending), default=None)
        stages[i] = replace(state, status=StageStatus.IN_PROGRESS, next_due=due)
        return replace(journey, stages=tuple(stages))
    return replace(journey, stages=tuple(stages), status=JourneyStatus.COMPLETED)


def due_actions(journey: Journey, template: Template, now: datetime) -> list[DueAction]:
    """The current stage's timed actions due by `now` and not done yet."""
    state = journey.current()
    stage = template.stage(state.code) if state else None
    if journey.status is not JourneyStatus.ACTIVE or state is None or stage is None:
        return []
    return [
        DueAction(stage=stage.code, index=n, action=a)
        for n, a in enumerate(stage.actions)
        if a.timed and n not in state.done and a.due(journey.anchor) <= now
    ]


def mark_done(journey: Journey, stage_code: str, index: int) -> Journey:
    """The journey with one action of a stage recorded as done."""
    return replace(
        journey,
        stages=tuple(
            replace(s, done=s.done | {index}) if s.code == stage_code else s for s in journey.stages
        ),
    )


def finish_stage(journey: Journey, stage_code: str, status: StageStatus) -> Journey:
    """The journey with one stage completed or skipped."""
    return replace(
        journey,
        stages=tuple(replace(s, status=status) if s.code == stage_code else s for s in journey.stages),
    )


def on_event(journey: Journey, template: Template, event: Event) -> Journey:
    """Complete the stages up to the first unfinished one waiting for `event` (nothing if none does);
    a visit completed also ends a wait for the check-in that was never recorded."""
    waiting = [
        s.code
        for s in journey.stages
        if s.status not in FINISHED
        and (found := template.stage(s.code)) is not None
        and found.waits_for() in ({event, Event.ARRIVED} if event is Event.FULFILLED else {event})
    ]
    if journey.status is not JourneyStatus.ACTIVE or not waiting:
        return journey
    last = waiting[-1] if event is Event.FULFILLED else waiting[0]
    stages = []
    reached = False
    for s in journey.stages:
        if not reached and s.status not in FINISHED:
            s = replace(s, status=StageStatus.COMPLETED)
        reached = reached or s.code == last
        stages.append(s)
    return replace(journey, stages=tuple(stages))


def cancel(journey: Journey) -> Journey:
    """The journey cancelled: every unfinished stage cancelled with it."""
    return replace(
        journey,
        status=JourneyStatus.CANCELLED,
        stages=tuple(
            s if s.status in FINISHED else replace(s, status=StageStatus.CANCELLED, next_due=None)
            for s in journey.stages
        ),
    )
