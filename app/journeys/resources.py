"""FHIR shapes of journeys: a template is a PlanDefinition (one action per stage, its actions nested),
an instance is a CarePlan with one activity per stage; both read tolerantly (data others wrote is valid FHIR).

A stage's actions are numbered by position; an activity lists the numbers already done
(`journey-action-done`), and the current stage carries the due time of its next timed action in
`scheduledPeriod` (start = end), which is what the due-action job searches for (`activity-date`).
"""

from __future__ import annotations

from datetime import datetime

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
from app.journeys.model import (
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
