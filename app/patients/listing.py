"""The patient list and its statistics: filters, sorting and cursor paging that stays stable while
patients are registered (keyset: a page starts strictly after the last row of the previous one).

HAPI narrows the patients (active, gender, birth date, language, tag, PIN code); what only appointments
tell (last visit, upcoming, location or practitioner seen) is computed here from the same search
(`_revinclude=Appointment:patient`). docs/patients.md gives the limits of this design.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from app.directory.resources import display_name
from app.errors import Invalid
from app.fhir.client import FhirClient, Resource, bundle_resources
from app.fhir.dates import parse_datetime
from app.fhir.query import MAX_PAGE_SIZE
from app.patients import identifiers as ids
from app.scheduling.resources import participant
from app.vocabulary import UPCOMING_APPOINTMENT_STATUSES

# The list reads at most this many patients per request: narrow the filters beyond it.
SCAN_LIMIT = 10_000
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "0-17": (0, 17),
    "18-39": (18, 39),
    "40-59": (40, 59),
    "60+": (60, None),
}
# Appointments that did not take place: not a visit, not upcoming.
NOT_HELD = ("cancelled", "noshow", "entered-in-error", "proposed", "waitlist")
Sort = Literal["name", "-name", "registered", "-registered", "last_visit", "-last_visit"]


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; None: no condition."""

    active: bool | None = True
    gender: str | None = None
    age_band: str | None = None
    language: str | None = None
    tag: str | None = None
    postal_code: str | None = None
    has_upcoming: bool | None = None
    location: str | None = None
    practitioner: str | None = None


@dataclass
class Row:
    """A patient with what their appointments tell."""

    patient: Resource
    last_visit: datetime | None = None
    upcoming: bool = False
    locations: set[str] = field(default_factory=set)
    practitioners: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Page:
    """One page of the list, the cursor of the next (None on the last), how many match in all."""

    rows: list[Row]
    next_cursor: str | None
    total: int
    visits: bool = False  # whether rows carry their appointments' facts


def age_band_of(birth_date: str | None, today: date) -> str | None:
    """The age band of a birth date (YYYY, YYYY-MM or YYYY-MM-DD: the earliest day it can mean)."""
    if not birth_date:
        return None
    try:
        year, month, day = (int(part) for part in [*birth_date.split("-"), "1", "1"][:3])
        born = date(year, month, day)
    except ValueError:
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return next(
        (band for band, (lo, hi) in AGE_BANDS.items() if age >= lo and (hi is None or age <= hi)), None
    )


def _birthdate_range(band: str, today: date) -> list[tuple[str, str]]:
    """HAPI birthdate conditions for an age band."""
    lo, hi = AGE_BANDS[band]
    latest = (
        today.replace(year=today.year - lo)
        if (today.month, today.day) != (2, 29)
        else date(today.year - lo, 2, 28)
    )
    conditions = [("birthdate", f"le{latest.isoformat()}")]
    if hi is not None:
        earliest = date(latest.year - (hi - lo) - 1, latest.month, latest.day)
        conditions.append(("birthdate", f"gt{earliest.isoformat()}"))
    return conditions


def _query(filters: Filters, today: date, *, visits: bool) -> list[tuple[str, str]]:
    query = [("_count", str(MAX_PAGE_SIZE))]
    if visits:  # HAPI takes about three times as long with the appointments included
        query.append(("_revinclude", "Appointment:patient"))
    if filters.active is True:
        query.append(("active:not", "false"))  # records others wrote without `active` are active
    elif filters.active is False:
        query.append(("active", "false"))
    for parameter, value in (
        ("gender", filters.gender),
        ("language", filters.language),
        ("prm-tag", filters.tag),
        ("address-postalcode:exact", filters.postal_code),
    ):
        if value:
            query.append((parameter, value))
    if filters.age_band:
        query += _birthdate_range(filters.age_band, today)
    return query


def needs_visits(filters: Filters, sort: Sort) -> bool:
    """Whether the list needs the patients' appointments (a sort or a filter on them)."""
    on_visits = (filters.has_upcoming is not None, filters.location, filters.practitioner)
    return sort.lstrip("-") == "last_visit" or any(on_visits)


