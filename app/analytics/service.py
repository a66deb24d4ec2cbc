"""Reports a clinic manager reads, computed from FHIR searches each time (no second store).

Each report searches one period (local days of the clinic's time zone) with `_elements` (only the fields
it counts) and HAPI's largest page, splitting the period into slices fetched concurrently; counting is
done here. Every report is a JSON body and the rows of its CSV export.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
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
from app.fhir.client import FhirClient, Resource, SearchParams
from app.fhir.dates import parse_datetime
from app.messaging.resources import Direction, message_of
from app.opportunities.resources import Stage
from app.scheduling.resources import participant
from app.tickets import resources as ticket_res

# HAPI's largest page (hapi-config StorageConfig): fewer round trips for the same rows.
PAGE_SIZE = 500
# A period is fetched in this many slices at once (HAPI serves them in parallel).
SLICES = 4
UNKNOWN = "unknown"
# Appointments whose visit outcome is known (the no-show rate's denominator).
_OUTCOME_KNOWN = ("arrived", "checked-in", "fulfilled", "noshow")
# Appointments that were really booked (holds, proposals and mistakes are not).
_BOOKED = ("booked", *_OUTCOME_KNOWN, "cancelled")
_FUNNEL = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.BOOKED, Stage.WON)
# Ticket states that count as resolved, from Task.status or a businessStatus the ticket service writes.
_RESOLVED = frozenset({"completed", "resolved", "closed"})
_DELIVERED = frozenset({"delivered", "read"})


@dataclass(frozen=True)
class Period:
    """[start, end) in the clinic's time zone: whole local days from `first` through `last`."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        """Local midnight of the first day."""
        return datetime.combine(self.first, datetime.min.time(), tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=self.tz)

    def slices(self, count: int = SLICES) -> list[tuple[datetime, datetime]]:
        """The period cut into up to `count` consecutive [start, end) slices of whole days."""
        days = (self.last - self.first).days + 1
        size = -(-days // min(count, days))
        bounds = [self.start + timedelta(days=d) for d in range(0, days, size)] + [self.end]
        return list(itertools.pairwise(bounds))

    def day(self, moment: datetime) -> str:
        """The local date of an instant."""
        return moment.astimezone(self.tz).date().isoformat()

    def header(self) -> dict[str, Any]:
        """What every report says about its period."""
        return {"start": self.first, "end": self.last, "timezone": self.tz.key}


@dataclass(frozen=True)
class Report:
    """A report's JSON body and its CSV export (`columns`, then `rows`)."""

    body: dict[str, Any]
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def rate(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 places (None when there is nothing to divide by)."""
    return round(part / whole, 4) if whole else None


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
            ("_count", str(PAGE_SIZE)),
        ]
        return await fhir.search(resource_type, query)

    pages = await asyncio.gather(*(one(s, e) for s, e in period.slices()))
    return [r for page in pages for r in page]


def _counts(values: Iterable[str | None]) -> dict[str, int]:
    return dict(sorted(Counter(v or UNKNOWN for v in values).items()))


# -- appointments -------------------------------------------------------------------------------

_APPOINTMENT_DIMENSIONS = ("status", "channel", "department", "practitioner", "location")


def _appointment_row(appointment: Resource) -> dict[str, str | None]:
    return {
        "status": appointment.get("status"),
        "channel": extension_value(appointment, EXT_BOOKING_CHANNEL),
        "department": code_in((appointment.get("specialty") or [None])[0], CS_SPECIALTY),
        "practitioner": participant(appointment, "Practitioner"),
        "location": participant(appointment, "Location"),
    }


async def appointments(
    fhir: FhirClient,
    *,
    period: Period,
    location_id: str | None = None,
    practitioner_id: str | None = None,
    department: str | None = None,
) -> Report:
    """Appointments per local day by status, channel, department, practitioner and location; no-show and
    cancellation rates."""
    params: list[tuple[str, str]] = []
    if location_id:
        params.append(("location", f"Location/{location_id}"))
    if practitioner_id:
        params.append(("practitioner", f"Practitioner/{practitioner_id}"))
    if department:
        params.append(("specialty", f"{CS_SPECIALTY}|{department}"))
    found = await _fetch(
        fhir, "Appointment", period, "date", params, "status,start,specialty,participant,extension"
    )
    by_day: dict[str, list[dict[str, str | None]]] = {}
    for appointment in found:
        start = parse_datetime(appointment.get("start"))
        if start is not None:
            by_day.setdefault(period.day(start), []).append(_appointment_row(appointment))
    every = [row for rows in by_day.values() for row in rows]
    statuses = Counter(row["status"] for row in every)
    booked = sum(statuses[s] for s in _BOOKED)
    outcome = sum(statuses[s] for s in _OUTCOME_KNOWN)
    days: list[dict[str, Any]] = [
        {
            "date": day,
            "total": len(rows),
            **{f"by_{d}": _counts(r[d] for r in rows) for d in _APPOINTMENT_DIMENSIONS},
        }
        for day, rows in sorted(by_day.items())
    ]
    body = {
        **period.header(),
        "total": len(every),
        **{f"by_{d}": _counts(r[d] for r in every) for d in _APPOINTMENT_DIMENSIONS},
        "cancellation_rate": rate(statuses["cancelled"], booked),
        "no_show_rate": rate(statuses["noshow"], outcome),
        "days": days,
    }
    rows = [
        (day["date"], dimension, value, count)
        for day in days
        for dimension in _APPOINTMENT_DIMENSIONS
        for value, count in day[f"by_{dimension}"].items()
    ]
    return Report(body=body, columns=("date", "dimension", "value", "count"), rows=rows)


# -- leads (opportunities) ----------------------------------------------------------------------


async def leads(fhir: FhirClient, *, period: Period) -> Report:
    """Leads created in the period: the funnel (how many reached each stage) and conversion by source."""
    found = await _fetch(
        fhir,
        "Task",
        period,
        "authored-on",
        [("code", f"{CS_TASK_TYPE}|{TASK_TYPE_OPPORTUNITY}")],
        "status,businessStatus,extension,authoredOn",
    )
    stages = [
        (code_in(t.get("businessStatus"), CS_OPPORTUNITY_STAGE), extension_value(t, EXT_SOURCE_CHANNEL))
        for t in found
    ]
    converted = {Stage.BOOKED.value, Stage.WON.value}
    # A lead at a stage passed every stage before it; a lost one is only known to have been new.
    reach = {s.value: i for i, s in enumerate(_FUNNEL)}
    funnel = [
        {"stage": s.value, "reached": sum(1 for stage, _ in stages if reach.get(stage or "", 0) >= i)}
        for i, s in enumerate(_FUNNEL)
    ]
    sources = sorted({source or UNKNOWN for _, source in stages})
    by_source: list[dict[str, Any]] = []
    for source in sources:
        mine = [stage for stage, s in stages if (s or UNKNOWN) == source]
        done = sum(1 for stage in mine if stage in converted)
        by_source.append(
            {
                "source": source,
                "total": len(mine),
                "converted": done,
                "won": mine.count(Stage.WON.value),
                "lost": mine.count(Stage.LOST.value),
                "conversion_rate": rate(done, len(mine)),
            }
        )
    total_converted = sum(1 for stage, _ in stages if stage in converted)
    body = {
        **period.header(),
        "total": len(stages),
        "by_stage": _counts(stage for stage, _ in stages),
        "funnel": funnel,
        "by_source": by_source,
        "conversion_rate": rate(total_converted, len(stages)),
    }
    rows: list[tuple[Any, ...]] = [("funnel", f["stage"], "reached", f["reached"]) for f in funnel]
    rows += [
        ("source", s["source"], key, s[key])
        for s in by_source
        for key in ("total", "converted", "won", "lost", "conversion_rate")
    ]
    return Report(body=body, columns=("section", "key", "measure", "value"), rows=rows)


# -- tickets ------------------------------------------------------------------------------------


def _resolved_at(ticket: Resource) -> datetime | None:
    """When a resolved ticket was resolved (end of its execution, else its last change); None if open."""
    business = {c.get("code") for c in (ticket.get("businessStatus") or {}).get("coding", [])}
    if ticket.get("status") not in _RESOLVED and not business & _RESOLVED:
        return None
    return (
        parse_datetime((ticket.get("executionPeriod") or {}).get("end"))
        or parse_datetime(ticket.get("lastModified"))
        or parse_datetime((ticket.get("meta") or {}).get("lastUpdated"))
    )


async def tickets(fhir: FhirClient, *, period: Period, now: datetime) -> Report:
    """Tickets opened in the period: volume, SLA compliance (resolved by the due time) and the median
    time to resolve."""
    found = await _fetch(
        fhir,
        "Task",
        period,
        "authored-on",
        [("code", f"{CS_TASK_TYPE}|{TASK_TYPE_TICKET}")],
        "status,businessStatus,priority,extension,authoredOn,restriction,executionPeriod,lastModified",
    )
    met = breached = pending = 0
    hours: list[float] = []
    for ticket in found:
        resolved, authored = _resolved_at(ticket), parse_datetime(ticket.get("authoredOn"))
        if resolved is not None and authored is not None:
            hours.append((resolved - authored).total_seconds() / 3600)
        due = ticket_res.due_of(ticket)
        if due is None:
            continue
        if resolved is not None:
            met, breached = (met + 1, breached) if resolved <= due else (met, breached + 1)
        elif now > due:
            breached += 1
        else:
            pending += 1
    body = {
        **period.header(),
        "total": len(found),
        "by_category": _counts(extension_value(t, EXT_TICKET_CATEGORY) for t in found),
        "by_priority": _counts(t.get("priority") for t in found),
        "by_status": _counts(t.get("status") for t in found),
        "sla": {
            "with_due": met + breached + pending,
            "met": met,
            "breached": breached,
            "pending": pending,
            "compliance_rate": rate(met, met + breached),
        },
        "resolved": len(hours),
        "median_hours_to_resolve": round(median(hours), 2) if hours else None,
    }
    rows: list[tuple[Any, ...]] = [
        (section, key, value)
        for section in ("by_category", "by_priority", "by_status", "sla")
        for key, value in body[section].items()
    ]
    rows += [
        ("resolution", "resolved", body["resolved"]),
        ("resolution", "median_hours", body["median_hours_to_resolve"]),
    ]
    return Report(body=body, columns=("section", "key", "value"), rows=rows)


# -- messages and calls -------------------------------------------------------------------------


async def _communications(
    fhir: FhirClient, period: Period, params: Sequence[tuple[str, str]]
) -> list[Resource]:
    """Communications sent or received in the period (each once)."""
    elements = "status,statusReason,extension,medium,sent,received,sender,category"
    sent, received = await asyncio.gather(
        _fetch(fhir, "Communication", period, "sent", params, elements),
        _fetch(fhir, "Communication", period, "received", params, elements),
    )
    return list({str(c.get("id")): c for c in [*sent, *received]}.values())


async def messages(fhir: FhirClient, *, period: Period) -> Report:
    """Messages by channel: inbound, outbound, and the delivered and read rates of the outbound ones."""
    found = [message_of(c) for c in await _communications(fhir, period, [])]
    by_channel: list[dict[str, Any]] = []
    for channel in sorted({m.channel or UNKNOWN for m in found} - {"voice"}):
        mine = [m for m in found if (m.channel or UNKNOWN) == channel]
        out = [m for m in mine if m.direction is Direction.OUTBOUND]
        delivered = sum(1 for m in out if m.delivery_status in _DELIVERED)
        read = sum(1 for m in out if m.delivery_status == "read")
        failed = sum(1 for m in out if m.delivery_status in ("failed", "undelivered"))
        by_channel.append(
            {
                "channel": channel,
                "inbound": len(mine) - len(out),
                "outbound": len(out),
                "delivered": delivered,
                "read": read,
                "failed": failed,
                "delivery_rate": rate(delivered, len(out)),
                "read_rate": rate(read, len(out)),
            }
        )
    body = {
        **period.header(),
        "total": sum(c["inbound"] + c["outbound"] for c in by_channel),
        "by_channel": by_channel,
    }
    measures = ("inbound", "outbound", "delivered", "read", "failed", "delivery_rate", "read_rate")
    rows = [(c["channel"], key, c[key]) for c in by_channel for key in measures]
    return Report(body=body, columns=("channel", "measure", "value"), rows=rows)


async def calls(fhir: FhirClient, *, period: Period) -> Report:
    """Voice calls (Communications on the voice medium) by direction and outcome."""
    found = await _communications(fhir, period, [("medium", f"{CS_CHANNEL}|voice")])
    outcomes = []
    for call in found:
        reason = (call.get("statusReason") or {}).get("coding", [{}])[0].get("code")
        outcomes.append(
            f"{call.get('status', UNKNOWN)}:{reason}" if reason else str(call.get("status", UNKNOWN))
        )
    directions = [message_of(c).direction.value for c in found]
    body = {
        **period.header(),
        "total": len(found),
        "by_direction": _counts(directions),
        "by_outcome": _counts(outcomes),
    }
    rows = [
        (section, key, value)
        for section in ("by_direction", "by_outcome")
        for key, value in body[section].items()
    ]
    return Report(body=body, columns=("section", "key", "value"), rows=rows)
