"""Ticket intents: open one of any category and priority, change, assign, comment, resolve, close, list."""

from __future__ import annotations

import re
from typing import Any

from app.assistant.intents.common import RESULTS_LIMIT, Context, Handler
from app.errors import NotFound
from app.fhir.client import Resource
from app.inputs import FHIR_ID_PATTERN, USER_PATTERN
from app.ports.nlu import Intent
from app.tickets import service as tickets
from app.tickets.resources import OPEN_STATUSES, TRANSITIONS, TicketStatus, status_of, ticket_of
from app.tickets.schemas import TicketSummary
from app.understanding import resolve as r
from app.understanding.draft import Draft

# Ticket statuses staff may ask for by name in an update ("mark ticket 12 in progress").
_STATUS_WORDS = {
    "in progress": TicketStatus.IN_PROGRESS,
    "on hold": TicketStatus.ON_HOLD,
    "open": TicketStatus.OPEN,
}


def summary(task: Resource, ctx: Context) -> dict[str, Any]:
    """A ticket as shown in results and candidates."""
    ticket = ticket_of(task)
    return {
        "ticket": f"Task/{ticket.id}",
        **TicketSummary.of(task, now=ctx.real_now).model_dump(mode="json", exclude={"id"}),
        "patient": ticket.patient,
        "owner": ticket.owner,
        "description": ticket.description,
    }


async def _target(draft: Draft, ctx: Context, *, why: str) -> Resource | None:
    """The ticket the instruction means: by its id, else the patient's only open ticket (of the category said)."""
    if draft.entities.ticket and not re.fullmatch(FHIR_ID_PATTERN, draft.entities.ticket):
        draft.need("ticket", "Ticket", why=f"{draft.entities.ticket!r} is not a ticket number.")
        return None
    if draft.entities.ticket:
        try:
            task = await tickets.get_ticket(ctx.fhir, draft.entities.ticket)
        except NotFound:
            draft.need("ticket", "Ticket", why=f"There is no ticket {draft.entities.ticket!r}.")
            return None
    else:
        patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
        if patient is None:
            draft.need(
                "ticket",
                "Ticket",
                why=None if draft.clarifications else f"Which ticket {why}? Give its number or the patient.",
            )
            return None
        category = draft.entities.category
        found, _ = await tickets.list_tickets(
            ctx.fhir,
            where=tickets.TicketFilter(patient_id=patient["id"], category=category),
            now=ctx.real_now,
            page=1,
            count=RESULTS_LIMIT,
        )
        live = [t for t in found if status_of(t) in OPEN_STATUSES]
        if len(live) != 1:
            draft.alternatives.extend(summary(t, ctx) for t in live)
            draft.need(
                "ticket",
                "Ticket",
                why=f"{r.patient_summary(patient)['name']} has {len(live) or 'no'} open tickets"
                + ("; which one?" if live else "."),
            )
            return None
        task = live[0]
    draft.resolved.ticket = f"Task/{task['id']}"
    draft.fill("ticket", draft.resolved.ticket, "resolved", "Ticket")
    return task


async def create(draft: Draft, ctx: Context) -> None:
    """Open a ticket (about a patient when one is named)."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    category, priority = draft.entities.category, draft.entities.priority
    draft.fill("category", category or "other", "extracted" if category else "default", "Category")
    draft.fill("priority", priority or "routine", "extracted" if priority else "default", "Priority")
    draft.fill(
        "message",
        draft.entities.message or draft.text,
        "extracted" if draft.entities.message else "default",
        "Description",
    )
    about = f" about {r.patient_summary(patient)['name']}" if patient else ""
    draft.act("create_ticket", f"Open a {priority or 'routine'} {category or 'other'} ticket{about}")


async def update(draft: Draft, ctx: Context) -> None:
    """Change a ticket's priority, status (in progress, on hold, open) or description."""
    task = await _target(draft, ctx, why="should change")
    priority = draft.entities.priority
    status = _STATUS_WORDS.get((draft.entities.stage or "").lower())
    if priority:
        draft.fill("priority", priority, "extracted", "Priority")
    if status:
        draft.fill("status", status.value, "extracted", "Status")
    if draft.entities.message:
        draft.fill("message", draft.entities.message, "extracted", "Description")
    if not (priority or status or draft.entities.message):
        draft.need(
            "changes",
            "Changes",
            why="What should change (priority, status in progress / on hold, description)?",
        )
    if (
        task is not None
        and status
        and status is not status_of(task)
        and status not in TRANSITIONS[status_of(task)]
    ):
        draft.clarifications.append(f"A {status_of(task).value} ticket cannot become {status.value}.")
    changes = ", ".join(
        f"{k} -> {v}" for k, v in (("priority", priority), ("status", status and status.value)) if v
    )
    draft.act("update_ticket", f"Update {draft.resolved.ticket or 'the ticket'}: {changes or 'description'}")


