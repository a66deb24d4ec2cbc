"""Reports a clinic manager reads, counted from the rows of their period's days (rows.py): the daily
roll-ups of closed days and a live read of the others (rollups.py), HAPI being the only store.

Every report is a JSON body and the rows of its CSV export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from app.analytics import rollups
from app.analytics.rows import APPOINTMENTS, COMMUNICATIONS, LEADS, TICKETS, Period, Row
from app.fhir.client import FhirClient
from app.fhir.dates import parse_datetime
from app.opportunities.resources import Stage

UNKNOWN = "unknown"
# Appointments whose visit outcome is known (the no-show rate's denominator).
_OUTCOME_KNOWN = ("arrived", "checked-in", "fulfilled", "noshow")
# Appointments that were really booked (holds, proposals and mistakes are not).
_BOOKED = ("booked", *_OUTCOME_KNOWN, "cancelled")
_FUNNEL = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.BOOKED, Stage.WON)
_DELIVERED = frozenset({"delivered", "read"})


@dataclass(frozen=True)
class Report:
    """A report's JSON body and its CSV export (`columns`, then `rows`)."""

    body: dict[str, Any]
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def rate(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 places (None when there is nothing to divide by)."""
    return round(part / whole, 4) if whole else None


def _counts(rows: Counter[Row], index: int) -> dict[str, int]:
    """How many rows hold each value of one dimension (unknown for none), by value."""
    counts: Counter[str] = Counter()
    for row, n in rows.items():
        counts[row[index] or UNKNOWN] += n
    return dict(sorted(counts.items()))


def _total(days: Iterable[Counter[Row]]) -> Counter[Row]:
    every: Counter[Row] = Counter()
    for rows in days:
        every.update(rows)
    return every


# -- appointments -------------------------------------------------------------------------------

_APPOINTMENT_DIMENSIONS = APPOINTMENTS.dimensions


async def appointments(
    fhir: FhirClient,
    *,
    period: Period,
    location_id: str | None = None,
    practitioner_id: str | None = None,
    department: str | None = None,
    live: bool = False,
) -> Report:
    """Appointments per local day by status, channel, department, practitioner and location; no-show and
    cancellation rates. The filters match an appointment's (first) location, practitioner and department."""
    wanted = {2: department, 3: practitioner_id, 4: location_id}
    by_day = {
        day: Counter(
            {r: n for r, n in rows.items() if all(v is None or r[i] == v for i, v in wanted.items())}
        )
        for day, rows in (await rollups.counted(fhir, APPOINTMENTS, period, live=live)).items()
    }
    by_day = {day: rows for day, rows in by_day.items() if rows}
    every = _total(by_day.values())
    statuses = _counts(every, 0)
    booked = sum(statuses.get(s, 0) for s in _BOOKED)
    outcome = sum(statuses.get(s, 0) for s in _OUTCOME_KNOWN)
    days: list[dict[str, Any]] = [
        {
            "date": day.isoformat(),
            "total": rows.total(),
            **{f"by_{d}": _counts(rows, i) for i, d in enumerate(_APPOINTMENT_DIMENSIONS)},
        }
        for day, rows in sorted(by_day.items())
    ]
    body = {
        **period.header(),
        "total": every.total(),
        **{f"by_{d}": _counts(every, i) for i, d in enumerate(_APPOINTMENT_DIMENSIONS)},
        "cancellation_rate": rate(statuses.get("cancelled", 0), booked),
        "no_show_rate": rate(statuses.get("noshow", 0), outcome),
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


async def leads(fhir: FhirClient, *, period: Period, live: bool = False) -> Report:
    """Leads created in the period: the funnel (how many reached each stage) and conversion by source."""
    every = _total((await rollups.counted(fhir, LEADS, period, live=live)).values())
    converted = {Stage.BOOKED.value, Stage.WON.value}
    # A lead at a stage passed every stage before it; a lost one is only known to have been new.
    reach = {s.value: i for i, s in enumerate(_FUNNEL)}
    funnel = [
        {
            "stage": s.value,
            "reached": sum(n for (stage, _), n in every.items() if reach.get(stage or "", 0) >= i),
        }
        for i, s in enumerate(_FUNNEL)
    ]
    by_source: list[dict[str, Any]] = []
    for source in _counts(every, 1):
        mine: Counter[str | None] = Counter()
        for (stage, s), n in every.items():
            if (s or UNKNOWN) == source:
                mine[stage] += n
        done = sum(n for stage, n in mine.items() if stage in converted)
        by_source.append(
            {
                "source": source,
                "total": mine.total(),
                "converted": done,
                "won": mine[Stage.WON.value],
                "lost": mine[Stage.LOST.value],
                "conversion_rate": rate(done, mine.total()),
            }
        )
    total_converted = sum(n for (stage, _), n in every.items() if stage in converted)
    body = {
        **period.header(),
        "total": every.total(),
        "by_stage": _counts(every, 0),
        "funnel": funnel,
        "by_source": by_source,
        "conversion_rate": rate(total_converted, every.total()),
    }
    rows: list[tuple[Any, ...]] = [("funnel", f["stage"], "reached", f["reached"]) for f in funnel]
    rows += [
        ("source", s["source"], key, s[key])
        for s in by_source
        for key in ("total", "converted", "won", "lost", "conversion_rate")
    ]
    return Report(body=body, columns=("section", "key", "measure", "value"), rows=rows)


# -- tickets ------------------------------------------------------------------------------------


async def tickets(fhir: FhirClient, *, period: Period, now: datetime, live: bool = False) -> Report:
    """Tickets opened in the period: volume, SLA compliance (resolved by the due time) and the median
    time to resolve."""
    every = _total((await rollups.counted(fhir, TICKETS, period, live=live)).values())
    sla: Counter[str] = Counter()
    hours: list[float] = []
    for (_, _, _, outcome, due, took), n in every.items():
        if took is not None:
            hours += [float(took)] * n
        if outcome is not None:
            sla[outcome] += n
        elif (due_at := parse_datetime(due)) is not None:
            sla["breached" if now > due_at else "pending"] += n
    met, breached, pending = sla["met"], sla["breached"], sla["pending"]
    body = {
        **period.header(),
        "total": every.total(),
        "by_category": _counts(every, 0),
        "by_priority": _counts(every, 1),
        "by_status": _counts(every, 2),
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


async def messages(fhir: FhirClient, *, period: Period, live: bool = False) -> Report:
    """Messages by channel: inbound, outbound, and the delivered and read rates of the outbound ones."""
    every = _total((await rollups.counted(fhir, COMMUNICATIONS, period, live=live)).values())
    by_channel: list[dict[str, Any]] = []
    for channel in sorted(set(_counts(every, 0)) - {"voice"}):
        mine = [(row, n) for row, n in every.items() if (row[0] or UNKNOWN) == channel]
        out = [(row, n) for row, n in mine if row[1] == "outbound"]
        outbound = sum(n for _, n in out)
        delivered = sum(n for row, n in out if row[2] in _DELIVERED)
        read = sum(n for row, n in out if row[2] == "read")
        failed = sum(n for row, n in out if row[2] in ("failed", "undelivered"))
        by_channel.append(
            {
                "channel": channel,
                "inbound": sum(n for _, n in mine) - outbound,
                "outbound": outbound,
                "delivered": delivered,
                "read": read,
                "failed": failed,
                "delivery_rate": rate(delivered, outbound),
                "read_rate": rate(read, outbound),
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


async def calls(fhir: FhirClient, *, period: Period, live: bool = False) -> Report:
    """Voice calls (Communications on the voice medium) by direction and outcome."""
    every = _total((await rollups.counted(fhir, COMMUNICATIONS, period, live=live)).values())
    found = Counter({row: n for row, n in every.items() if row[4] == "voice"})
    body = {
        **period.header(),
        "total": found.total(),
        "by_direction": _counts(found, 1),
        "by_outcome": _counts(found, 3),
    }
    rows = [
        (section, key, value)
        for section in ("by_direction", "by_outcome")
        for key, value in body[section].items()
    ]
    return Report(body=body, columns=("section", "key", "value"), rows=rows)
