"""The catch-up sweep: `<Type>/_history?_since=` from a stored cursor (minus an overlap), each version
de-duplicated on type/id/version and queued for handling, deletes included."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from app.changes.history import HistoryEntry, advance, parse_entry, parse_instant, window_start
from app.changes.model import BadChange, cursor_key, dedupe_key, handle_job_id
from app.fhir.client import FhirClient
from app.ingress import enqueue_once
from app.ports.jobs import Job, JobQueue
from app.ports.state import LockTimeout, StateStore

log = structlog.get_logger(__name__)

HISTORY_PAGE_SIZE = 200
# One sweep at a time: two would race on the cursors. A crashed holder frees it after this long.
SWEEP_LOCK = "changes:sweep"
SWEEP_LOCK_SECONDS = 300.0
SWEEP_LOCK_WAIT_SECONDS = 1.0


@dataclass
class SweepReport:
    """Counts per sweep (no resource contents)."""

    read: int = 0
    queued: int = 0
    duplicates: int = 0
    malformed: int = 0
    locked_out: bool = False
    cursors: dict[str, str] = field(default_factory=dict)


def change_payload(entry: HistoryEntry) -> dict[str, str]:
    """The HANDLE_CHANGE job's arguments for a history entry."""
    return {
        "resource_type": entry.resource_type,
        "resource_id": entry.id,
        "version": entry.version,
        "kind": entry.kind.value,
    }


async def queue_change(
    state: StateStore, queue: JobQueue, entry: HistoryEntry, *, dedupe_ttl_seconds: int
) -> bool:
    """Queue the handling of one version unless it was seen already; True if queued now."""
    return await enqueue_once(
        state,
        queue,
        key=dedupe_key(entry.resource_type, entry.id, entry.version),
        ttl_seconds=dedupe_ttl_seconds,
        job=Job.HANDLE_CHANGE,
        payload=change_payload(entry),
        job_id=handle_job_id(entry.resource_type, entry.id, entry.version),
    )


async def sweep(
    *,
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    types: Iterable[str],
    now: datetime,
    overlap: timedelta,
    lookback: timedelta,
    dedupe_ttl_seconds: int,
    page_size: int = HISTORY_PAGE_SIZE,
) -> SweepReport:
    """Read each type's history since its cursor and queue what was not seen; advance the cursors."""
    report = SweepReport()
    try:
        async with state.lock(
            SWEEP_LOCK, ttl_seconds=SWEEP_LOCK_SECONDS, wait_seconds=SWEEP_LOCK_WAIT_SECONDS
        ):
            for resource_type in types:
                await _sweep_type(
                    fhir, state, queue, resource_type, report,
                    now=now, overlap=overlap, lookback=lookback,
                    dedupe_ttl_seconds=dedupe_ttl_seconds, page_size=page_size,
                )  # fmt: skip
    except LockTimeout:
        report.locked_out = True
    log.info(
        "changes.sweep.done",
        read=report.read, queued=report.queued, duplicates=report.duplicates,
        malformed=report.malformed, locked_out=report.locked_out,
    )  # fmt: skip
    return report


async def _sweep_type(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    resource_type: str,
    report: SweepReport,
    *,
    now: datetime,
    overlap: timedelta,
    lookback: timedelta,
    dedupe_ttl_seconds: int,
    page_size: int,
) -> None:
    stored = await state.get(cursor_key(resource_type))
    cursor = parse_instant(stored) if stored else None
    since = window_start(cursor, now=now, overlap=overlap, lookback=lookback)
    # Every page is read before the cursor moves, so it never passes what was not read.
    pages = await fhir.search_bundles(
        f"{resource_type}/_history",
        {"_since": since.astimezone(UTC).isoformat(timespec="milliseconds"), "_count": str(page_size)},
    )
    newest: datetime | None = None
    for page in pages:
        for raw in page.get("entry", []):
            try:
                entry = parse_entry(raw)
            except BadChange:
                report.malformed += 1
                continue
            if entry.resource_type != resource_type:
                report.malformed += 1
                continue
            report.read += 1
            if await queue_change(state, queue, entry, dedupe_ttl_seconds=dedupe_ttl_seconds):
                report.queued += 1
            else:
                report.duplicates += 1
            if entry.last_updated is not None and (newest is None or entry.last_updated > newest):
                newest = entry.last_updated
    moved = advance(cursor, newest)
    if moved is not None and moved != cursor:
        await state.set(cursor_key(resource_type), moved.isoformat())
    if moved is not None:
        report.cursors[resource_type] = moved.isoformat()
