"""Date ranges as staff say them -> whole local days (weeks start on Monday)."""

from __future__ import annotations

from datetime import date

import pytest

from app.language.periods import find_period, resolve_period

TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("words", "first", "last"),
    [
        ("next week", date(2026, 12, 7), date(2026, 12, 13)),
        ("this week", date(2026, 11, 30), date(2026, 12, 6)),
        ("last week", date(2026, 11, 23), date(2026, 11, 29)),
        ("pichle hafte", date(2026, 11, 23), date(2026, 11, 29)),
        ("this month", date(2026, 12, 1), date(2026, 12, 31)),
        ("last month", date(2026, 11, 1), date(2026, 11, 30)),
        ("next month", date(2027, 1, 1), date(2027, 1, 31)),
        ("last 7 days", date(2026, 11, 24), date(2026, 11, 30)),
        ("next 30 days", date(2026, 12, 1), date(2026, 12, 30)),
        ("past 2 weeks", date(2026, 11, 17), date(2026, 11, 30)),
        ("yesterday", date(2026, 11, 30), date(2026, 11, 30)),
        ("today", TUESDAY, TUESDAY),
    ],
)
def test_a_range_is_whole_days(words: str, first: date, last: date) -> None:
    assert resolve_period(words, today=TUESDAY) == (first, last)


def test_a_december_month_ends_the_year() -> None:
    assert resolve_period("next month", today=date(2026, 12, 31)) == (date(2027, 1, 1), date(2027, 1, 31))


def test_words_without_a_range_are_none() -> None:
    assert resolve_period("on Friday at 10", today=TUESDAY) is None
    assert resolve_period("last 0 days", today=TUESDAY) is None


def test_the_range_is_found_with_its_place_in_the_text() -> None:
    text = "how many no-shows last week in cardiology"
    found = find_period(text)

    assert found is not None
    assert text[found.start : found.end] == "last week"
