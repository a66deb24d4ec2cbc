"""resolve_when and find_when: staff date/time words to clinic-local instants (exact times asserted)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.language.when import When, find_when, resolve_when

IST = ZoneInfo("Asia/Kolkata")
TUESDAY_9AM = datetime(2026, 12, 1, 9, 0, tzinfo=IST)  # Tuesday 1 December 2026
MONDAY_EVENING = datetime(2026, 12, 7, 18, 30, tzinfo=IST)


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("10AM tomorrow", at(2, 10)),
        ("tomorrow 10 am", at(2, 10)),
        ("10 a.m. tomorrow", at(2, 10)),
        ("tomorrow at 10", at(2, 10)),
        ("tomorrow 10", at(2, 10)),
        ("day after tomorrow 3pm", at(3, 15)),
        ("next Monday at 9:30", at(7, 9, 30)),
        ("Friday at 11:20", at(4, 11, 20)),
        ("Saturday 10:30 am", at(5, 10, 30)),
        ("Saturday 10", at(5, 10)),
        ("in 3 days at 4pm", at(4, 16)),
        ("in a week at 10", at(8, 10)),
        ("5th Dec 9:15am", at(5, 9, 15)),
        ("on 5th Dec at 9:15am", at(5, 9, 15)),
        ("Dec 5 at 9.15", at(5, 9, 15)),
        ("5 December 2026, 14:30", at(5, 14, 30)),
        ("22/12 at 11 am", at(22, 11)),
        ("today 7:30 PM", at(1, 19, 30)),
        ("tonight at 8", at(1, 20)),
        ("tomorrow 9.45 am", at(2, 9, 45)),
        ("tomorrow evening at 6", at(2, 18)),
        ("tomorrow afternoon 2", at(2, 14)),
        ("tomorrow morning at 7", at(2, 7)),
        ("Monday morning 10 o'clock", at(7, 10)),
        ("tommorow at noon", at(2, 12)),
        ("Wednesday noon", at(2, 12)),
        ("tomorow mrng 11", at(2, 11)),
        ("wensday 4pm", at(2, 16)),
        ("Friday the 22nd at 2pm", at(22, 14)),
        ("tomorrow 1430 hrs", at(2, 14, 30)),
        ("tomorrow quarter to 5", at(2, 16, 45)),
        ("tomorrow half past 10", at(2, 10, 30)),
    ],
)
def test_date_and_clock_time_give_an_exact_start(text: str, start: datetime) -> None:
    when = resolve_when(text, now=TUESDAY_9AM)

    assert when is not None
    assert when.start == start
    assert (when.date, when.time, when.part_of_day) == (start.date(), start.time(), None)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("kal shaam 5 baje", at(2, 17)),
        ("parso subah 10 baje", at(3, 10)),
        ("aaj raat 8 baje", at(1, 20)),
        ("kal dopahar 2 baje", at(2, 14)),
        ("kal saade 5 baje", at(2, 17, 30)),
        ("parso dedh baje", at(3, 13, 30)),
        ("agle somvar 11 baje", at(7, 11)),
        ("shukravar shaam 6 baje", at(4, 18)),
        ("3 din baad 4 baje", at(4, 16)),
    ],
)
def test_hinglish(text: str, start: datetime) -> None:
    when = resolve_when(text, now=TUESDAY_9AM)

    assert when is not None and when.start == start


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("at 5", time(17, 0)),  # 1-7 without am/pm: afternoon/evening in a clinic
        ("at 7:45", time(19, 45)),
        ("at 1", time(13, 0)),
        ("at 8", time(8, 0)),  # 8-11: morning
        ("at 11:20", time(11, 20)),
        ("at 12", time(12, 0)),
        ("5 am", time(5, 0)),  # said am: am
        ("morning 6", time(6, 0)),  # said morning: am
        ("evening 8", time(20, 0)),
        ("09:30", time(9, 30)),  # leading zero: 24-hour
        ("14:30", time(14, 30)),
        ("noon", time(12, 0)),
        ("12 am", time(0, 0)),
        ("12 pm", time(12, 0)),
    ],
)
def test_clock_time_without_a_date_has_no_start(text: str, clock: time) -> None:
    assert resolve_when(text, now=TUESDAY_9AM) == When(start=None, date=None, time=clock, part_of_day=None)


@pytest.mark.parametrize(
    ("text", "day", "part"),
    [
        ("tomorrow afternoon", date(2026, 12, 2), "afternoon"),
        ("this Saturday evening", date(2026, 12, 5), "evening"),
        ("tonight", date(2026, 12, 1), "night"),
        ("this evening", date(2026, 12, 1), "evening"),
        ("kal subah", date(2026, 12, 2), "morning"),
        ("next Monday", date(2026, 12, 7), None),
        ("on Wednesday", date(2026, 12, 2), None),
        ("Tuesday", date(2026, 12, 8), None),  # a weekday alone is after today
        ("this Tuesday", date(2026, 12, 1), None),  # "this" may be today
        ("monday next week", date(2026, 12, 7), None),
        ("next week Friday", date(2026, 12, 11), None),
        ("in 3 days", date(2026, 12, 4), None),
        ("in 2 weeks", date(2026, 12, 15), None),
        ("a week later", date(2026, 12, 8), None),
        ("in a couple of days", date(2026, 12, 3), None),
        ("next week", date(2026, 12, 8), None),
        ("kal", date(2026, 12, 2), None),
        ("parso", date(2026, 12, 3), None),
        ("aaj", date(2026, 12, 1), None),
        ("the 22nd", date(2026, 12, 22), None),
        ("5th Jan", date(2027, 1, 5), None),  # a day already past this year is next year's
        ("2026-12-05", date(2026, 12, 5), None),
        ("05-12-2026", date(2026, 12, 5), None),  # day first, as India writes it
    ],
)
def test_date_without_a_clock_time(text: str, day: date, part: str | None) -> None:
    assert resolve_when(text, now=TUESDAY_9AM) == When(start=None, date=day, time=None, part_of_day=part)


def test_next_weekday_said_on_that_weekday_is_a_week_later() -> None:
    when = resolve_when("next Monday at 9:30", now=MONDAY_EVENING)

    assert when is not None and when.start == at(14, 9, 30)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("in 2 hours", at(1, 11)),
        ("in an hour", at(1, 10)),
        ("after 2 hrs", at(1, 11)),
        ("in 45 mins", at(1, 9, 45)),
        ("in half an hour", at(1, 9, 30)),
        ("2 ghante baad", at(1, 11)),
    ],
)
def test_relative_hours_count_from_now(text: str, start: datetime) -> None:
    when = resolve_when(text, now=TUESDAY_9AM)

    assert when is not None and when.start == start and when.time == start.time()


def test_midnight_is_the_end_of_the_day_named() -> None:
    when = resolve_when("tomorrow midnight", now=TUESDAY_9AM)

    assert when is not None and when.start == at(3, 0)


def test_start_is_in_the_time_zone_of_now() -> None:
    now = datetime.fromisoformat("2026-12-01T09:00:00+05:30")

    when = resolve_when("tomorrow 10am", now=now)

    assert when is not None and when.start is not None
    assert when.start.isoformat() == "2026-12-02T10:00:00+05:30"
    assert when.start.utcoffset() == timedelta(hours=5, minutes=30)


def test_an_iso_date_time_is_taken_as_the_instant_it_names() -> None:
    when = resolve_when("2026-12-02T04:30:00Z", now=TUESDAY_9AM)

    assert when is not None and when.start == at(2, 10) and when.time == time(10, 0)


def test_dateparser_answers_only_what_the_rules_do_not_know_and_only_the_date() -> None:
    when = resolve_when("in a fortnight at 5pm", now=TUESDAY_9AM)

    assert when is not None and when.start == at(15, 17)


@pytest.mark.parametrize("text", ["", "   ", "with Dr Sharma", "chest pain", "room 5", "age 45"])
def test_text_without_date_words_gives_none(text: str) -> None:
    assert resolve_when(text, now=TUESDAY_9AM) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Book Ananya Reddy with Dr Sharma next Monday at 9:30", "next Monday at 9:30"),
        ("For 9844111173, book Dr. Rajiv Sharma of crdiology for 10AM tomorrow", "10AM tomorrow"),
        ("kal subah 10 baje Dr Rajiv ke saath appointment book karo", "kal subah 10 baje"),
        ("Schedule a dermatology consult on 5th Dec at 9:15am", "5th Dec at 9:15am"),
        ("Book Ananya tomorrow with Dr Sharma at 10", "tomorrow at 10"),
        ("Book Sundar Raman for Monday", "Monday"),
    ],
)
def test_find_when_gives_the_date_words_as_written(text: str, words: str) -> None:
    mention = find_when(text)

    assert mention is not None and mention.text == words
    assert " ".join(text[start:end] for start, end in mention.spans) == words


@pytest.mark.parametrize(
    "text",
    [
        "Find the patient with number 98441 11173",
        "Register Deepa Joshi, 45 years, female",
        "Book Mona Evelyn",
    ],
)
def test_find_when_ignores_numbers_and_names_that_are_not_dates(text: str) -> None:
    assert find_when(text) is None
