"""FHIR shapes of journeys: a template is a PlanDefinition (one action per stage, its actions nested),
an instance is a CarePlan whose activities reference one prm-journey-stage Task per stage, in order; all
read tolerantly (data others wrote is valid FHIR).

A stage's actions are numbered by position; a stage Task lists the numbers already done
(`journey-action-done`), and the current stage carries the due time of its next timed action in
`restriction.period.end`, which is what the due-action job searches for (`due`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from app.directory.resources import specialty_concept
from app.fhir.builders import code_in, coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CS_JOURNEY_ACTION,
    CS_SPECIALTY,
    CS_TASK_TYPE,
    CS_TICKET_CATEGORY,
    EXT_JOURNEY_ACTION_DONE,
    EXT_JOURNEY_MESSAGE_TEMPLATE,
    EXT_JOURNEY_OFFSET_DAYS,
    PROFILE_JOURNEY,
    PROFILE_JOURNEY_STAGE,
    PROFILE_JOURNEY_TEMPLATE,
    SID_JOURNEY,
    SID_JOURNEY_STAGE,
    TASK_TYPE_JOURNEY_STAGE,
    journey_template_url,
    questionnaire_url,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.journeys.model import (
    FINISHED,
    Action,
    ActionKind,
    Event,
    Journey,
    JourneyStatus,
    Stage,
    StageState,
    StageStatus,
    Template,
)

USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"

_CAREPLAN_STATUS = {
    JourneyStatus.ACTIVE: "active",
    JourneyStatus.COMPLETED: "completed",
    JourneyStatus.CANCELLED: "revoked",
}
# Task.status of each stage state; skipped and cancelled differ by statusReason.
_TASK_STATUS = {
    StageStatus.NOT_STARTED: "requested",
    StageStatus.IN_PROGRESS: "in-progress",
    StageStatus.COMPLETED: "completed",
    StageStatus.SKIPPED: "cancelled",
    StageStatus.CANCELLED: "cancelled",
}
# Any other status (draft, on-hold ... written by someone else) reads as not started.
_STAGE_OF_STATUS = {
    "in-progress": StageStatus.IN_PROGRESS,
    "completed": StageStatus.COMPLETED,
}


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
    if action.kind is ActionKind.INTAKE and action.questionnaire:
        out["definitionCanonical"] = questionnaire_url(action.questionnaire)
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
    definition = str(resource.get("definitionCanonical") or "")
    return Action(
        kind=kind,
        days=days if isinstance(days, int) else 0,
        template=extension_value(resource, EXT_JOURNEY_MESSAGE_TEMPLATE),
        category=next((c for c in categories if c), None),
        priority=str(resource.get("priority") or "routine"),
        description=resource.get("description"),
        questionnaire=_questionnaire_id(definition) if kind is ActionKind.INTAKE else None,
    )


def _questionnaire_id(canonical: str) -> str | None:
    """The id in a project Questionnaire's canonical URL (`url|version` tolerated); None for another's."""
    name = canonical.split("|", 1)[0].rsplit("/", 1)[-1]
    return name if name and questionnaire_url(name) == canonical.split("|", 1)[0] else None


# -- instances <-> CarePlan + stage Tasks -------------------------------------------------------


def care_plan(journey: Journey, *, created: datetime, stage_refs: Sequence[str]) -> Resource:
    """The CarePlan of a journey, its activities referencing the stage Tasks (keeping whatever else the
    stored one carries)."""
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
            "activity": [{"reference": {"reference": ref}} for ref in stage_refs],
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


def stage_identifier(journey: Journey, stage: StageState) -> str | None:
    """The identifier value of a stage's Task (None for a journey without an identifier)."""
    return f"{journey.identifier}/{stage.code}" if journey.identifier else None


