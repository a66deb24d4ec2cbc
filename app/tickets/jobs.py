"""Ticket background work: escalate tickets past their SLA due time, once per breach."""

from __future__ import annotations

from datetime import datetime

import structlog

from app.errors import Conflict
from app.fhir.builders import Actor, AgentKind, instant, set_extension
from app.fhir.canonical import EXT_TICKET_ESCALATED
from app.fhir.client import FhirClient, Resource
from app.fhir.records import update_edited
from app.ports.events import Event, EventBus, EventsUnavailable, EventType
from app.tickets import resources as res
from app.tickets.service import TicketFilter, search_params

log = structlog.get_logger(__name__)

_ESCALATOR = Actor(kind=AgentKind.SYSTEM)


def escalate(task: Resource) -> bool:
    """Raise an overdue ticket's priority one step and mark the breached due (False: already done)."""
    ticket = res.ticket_of(task)
    if ticket.due is None or ticket.escalated or ticket.status not in res.OPEN_STATUSES:
        return False
    order = res.PRIORITY_ORDER
    current = res.Priority(ticket.priority) if ticket.priority in order else res.Priority.ROUTINE
    task["priority"] = order[min(order.index(current) + 1, len(order) - 1)].value
    set_extension(task, EXT_TICKET_ESCALATED, valueDateTime=instant(ticket.due))
    return True


async def escalate_overdue_tickets(
    *, fhir: FhirClient, events: EventBus, now: datetime, patient_id: str | None = None
) -> int:
    """Escalate every open ticket (of one patient, if named) past its due time that was not escalated
    for this breach; how many."""
    params = search_params(TicketFilter(overdue=True, patient_id=patient_id), now=now)
    tasks = await fhir.search("Task", params)
    escalated = 0
    for task in tasks:
        if res.ticket_of(task).escalated:
            continue
        before = task.get("meta", {}).get("versionId")
        # Re-checked on the latest version inside the edit loop: a concurrent run escalates once.
        updated = await update_edited(
            fhir,
            task,
            escalate,
            on_conflict=Conflict(f"Ticket {task['id']!r} kept changing", code="ticket_busy"),
            actors=[_ESCALATOR],
            activity="ticket.escalate",
        )
        if updated.get("meta", {}).get("versionId") == before:
            continue
        escalated += 1
        log.info("ticket.escalated", ticket=f"Task/{task['id']}", priority=updated.get("priority"))
        await _publish(events, updated)
    return escalated


async def _publish(events: EventBus, task: Resource) -> None:
    """The dashboards hear of it; a lost live event is only a hint (the ticket itself is escalated)."""
    ticket = res.ticket_of(task)
    event = Event(
        EventType.TICKET_ESCALATED,
        {"ticket": ticket.id, "priority": ticket.priority, "patient": ticket.patient},
    )
    try:
        await events.publish(event)
    except EventsUnavailable:
        log.warning("events.publish.failed", ticket=f"Task/{ticket.id}", event_type=event.type.value)
