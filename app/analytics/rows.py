"""What each report counts: one row (a tuple of dimension values, None when unknown) per resource, under
the local day it falls on; read live from HAPI or out of the daily roll-ups (rollups.py).

A row holds everything a report needs of its resource, so a day's rows counted once (a roll-up) give the
same figures as the resources read again.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.fhir.builders import code_in, extension_value, instant
from app.fhir.canonical import (
    CS_CHANNEL,
    CS_OPPORTUNITY_STAGE,
    CS_SPECIALTY,
    CS_TASK_TYPE,
    EXT_BOOKING_CHANNEL,
    EXT_SOURCE_CHANNEL,
    EXT_TICKET_CATEGORY,
    TASK_TYPE_OPPORTUNITY,
    TASK_TYPE_TICKET,
)
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.query import MAX_PAGE_SIZE, SearchParams
from app.messaging.resources import message_of
from app.scheduling.resources import participant
from app.tickets import resources as ticket_res

# A period is fetched in this many slices at once (HAPI serves them in parallel).
SLICES = 4
# Ticket states that count as resolved, from Task.status or a businessStatus the ticket service writes.
_RESOLVED = frozenset({"completed", "resolved", "closed"})

Row = tuple[str | None, ...]
# The rows of each local day: a multiset, since many resources share one combination of values.
Days = dict[date, Counter[Row]]


MAX_DAYS = 366  # the longest period one report covers


@dataclass(frozen=True)
class Period:
    """[start, end) in the clinic's time zone: whole local days from `first` through `last`."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        """Local midnight of the first day."""
        return midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day."""
        return midnight(self.last + timedelta(days=1), self.tz)

    def dates(self) -> list[date]:
        """Every day of the period."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def slices(self, count: int = SLICES) -> list[tuple[datetime, datetime]]:
        """The period cut into up to `count` consecutive [start, end) slices of whole days."""
        days = (self.last - self.first).days + 1
        size = -(-days // min(count, days))
        bounds = [self.start + timedelta(days=d) for d in range(0, days, size)] + [self.end]
        return list(itertools.pairwise(bounds))

    def day(self, moment: datetime) -> date:
        """The local date of an instant."""
        return moment.astimezone(self.tz).date()

    def header(self) -> dict[str, Any]:
        """What every report says about its period."""
        return {"start": self.first, "end": self.last, "timezone": self.tz.key}


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The local midnight starting `day`."""
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


@dataclass(frozen=True)
class Kind:
    """A kind of thing the reports count: its dimensions (a row's values, in order) and how to read its
    rows live from HAPI."""

    name: str
    dimensions: tuple[str, ...]
    fetch: Callable[[FhirClient, Period], Awaitable[Days]]


async def _fetch(
    fhir: FhirClient, resource_type: str, period: Period, date_param: str, params: SearchParams, elements: str
) -> list[Resource]:
    """Every resource of the period (by `date_param`), the slices fetched concurrently."""
    base = list(params.items()) if isinstance(params, dict) else list(params)

    async def one(start: datetime, end: datetime) -> list[Resource]:
        query = [
            *base,
            (date_param, f"ge{instant(start)}"),
            (date_param, f"lt{instant(end)}"),
            ("_elements", elements),
            ("_count", str(MAX_PAGE_SIZE)),  # fewer round trips for the same rows
        ]
        return await fhir.search(resource_type, query)

    pages = await asyncio.gather(*(one(s, e) for s, e in period.slices()))
    return [r for page in pages for r in page]


def _by_day(
    period: Period,
    found: Iterable[Resource],
    moment: Callable[[Resource], str | None],
    row: Callable[[Resource], Row],
) -> Days:
    """The rows of the resources whose moment falls on a day of the period, per day."""
    days: Days = {}
    for resource in found:
        when = parse_datetime(moment(resource))
        if when is not None and period.first <= (day := period.day(when)) <= period.last:
            days.setdefault(day, Counter())[row(resource)] += 1
    return days


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- appointments: by the local day they start --------------------------------------------------


def appointment_row(appointment: Resource) -> Row:
    """status, booking channel, department, practitioner id, location id (the first of each)."""
    return (
        _text(appointment.get("status")),
        _text(extension_value(appointment, EXT_BOOKING_CHANNEL)),
        code_in((appointment.get("specialty") or [None])[0], CS_SPECIALTY),
        participant(appointment, "Practitioner"),
        participant(appointment, "Location"),
    )


async def _appointments(fhir: FhirClient, period: Period) -> Days:
    found = await _fetch(
        fhir, "Appointment", period, "date", [], "status,start,specialty,participant,extension"
    )
    return _by_day(period, found, lambda a: a.get("start"), appointment_row)


APPOINTMENTS = Kind(
    "appointments", ("status", "channel", "department", "practitioner", "location"), _appointments
)


# -- leads: opportunity Tasks by the local day they were authored -------------------------------


def lead_row(task: Resource) -> Row:
    """stage, source channel."""
    return (
        code_in(task.get("businessStatus"), CS_OPPORTUNITY_STAGE),
        _text(extension_value(task, EXT_SOURCE_CHANNEL)),
    )


async def _leads(fhir: FhirClient, period: Period) -> Days:
    found = await _fetch(
        fhir,
        "Task",
        period,
        "authored-on",
        [("code", f"{CS_TASK_TYPE}|{TASK_TYPE_OPPORTUNITY}")],
        "businessStatus,extension,authoredOn",
    )
    return _by_day(period, found, lambda t: t.get("authoredOn"), lead_row)


LEADS = Kind("leads", ("stage", "source"), _leads)


# -- tickets: ticket Tasks by the local day they were authored ----------------------------------


def resolved_at(ticket: Resource) -> datetime | None:
    """When a resolved ticket was resolved (end of its execution, else its last change); None if open."""
    business = {c.get("code") for c in (ticket.get("businessStatus") or {}).get("coding", [])}
    if ticket.get("status") not in _RESOLVED and not business & _RESOLVED:
        return None
    return (
        parse_datetime((ticket.get("executionPeriod") or {}).get("end"))
        or parse_datetime(ticket.get("lastModified"))
        or parse_datetime((ticket.get("meta") or {}).get("lastUpdated"))
    )


def ticket_row(ticket: Resource) -> Row:
    """category, priority, status, SLA outcome of a resolved ticket with a due time (met or breached), the
    due time of an open one (met or not is decided when the report is read), hours it took to resolve."""
    resolved, authored, due = (
        resolved_at(ticket),
        parse_datetime(ticket.get("authoredOn")),
        ticket_res.due_of(ticket),
    )
    hours = (resolved - authored).total_seconds() / 3600 if resolved and authored else None
    outcome = None if resolved is None or due is None else ("met" if resolved <= due else "breached")
    return (
        _text(extension_value(ticket, EXT_TICKET_CATEGORY)),
        _text(ticket.get("priority")),
        _text(ticket.get("status")),
        outcome,
        due.isoformat() if due is not None and resolved is None else None,
        None if hours is None else repr(hours),  # repr: the float comes back exactly
    )


async def _tickets(fhir: FhirClient, period: Period) -> Days:
    found = await _fetch(
        fhir,
        "Task",
        period,
        "authored-on",
        [("code", f"{CS_TASK_TYPE}|{TASK_TYPE_TICKET}")],
        "status,businessStatus,priority,extension,authoredOn,restriction,executionPeriod,lastModified,meta",
    )
    return _by_day(period, found, lambda t: t.get("authoredOn"), ticket_row)


TICKETS = Kind("tickets", ("category", "priority", "status", "sla", "due", "hours"), _tickets)


# -- communications: by the local day they were sent, else received -----------------------------


def communication_moment(communication: Resource) -> str | None:
    """The instant that places a Communication on one day: when it was sent, else when received."""
    moment = communication.get("sent") or communication.get("received")
    return None if moment is None else str(moment)


def communication_row(communication: Resource) -> Row:
    """channel, direction, delivery status, outcome (status or status:reason), medium (voice or absent)."""
    message = message_of(communication)
    reason = (((communication.get("statusReason") or {}).get("coding")) or [{}])[0].get("code")
    status = _text(communication.get("status"))
    voice = any(code_in(m, CS_CHANNEL) == "voice" for m in communication.get("medium", []))
    return (
        message.channel,
        message.direction.value,
        message.delivery_status,
        f"{status}:{reason}" if reason and status else status,
        "voice" if voice else None,
    )


async def _communications(fhir: FhirClient, period: Period) -> Days:
    elements = "status,statusReason,extension,medium,sent,received,sender,category"
    sent, received = await asyncio.gather(
        _fetch(fhir, "Communication", period, "sent", [], elements),
        _fetch(fhir, "Communication", period, "received", [], elements),
    )
    unique = {str(c.get("id")): c for c in [*sent, *received]}.values()
    return _by_day(period, unique, communication_moment, communication_row)


COMMUNICATIONS = Kind(
    "communications", ("channel", "direction", "delivery", "outcome", "medium"), _communications
)

KINDS = {kind.name: kind for kind in (APPOINTMENTS, LEADS, TICKETS, COMMUNICATIONS)}
