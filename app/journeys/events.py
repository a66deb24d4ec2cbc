"""Journeys from the change feed: whoever books, checks in, completes or cancels an appointment (the API, an
EHR through /fhir, a script into HAPI), its journeys start, advance or stop (app.journeys.service)."""

from __future__ import annotations

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.journeys import service


@on("Appointment")
async def follow_appointment(change: Change, *, context: ChangeContext) -> None:
    """Start, advance or cancel the appointment's journeys after any change to it (idempotent)."""
    # A deleted appointment names no patient any more; its journeys wait for staff to cancel them.
    if change.kind is ChangeKind.DELETED:
        return
    await service.follow_appointment(context.fhir, appointment_id=change.id, now=context.now)
