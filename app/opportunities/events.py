"""The pipeline hears of appointments through the change feed (app/opportunities/moves.py says what moves)."""

from __future__ import annotations

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.opportunities import moves


@on("Appointment")
async def move_opportunity(change: Change, *, context: ChangeContext) -> None:
    """Booked -> the patient's lead is 'booked'; fulfilled -> 'won' (cancellations: jobs.py)."""
    if change.kind is ChangeKind.DELETED or change.resource is None:
        return
    status = change.resource.get("status")
    if status == "booked":
        await moves.on_booked(context.fhir, change.resource, now=context.now)
    elif status == "fulfilled":
        await moves.on_fulfilled(context.fhir, change.resource, now=context.now)
