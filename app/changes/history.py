"""Reading `_history` Bundles: entries as changes, and the sweep's window and cursor arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.changes.model import BadChange, ChangeKind, Resource, check_id, check_type, kind_of


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of a history Bundle; `last_updated` is None for deletes (HAPI gives them no time)."""

    resource_type: str
    id: str
    version: str
    kind: ChangeKind
    last_updated: datetime | None


def parse_instant(value: str) -> datetime:
    """An aware datetime from a FHIR instant (HAPI writes `+00:00`, others `Z`)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise BadChange(f"instant without offset: {value!r}")
    return parsed


def parse_entry(entry: Resource) -> HistoryEntry:
    """A history entry: the resource's meta for creates/updates, `request.url` for deletes."""
    request = entry.get("request") or {}
    method = str(request.get("method", "")).upper()
    resource = entry.get("resource")
    if method == "DELETE" or resource is None:
        # HAPI: {"request": {"method": "DELETE", "url": "Basic/1001/_history/3"}} and no resource.
        parts = str(request.get("url", "")).split("/")
        if len(parts) != 4 or parts[2] != "_history":
            raise BadChange(f"delete entry without Type/id/_history/version: {request.get('url')!r}")
        resource_type, resource_id, _, version = parts
        return HistoryEntry(
            check_type(resource_type), check_id(resource_id), check_id(version, "version"),
            ChangeKind.DELETED, None,
        )  # fmt: skip
    meta = resource.get("meta") or {}
    version = str(meta.get("versionId", ""))
    last_updated = meta.get("lastUpdated")
    return HistoryEntry(
        check_type(str(resource.get("resourceType", ""))),
        check_id(str(resource.get("id", ""))),
        check_id(version, "version"),
        kind_of(version, deleted=False),
        parse_instant(last_updated) if last_updated else None,
    )


def window_start(
    cursor: datetime | None, *, now: datetime, overlap: timedelta, lookback: timedelta
) -> datetime:
    """Where a sweep starts reading: the cursor minus the overlap, or `now - lookback` without a cursor."""
    if cursor is None:
        return now - lookback
    return cursor - overlap


def advance(cursor: datetime | None, newest_seen: datetime | None) -> datetime | None:
    """The next cursor: the newest lastUpdated actually read, never backwards, never beyond what was read."""
    if newest_seen is None:
        return cursor
    if cursor is None or newest_seen > cursor:
        return newest_seen
    return cursor
