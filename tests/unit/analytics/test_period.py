"""Report periods: whole local days of the clinic's time zone, cut into slices fetched at once."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.analytics.rows import Period
from app.analytics.service import rate

KOLKATA = ZoneInfo("Asia/Kolkata")


def test_a_period_covers_local_days_and_its_slices_cover_it_exactly() -> None:
    period = Period(first=date(2031, 1, 1), last=date(2031, 1, 10), tz=KOLKATA)

    slices = period.slices(4)

    assert period.start == datetime(2030, 12, 31, 18, 30, tzinfo=UTC)
    assert period.end == datetime(2031, 1, 10, 18, 30, tzinfo=UTC)
    assert slices[0][0] == period.start
    assert slices[-1][1] == period.end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
    assert len(slices) == 4


def test_a_one_day_period_is_one_slice_and_days_are_local() -> None:
    period = Period(first=date(2031, 1, 1), last=date(2031, 1, 1), tz=KOLKATA)

    assert len(period.slices(4)) == 1
    assert period.day(datetime(2031, 1, 1, 18, 45, tzinfo=UTC)) == date(2031, 1, 2)
    assert period.dates() == [date(2031, 1, 1)]


def test_rates_are_rounded_and_none_without_a_denominator() -> None:
    assert rate(2, 3) == 0.6667
    assert rate(0, 0) is None
