"""FHIR shapes of journeys: a template is a PlanDefinition (one action per stage, its actions nested),
an instance is a CarePlan with one activity per stage; both read tolerantly (data others wrote is valid FHIR).

A stage's actions are numbered by position; an activity lists the numbers already done
(`journey-action-done`), and the current stage carries the due time of its next timed action in
`scheduledPeriod` (start = end), which is what the due-action job searches for (`activity-date`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from app.directory.resources import specialty_concept
from app.fhir.builders import code_in, coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CS_JOURNEY_ACTION,
    CS_SPECIALTY,
    CS_TICKET_CATEGORY,
    EXT_JOURNEY_ACTION_DONE,
    EXT_JOURNEY_MESSAGE_TEMPLATE,
    EXT_JOURNEY_OFFSET_DAYS,
    PROFILE_JOURNEY,
    PROFILE_JOURNEY_TEMPLATE,
    SID_JOURNEY,
    journey_template_url,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime

USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
# An action due before the anchor is stale once the anchor has passed (a pre-visit message after the
# visit is noise), any other one this long after its time (the job was down, or the stage started late).
STALE_AFTER = timedelta(days=1)


class ActionKind(StrEnum):
    """What a stage action does (CodeSystem journey-action-kind)."""

    MESSAGE = "message"
    TICKET = "ticket"
    WAIT = "wait"


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
_CAREPLAN_STATUS = {
    JourneyStatus.ACTIVE: "active",
    JourneyStatus.COMPLETED: "completed",
    JourneyStatus.CANCELLED: "revoked",
}
# CarePlan.activity.detail.status of each stage state; skipped and cancelled differ by statusReason.
_DETAIL_STATUS = {
    StageStatus.NOT_STARTED: "not-started",
    StageStatus.IN_PROGRESS: "in-progress",
    StageStatus.COMPLETED: "completed",
    StageStatus.SKIPPED: "cancelled",
    StageStatus.CANCELLED: "cancelled",
}
# Any other detail status (scheduled, on-hold ... written by someone else) reads as not started.
_STAGE_OF_DETAIL = {
    "not-started": StageStatus.NOT_STARTED,
    "in-progress": StageStatus.IN_PROGRESS,
    "completed": StageStatus.COMPLETED,
}


@dataclass(frozen=True)
class Action:
    """One thing a stage does: a message or a ticket `days` from the anchor, or a wait for an event."""

    kind: ActionKind
    days: int = 0
    template: str | None = None
    category: str | None = None
    priority: str = "routine"
    description: str | None = None
    event: Event | None = None

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
    """A stage of an instance: its state and the actions done (by position)."""

    code: str
    title: str
    status: StageStatus = StageStatus.NOT_STARTED
    done: frozenset[int] = frozenset()
    next_due: datetime | None = None


@dataclass(frozen=True)
class Journey:
    """A patient's journey (a CarePlan), as the use cases work on it."""

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


# -- templates <-> PlanDefinition ---------------------------------------------------------------


def plan_definition(template: Template) -> Resource:
    """The PlanDefinition of a template (id = name, so saving twice writes one resource)."""
    resource: Resource = {
        "resourceType": "PlanDefinition",
        "id": template.name,
        "meta": meta_profile(PROFILE_JOURNEY_TEMPLATE),
        "url": journey_template_url(template.name),
        "name": template.name.replace("-", "_"),
        "title": template.title,
        "type": {"coding": [coding(PLAN_TYPE, "workflow-definition")]},
        "status": "active" if template.active else "retired",
        "action": [_stage_action(stage) for stage in template.stages],
    }
    if template.description:
        resource["description"] = template.description
    contexts = []
    if template.department:
        contexts.append(
            {
                "code": coding(USAGE_CONTEXT, "focus"),
                "valueCodeableConcept": specialty_concept(template.department),
            }
        )
    if template.location:
        contexts.append(
            {
                "code": coding(USAGE_CONTEXT, "venue"),
                "valueReference": {"reference": f"Location/{template.location}"},
            }
        )
    if contexts:
        resource["useContext"] = contexts
    return resource


def _stage_action(stage: Stage) -> Resource:
    return {"id": stage.code, "title": stage.title, "action": [_action(a) for a in stage.actions]}


def _action(action: Action) -> Resource:
    codes = [coding(CS_JOURNEY_ACTION, action.kind.value)]
    out: Resource = {"code": [{"coding": codes}]}
    if action.kind is ActionKind.WAIT and action.event:
        out["trigger"] = [{"type": "named-event", "name": f"appointment-{action.event.value}"}]
        return out
    out["extension"] = [extension(EXT_JOURNEY_OFFSET_DAYS, valueInteger=action.days)]
    if action.kind is ActionKind.MESSAGE and action.template:
        out["extension"].append(extension(EXT_JOURNEY_MESSAGE_TEMPLATE, valueString=action.template))
    if action.kind is ActionKind.TICKET:
        out["code"].append({"coding": [coding(CS_TICKET_CATEGORY, action.category or "other")]})
        out["priority"] = action.priority
        if action.description:
            out["description"] = action.description
    return out


def template_of(resource: Resource) -> Template:
    """A template from its PlanDefinition (unknown parts are ignored, not fatal)."""
    department = location = None
    for context in resource.get("useContext", []):
        code = (context.get("code") or {}).get("code")
        if code == "focus":
            department = code_in(context.get("valueCodeableConcept"), CS_SPECIALTY)
        elif code == "venue":
            ref = str((context.get("valueReference") or {}).get("reference", ""))
            location = ref.removeprefix("Location/") or None
    stages = tuple(
        Stage(
            code=str(a.get("id") or f"stage-{i + 1}"),
            title=str(a.get("title") or a.get("id") or f"Stage {i + 1}"),
            actions=tuple(x for x in (_action_of(sub) for sub in a.get("action", [])) if x is not None),
        )
        for i, a in enumerate(resource.get("action", []))
    )
    return Template(
        name=str(resource.get("id")),
        title=str(resource.get("title") or resource.get("name") or resource.get("id")),
        description=resource.get("description"),
        stages=stages,
        department=department,
        location=location,
        active=resource.get("status") == "active",
    )


