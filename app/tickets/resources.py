"""FHIR shape of a ticket (a callback, a complaint, a hand-off): a Task with the prm-ticket profile.

Status in `businessStatus` (CodeSystem ticket-status) with the matching Task.status; the SLA due time
in `restriction.period.end` (searchable as `due`); comments are `note` (author, time, text; oldest
first); the resolution note is `statusReason.text`; an escalation marks the due it breached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.fhir.builders import (
    code_in,
    coding,
    extension,
    extension_value,
    instant,
    meta_profile,
    set_task_owner,
    task_owner,
)
from app.fhir.canonical import (
    CS_TASK_TYPE,
    CS_TICKET_STATUS,
    EXT_SOURCE_CHANNEL,
    EXT_TICKET_CATEGORY,
    EXT_TICKET_ESCALATED,
    PROFILE_TICKET,
    TASK_TYPE_TICKET,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime


class TicketStatus(StrEnum):
    """Where a ticket is in its life (CodeSystem ticket-status)."""

    OPEN = "open"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Category(StrEnum):
    """Why a ticket was opened (CodeSystem ticket-category)."""

    COMPLAINT = "complaint"
    CALLBACK = "callback"
    BILLING = "billing"
    CLINICAL_QUERY = "clinical-query"
    APPOINTMENT = "appointment"
    FEEDBACK = "feedback"
    HANDOFF = "handoff"
    EMERGENCY = "emergency"
    INQUIRY = "inquiry"
    OTHER = "other"


class Priority(StrEnum):
    """Task.priority, lowest first: escalation moves a ticket one step up."""

    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"
    STAT = "stat"


PRIORITY_ORDER = list(Priority)
OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD)
# The workflow: which status may follow which (reopen is resolved/closed -> open).
TRANSITIONS: dict[TicketStatus, tuple[TicketStatus, ...]] = {
    TicketStatus.OPEN: (
        TicketStatus.IN_PROGRESS,
        TicketStatus.ON_HOLD,
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
    ),
    TicketStatus.IN_PROGRESS: (
        TicketStatus.OPEN,
        TicketStatus.ON_HOLD,
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
    ),
    TicketStatus.ON_HOLD: (
        TicketStatus.OPEN,
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
    ),
    TicketStatus.RESOLVED: (TicketStatus.CLOSED, TicketStatus.OPEN),
    TicketStatus.CLOSED: (TicketStatus.OPEN,),
}
TASK_STATUS = {
    TicketStatus.OPEN: "requested",
    TicketStatus.IN_PROGRESS: "in-progress",
    TicketStatus.ON_HOLD: "on-hold",
    TicketStatus.RESOLVED: "completed",
    TicketStatus.CLOSED: "completed",
}
# Tickets written without a businessStatus (by others, or before it existed): read from Task.status.
_FROM_TASK_STATUS = {
    "in-progress": TicketStatus.IN_PROGRESS,
    "on-hold": TicketStatus.ON_HOLD,
    "completed": TicketStatus.RESOLVED,
    "cancelled": TicketStatus.CLOSED,
    "failed": TicketStatus.CLOSED,
    "rejected": TicketStatus.CLOSED,
    "entered-in-error": TicketStatus.CLOSED,
}


@dataclass(frozen=True)
class Comment:
    """A staff comment on a ticket."""

    author: str | None
    time: datetime | None
    text: str


@dataclass(frozen=True)
class Ticket:
    """A ticket as the API shows it, read from any prm-ticket Task (missing parts are None)."""

    id: str
    patient: str | None
    category: str | None
    priority: str
    status: TicketStatus
    description: str | None
    owner: str | None
    due: datetime | None
    created: datetime | None
    source: str | None
    resolution: str | None
    escalated: bool
    comments: list[Comment] = field(default_factory=list)

    def overdue(self, now: datetime) -> bool:
        """Open past its due time."""
        return self.status in OPEN_STATUSES and self.due is not None and self.due < now


def status_of(task: Resource) -> TicketStatus:
    """A ticket's status: its businessStatus code while Task.status agrees with it, else read from
    Task.status (a writer that only set Task.status, e.g. completed, is believed)."""
    code = code_in(task.get("businessStatus"), CS_TICKET_STATUS)
    if code is not None and code in TicketStatus.__members__.values():
        status = TicketStatus(code)
        if TASK_STATUS[status] == task.get("status"):
            return status
    return _FROM_TASK_STATUS.get(str(task.get("status")), TicketStatus.OPEN)


def due_of(task: Resource) -> datetime | None:
    """The SLA due time (tickets written before it moved to restriction kept it in executionPeriod.start)."""
    due = ((task.get("restriction") or {}).get("period") or {}).get("end")
    return parse_datetime(due or (task.get("executionPeriod") or {}).get("start"))


def ticket_of(task: Resource) -> Ticket:
    """Read a ticket (valid FHIR written by anyone: every part may be missing)."""
    patient = (task.get("for") or {}).get("reference", "")
    notes = sorted(
        (
            Comment(
                author=n.get("authorString"), time=parse_datetime(n.get("time")), text=str(n.get("text", ""))
            )
            for n in task.get("note", [])
        ),
        key=lambda c: (c.time is None, c.time),
    )
    due = due_of(task)
    escalated = extension_value(task, EXT_TICKET_ESCALATED)
    return Ticket(
        id=str(task.get("id")),
        patient=patient.removeprefix("Patient/") if patient.startswith("Patient/") else None,
        category=extension_value(task, EXT_TICKET_CATEGORY),
        priority=str(task.get("priority", Priority.ROUTINE.value)),
        status=status_of(task),
        description=task.get("description"),
        owner=task_owner(task),
        due=due,
        created=parse_datetime(task.get("authoredOn")),
        source=extension_value(task, EXT_SOURCE_CHANNEL),
        resolution=(task.get("statusReason") or {}).get("text"),
        escalated=escalated is not None and due is not None and parse_datetime(escalated) == due,
        comments=notes,
    )


def ticket_resource(
    *,
    patient_ref: str | None,
    category: str,
    description: str,
    due: datetime,
    owner: str | None,
    created: datetime,
    priority: str = "routine",
    source: str | None = None,
    focus: str | None = None,
) -> Resource:
    """A new open ticket for staff to work on."""
    extensions = [extension(EXT_TICKET_CATEGORY, valueCode=category)]
    if source:
        extensions.append(extension(EXT_SOURCE_CHANNEL, valueCode=source))
    task: Resource = {
        "resourceType": "Task",
        "meta": meta_profile(PROFILE_TICKET),
        "extension": extensions,
        "status": TASK_STATUS[TicketStatus.OPEN],
        "businessStatus": status_concept(TicketStatus.OPEN),
        "intent": "order",
        "priority": priority,
        "code": {"coding": [coding(CS_TASK_TYPE, TASK_TYPE_TICKET)]},
        "description": description,
        "authoredOn": instant(created),
        "restriction": {"period": {"end": instant(due)}},
    }
    if patient_ref:
        task["for"] = {"reference": patient_ref}
    if focus:
        task["focus"] = {"reference": focus}
    if owner:
        set_task_owner(task, owner)
    return task


def status_concept(status: TicketStatus) -> Resource:
    """The businessStatus of a ticket status."""
    return {"coding": [coding(CS_TICKET_STATUS, status.value)]}


def set_status(task: Resource, status: TicketStatus, *, resolution: str | None = None) -> None:
    """Move a ticket to `status` in place (a resolution note goes with resolved; reopening drops it)."""
    task["status"] = TASK_STATUS[status]
    task["businessStatus"] = status_concept(status)
    if resolution:
        task["statusReason"] = {"text": resolution}
    elif status in OPEN_STATUSES:
        task.pop("statusReason", None)


def set_due(task: Resource, due: datetime) -> None:
    """Set the SLA due time."""
    task["restriction"] = {**(task.get("restriction") or {}), "period": {"end": instant(due)}}
