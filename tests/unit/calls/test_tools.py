"""Which spans the live slot tool asks HAPI for: a part of day is searched day by day, only that part."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.calls.tools import SEARCH_DAYS, search_spans

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 12, 1, 13, 30, tzinfo=IST)  # a Tuesday afternoon


def test_no_day_no_part_is_the_coming_week_in_one_span() -> None:
    assert search_spans(day=None, part_of_day=None, timezone=IST, now=NOW) == [
        (NOW, datetime(2026, 12, 8, 13, 30, tzinfo=IST))
    ]


def test_a_day_is_that_local_day() -> None:
    assert search_spans(day=date(2026, 12, 3), part_of_day=None, timezone=IST, now=NOW) == [
        (datetime(2026, 12, 3, tzinfo=IST), datetime(2026, 12, 4, tzinfo=IST))
    ]


def test_a_part_of_day_on_a_day_is_only_that_part() -> None:
    assert search_spans(day=date(2026, 12, 3), part_of_day="afternoon", timezone=IST, now=NOW) == [
        (datetime(2026, 12, 3, 12, tzinfo=IST), datetime(2026, 12, 3, 17, tzinfo=IST))
    ]


def test_mornings_of_the_week_skip_the_one_already_past() -> None:
    spans = search_spans(day=None, part_of_day="morning", timezone=IST, now=NOW)

    assert len(spans) == SEARCH_DAYS  # today's morning is over
    assert spans[0] == (datetime(2026, 12, 2, 0, tzinfo=IST), datetime(2026, 12, 2, 12, tzinfo=IST))
    assert all(end.hour == 12 and (end - start).total_seconds() == 12 * 3600 for start, end in spans)


def test_this_afternoon_is_still_searched() -> None:
    spans = search_spans(day=None, part_of_day="afternoon", timezone=IST, now=NOW)

    assert spans[0] == (datetime(2026, 12, 1, 12, tzinfo=IST), datetime(2026, 12, 1, 17, tzinfo=IST))
