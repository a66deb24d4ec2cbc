"""Ticket use cases: open, list, read, change (status, priority, owner, description), comment.

Every write carries its Provenance; a status change follows the workflow of `resources.TRANSITIONS`
(409 `invalid_transition` naming the allowed ones). The SLA due time comes from `sla.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from app.errors import Conflict, Invalid, InvalidTransition
from app.fhir.builders import Actor, code_in, instant, set_task_owner
from app.fhir.canonical import CS_TASK_TYPE, CS_TICKET_STATUS, SID_STAFF_USER, TASK_TYPE_TICKET
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance, page_of, require, require_kind, update_edited
from app.tickets import resources as res
from app.tickets.resources import Category, Priority, TicketStatus
from app.tickets.sla import due_at, sla_table

log = structlog.get_logger(__name__)

_TICKET_CODE = f"{CS_TASK_TYPE}|{TASK_TYPE_TICKET}"
# `owner=none` lists tickets nobody owns.
UNASSIGNED = "none"


def _choice(field: str, value: str, allowed: type[Category] | type[Priority]) -> str:
    if value not in allowed.__members__.values():
        raise Invalid(field, f"{value!r} is not one of {', '.join(m.value for m in allowed)}")
    return value


async def create_ticket(
    fhir: FhirClient,
    *,
    patient_id: str | None,
    category: str,
    description: str,
    due: datetime | None = None,
    owner: str | None = None,
    actors: Sequence[Actor],
    priority: str = "routine",
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    source: str | None = None,
    now: datetime,
    sla: Mapping[str, int],
    focus: str | None = None,
) -> Resource:
    """A ticket for staff; `priority` is Task.priority (routine, urgent, asap, stat); without `due`, the
    SLA table (defaults, overridden by `sla`: every caller passes the deployment's
    `settings.ticket_sla_minutes`, so overrides reach every path) sets it from the category and priority;
    `focus` is the reference it is about (a conversation handed to staff)."""
    task = new_ticket(
        patient_id=patient_id,
        category=category,
        description=description,
        due=due,
        owner=owner,
        priority=priority,
        identifier=identifier,
        source=source,
        now=now,
        sla=sla,
        focus=focus,
    )
    if patient_id:
        await require(fhir, "Patient", patient_id, what="Patient")
    ticket = await create_with_provenance(
        fhir, task, actors=actors, activity="ticket.create", instruction=instruction
    )
    log.info("ticket.created", ticket=f"Task/{ticket['id']}", category=category, priority=priority)
    return ticket


def new_ticket(
    *,
    patient_id: str | None,
    category: str,
    description: str,
    due: datetime | None,
    owner: str | None,
    priority: str,
    identifier: dict[str, str] | None,
    source: str | None,
    now: datetime,
    sla: Mapping[str, int],
    focus: str | None = None,
) -> Resource:
    """A ticket Task to write (category and priority checked; without `due`, the SLA sets it)."""
    _choice("category", category, Category)
    _choice("priority", priority, Priority)
    task = res.ticket_resource(
        patient_ref=f"Patient/{patient_id}" if patient_id else None,
        category=category,
        description=description,
        due=due or due_at(now, category=category, priority=priority, table=sla_table(sla)),
        owner=owner,
        created=now,
        priority=priority,
        source=source,
        focus=focus,
    )
    if identifier:
        task["identifier"] = [identifier]
    return task


def is_ticket(task: Resource) -> bool:
    """Whether a Task is a ticket (not an opportunity, a conversation ...)."""
    return code_in(task.get("code"), CS_TASK_TYPE) == TASK_TYPE_TICKET


async def get_ticket(fhir: FhirClient, ticket_id: str) -> Resource:
    """One ticket; NotFound when the id names no ticket."""
    return await require_kind(fhir, "Task", ticket_id, what="Ticket", kind=is_ticket)


@dataclass(frozen=True)
class TicketFilter:
    """What a ticket list is narrowed to (every given field must match)."""

    patient_id: str | None = None
    status: TicketStatus | None = None
    category: str | None = None
    priority: str | None = None
    owner: str | None = None  # a staff user, or UNASSIGNED
    overdue: bool = False
    source: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def _open_statuses() -> str:
    return ",".join(f"{CS_TICKET_STATUS}|{s.value}" for s in res.OPEN_STATUSES)


def search_params(where: TicketFilter, *, now: datetime) -> list[tuple[str, str]]:
    """The FHIR search for a ticket filter (newest first)."""
    params = [("code", _TICKET_CODE), ("_sort", "-authored-on,-_id")]
    if where.patient_id:
        params.append(("patient", f"Patient/{where.patient_id}"))
    if where.status:
        # Task.status too: a writer that only changed Task.status is believed (resources.status_of).
        params.append(("business-status", f"{CS_TICKET_STATUS}|{where.status.value}"))
        params.append(("status", res.TASK_STATUS[where.status]))
    if where.category:
        params.append(("ticket-category", where.category))
    if where.priority:
        params.append(("priority", where.priority))
    if where.owner == UNASSIGNED:
        params.append(("owner-identifier:missing", "true"))
    elif where.owner:
        params.append(("owner-identifier", f"{SID_STAFF_USER}|{where.owner}"))
    if where.overdue:
        params += [
            ("due", f"lt{instant(now)}"),
            ("business-status", _open_statuses()),
            ("status", ",".join(res.TASK_STATUS[s] for s in res.OPEN_STATUSES)),
        ]
    if where.source:
        params.append(("source-channel", where.source))
    if where.created_from:
        params.append(("authored-on", f"ge{instant(where.created_from)}"))
    if where.created_to:
        params.append(("authored-on", f"lt{instant(where.created_to)}"))
    return params


async def list_tickets(
    fhir: FhirClient, *, where: TicketFilter, now: datetime, page: int, count: int
) -> tuple[list[Resource], bool]:
    """A page of tickets, newest first, and whether another page follows."""
    return await page_of(fhir, "Task", search_params(where, now=now), page=page, count=count)


@dataclass(frozen=True)
class TicketChanges:
    """A staff change of a ticket; None leaves a field as it is (`unassign` clears the owner)."""

    status: TicketStatus | None = None
    priority: str | None = None
    owner: str | None = None
    unassign: bool = False
    description: str | None = None
    resolution: str | None = None


def _apply(task: Resource, changes: TicketChanges, *, now: datetime, sla: Mapping[str, int] | None) -> bool:
    """Apply a change in place (InvalidTransition / Invalid when the workflow refuses); whether anything changed."""
    before = repr(task)
    current = res.status_of(task)
    wanted = changes.status
    if wanted is not None and wanted is not current:
        allowed = res.TRANSITIONS[current]
        if wanted not in allowed:
            raise InvalidTransition(
                current=current.value,
                wanted=wanted.value,
                allowed=[a.value for a in allowed],
                what="A ticket",
            )
    target = wanted or current
    if target is TicketStatus.RESOLVED and not (
        changes.resolution or (task.get("statusReason") or {}).get("text")
    ):
        raise Invalid("resolution", "a resolved ticket needs a resolution note")
    if changes.priority is not None:
        task["priority"] = _choice("priority", changes.priority, Priority)
    if changes.description is not None:
        task["description"] = changes.description
    if changes.unassign or changes.owner is not None:
        set_task_owner(task, None if changes.unassign else changes.owner)
    if wanted is not None and wanted is not current:
        res.set_status(task, wanted, resolution=changes.resolution)
        if wanted is TicketStatus.OPEN and current not in res.OPEN_STATUSES:
            # Reopened: the SLA clock starts again.
            category = res.ticket_of(task).category or "default"
            res.set_due(task, due_at(now, category=category, priority=task["priority"], table=sla_table(sla)))
    elif changes.resolution is not None:
        if current not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            raise Invalid("resolution", "only a resolved or closed ticket has a resolution note")
        task["statusReason"] = {"text": changes.resolution}
    return repr(task) != before


async def change_ticket(
    fhir: FhirClient,
    *,
    ticket_id: str,
    changes: TicketChanges,
    actor: Actor,
    now: datetime,
    sla: Mapping[str, int] | None = None,
) -> Resource:
    """Change a ticket's status, priority, owner or description; nothing is written when nothing changes."""
    task = await get_ticket(fhir, ticket_id)
    updated = await update_edited(
        fhir,
        task,
        lambda t: _apply(t, changes, now=now, sla=sla),
        on_conflict=Conflict(f"Ticket {ticket_id!r} kept changing; try again", code="ticket_busy"),
        actors=[actor],
        activity="ticket.update",
    )
    log.info("ticket.updated", ticket=f"Task/{ticket_id}", status=res.status_of(updated).value)
    return updated


async def add_comment(
    fhir: FhirClient, *, ticket_id: str, text: str, actor: Actor, now: datetime
) -> Resource:
    """Add a staff comment (author: the acting user, time: now)."""
    task = await get_ticket(fhir, ticket_id)
    note = {"authorString": actor.user or actor.kind.value, "time": instant(now), "text": text}

    def edit(t: Resource) -> bool:
        t["note"] = [*t.get("note", []), note]
        return True

    updated = await update_edited(
        fhir,
        task,
        edit,
        on_conflict=Conflict(f"Ticket {ticket_id!r} kept changing; try again", code="ticket_busy"),
        actors=[actor],
        activity="ticket.comment",
    )
    log.info("ticket.commented", ticket=f"Task/{ticket_id}")
    return updated
