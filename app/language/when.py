"""Dates and times as staff say them ("10AM tomorrow", "next Monday at 9:30", "kal shaam 5 baje") -> a When.

dateparser alone is not trusted: it silently drops the time in "tomorrow 9.45 am" and knows neither
"Monday morning 10 o'clock" nor Hinglish. So the words are first made canonical (Hinglish and common
typos become English), the date and the clock time are read with regexes, and dateparser is asked
only about a date the regexes do not recognise, and only for its date, never for its time.

Hours without am/pm are read as a clinic means them:
* with a part of day, "morning" means am and "afternoon", "evening", "night" mean pm
  ("tomorrow evening at 6" is 18:00, "kal shaam 5 baje" is 17:00);
* otherwise 1-7 is pm ("at 5" is 17:00: nobody books a clinic visit at 5 in the morning),
  8-11 is am and 12 is noon;
* a leading zero or an hour above 12 ("09:30", "14:30", "1430 hrs") is 24-hour time.
A weekday alone, "next <weekday>" and "coming <weekday>" mean the first such day after today
(on a Monday, "next Monday" is a week later); "this <weekday>" may be today.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import dateparser

from app.language import when_patterns as vocab

# Bare hours in this range are afternoon/evening hours (see the module docstring).
DEFAULT_PM_HOURS = range(1, 8)
# Date sources, most specific first: a later, vaguer one never overrides an earlier one.
RANK_EXPLICIT, RANK_DAY_OF_MONTH, RANK_RELATIVE, RANK_WEEKDAY, RANK_VAGUE, RANK_NONE = range(6)
# find_when only needs where the words are, not what day they mean: any fixed (leap) year will do.
_REFERENCE_DAY = date(2024, 1, 1)


@dataclass(frozen=True)
class When:
    """A date and/or time in the clinic's time zone; `start` is set when both are known."""

    start: datetime | None
    date: date | None
    time: time | None
    part_of_day: str | None  # morning, afternoon, evening or night, when said without a clock time


@dataclass(frozen=True)
class WhenMention:
    """Date and time words found in free text: the words as written, and where they are."""

    text: str
    spans: tuple[tuple[int, int], ...]


# -- scanning -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    meridiem: str | None  # "am" or "pm" when said
    exact: bool = False  # 24-hour time, noon or midnight: no am/pm guessing
    next_day: bool = False  # "midnight": the end of the day named


@dataclass
class _Scan:
    text: str
    today: date
    taken: bytearray
    spans: list[tuple[int, int]] = field(default_factory=list)
    day: date | None = None
    day_rank: int = RANK_NONE
    clock: _Clock | None = None
    part: str | None = None
    offset: timedelta | None = None

    def set_day(self, day: date, rank: int) -> None:
        if rank < self.day_rank:
            self.day, self.day_rank = day, rank

    def set_clock(self, clock: _Clock) -> None:
        if self.clock is None:
            self.clock = clock


def _count(text: str) -> float:
    return float(text) if text.isdigit() else float(vocab.COUNTS[" ".join(text.split())])


def _hour(text: str) -> int:
    return int(text) if text.isdigit() else vocab.HOUR_WORDS[text]


def _on_offset(m: re.Match[str], scan: _Scan) -> bool:
    count, unit = _count(m["count"]), m["unit"][0]
    if unit in "dw":
        if not count.is_integer():
            return False
        scan.set_day(scan.today + timedelta(days=int(count) * (7 if unit == "w" else 1)), RANK_RELATIVE)
    else:
        scan.offset = timedelta(hours=count) if unit == "h" else timedelta(minutes=count)
    return True


def _set_date(scan: _Scan, day: int, month: int, year: str | None) -> bool:
    full_year = scan.today.year if year is None else int(year) + (2000 if len(year) == 2 else 0)
    try:
        found = date(full_year, month, day)
        if year is None and found < scan.today:  # "5th Dec" said after 5 Dec means next year's
            found = found.replace(year=full_year + 1)
    except ValueError:
        return False
    scan.set_day(found, RANK_EXPLICIT)
    return True


def _on_day_month(m: re.Match[str], scan: _Scan) -> bool:
    return _set_date(scan, int(m["day"]), vocab.month_number(m["month"]), m["year"])


def _on_numeric_date(m: re.Match[str], scan: _Scan) -> bool:
    # India writes dates day first: 5/12 is 5 December (ISO dates are matched with named groups too).
    return _set_date(scan, int(m["day"]), int(m["month"]), m["year"])


def _on_day_of_month(m: re.Match[str], scan: _Scan) -> bool:
    # "the 22nd": this month's, or next month's once this month's has passed.
    day, this_month = int(m["day"]), scan.today.replace(day=1)
    month = this_month if day >= scan.today.day else (this_month + timedelta(days=32)).replace(day=1)
    try:
        scan.set_day(month.replace(day=day), RANK_DAY_OF_MONTH)
    except ValueError:  # "the 31st" of a 30-day month
        return False
    return True


