"""Background work of scheduling: keep every role's slots generated over the horizon; free expired holds."""

from __future__ import annotations

from datetime import datetime

import structlog

from app.directory.index import DirectoryCache
from app.fhir.client import FhirClient
from app.scheduling.booking import release_expired_holds as release_holds_of_slot
from app.scheduling.slots import DEFAULT_HORIZON_DAYS, generate_slots

log = structlog.get_logger(__name__)


async def extend_slot_horizons(
    *, fhir: FhirClient, directory: DirectoryCache, now: datetime, days: int = DEFAULT_HORIZON_DAYS
) -> int:
    """Generate missing slots for every active role from today over `days` days; how many were created."""
    index = await directory.get()
    created = 0
    for entry in index.roles:
        if entry.active and entry.schedule_id:
            report = await generate_slots(
                fhir, entry, first_day=now.astimezone(entry.timezone).date(), days=days, now=now
            )
            created += report.created
    log.info("job.slot_horizon.extended", roles=len(index.roles), created=created)
    return created


async def release_expired_holds(*, fhir: FhirClient, slot_id: str, now: datetime) -> int:
    """Free a slot whose hold expired unbooked (nothing happens if it was booked or already released)."""
    released = await release_holds_of_slot(fhir, slot_id=slot_id, now=now)
    log.info("job.hold.checked", slot=f"Slot/{slot_id}", released=released)
    return released