async def assign(draft: Draft, ctx: Context) -> None:
    """Assign a ticket to a staff user (the asker for "to me")."""
    await _target(draft, ctx, why="should be assigned")
    owner = draft.entities.assignee or (ctx.user if draft.entities.mine else None)
    if owner and not re.fullmatch(USER_PATTERN, owner):
        draft.need("owner", "Assign to", why=f"{owner!r} is not a staff user (e.g. nurse@clinic).")
    elif owner:
        draft.fill("owner", owner, "extracted", "Assign to")
    else:
        draft.need("owner", "Assign to", why="To which staff user (e.g. nurse@clinic)?")
    draft.act("assign_ticket", f"Assign {draft.resolved.ticket or 'the ticket'} to {owner or 'a staff user'}")


async def comment(draft: Draft, ctx: Context) -> None:
    """Add a comment to a ticket."""
    await _target(draft, ctx, why="should get the comment")
    if draft.entities.message:
        draft.fill("message", draft.entities.message, "extracted", "Comment")
    else:
        draft.need("message", "Comment", why="What should the comment say?")
    draft.act("comment_ticket", f"Add a comment to {draft.resolved.ticket or 'the ticket'}")


async def resolve(draft: Draft, ctx: Context) -> None:
    """Resolve a ticket with a note (a resolved ticket needs one)."""
    task = await _target(draft, ctx, why="was resolved")
    if draft.entities.message:
        draft.fill("message", draft.entities.message, "extracted", "Resolution")
    else:
        draft.need("message", "Resolution", why="How was it resolved? A resolved ticket needs a note.")
    if task is not None and TicketStatus.RESOLVED not in TRANSITIONS[status_of(task)]:
        draft.clarifications.append(f"The ticket is {status_of(task).value}; it cannot be resolved.")
    draft.act(
        "resolve_ticket",
        f"Resolve {draft.resolved.ticket or 'the ticket'}: it leaves the open queue (it can be reopened)",
        destructive=True,
    )


async def close(draft: Draft, ctx: Context) -> None:
    """Close a ticket (with a note when one is given)."""
    task = await _target(draft, ctx, why="should be closed")
    draft.fill(
        "message", draft.entities.message, "extracted" if draft.entities.message else "default", "Note"
    )
    if task is not None and TicketStatus.CLOSED not in TRANSITIONS[status_of(task)]:
        draft.clarifications.append(f"The ticket is {status_of(task).value}; it cannot be closed.")
    draft.act(
        "close_ticket",
        f"Close {draft.resolved.ticket or 'the ticket'}: it leaves the open queue (it can be reopened)",
        destructive=True,
    )


async def listing(draft: Draft, ctx: Context) -> None:
    """Answer: tickets that are mine, overdue, of a patient or of a category."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if draft.entities.patient_name and patient is None:
        return
    where = tickets.TicketFilter(
        patient_id=patient["id"] if patient else None,
        owner=ctx.user if draft.entities.mine else None,
        overdue=bool(draft.entities.overdue),
        category=draft.entities.category,
    )
    found, more = await tickets.list_tickets(
        ctx.fhir, where=where, now=ctx.real_now, page=1, count=RESULTS_LIMIT
    )
    if not where.overdue:
        found = [t for t in found if status_of(t) in OPEN_STATUSES]
    draft.results.extend(summary(t, ctx) for t in found)
    kind = " ".join(w for w in ("overdue" if where.overdue else "open", where.category or "") if w)
    whose = (
        " assigned to you" if where.owner else f" of {r.patient_summary(patient)['name']}" if patient else ""
    )
    count = f"{len(found)}{'+' if more else ''}"
    draft.answer = f"{count} {kind} ticket{'s' if len(found) != 1 else ''}{whose}."


HANDLERS: dict[Intent, Handler] = {
    Intent.CREATE_TICKET: create,
    Intent.UPDATE_TICKET: update,
    Intent.ASSIGN_TICKET: assign,
    Intent.COMMENT_TICKET: comment,
    Intent.RESOLVE_TICKET: resolve,
    Intent.CLOSE_TICKET: close,
    Intent.LIST_TICKETS: listing,
}
