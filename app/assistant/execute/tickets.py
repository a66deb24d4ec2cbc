"""Executing ticket plans through the tickets service: open, change, assign, comment, resolve, close."""

from __future__ import annotations

from typing import Any

from app.assistant.execute.common import Execution, Executor, plan_tag, ref_id
from app.assistant.schemas import Plan
from app.errors import Invalid
from app.ports.nlu import Intent
from app.tickets import service as tickets
from app.tickets.resources import TicketStatus
from app.tickets.service import TicketChanges

CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.CREATE_TICKET: ("patient", "category", "priority", "message"),
    Intent.UPDATE_TICKET: ("priority", "status", "message"),
    Intent.ASSIGN_TICKET: ("owner",),
    Intent.COMMENT_TICKET: ("message",),
    Intent.RESOLVE_TICKET: ("message",),
    Intent.CLOSE_TICKET: ("message",),
}
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {
    Intent.CREATE_TICKET: (("category", "message"),),
    Intent.UPDATE_TICKET: (("ticket", "priority"), ("ticket", "status"), ("ticket", "message")),
    Intent.ASSIGN_TICKET: (("ticket", "owner"),),
    Intent.COMMENT_TICKET: (("ticket", "message"),),
    Intent.RESOLVE_TICKET: (("ticket", "message"),),
    Intent.CLOSE_TICKET: (("ticket",),),
}


def _ticket(form: dict[str, Any]) -> str:
    return ref_id(form.get("ticket"), "Task", "ticket")


async def _change(
    form: dict[str, Any], ex: Execution, written: list[str], changes: TicketChanges
) -> dict[str, str | None]:
    task = await tickets.change_ticket(
        ex.fhir, ticket_id=_ticket(form), changes=changes, actor=ex.actors[0], now=ex.now, sla=ex.ticket_sla
    )
    written.append(f"Task/{task['id']}")
    return {}


async def _create(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    patient_id = ref_id(form["patient"], "Patient", "patient") if form.get("patient") else None
    task = await tickets.create_ticket(
        ex.fhir,
        patient_id=patient_id,
        category=str(form.get("category") or "other"),
        priority=str(form.get("priority") or "routine"),
        description=str(form.get("message") or ex.instruction),
        actors=ex.actors,
        instruction=ex.instruction,
        identifier=plan_tag(plan),
        source="assistant",
        now=ex.now,
        sla=ex.ticket_sla,
    )
    written.append(f"Task/{task['id']}")
    return {"patient": f"Patient/{patient_id}" if patient_id else None}


async def _update(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    status = TicketStatus(form["status"]) if form.get("status") else None
    changes = TicketChanges(status=status, priority=form.get("priority"), description=form.get("message"))
    return await _change(form, ex, written, changes)


async def _assign(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    if not form.get("owner"):
        raise Invalid("form.owner", "say who the ticket goes to")
    return await _change(form, ex, written, TicketChanges(owner=str(form["owner"])))


async def _comment(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    if not form.get("message"):
        raise Invalid("form.message", "the comment is empty")
    task = await tickets.add_comment(
        ex.fhir, ticket_id=_ticket(form), text=str(form["message"]), actor=ex.actors[0], now=ex.now
    )
    written.append(f"Task/{task['id']}")
    return {}


async def _resolve(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    changes = TicketChanges(status=TicketStatus.RESOLVED, resolution=form.get("message"))
    return await _change(form, ex, written, changes)


async def _close(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    changes = TicketChanges(status=TicketStatus.CLOSED, resolution=form.get("message") or None)
    return await _change(form, ex, written, changes)


EXECUTORS: dict[Intent, Executor] = {
    Intent.CREATE_TICKET: _create,
    Intent.UPDATE_TICKET: _update,
    Intent.ASSIGN_TICKET: _assign,
    Intent.COMMENT_TICKET: _comment,
    Intent.RESOLVE_TICKET: _resolve,
    Intent.CLOSE_TICKET: _close,
}
