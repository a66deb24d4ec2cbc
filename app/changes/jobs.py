"""The change feed's jobs: handle one version (re-read through the gateway, call every handler), and
the periodic sweep. Dependencies are keyword arguments; `workers/` builds them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import structlog

from app.changes.history import parse_entry
from app.changes.model import (
    BadChange,
    Change,
    ChangeKind,
    Resource,
    check_id,
    check_type,
)
from app.changes.registry import ChangeContext, DispatchReport, HandlerRegistry, HandlersFailed, registry
from app.changes.sweep import SweepReport, queue_change, sweep
from app.fhir.errors import FhirNotFound

log = structlog.get_logger(__name__)


async def handle_change(
    *,
    resource_type: str,
    resource_id: str,
    version: str | None,
    kind: str,
    context: ChangeContext,
    dedupe_ttl_seconds: int,
    handlers: HandlerRegistry = registry,
) -> DispatchReport:
    """Call every handler of the type with the change; raises HandlersFailed so that rq retries.

    `version` is None only for a delete notified by rest-hook (HAPI names no version then): the job
    finds the delete's version in the instance history and queues it like any other version.
    """
    check_type(resource_type)
    check_id(resource_id)
    if version is None:
        await _queue_notified_delete(context, resource_type, resource_id, dedupe_ttl_seconds)
        return DispatchReport()
    change_kind = ChangeKind(kind)
    resource: Resource | None = None
    if change_kind is not ChangeKind.DELETED:
        try:
            resource = await context.fhir.vread(resource_type, resource_id, check_id(version, "version"))
        except FhirNotFound:
            # Expunged, or gone: handlers get the change without content (a delete is its own change).
            resource = None
    change = Change(resource_type, resource_id, version, change_kind, resource)
    report = await handlers.dispatch(change, context=context)
    log.info(
        "changes.handled",
        change=change.reference, kind=change_kind.value,
        succeeded=len(report.succeeded), failed=len(report.failed),
    )  # fmt: skip
    if report.failed:
        raise HandlersFailed(f"{change.reference}: {', '.join(report.failed)} failed")
    return report


async def _queue_notified_delete(
    context: ChangeContext, resource_type: str, resource_id: str, dedupe_ttl_seconds: int
) -> None:
    """Resolve the version of a notified delete (the newest history entry) and queue it once."""
    page = await context.fhir.search_page(f"{resource_type}/{resource_id}/_history", {"_count": "1"})
    entries = page.get("entry", [])
    try:
        newest = parse_entry(entries[0]) if entries else None
    except BadChange:
        newest = None
    if newest is None or newest.kind is not ChangeKind.DELETED:
        # Re-created since (its own change), or nothing to see: the sweep stays the safety net.
        log.info("changes.delete.not_current", resource=f"{resource_type}/{resource_id}")
        return
    await queue_change(context.state, context.queue, newest, dedupe_ttl_seconds=dedupe_ttl_seconds)


async def sweep_changes(
    *,
    context: ChangeContext,
    types: Iterable[str],
    overlap_seconds: int,
    lookback_seconds: int,
    dedupe_ttl_seconds: int,
) -> SweepReport:
    """One catch-up sweep over `types` (idempotent: what was seen is skipped)."""
    return await sweep(
        fhir=context.fhir,
        state=context.state,
        queue=context.queue,
        types=types,
        now=context.now,
        overlap=timedelta(seconds=overlap_seconds),
        lookback=timedelta(seconds=lookback_seconds),
        dedupe_ttl_seconds=dedupe_ttl_seconds,
    )
