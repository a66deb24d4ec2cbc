"""The timeline use case: a patient's appointments, messages, calls, tickets and journey steps merged
newest first, paged with a cursor that stays put when newer entries arrive.

Each page reads the patient's resources of the four kinds (only the elements the entries need) and
merges them; a patient's history is small enough for this, and it keeps the order exact across kinds
whose times live in different elements. Entries without a time come last, ties go by reference.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from app.errors import Invalid
from app.fhir.client import FhirClient
from app.fhir.dates import parse_datetime
from app.fhir.records import require
from app.timeline.entries import Entry, appointment_entry, communication_entry, task_entry

# The sort key of an entry without a time: after every timed one.
_NO_TIME = (0, "")


@dataclass(frozen=True)
class TimelinePage:
    """One page of the timeline and the cursor of the next (None on the last page)."""

    entries: list[Entry]
    next_cursor: str | None


def _key(entry: Entry) -> tuple[tuple[int, str], str]:
    """Newest first is this key descending (times compared as UTC instants)."""
    if entry.time is None:
        return _NO_TIME, entry.reference
    return (1, _instant(entry.time)), entry.reference


def encode_cursor(entry: Entry) -> str:
    """The cursor that continues after `entry`."""
    (_, moment), ref = _key(entry)
    raw = json.dumps([moment or None, ref]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[tuple[int, str], str]:
    """The key a cursor continues after; Invalid naming `cursor` when it is not one of ours."""
    try:
        moment, ref = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = parse_datetime(moment) if moment is not None else None
        if not isinstance(ref, str) or (moment is not None and when is None):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error):
        raise Invalid("cursor", "is not a cursor this API returned") from None
    return ((1, _instant(when)) if when else _NO_TIME), ref


def _instant(moment: datetime) -> str:
    """A time as a fixed-width UTC string: ordered as text as the instants are in time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def patient_timeline(
    fhir: FhirClient, *, patient_id: str, limit: int, cursor: str | None
) -> TimelinePage:
    """A page of the patient's timeline, newest first, after `cursor` (from the start without one)."""
    after = decode_cursor(cursor) if cursor else None
    await require(fhir, "Patient", patient_id, what="Patient")
    ref = f"Patient/{patient_id}"
    appointments, messages, tasks = await asyncio.gather(
        fhir.search("Appointment", {"patient": ref, "_elements": "status,start,specialty"}),
        fhir.search("Communication", {"subject": ref, "_elements": "extension,status,sent,received,sender"}),
        fhir.search(
            "Task",
            {
                "patient": ref,
                "_elements": "extension,code,status,statusReason,businessStatus,priority,authoredOn,"
                "executionPeriod,description",
            },
        ),
    )
    entries = [appointment_entry(a) for a in appointments] + [communication_entry(m) for m in messages]
    entries += [e for e in (task_entry(t) for t in tasks) if e is not None]
    entries.sort(key=_key, reverse=True)
    if after is not None:
        entries = [e for e in entries if _key(e) < after]
    page = entries[:limit]
    more = len(entries) > limit
    return TimelinePage(entries=page, next_cursor=encode_cursor(page[-1]) if more else None)
