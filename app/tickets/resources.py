"""FHIR shape of a ticket (a callback, a complaint, a hand-off): a Task with the prm-ticket profile."""

from __future__ import annotations

from datetime import datetime

from app.fhir.builders import coding, extension, instant, meta_profile, now_utc
from app.fhir.canonical import (
    CS_TASK_TYPE,
    EXT_TICKET_CATEGORY,
    PROFILE_TICKET,
    SID_STAFF_USER,
    TASK_TYPE_TICKET,
)
from app.fhir.client import Resource


def ticket_resource(
    *,
    patient_ref: str | None,
    category: str,
    description: str,
    due: datetime | None,
    owner: str | None,
    priority: str = "routine",
    focus: str | None = None,
) -> Resource:
    """A ticket (a callback, a complaint, a hand-off) for staff to work on."""
    task: Resource = {
        "resourceType": "Task",
        "meta": meta_profile(PROFILE_TICKET),
        "extension": [extension(EXT_TICKET_CATEGORY, valueCode=category)],
        "status": "requested",
        "intent": "order",
        "priority": priority,
        "code": {"coding": [coding(CS_TASK_TYPE, TASK_TYPE_TICKET)]},
        "description": description,
        "authoredOn": instant(now_utc()),
    }
    if patient_ref:
        task["for"] = {"reference": patient_ref}
    if focus:
        task["focus"] = {"reference": focus}
    if due:
        task["executionPeriod"] = {"start": instant(due)}
    if owner:
        task["owner"] = {"identifier": {"system": SID_STAFF_USER, "value": owner}, "display": owner}
    return task
