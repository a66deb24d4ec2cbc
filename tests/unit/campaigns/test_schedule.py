"""When campaigns run and may send, and how patients split between variants."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.campaigns.resources import (
    Campaign,
    Schedule,
    Variant,
    campaign_of,
    campaign_resource,
    run_key,
)
from app.campaigns.schedule import due_occurrence, window_opens
from app.campaigns.schemas import CampaignOut

KOLKATA = ZoneInfo("Asia/Kolkata")
START = datetime(2026, 12, 7, 10, 0, tzinfo=KOLKATA)  # a Monday


def campaign(**overrides: object) -> Campaign:
    values: dict[str, object] = {
        "id": "c1", "name": "Drive", "status": "active", "channel": "whatsapp", "segment_id": "g1",
        "variants": (Variant("A", "welcome", {"clinic_name": "S"}),), "split_b": 0, "languages": (),
        "schedule": Schedule.ONCE, "start": START, "end": None, "weekdays": (), "window_start": None,
        "window_end": None, "attribution_days": 14, "created": None,
    }  # fmt: skip
    return Campaign(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_one_off_campaign_is_due_from_its_start_on() -> None:
    assert due_occurrence(campaign(), now=START - timedelta(minutes=1), tz=KOLKATA) is None
    assert due_occurrence(campaign(), now=START + timedelta(days=3), tz=KOLKATA) == START


def test_a_daily_campaign_is_due_at_the_starts_local_time_each_day_until_its_end() -> None:
    daily = campaign(schedule=Schedule.DAILY, end=START + timedelta(days=2, hours=1))

    assert due_occurrence(daily, now=START + timedelta(days=1, hours=-1), tz=KOLKATA) == START
    assert due_occurrence(daily, now=START + timedelta(days=1, minutes=5), tz=KOLKATA) == START + timedelta(
        days=1
    )
    assert due_occurrence(daily, now=START + timedelta(days=5), tz=KOLKATA) is None


def test_a_weekly_campaign_runs_on_its_weekdays_or_the_starts() -> None:
    mondays = campaign(schedule=Schedule.WEEKLY)
    mon_thu = campaign(schedule=Schedule.WEEKLY, weekdays=("mon", "thu"))
    friday = START + timedelta(days=4, hours=2)

    assert due_occurrence(mondays, now=friday, tz=KOLKATA) == START
    assert due_occurrence(mon_thu, now=friday, tz=KOLKATA) == START + timedelta(days=3)


def test_the_send_window_opens_at_its_start_and_may_span_midnight() -> None:
    def day(moment: datetime) -> datetime | None:
        return window_opens(moment, start=time(10, 0), end=time(19, 0), tz=KOLKATA)

    def night(moment: datetime) -> datetime | None:
        return window_opens(moment, start=time(18, 0), end=time(2, 0), tz=KOLKATA)

    at = START.replace(hour=8)

    assert day(at) == START
    assert day(at.replace(hour=12)) is None
    assert day(at.replace(hour=20)) == START + timedelta(days=1)
    assert night(at.replace(hour=1)) is None
    assert night(at.replace(hour=3)) == at.replace(hour=18)
    assert window_opens(at, start=None, end=None, tz=KOLKATA) is None


def test_the_a_b_split_is_a_stable_hash_near_the_share_asked_for() -> None:
    ab = campaign(variants=(Variant("A", "welcome", {}), Variant("B", "welcome", {})), split_b=30)
    names = [ab.variant_for(f"p{n}").name for n in range(2000)]

    assert names == [ab.variant_for(f"p{n}").name for n in range(2000)]
    assert 0.26 < names.count("B") / 2000 < 0.34


def test_a_campaign_reads_back_as_written_and_runs_are_keyed_by_utc_minute() -> None:
    ab = campaign(
        variants=(Variant("A", "welcome", {"clinic_name": "S"}), Variant("B", "welcome", {"clinic_name": "T"})),
        split_b=40, languages=("en", "hi"), schedule=Schedule.WEEKLY, weekdays=("mon",),
        window_start=time(10, 0), window_end=time(19, 0), end=START + timedelta(days=30),
    )  # fmt: skip

    back = campaign_of({**campaign_resource(ab), "id": "c1"})

    assert back == ab
    assert run_key("c1", START) == "c1/20261207T0430"
    assert run_key("c1", START.astimezone(UTC)) == run_key("c1", START)


def test_the_send_window_reads_back_as_local_hh_mm_with_no_offset() -> None:
    shown = CampaignOut.of(campaign(window_start=time(10, 0), window_end=time(19, 30)))

    assert shown.window is not None
    assert (shown.window.start, shown.window.end) == ("10:00", "19:30")
