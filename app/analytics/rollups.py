"""Daily roll-ups: each closed local day of each kind counted once into a prm-daily-rollup MeasureReport
(one stratum per distinct row, with its count), so a report reads one search of roll-ups instead of every
resource of its period. HAPI stays the only store; a day without a current roll-up is read live.

A roll-up is `complete` (current) or `pending` (a change touched its day: stale until the job recomputes
it). Its id is fixed per kind and day, so every write is an idempotent PUT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.analytics.rows import Days, Kind, Period, Row, midnight
from app.fhir.builders import Actor, AgentKind, instant, meta_profile
from app.fhir.canonical import PROFILE_DAILY_ROLLUP, analytics_measure_url
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.records import create_with_provenance
from app.ports.state import StateStore

SYSTEM = Actor(kind=AgentKind.SYSTEM)
_POPULATION = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}
    ]
}
# One job recomputes a kind's day at a time (two racing jobs could store the older count last).
LOCK_TTL_SECONDS = 300
LOCK_WAIT_SECONDS = 120
# A report covers at most a year: all its roll-ups come in one page.
_PAGE = 400


def report_id(kind: Kind, day: date) -> str:
    """The fixed id of a kind's roll-up of one day."""
    return f"prm-rollup-{kind.name}-{day.isoformat()}"


def closed(day: date, *, now: datetime, tz: ZoneInfo) -> bool:
    """Whether the local day is over (only closed days are rolled up)."""
    return midnight(day + timedelta(days=1), tz) <= now


def _shell(kind: Kind, day: date, tz: ZoneInfo, *, status: str, now: datetime) -> Resource:
    return {
        "resourceType": "MeasureReport",
        "id": report_id(kind, day),
        "meta": meta_profile(PROFILE_DAILY_ROLLUP),
        "status": status,
        "type": "summary",
        "measure": analytics_measure_url(kind.name),
        "date": instant(now),
        "period": {
            "start": instant(midnight(day, tz)),
            "end": instant(midnight(day + timedelta(days=1), tz)),
        },
    }


def measure_report(kind: Kind, day: date, tz: ZoneInfo, rows: Counter[Row], *, now: datetime) -> Resource:
    """The complete roll-up of one day's rows: a stratum per distinct row, its value the row as a JSON array
    in the order of the stratifier's codes (one element per stratum, not one component per value: HAPI
    parses and writes every element of every roll-up a report reads, and this is ~5x fewer)."""
    strata = [
        {"value": {"text": json.dumps(row, separators=(",", ":"))}, "population": [{"count": count}]}
        for row, count in sorted(rows.items(), key=lambda item: [v or "" for v in item[0]])
    ]
    stratifier = {"code": [{"text": d} for d in kind.dimensions], "stratum": strata}
    return {
        **_shell(kind, day, tz, status="complete", now=now),
        "group": [{"population": [{"code": _POPULATION, "count": rows.total()}], "stratifier": [stratifier]}],
    }


def rows_of(kind: Kind, report: Resource) -> Counter[Row]:
    """A roll-up's rows back, as counted (a dimension it does not have is unknown); ValueError when a
    stratum is not one of ours."""
    rows: Counter[Row] = Counter()
    for group in report.get("group", []):
        for stratifier in group.get("stratifier", []):
            names = [code.get("text") for code in stratifier.get("code", [])]
            for stratum in stratifier.get("stratum", []):
                try:
                    stored = dict(zip(names, json.loads(stratum["value"]["text"]), strict=True))
                    count = int(stratum["population"][0]["count"])
                except (KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
                    raise ValueError("not a PRM roll-up stratum") from exc
                rows[tuple(_text(stored.get(d)) for d in kind.dimensions)] += count
    return rows


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _day_of(kind: Kind, report: Resource, tz: ZoneInfo) -> date | None:
    """The local day a roll-up covers; None unless it is exactly one day of `tz` under its fixed id
    (a roll-up of another time zone, or anyone else's report of the measure, is not used)."""
    period = report.get("period") or {}
    start, end = parse_datetime(period.get("start")), parse_datetime(period.get("end"))
    if start is None or end is None:
        return None
    day = start.astimezone(tz).date()
    whole = start == midnight(day, tz) and end == midnight(day + timedelta(days=1), tz)
    return day if whole and report.get("id") == report_id(kind, day) else None


async def read(fhir: FhirClient, kind: Kind, period: Period) -> Days:
    """The current roll-ups of the period's days (one search)."""
    found = await fhir.search(
        "MeasureReport",
        [
            ("measure", analytics_measure_url(kind.name)),
            ("status", "complete"),
            ("period", f"ge{instant(period.start)}"),
            ("period", f"lt{instant(period.end)}"),
            ("_count", str(_PAGE)),
        ],
    )
    days: Days = {}
    for report in found:
        day = _day_of(kind, report, period.tz)
        if day is not None and period.first <= day <= period.last:
            with contextlib.suppress(ValueError):  # not readable: that day is counted live
                days[day] = rows_of(kind, report)
    return days


def _runs(days: list[date], tz: ZoneInfo) -> list[Period]:
    """Consecutive days as periods."""
    runs: list[Period] = []
    for day in days:
        if runs and runs[-1].last + timedelta(days=1) == day:
            runs[-1] = Period(first=runs[-1].first, last=day, tz=tz)
        else:
            runs.append(Period(first=day, last=day, tz=tz))
    return runs


async def counted(fhir: FhirClient, kind: Kind, period: Period, *, live: bool = False) -> Days:
    """The period's rows per day: the roll-ups, and the days without one (today, the future, a stale or
    never rolled-up day) read live; `live` reads every day live (the bench's comparison)."""
    rolled = {} if live else await read(fhir, kind, period)
    missing = _runs([d for d in period.dates() if d not in rolled], period.tz)
    for fetched in await asyncio.gather(*(kind.fetch(fhir, run) for run in missing)):
        rolled.update(fetched)
    return rolled


async def roll_up(
    fhir: FhirClient, state: StateStore, kind: Kind, day: date, *, now: datetime, tz: ZoneInfo
) -> bool:
    """Count a closed day of a kind live and store it as its complete roll-up; False for a day not over."""
    if not closed(day, now=now, tz=tz):
        return False
    async with state.lock(
        f"analytics:rollup:{kind.name}:{day.isoformat()}",
        ttl_seconds=LOCK_TTL_SECONDS,
        wait_seconds=LOCK_WAIT_SECONDS,
    ):
        rows = (await kind.fetch(fhir, Period(first=day, last=day, tz=tz))).get(day, Counter())
        report = measure_report(kind, day, tz, rows, now=now)
        await create_with_provenance(fhir, report, actors=[SYSTEM], activity="analytics.roll-up")
    return True


async def pending(fhir: FhirClient, kind: Kind, tz: ZoneInfo) -> list[date]:
    """The days of a kind whose roll-up is still pending (its recompute job never succeeded)."""
    found = await fhir.search(
        "MeasureReport",
        [("measure", analytics_measure_url(kind.name)), ("status", "pending"), ("_count", str(_PAGE))],
    )
    return sorted(day for report in found if (day := _day_of(kind, report, tz)) is not None)


async def mark_stale(fhir: FhirClient, kind: Kind, day: date, *, now: datetime, tz: ZoneInfo) -> None:
    """Mark a day's roll-up pending: readers count that day live until the job rolls it up again."""
    stale = _shell(kind, day, tz, status="pending", now=now)
    await create_with_provenance(fhir, stale, actors=[SYSTEM], activity="analytics.roll-up.stale")
