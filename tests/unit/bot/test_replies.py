"""Reading a patient's short answers."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.bot.replies import (
    NONE_OF_THESE,
    Menu,
    Preference,
    birth_year,
    menu_choice,
    pick,
    preference,
    skipped,
    wants_human,
    wants_menu,
    yes_no,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
STARTS = [datetime(2026, 12, 1, h, m, tzinfo=KOLKATA) for h, m in ((9, 0), (10, 30), (16, 0), (17, 15))]


@pytest.mark.parametrize(
    "text", ["yes", "Yes please", "haan", "Haan ji", "ok", "OK", "confirm", "ಹೌದು", "हाँ।", "👍"]
)
def test_yes(text: str) -> None:
    assert yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "No thanks", "nahi", "nahin", "ಇಲ್ಲ", "नहीं"])
def test_no(text: str) -> None:
    assert yes_no(text) is False


@pytest.mark.parametrize("text", ["maybe", "book Dr Rao", "yes no", "afternoon", ""])
def test_neither_yes_nor_no(text: str) -> None:
    assert yes_no(text) is None


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("1", 0),
        ("2nd", 1),
        ("#3", 2),
        ("option 4", 3),
        ("first one", 0),
        ("the second", 1),
        ("last one", 3),
        ("the 10:30 one", 1),
        ("10.30", 1),
        ("4 pm", 2),
        ("5:15", 3),
        ("none of these", NONE_OF_THESE),
        ("another day please", NONE_OF_THESE),
        ("koi nahi", NONE_OF_THESE),
    ],
)
def test_pick(text: str, index: int) -> None:
    assert pick(text, STARTS) == index


@pytest.mark.parametrize("text", ["7", "eleventh", "the 11:45 one", "afternoon", "after 5", "hello"])
def test_pick_names_nothing(text: str) -> None:
    assert pick(text, STARTS) is None


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("afternoon", Preference(part_of_day="afternoon")),
        ("evening please", Preference(part_of_day="evening")),
        ("shaam ko", Preference(part_of_day="evening")),
        ("after 5", Preference(after=time(17, 0))),
        ("after 5:30 pm", Preference(after=time(17, 30))),
        ("after 10", Preference(after=time(10, 0))),
        ("before 11", Preference(before=time(11, 0))),
    ],
)
def test_preference(text: str, wanted: Preference) -> None:
    assert preference(text) == wanted


def test_a_preference_filters_starts() -> None:
    after_five = Preference(after=time(17, 0))

    assert [s.time() for s in STARTS if after_five.fits(s)] == [time(17, 15)]


def test_menu_words() -> None:
    assert menu_choice("2") is Menu.APPOINTMENTS
    assert menu_choice("6") is Menu.HUMAN
    assert menu_choice("9") is None
    assert wants_menu("Hi") and wants_menu("menu") and not wants_menu("hi I need a skin doctor")
    assert wants_human("can I talk to a human?") and wants_human("agent") and not wants_human("heart doctor")


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("42", 1984),
        ("I am 42 years old", 1984),
        ("42 saal", 1984),
        ("४२", 1984),
        ("1983", 1983),
        ("0", 2026),
        ("121", None),
        ("2027", None),
        ("about forty", None),
        ("42 or 43", None),
        ("", None),
    ],
)
def test_an_age_answer_gives_the_year_of_birth(text: str, year: int | None) -> None:
    assert birth_year(text, this_year=2026) == year


@pytest.mark.parametrize(
    ("text", "skip"), [("skip", True), ("later", True), ("nahi", True), ("ಬಿಡಿ", True), ("42", False)]
)
def test_a_patient_may_skip_the_age(text: str, skip: bool) -> None:
    assert skipped(text) is skip
