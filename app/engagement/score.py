"""The engagement score (0-100) of a patient, with its factors, from their appointments and messages.

Points, documented here and in docs/outreach.md:
* recency of the last visit (fulfilled or arrived): within 90 days 30, 180 days 20, a year 10;
* frequency: 7.5 per visit in the last year, at most 30;
* replies: 3 per inbound message in the last 90 days, at most 15;
* confirmations: 5 per appointment the patient confirmed in the last year, at most 15;
* no-shows: minus 10 per no-show in the last year, at most minus 30.
Clamped to 0-100; 60 and above is high, 30 and above medium, below that low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.scheduling.resources import confirmed_by_patient

YEAR = timedelta(days=365)
REPLY_WINDOW = timedelta(days=90)
_RECENCY = ((timedelta(days=90), 30.0), (timedelta(days=180), 20.0), (YEAR, 10.0))
_VISITED = ("fulfilled", "arrived")


@dataclass(frozen=True)
class EngagementFactor:
    """One part of the score: what was counted and the points it gave."""

    name: str
    value: float
    points: float


@dataclass(frozen=True)
class Engagement:
    """The score, its level and its factors."""

    score: float
    level: str
    factors: list[EngagementFactor]


def engagement(
    *, appointments: Sequence[Resource], communications: Sequence[Resource], now: datetime
) -> Engagement:
    """Score a patient from their appointments and messages (anything unreadable is left out)."""
    year = [a for a in appointments if _within(a.get("start"), now, YEAR)]
    visits = [a for a in year if a.get("status") in _VISITED]
    last = max((d for a in visits if (d := parse_datetime(a.get("start")))), default=None)
    recency = next((p for span, p in _RECENCY if last is not None and now - last <= span), 0.0)
    replies = [
        c for c in communications if _from_patient(c) and _within(c.get("received"), now, REPLY_WINDOW)
    ]
    confirmed = [a for a in year if confirmed_by_patient(a)]
    no_shows = [a for a in year if a.get("status") == "noshow"]
    factors = [
        EngagementFactor("days_since_last_visit", float((now - last).days) if last else -1.0, recency),
        EngagementFactor("visits_last_year", float(len(visits)), min(7.5 * len(visits), 30.0)),
        EngagementFactor("replies_last_90_days", float(len(replies)), min(3.0 * len(replies), 15.0)),
        EngagementFactor("confirmations_last_year", float(len(confirmed)), min(5.0 * len(confirmed), 15.0)),
        EngagementFactor("no_shows_last_year", float(len(no_shows)), -min(10.0 * len(no_shows), 30.0)),
    ]
    score = max(0.0, min(100.0, sum(f.points for f in factors)))
    level = "high" if score >= 60 else "medium" if score >= 30 else "low"
    return Engagement(score=score, level=level, factors=factors)


def _within(text: object, now: datetime, span: timedelta) -> bool:
    moment = parse_datetime(text)
    return moment is not None and now - span <= moment <= now


def _from_patient(message: Resource) -> bool:
    return str((message.get("sender") or {}).get("reference", "")).startswith("Patient/")