async def _rows(fhir: FhirClient, filters: Filters, now: datetime, *, visits: bool) -> list[Row]:
    """Every patient matching the filters, with their appointments' facts when `visits`."""
    query = _query(filters, now.date(), visits=visits)
    bundles = await fhir.search_bundles("Patient", query, limit=SCAN_LIMIT + 1)
    patients = [p for b in bundles for p in bundle_resources(b) if p.get("resourceType") == "Patient"]
    if len(patients) > SCAN_LIMIT:
        raise Invalid(None, f"more than {SCAN_LIMIT} patients match; narrow the filters")
    rows = {p["id"]: Row(p) for p in patients}
    for appointment in (a for b in bundles for a in bundle_resources(b, mode="include")):
        row = rows.get(participant(appointment, "Patient") or "")
        start = parse_datetime(appointment.get("start"))
        if row is None or start is None or appointment.get("status") in NOT_HELD:
            continue
        if start >= now:
            row.upcoming = row.upcoming or appointment.get("status") in UPCOMING_APPOINTMENT_STATUSES
            continue
        row.last_visit = max(row.last_visit, start) if row.last_visit else start
        row.locations.add(participant(appointment, "Location") or "")
        row.practitioners.add(participant(appointment, "Practitioner") or "")
    return [row for row in rows.values() if _kept(row, filters)]


def _kept(row: Row, filters: Filters) -> bool:
    return (
        (filters.has_upcoming is None or row.upcoming == filters.has_upcoming)
        and (filters.location is None or filters.location in row.locations)
        and (filters.practitioner is None or filters.practitioner in row.practitioners)
    )


def _descending(text: str) -> list[int]:
    """A key that orders strings in reverse (a prefix after the longer strings it begins)."""
    return [-ord(c) for c in text] + [1]


def sort_key(row: Row, sort: Sort) -> list[Any]:
    """The row's place in the order: rows without the sorted value last, ties by id."""
    by = sort.lstrip("-")
    value: Any
    if by == "name":
        value = display_name(row.patient).casefold()
    elif by == "registered":
        registered = parse_datetime(ids.registered_at(row.patient))
        value = registered.timestamp() if registered else None
    else:
        value = row.last_visit.timestamp() if row.last_visit else None
    if value is None:
        return [1, 0, row.patient["id"]]
    if sort.startswith("-"):
        value = _descending(value) if isinstance(value, str) else -value
    return [0, value, row.patient["id"]]


def encode_cursor(sort: Sort, key: list[Any]) -> str:
    """An opaque cursor: the sort and the key of the last row served."""
    return base64.urlsafe_b64encode(json.dumps([sort, key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> list[Any]:
    """The key a cursor carries; 422 when it is not one of ours or was made for another sort."""
    try:
        made_for, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, TypeError):
        raise Invalid("cursor", "is not a cursor this API gave") from None
    if made_for != sort or not isinstance(key, list) or len(key) != 3:
        raise Invalid("cursor", f"was made for sort={made_for!r}, not {sort!r}")
    return key


async def patient_page(
    fhir: FhirClient, *, filters: Filters, sort: Sort, limit: int, cursor: str | None, now: datetime
) -> Page:
    """One page of the patient list."""
    after = decode_cursor(cursor, sort) if cursor else None
    found = await _rows(fhir, filters, now, visits=needs_visits(filters, sort))
    rows = sorted(((sort_key(r, sort), r) for r in found), key=lambda kr: kr[0])
    try:
        remaining = [(k, r) for k, r in rows if after is None or k > after]
    except TypeError:
        raise Invalid("cursor", "is not a cursor this API gave") from None
    page = remaining[:limit]
    next_cursor = encode_cursor(sort, page[-1][0]) if len(remaining) > limit else None
    return Page([r for _, r in page], next_cursor, len(rows), visits=needs_visits(filters, sort))


@dataclass(frozen=True)
class Stats:
    """Counts over the patients matching the filters."""

    total: int
    by_gender: dict[str, int]
    by_age_band: dict[str, int]
    by_location: dict[str, int]
    new_per_month: dict[str, int]


async def patient_stats(fhir: FhirClient, *, filters: Filters, now: datetime) -> Stats:
    """Counts by gender, age band, location seen (a patient counts once per location) and month registered."""
    rows = await _rows(fhir, filters, now, visits=True)
    today = now.date()
    months = Counter((ids.registered_at(r.patient) or "unknown")[:7] for r in rows)
    return Stats(
        total=len(rows),
        by_gender=dict(Counter(r.patient.get("gender", "unknown") for r in rows)),
        by_age_band=dict(Counter(age_band_of(r.patient.get("birthDate"), today) or "unknown" for r in rows)),
        by_location=dict(Counter(loc for r in rows for loc in r.locations if loc)),
        new_per_month=dict(sorted(months.items())),
    )
