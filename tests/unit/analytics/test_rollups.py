"""Roll-ups as data: a day's rows survive the MeasureReport round trip exactly (unknown values too), only
a whole day of the clinic's time zone under its fixed id is used, and the change handlers are registered."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.analytics import rollups
from app.analytics.changes import appointment_changed, communication_changed, task_changed
from app.analytics.rows import APPOINTMENTS, TICKETS, Period, Row, communication_row, ticket_row
from app.changes.registry import load_handlers, registry
from app.fhir.canonical import CS_CHANNEL

KOLKATA = ZoneInfo("Asia/Kolkata")
DAY = date(2031, 3, 4)


def test_a_days_rows_come_back_from_its_measure_report_exactly() -> None:
    rows: Counter[Row] = Counter(
        {
            ("booked", "whatsapp", "cardiology", "p1", "l1"): 3,
            ("noshow", None, None, "p2", "l1"): 1,  # no channel, no department: absent components
            (None, None, None, None, None): 2,
        }
    )

    report = rollups.measure_report(APPOINTMENTS, DAY, KOLKATA, rows, now=datetime(2031, 3, 5, tzinfo=UTC))

    assert report["id"] == "prm-rollup-appointments-2031-03-04"
    assert report["period"] == {"start": "2031-03-04T00:00:00+05:30", "end": "2031-03-05T00:00:00+05:30"}
    assert report["group"][0]["population"][0]["count"] == 6
    assert rollups.rows_of(APPOINTMENTS, report) == rows
    assert report["group"][0]["stratifier"][0]["stratum"][0]["value"]["text"] == "[null,null,null,null,null]"
    broken = {**report, "group": [{"stratifier": [{"stratum": [{"value": {"text": "{"}}]}]}]}
    with pytest.raises(ValueError):
        rollups.rows_of(APPOINTMENTS, broken)
    assert rollups.rows_of(APPOINTMENTS, {**report, "group": []}) == Counter()


def test_only_a_whole_day_of_the_clinics_zone_under_its_own_id_counts() -> None:
    report = rollups.measure_report(
        APPOINTMENTS, DAY, KOLKATA, Counter(), now=datetime(2031, 3, 5, tzinfo=UTC)
    )

    assert rollups._day_of(APPOINTMENTS, report, KOLKATA) == DAY
    assert rollups._day_of(APPOINTMENTS, report, ZoneInfo("UTC")) is None  # the zone changed since
    assert rollups._day_of(TICKETS, report, KOLKATA) is None  # another kind's id
    assert rollups._day_of(APPOINTMENTS, {**report, "period": {"start": "2031-03-04"}}, KOLKATA) is None


def test_missing_days_are_read_in_runs_and_a_day_is_closed_once_over() -> None:
    days = [date(2031, 3, d) for d in (1, 2, 3, 6, 8, 9)]

    runs = rollups._runs(days, KOLKATA)

    assert [(r.first.day, r.last.day) for r in runs] == [(1, 3), (6, 6), (8, 9)]
    assert rollups.closed(DAY, now=datetime(2031, 3, 4, 18, 30, tzinfo=UTC), tz=KOLKATA)
    assert not rollups.closed(DAY, now=datetime(2031, 3, 4, 18, 29, tzinfo=UTC), tz=KOLKATA)
    assert Period(first=DAY, last=DAY, tz=KOLKATA).dates() == [DAY]


def test_a_ticket_row_keeps_what_the_sla_needs_and_a_message_row_its_outcome() -> None:
    base = {"resourceType": "Task", "authoredOn": "2031-03-04T10:00:00+05:30", "priority": "routine"}
    due = {"restriction": {"period": {"end": "2031-03-04T14:00:00+05:30"}}}
    late = {**base, **due, "status": "completed", "lastModified": "2031-03-04T16:00:00+05:30"}
    open_ = {**base, **due, "status": "requested"}

    assert ticket_row(late) == (None, "routine", "completed", "breached", None, "6.0")
    assert ticket_row(open_) == (None, "routine", "requested", None, "2031-03-04T14:00:00+05:30", None)
    call = {
        "resourceType": "Communication",
        "status": "not-done",
        "statusReason": {"coding": []},  # valid FHIR without a code: no crash
        "medium": [{"coding": [{"system": CS_CHANNEL, "code": "voice"}]}],
        "sent": "2031-03-04T10:00:00+05:30",
    }
    assert communication_row(call) == (None, "outbound", None, "not-done", "voice")


def test_the_roll_up_handlers_are_registered() -> None:
    load_handlers()

    assert appointment_changed in registry.handlers_for("Appointment")
    assert task_changed in registry.handlers_for("Task")
    assert communication_changed in registry.handlers_for("Communication")
