"""Roll-up jobs: one kind's closed day (after a change marked it stale), and every kind over a range of
closed days (nightly: yesterday; or a backfill)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from app.analytics import rollups
from app.analytics.rows import KINDS, Period
from app.fhir.client import FhirClient
from app.ports.state import StateStore

log = structlog.get_logger(__name__)


async def roll_up_day(
    *, fhir: FhirClient, state: StateStore, now: datetime, timezone: str, kind: str, day: str
) -> bool:
    """Roll up one kind's day again (False when the day is not over, or the kind unknown)."""
    if kind not in KINDS:
        log.warning("analytics.rollup.unknown_kind", kind=kind[:40])
        return False
    return await rollups.roll_up(
        fhir, state, KINDS[kind], date.fromisoformat(day), now=now, tz=ZoneInfo(timezone)
    )


async def roll_up_days(
    *,
    fhir: FhirClient,
    state: StateStore,
    now: datetime,
    timezone: str,
    first: str | None = None,
    last: str | None = None,
) -> int:
    """Roll up every kind for each closed day from `first` through `last` (default: yesterday, local, and
    any day still pending because its recompute job gave up); how many roll-ups were written."""
    tz = ZoneInfo(timezone)
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    period = Period(
        first=date.fromisoformat(first) if first else yesterday,
        last=date.fromisoformat(last) if last else yesterday,
        tz=tz,
    )
    written = 0
    for kind in KINDS.values():
        stale = await rollups.pending(fhir, kind, tz) if first is None and last is None else []
        for day in sorted({*period.dates(), *stale}):
            written += await rollups.roll_up(fhir, state, kind, day, now=now, tz=tz)
    log.info(
        "analytics.rollup.days", first=period.first.isoformat(), last=period.last.isoformat(), written=written
    )
    return written
