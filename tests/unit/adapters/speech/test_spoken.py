"""normalize_spoken: what a speech grammar returns, written the way staff type it."""

from __future__ import annotations

import pytest

from adapters.speech.spoken import normalize_spoken


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("for phone number nine eight four four one one one one seven three", "for phone number 9844111173"),
        ("plus nine one nine nine zero zero one one two two three three", "+919900112233"),
        ("nine double eight four triple one seven three", "988411173"),
        ("zero eight zero four one two three", "0804123"),
        ("for ten a m tomorrow", "for 10 am tomorrow"),
        ("at four thirty p m", "at 4:30 pm"),
        ("at eleven forty five am", "at 11:45 am"),
        ("ten o'clock", "10 o'clock"),
        ("at five", "at 5"),
        ("at four thirty", "at 4:30"),
        ("half past ten", "10:30"),
        ("quarter past nine", "9:15"),
        ("quarter to one", "12:45"),
        ("on the twenty second of december", "on the 22nd of december"),
        ("on march first", "on march 1st"),
        ("the eleventh", "the 11th"),
        ("thirty first of may", "31st of may"),
        ("of e n t", "of ent"),
    ],
)
def test_spoken_numbers_become_written_ones(spoken: str, written: str) -> None:
    assert normalize_spoken(spoken) == written


@pytest.mark.parametrize(
    "words",
    [
        "book an appointment with doctor meera iyer",
        "book two appointments",  # a count is not a time
        "nine eight",  # two digits are not a phone number
        "day after tomorrow in the evening",
    ],
)
def test_other_words_are_left_alone(words: str) -> None:
    assert normalize_spoken(words) == words


def test_a_whole_instruction() -> None:
    spoken = (
        "book an appointment with doctor rajiv sharma of cardiology for ten a m tomorrow "
        "for phone number nine eight four four one one one one seven three"
    )

    assert normalize_spoken(spoken) == (
        "book an appointment with doctor rajiv sharma of cardiology for 10 am tomorrow "
        "for phone number 9844111173"
    )