def _on_relative_day(m: re.Match[str], scan: _Scan) -> bool:
    scan.set_day(scan.today + timedelta(days=vocab.relative_days(m["word"])), RANK_RELATIVE)
    if m["word"] == "tonight" and scan.part is None:
        scan.part = "night"
    return True


def _on_this_part(m: re.Match[str], scan: _Scan) -> bool:
    scan.set_day(scan.today, RANK_RELATIVE)
    scan.part = scan.part or m["part"]
    return True


def _on_weekday(m: re.Match[str], scan: _Scan) -> bool:
    index, weekday = vocab.WEEKDAYS.index(m["day"]), scan.today.weekday()
    which = m["which"] or m["after"]
    if m["week"] or m["after"]:  # "next week Monday", "Monday next week", "this week Friday"
        monday = scan.today - timedelta(days=weekday) + timedelta(days=7 if which == "next" else 0)
        found = monday + timedelta(days=index)
    else:
        ahead = (index - weekday) % 7
        found = scan.today + timedelta(days=ahead if which == "this" else ahead or 7)
    scan.set_day(found, RANK_WEEKDAY)
    return True


def _on_next_week(_match: re.Match[str], scan: _Scan) -> bool:
    scan.set_day(scan.today + timedelta(days=7), RANK_VAGUE)
    return True


def _on_part(m: re.Match[str], scan: _Scan) -> bool:
    scan.part = scan.part or m["part"]
    return True


def _clock(hour: int, minute: int, meridiem: str | None, *, exact: bool = False) -> _Clock | None:
    if meridiem == "hrs":
        meridiem, exact = None, True
    elif meridiem == "oclock":
        meridiem = None
    if minute > 59 or hour > 23 or (meridiem and not 1 <= hour <= 12):
        return None
    return _Clock(hour, minute, meridiem, exact or hour == 0 or hour > 12)


def _claim_clock(scan: _Scan, clock: _Clock | None) -> bool:
    if clock is None:
        return False
    scan.set_clock(clock)
    return True


def _on_hour_minute(m: re.Match[str], scan: _Scan) -> bool:
    leading_zero = len(m["hour"]) == 2 and m["hour"].startswith("0")
    return _claim_clock(scan, _clock(int(m["hour"]), int(m["minute"]), m["mer"], exact=leading_zero))


def _on_hour(m: re.Match[str], scan: _Scan) -> bool:
    return _claim_clock(scan, _clock(_hour(m["hour"]), 0, m["mer"]))


def _on_fraction(m: re.Match[str], scan: _Scan) -> bool:
    hour, minutes = _hour(m["hour"]), 30 if m["frac"] == "half" else 15
    if m["rel"] == "to":
        hour, minutes = (hour - 1) or 12, 60 - minutes
    return _claim_clock(scan, _clock(hour, minutes, m["mer"]))


def _on_noon(m: re.Match[str], scan: _Scan) -> bool:
    midnight = m["noon"] == "midnight"
    return _claim_clock(scan, _Clock(0 if midnight else 12, 0, None, exact=True, next_day=midnight))


def _on_at_hour(m: re.Match[str], scan: _Scan) -> bool:
    return _claim_clock(scan, _clock(_hour(m["hour"]), 0, None))


_SCANNERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], _Scan], bool]], ...] = (
    (vocab.OFFSET_AHEAD, _on_offset),
    (vocab.OFFSET_LATER, _on_offset),
    (vocab.ISO_DATE, _on_numeric_date),
    (vocab.DAY_MONTH, _on_day_month),
    (vocab.MONTH_DAY, _on_day_month),
    (vocab.SLASH_DATE, _on_numeric_date),
    (vocab.DASHED_DATE, _on_numeric_date),
    (vocab.RELATIVE_DAY, _on_relative_day),
    (vocab.THIS_PART, _on_this_part),
    (vocab.WEEKDAY, _on_weekday),
    (vocab.NEXT_WEEK, _on_next_week),
    (vocab.DAY_OF_MONTH, _on_day_of_month),
    (vocab.HOUR_MINUTE, _on_hour_minute),
    (vocab.COMPACT_TIME, _on_hour_minute),
    (vocab.FRACTION_TIME, _on_fraction),
    (vocab.HOUR_MERIDIEM, _on_hour),
    (vocab.NOON, _on_noon),
    (vocab.AT_HOUR, _on_at_hour),
    (vocab.PART_OF_DAY, _on_part),
)


def _claim(scan: _Scan, start: int, end: int) -> None:
    scan.taken[start:end] = b"\x01" * (end - start)
    scan.spans.append((start, end))


def _is_free(scan: _Scan, start: int, end: int) -> bool:
    return not any(scan.taken[start:end])