def stage_task(journey: Journey, stage: StageState, *, now: datetime) -> Resource:
    """The Task of a stage (keeping whatever else the stored one carries); `now` stamps when the stage
    started and finished."""
    stored = stage.task
    kept = ("extension", "status", "statusReason", "restriction", "code", "description", "for")
    resource: Resource = {k: v for k, v in stored.items() if k not in kept}
    resource.update(
        {
            "resourceType": "Task",
            "meta": {**stored.get("meta", {}), "profile": [PROFILE_JOURNEY_STAGE]},
            "status": _TASK_STATUS[stage.status],
            "intent": "plan",
            "code": {"coding": [coding(CS_TASK_TYPE, TASK_TYPE_JOURNEY_STAGE)], "text": stage.code},
            "description": stage.title,
            "for": {"reference": f"Patient/{journey.patient_id}"},
        }
    )
    extensions = [e for e in stored.get("extension", []) if e.get("url") != EXT_JOURNEY_ACTION_DONE]
    extensions += [extension(EXT_JOURNEY_ACTION_DONE, valueInteger=n) for n in sorted(stage.done)]
    if extensions:
        resource["extension"] = extensions
    if (identifier := stage_identifier(journey, stage)) and "identifier" not in resource:
        resource["identifier"] = [{"system": SID_JOURNEY_STAGE, "value": identifier}]
    if stage.status in (StageStatus.SKIPPED, StageStatus.CANCELLED):
        resource["statusReason"] = {"text": stage.status.value}
    period = dict(resource.get("executionPeriod") or {})
    if stage.status is not StageStatus.NOT_STARTED:
        period.setdefault("start", instant(now))
    if stage.status in FINISHED and "end" not in period:
        # Never before the start (another writer's clock, or one moved by tests, may be behind).
        began = parse_datetime(period.get("start"))
        period["end"] = instant(max(now, began) if began else now)
    if period:
        resource["executionPeriod"] = period
    if stage.next_due is not None:
        resource["restriction"] = {"period": {"end": instant(stage.next_due)}}
    resource.setdefault("authoredOn", instant(now))
    return resource


def journey_of(resource: Resource, tasks: Iterable[Resource] = ()) -> Journey:
    """A journey from its CarePlan and its stage Tasks (tolerant of what other writers left out: an
    activity without a Task among `tasks` reads as a stage not started)."""
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
    by_ref = {f"Task/{t.get('id')}": t for t in tasks}
    return Journey(
        id=resource.get("id"),
        template=template,
        patient_id=patient,
        anchor=anchor or datetime.fromtimestamp(0).astimezone(),
        appointment_id=appointment,
        identifier=identifier,
        status=status,
        stages=tuple(
            _stage_state(i, activity, by_ref) for i, activity in enumerate(resource.get("activity", []))
        ),
        resource=resource,
    )


def _stage_state(index: int, activity: Resource, tasks: dict[str, Resource]) -> StageState:
    task = tasks.get(str((activity.get("reference") or {}).get("reference", "")))
    if task is None:
        detail = activity.get("detail") or {}
        code = str((detail.get("code") or {}).get("text") or f"stage-{index + 1}")
        return StageState(code=code, title=str(detail.get("description") or code))
    return stage_of(task, index=index)


def stage_of(task: Resource, *, index: int = 0) -> StageState:
    """A stage from its Task (`index` names a stage whose Task carries no code)."""
    raw, reason = task.get("status"), (task.get("statusReason") or {}).get("text")
    if raw == "cancelled":
        status = StageStatus.SKIPPED if reason == StageStatus.SKIPPED else StageStatus.CANCELLED
    else:
        status = _STAGE_OF_STATUS.get(str(raw), StageStatus.NOT_STARTED)
    code = str((task.get("code") or {}).get("text") or f"stage-{index + 1}")
    done = frozenset(
        int(e["valueInteger"])
        for e in task.get("extension", [])
        if e.get("url") == EXT_JOURNEY_ACTION_DONE and isinstance(e.get("valueInteger"), int)
    )
    return StageState(
        code=code,
        title=str(task.get("description") or code),
        status=status,
        done=done,
        next_due=parse_datetime(((task.get("restriction") or {}).get("period") or {}).get("end")),
        task=task,
    )
