"""Date ranges as staff say them ("next week", "last month", "past 7 days", "today") -> whole local days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_PERIOD = re.compile(
    r"\b(?:(?P<rel>this|next|last|past|previous|coming|agle|pichle|pichhle)\s+(?P<unit>week|month|hafte|mahine)"
    r"|(?P<span>last|past|next|previous)\s+(?P<count>\d{1,3})\s+(?P<units>days|weeks)"
    r"|(?P<word>today|tomorrow|yesterday|aaj|tonight))\b",
    re.IGNORECASE,
)
_NEXT = ("next", "coming", "agle")
_PAST = ("last", "past", "previous", "pichle", "pichhle")
_WORD_DAYS = {"today": 0, "aaj": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}


@dataclass(frozen=True)
class PeriodMention:
    """A date range found in a text: the words and where they are."""

    text: str
    start: int
    end: int


def find_period(text: str) -> PeriodMention | None:
    """The first date-range words in a text."""
    match = _PERIOD.search(text)
    return PeriodMention(match.group(0), match.start(), match.end()) if match else None


def _month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def resolve_period(text: str, *, today: date) -> tuple[date, date] | None:
    """The first and last day of the range the words name (weeks start on Monday); None if none."""
    match = _PERIOD.fullmatch(text.strip()) or _PERIOD.search(text)
    if match is None:
        return None
    if match.group("word"):
        day = today + timedelta(days=_WORD_DAYS[match.group("word").lower()])
        return day, day
    if match.group("span"):
        count = int(match.group("count")) * (7 if match.group("units").lower() == "weeks" else 1)
        if count == 0:
            return None
        if match.group("span").lower() == "next":
            return today, today + timedelta(days=count - 1)
        return today - timedelta(days=count), today - timedelta(days=1)
    rel, unit = match.group("rel").lower(), match.group("unit").lower()
    step = 1 if rel in _NEXT else -1 if rel in _PAST else 0
    if unit in ("week", "hafte"):
        first = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return first, first + timedelta(days=6)
    first = _month_start(today, step)
    return first, _month_start(first, 1) - timedelta(days=1)