def _touches_a_claim(scan: _Scan, start: int, end: int) -> bool:
    """Whether only connector words separate text[start:end] from a claimed span (or from nothing)."""
    before = max((e for _, e in scan.spans if e <= start), default=None)
    after = min((s for s, _ in scan.spans if s >= end), default=None)
    if before is None and after is None:
        return bool(vocab.CONNECTORS_ONLY.fullmatch(scan.text[:start] + " " + scan.text[end:]))
    return (before is not None and bool(vocab.CONNECTORS_ONLY.fullmatch(scan.text[before:start]))) or (
        after is not None and bool(vocab.CONNECTORS_ONLY.fullmatch(scan.text[end:after]))
    )


def _scan(text: str, today: date) -> _Scan:
    scan = _Scan(text=text, today=today, taken=bytearray(len(text)))
    for pattern, handle in _SCANNERS:
        for match in pattern.finditer(text):
            if _is_free(scan, *match.span()) and handle(match, scan):
                _claim(scan, *match.span())
    # A bare number is an hour only next to other date words ("tomorrow 10", "Saturday 10, morning").
    for match in vocab.BARE_HOUR.finditer(text):
        if (
            scan.clock is None
            and _is_free(scan, *match.span())
            and _touches_a_claim(scan, *match.span())
            and _claim_clock(scan, _clock(int(match["hour"]), 0, None))
        ):
            _claim(scan, *match.span())
    return scan


# -- resolving ------------------------------------------------------------------------------------------


def _clock_time(clock: _Clock, part: str | None) -> tuple[time, int]:
    """The clock time a reading means, and how many days it moves the date (one for midnight)."""
    hour, days_later = clock.hour, 1 if clock.next_day else 0
    if clock.meridiem == "am":
        hour %= 12
    elif clock.meridiem == "pm":
        hour = hour % 12 + 12
    elif clock.exact or part == "morning":
        pass
    elif part == "night" and hour == 12:  # "raat 12 baje": the midnight that ends the day named
        hour, days_later = 0, 1
    elif part in ("afternoon", "evening", "night"):
        hour = hour % 12 + 12
    elif hour in DEFAULT_PM_HOURS:
        hour += 12
    return time(hour, clock.minute), days_later


def _from_iso(text: str, now: datetime) -> When | None:
    """An ISO 8601 date or date-time as a whole (what a model may answer), in the clinic's time zone."""
    if not vocab.ISO_WHOLE.fullmatch(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if "T" not in text.upper() and " " not in text:
        return When(start=None, date=parsed.date(), time=None, part_of_day=None)
    local = parsed.replace(tzinfo=now.tzinfo) if parsed.tzinfo is None else parsed.astimezone(now.tzinfo)
    return When(start=local, date=local.date(), time=local.time().replace(tzinfo=None), part_of_day=None)


def _dateparser_day(scan: _Scan, now: datetime) -> date | None:
    """Ask dateparser about words the regexes left over ("next month", "in a fortnight"); its date only."""
    leftover = "".join(" " if taken else char for char, taken in zip(scan.text, scan.taken, strict=True))
    if not vocab.WORDY.search(leftover):
        return None
    # The base is the clinic's wall-clock time, so the date dateparser answers is a clinic date.
    settings = {"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": "future"}
    parsed = dateparser.parse(" ".join(leftover.split()), languages=["en"], settings=settings)
    return parsed.date() if parsed else None


def resolve_when(text: str, *, now: datetime) -> When | None:
    """The date/time `text` names, relative to `now` (aware, clinic time zone); None if it names none."""
    stripped = text.strip()
    if not stripped:
        return None
    iso = _from_iso(stripped, now)
    if iso is not None:
        return iso
    scan = _scan(vocab.canonical(stripped).text, now.date())
    if scan.offset is not None:
        later = (now + scan.offset).replace(second=0, microsecond=0)
        return When(start=later, date=later.date(), time=later.time(), part_of_day=None)
    day = scan.day if scan.day is not None else _dateparser_day(scan, now)
    if scan.clock is None:
        if day is None and scan.part is None:
            return None
        return When(start=None, date=day, time=None, part_of_day=scan.part)
    clock_time, days_later = _clock_time(scan.clock, scan.part)
    if day is not None:
        day += timedelta(days=days_later)
    start = datetime.combine(day, clock_time, tzinfo=now.tzinfo) if day is not None else None
    return When(start=start, date=day, time=clock_time, part_of_day=None)


def find_when(text: str) -> WhenMention | None:
    """The words of free text that name a date or time ("10AM tomorrow"), as written; None if none do."""
    mapped = vocab.canonical(text)
    scan = _scan(mapped.text, _REFERENCE_DAY)
    if not scan.spans:
        return None
    groups: list[tuple[int, int]] = []
    for start, end in sorted(scan.spans):
        if groups and vocab.CONNECTORS_ONLY.fullmatch(mapped.text[groups[-1][1] : start]):
            groups[-1] = (groups[-1][0], end)
        else:
            groups.append((start, end))
    spans = tuple(mapped.original_span(start, end) for start, end in groups)
    return WhenMention(text=" ".join(text[start:end] for start, end in spans), spans=spans)