def _action_of(resource: Resource) -> Action | None:
    kinds = [code_in(c, CS_JOURNEY_ACTION) or "" for c in resource.get("code", [])]
    kind = next((ActionKind(k) for k in kinds if k in ActionKind._value2member_map_), None)
    if kind is None:
        return None
    if kind is ActionKind.WAIT:
        names = [str(t.get("name", "")).removeprefix("appointment-") for t in resource.get("trigger", [])]
        event = next((Event(n) for n in names if n in Event._value2member_map_), None)
        return Action(kind=kind, event=event) if event else None
    days = extension_value(resource, EXT_JOURNEY_OFFSET_DAYS)
    categories = [code_in(c, CS_TICKET_CATEGORY) for c in resource.get("code", [])]
    return Action(
        kind=kind,
        days=days if isinstance(days, int) else 0,
        template=extension_value(resource, EXT_JOURNEY_MESSAGE_TEMPLATE),
        category=next((c for c in categories if c), None),
        priority=str(resource.get("priority") or "routine"),
        description=resource.get("description"),
    )


# -- instances <-> CarePlan ---------------------------------------------------------------------


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


def care_plan(journey: Journey, *, created: datetime) -> Resource:
    """The CarePlan of a journey (keeping whatever else the stored one carries)."""
    resource: Resource = {k: v for k, v in journey.resource.items() if k not in ("activity", "status")}
    resource.update(
        {
            "resourceType": "CarePlan",
            "meta": {**resource.get("meta", {}), "profile": [PROFILE_JOURNEY]},
            "status": _CAREPLAN_STATUS[journey.status],
            "intent": "plan",
            "instantiatesCanonical": [journey_template_url(journey.template)],
            "subject": {"reference": f"Patient/{journey.patient_id}"},
            "period": {"start": instant(journey.anchor)},
            "activity": [_activity(stage) for stage in journey.stages],
        }
    )
    resource.setdefault("created", instant(created))
    if journey.identifier and "identifier" not in resource:
        resource["identifier"] = [{"system": SID_JOURNEY, "value": journey.identifier}]
    if journey.appointment_id:
        resource["supportingInfo"] = [{"reference": f"Appointment/{journey.appointment_id}"}]
    if journey.id:
        resource["id"] = journey.id
    return resource


def _activity(stage: StageState) -> Resource:
    detail: Resource = {
        "status": _DETAIL_STATUS[stage.status],
        "code": {"text": stage.code},
        "description": stage.title,
    }
    if stage.status in (StageStatus.SKIPPED, StageStatus.CANCELLED):
        detail["statusReason"] = {"text": stage.status.value}
    if stage.done:
        detail["extension"] = [extension(EXT_JOURNEY_ACTION_DONE, valueInteger=n) for n in sorted(stage.done)]
    if stage.next_due is not None:
        detail["scheduledPeriod"] = {"start": instant(stage.next_due), "end": instant(stage.next_due)}
    return {"detail": detail}


def journey_of(resource: Resource) -> Journey:
    """A journey from its CarePlan (tolerant of what other writers left out)."""
    template = str((resource.get("instantiatesCanonical") or [""])[0]).rsplit("/", 1)[-1]
    patient = str((resource.get("subject") or {}).get("reference", "")).removeprefix("Patient/")
    appointment = next(
        (
            str(r.get("reference")).removeprefix("Appointment/")
            for r in resource.get("supportingInfo", [])
            if str(r.get("reference", "")).startswith("Appointment/")
        ),
        None,
    )
    status = {v: k for k, v in _CAREPLAN_STATUS.items()}.get(
        resource.get("status", ""), JourneyStatus.CANCELLED
    )
    anchor = parse_datetime((resource.get("period") or {}).get("start")) or parse_datetime(
        resource.get("created")
    )
    identifier = next(
        (str(i.get("value")) for i in resource.get("identifier", []) if i.get("system") == SID_JOURNEY), None
    )
    return Journey(
        id=resource.get("id"),
        template=template,
        patient_id=patient,
        anchor=anchor or datetime.fromtimestamp(0).astimezone(),
        appointment_id=appointment,
        identifier=identifier,
        status=status,
        stages=tuple(
            _stage_state(i, a.get("detail") or {}) for i, a in enumerate(resource.get("activity", []))
        ),
        resource=resource,
    )


def _stage_state(index: int, detail: Resource) -> StageState:
    raw, reason = detail.get("status"), (detail.get("statusReason") or {}).get("text")
    if raw == "cancelled":
        status = StageStatus.SKIPPED if reason == StageStatus.SKIPPED else StageStatus.CANCELLED
    else:
        status = _STAGE_OF_DETAIL.get(str(raw), StageStatus.NOT_STARTED)
    code = str((detail.get("code") or {}).get("text") or f"stage-{index + 1}")
    done = frozenset(
        int(e["valueInteger"])
        for e in detail.get("extension", [])
        if e.get("url") == EXT_JOURNEY_ACTION_DONE and isinstance(e.get("valueInteger"), int)
    )
    period = detail.get("scheduledPeriod") or {}
    return StageState(
        code=code,
        title=str(detail.get("description") or code),
        status=status,
        done=done,
        next_due=parse_datetime(period.get("start")),
    )


# -- transitions (pure) -------------------------------------------------------------------------


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
