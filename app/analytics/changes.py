"""Keeping roll-ups true: a change to what a closed day counted marks that day's roll-up stale (readers
count the day live) and queues the job that rolls it up again. Idempotent: a replayed change writes the
same pending marker and queues no second job (the job id names the change)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from app.analytics import rollups
from app.analytics.rows import APPOINTMENTS, COMMUNICATIONS, LEADS, TICKETS, Kind, communication_moment
from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.fhir.builders import code_in
from app.fhir.canonical import CS_TASK_TYPE, TASK_TYPE_OPPORTUNITY, TASK_TYPE_TICKET
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirNotFound
from app.ports.jobs import Job


async def _previous(change: Change, context: ChangeContext) -> Resource | None:
    """The version before the change (None for a creation, or when HAPI no longer has it)."""
    if not change.version.isdigit() or int(change.version) <= 1:
        return None
    try:
        return await context.fhir.vread(change.resource_type, change.id, str(int(change.version) - 1))
    except FhirNotFound:  # a deleted or expunged version: nothing left to count
        return None


async def _touched(change: Change, context: ChangeContext, kind: Kind, moments: list[str | None]) -> None:
    """Mark stale the roll-ups of the closed days among `moments` and queue their recomputation."""
    tz = ZoneInfo(context.default_timezone)
    days: set[date] = set()
    for moment in moments:
        when = parse_datetime(moment)
        if when is not None:
            days.add(when.astimezone(tz).date())
    for day in sorted(d for d in days if rollups.closed(d, now=context.now, tz=tz)):
        await rollups.mark_stale(context.fhir, kind, day, now=context.now, tz=tz)
        await context.queue.enqueue(
            Job.ROLL_UP_ANALYTICS_DAY,
            {"kind": kind.name, "day": day.isoformat()},
            job_id=f"rollup-{kind.name}-{day.isoformat()}-{change.resource_type}-{change.id}-{change.version}",
        )


def _current(change: Change) -> list[Resource]:
    return [change.resource] if change.kind is not ChangeKind.DELETED and change.resource else []


@on("Appointment")
async def appointment_changed(change: Change, *, context: ChangeContext) -> None:
    """The day the appointment starts on, and the day it started on before (a reschedule moves it)."""
    versions = [*_current(change), *filter(None, [await _previous(change, context)])]
    await _touched(change, context, APPOINTMENTS, [v.get("start") for v in versions])


@on("Task")
async def task_changed(change: Change, *, context: ChangeContext) -> None:
    """The day a ticket or lead was authored (set once: the previous version only matters for a delete)."""
    versions = _current(change)
    if change.kind is ChangeKind.DELETED:
        versions = list(filter(None, [await _previous(change, context)]))
    for version in versions:
        kind = {TASK_TYPE_TICKET: TICKETS, TASK_TYPE_OPPORTUNITY: LEADS}.get(
            code_in(version.get("code"), CS_TASK_TYPE) or ""
        )
        if kind is not None:
            await _touched(change, context, kind, [version.get("authoredOn")])


@on("Communication")
async def communication_changed(change: Change, *, context: ChangeContext) -> None:
    """The day a message was sent or received (set once: the previous version only matters for a delete)."""
    versions = _current(change)
    if change.kind is ChangeKind.DELETED:
        versions = list(filter(None, [await _previous(change, context)]))
    await _touched(change, context, COMMUNICATIONS, [communication_moment(v) for v in versions])
