"""Phones in free text: found however short a valid number is; texts with too few digits skip the matcher."""

from __future__ import annotations

from app.language.phones import phones_in_text


def test_the_shortest_numbers_anywhere_are_still_found_and_short_digit_runs_skip_the_matcher() -> None:
    assert phones_in_text("call +683 4002 now") == [("+683 4002", "+6834002")]
    assert phones_in_text("book 98441 11173 at 10:30") == [("98441 11173", "+919844111173")]
    assert phones_in_text("book at 10:30 on 12/5, room 204") == []
