"""Reminder due-time arithmetic: which reminders an appointment still gets, and when one is too late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.messaging.reminders import ReminderKind, due_times, kind_of, reminder_resource, too_late

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_an_appointment_days_away_gets_both_reminders_at_24_and_2_hours_before() -> None:
    assert due_times(START, now=START - timedelta(days=3)) == {
        ReminderKind.DAY_BEFORE: START - timedelta(hours=24),
        ReminderKind.TWO_HOURS: START - timedelta(hours=2),
    }


def test_less_than_a_day_away_gets_only_the_2_hour_one_and_less_than_2_hours_none() -> None:
    assert set(due_times(START, now=START - timedelta(hours=23, minutes=59))) == {ReminderKind.TWO_HOURS}
    assert due_times(START, now=START - timedelta(hours=2)) == {}  # due exactly now: already past
    assert due_times(START, now=START - timedelta(minutes=30)) == {}
    assert due_times(START, now=START + timedelta(hours=1)) == {}


def test_a_reminder_is_too_late_once_half_its_lead_passed_or_the_appointment_started() -> None:
    day = START - timedelta(hours=24)
    assert not too_late(due=day, start=START, now=day + timedelta(hours=12))
    assert too_late(due=day, start=START, now=day + timedelta(hours=12, seconds=1))
    two = START - timedelta(hours=2)
    assert not too_late(due=two, start=START, now=two + timedelta(minutes=59))
    assert too_late(due=two, start=START, now=two + timedelta(minutes=61))
    assert too_late(due=two, start=START, now=START)


def test_the_kind_is_read_back_from_the_identifier() -> None:
    for kind in ReminderKind:
        resource = reminder_resource(appointment_id="a1", patient_id="p1", kind=kind, due=START, now=START)
        assert kind_of(resource) is kind
        assert resource["occurrenceDateTime"] == "2026-12-01T10:00:00+00:00"
    assert kind_of({"identifier": [{"system": "urn:other", "value": "x/24h"}]}) is None
    assert ReminderKind.TWO_HOURS.template == "appointment_reminder_2h"
