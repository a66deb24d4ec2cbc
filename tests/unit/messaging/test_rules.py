"""The send-time rules' arithmetic: quiet hours, the session window, consent per situation."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.consents.resources import Decision
from app.messaging.notifications import template_for, when_for
from app.messaging.rules import consent_refusal, quiet_hours_end, window_open
from app.messaging.sending import deferred_job_id

KOLKATA = ZoneInfo("Asia/Kolkata")
NIGHT = {"start": time(21, 0), "end": time(8, 0), "tz": KOLKATA}


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=KOLKATA)


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (at(21, 0), at(8, 0, day=2)),  # quiet hours start at 21:00 sharp
        (at(23, 59), at(8, 0, day=2)),
        (at(0, 0), at(8, 0)),  # after midnight they end the same morning
        (at(7, 59), at(8, 0)),
        (at(8, 0), None),  # and not a minute later
        (at(12, 0), None),
        (at(20, 59), None),
    ],
)
def test_quiet_hours_spanning_midnight_end_at_the_next_8am(moment: datetime, until: datetime | None) -> None:
    assert quiet_hours_end(moment, **NIGHT) == until


def test_quiet_hours_are_read_in_the_clinic_time_zone() -> None:
    # 16:00 UTC is 21:30 in Kolkata: quiet; they end at 08:00 Kolkata, 02:30 UTC.
    until = quiet_hours_end(datetime(2026, 12, 1, 16, 0, tzinfo=UTC), **NIGHT)

    assert until == datetime(2026, 12, 2, 2, 30, tzinfo=UTC)


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    lunch = {"start": time(13, 0), "end": time(14, 0), "tz": KOLKATA}

    assert quiet_hours_end(at(13, 30), **lunch) == at(14, 0)
    assert quiet_hours_end(at(14, 0), **lunch) is None
    assert quiet_hours_end(at(12, 59), **lunch) is None
    assert quiet_hours_end(at(23, 0), start=time(8, 0), end=time(8, 0), tz=KOLKATA) is None


def test_the_deferred_job_id_differs_from_the_first_and_names_the_minute_in_utc() -> None:
    assert deferred_job_id("42", at(8, 0, day=2)) == "send-42-202612020230"


def test_the_window_is_open_for_24_hours_after_the_last_inbound_message() -> None:
    now = at(12, 0)

    assert window_open(now - timedelta(hours=23, minutes=59), now=now, hours=24)
    assert not window_open(now - timedelta(hours=24), now=now, hours=24)
    assert not window_open(None, now=now, hours=24)


@pytest.mark.parametrize(
    ("decision", "inside", "reason"),
    [
        (Decision.OPT_IN, False, None),  # business-initiated: the opt-in allows it
        (None, False, "no-consent"),  # business-initiated without an opt-in
        (None, True, None),  # a reply needs no opt-in
        (Decision.OPT_OUT, True, "opted-out"),  # but no reply after an opt-out
        (Decision.OPT_OUT, False, "opted-out"),
    ],
)
def test_consent_business_initiated_needs_an_opt_in_a_reply_only_no_opt_out(
    decision: Decision | None, inside: bool, reason: str | None
) -> None:
    refusal = consent_refusal(
        channel="whatsapp", decision=decision, has_patient=True, inside_window=inside, template=None
    )

    assert refusal == reason


def test_consent_exceptions_opt_out_confirmation_unknown_numbers_and_email() -> None:
    assert (
        consent_refusal(
            channel="sms",
            decision=Decision.OPT_OUT,
            has_patient=True,
            inside_window=False,
            template="opt_out_confirmation",
        )
        is None
    )
    unknown = {"channel": "whatsapp", "decision": None, "has_patient": False, "template": None}
    assert consent_refusal(inside_window=True, **unknown) is None  # type: ignore[arg-type]
    assert consent_refusal(inside_window=False, **unknown) == "no-consent"  # type: ignore[arg-type]
    assert (
        consent_refusal(channel="email", decision=None, has_patient=True, inside_window=False, template=None)
        is None
    )


def _appointment(status: str, **extra: object) -> dict[str, object]:
    return {"resourceType": "Appointment", "status": status, **extra}


RESCHEDULED_FROM = {
    "extension": [
        {
            "url": "https://fhir.prm.health/StructureDefinition/rescheduled-from",
            "valueReference": {"reference": "Appointment/old"},
        }
    ]
}


@pytest.mark.parametrize(
    ("current", "previous", "template"),
    [
        (_appointment("booked"), None, "appointment_confirmation"),
        (_appointment("booked"), _appointment("pending"), "appointment_confirmation"),
        (_appointment("booked"), _appointment("booked"), None),  # an edit of a booked one says nothing
        (_appointment("booked", **RESCHEDULED_FROM), None, "appointment_reschedule"),
        (_appointment("cancelled"), _appointment("booked"), "appointment_cancellation"),
        (_appointment("cancelled"), _appointment("pending"), None),  # an expired hold was never confirmed
        (_appointment("cancelled", cancelationReason={"text": "rescheduled"}), _appointment("booked"), None),
        (_appointment("fulfilled"), _appointment("booked"), None),
        ({"resourceType": "Appointment"}, None, None),  # valid FHIR from others without a status
    ],
)
def test_which_message_an_appointment_version_calls_for(
    current: dict[str, object], previous: dict[str, object] | None, template: str | None
) -> None:
    assert template_for(current, previous) == template


def test_the_date_and_time_are_in_the_clinic_time_zone_and_the_patient_language() -> None:
    start = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 10:30 in Kolkata

    assert when_for(start, language="en", tz=KOLKATA) == ("1 December 2026", "10:30 AM")
    assert when_for(start, language="hi", tz=KOLKATA) == ("1 दिसंबर 2026", "10:30 AM")
    assert when_for(start, language="kn", tz=KOLKATA)[0] == "1 ಡಿಸೆಂಬರ್ 2026"
