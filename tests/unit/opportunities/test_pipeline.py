"""Pipeline figures and stage moves without a server."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidTransition
from app.opportunities.pipeline import Interval, period_of, pipeline
from app.opportunities.resources import Opportunity, Stage
from app.opportunities.service import check_move

KOLKATA = ZoneInfo("Asia/Kolkata")


def lead(stage: Stage | None, value: int | None = None, *, source: str | None = "website", lost_at: str | None = None,
         created: datetime | None = None) -> Opportunity:  # fmt: skip
    return Opportunity(
        id="x", patient="p", stage=stage, source=source, appointment=None,
        estimated_value=Decimal(value) if value is not None else None, currency="INR", owner=None,
        description=None, created=created, lost_reason=None, lost_note=None, lost_at_stage=lost_at,
    )  # fmt: skip


def test_reached_counts_lost_leads_at_the_stage_they_were_lost_from() -> None:
    report = pipeline(
        [
            lead(Stage.NEW, 100),
            lead(Stage.LOST, 50, lost_at="qualified"),
            lead(Stage.LOST),
            lead(Stage.WON, 10),
        ],
        interval=Interval.MONTH,
        tz=KOLKATA,
    )

    assert report.total.reached == {
        Stage.NEW: 4, Stage.CONTACTED: 2, Stage.QUALIFIED: 2, Stage.BOOKED: 1, Stage.WON: 1,
    }  # fmt: skip
    assert report.total.value == Decimal(160)
    assert [rate for _, _, rate in report.total.conversion()] == [0.5, 1.0, 0.5, 1.0]


def test_leads_without_a_stage_source_or_date_still_count() -> None:
    report = pipeline([lead(None, source=None)], interval=Interval.DAY, tz=KOLKATA)

    assert (report.total.count, list(report.by_source), list(report.by_period)) == (
        1,
        ["unknown"],
        ["unknown"],
    )


def test_periods_are_cut_in_the_clinics_time_zone() -> None:
    late_utc = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 01:30 on 1 December in Kolkata

    assert period_of(late_utc, Interval.DAY, KOLKATA) == "2026-12-01"
    assert period_of(late_utc, Interval.WEEK, KOLKATA) == "2026-W49"
    assert period_of(late_utc, Interval.MONTH, KOLKATA) == "2026-12"


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (Stage.NEW, Stage.BOOKED),
        (Stage.CONTACTED, Stage.QUALIFIED),
        (Stage.BOOKED, Stage.WON),
        (Stage.QUALIFIED, Stage.LOST),
    ],
)
def test_allowed_moves(current: Stage, wanted: Stage) -> None:
    check_move(current, wanted)


def test_refused_moves_list_the_allowed_ones() -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_move(Stage.NEW, Stage.WON)
    assert refused.value.allowed == ("contacted", "qualified", "booked", "lost")
    with pytest.raises(InvalidTransition) as final:
        check_move(Stage.WON, Stage.LOST)
    assert final.value.allowed == ()
