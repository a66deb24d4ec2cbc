"""The pipeline report: count and estimated value per stage, conversion between neighbouring stages, and
the same by source channel and by period (day, week or month in the clinic's time zone).

A lead has *reached* a stage when its current stage is that one or a later one of the pipeline
(new -> contacted -> qualified -> booked -> won); a lost lead reached the stage it was lost from
(lost-at-stage; 'new' when unknown). Conversion from A to B = reached(B) / reached(A).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from app.opportunities.resources import PIPELINE, Opportunity, Stage


class Interval(StrEnum):
    """How the report's periods are cut."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass
class StageFigures:
    """Leads now at a stage."""

    count: int = 0
    value: Decimal = Decimal(0)


@dataclass
class GroupFigures:
    """Leads of one source or period."""

    count: int = 0
    value: Decimal = Decimal(0)
    by_stage: dict[Stage, StageFigures] = field(default_factory=lambda: {s: StageFigures() for s in Stage})
    reached: dict[Stage, int] = field(default_factory=lambda: dict.fromkeys(PIPELINE, 0))

    def add(self, lead: Opportunity) -> None:
        """Count one lead in."""
        value = lead.estimated_value or Decimal(0)
        self.count += 1
        self.value += value
        if lead.stage is not None:
            figures = self.by_stage[lead.stage]
            figures.count += 1
            figures.value += value
        for stage in PIPELINE[: furthest(lead) + 1]:
            self.reached[stage] += 1

    def conversion(self) -> list[tuple[Stage, Stage, float | None]]:
        """reached(next) / reached(stage) for each neighbouring pair (None when nothing reached it)."""
        pairs = pairwise(PIPELINE)
        return [(a, b, (self.reached[b] / self.reached[a]) if self.reached[a] else None) for a, b in pairs]


def furthest(lead: Opportunity) -> int:
    """The index in PIPELINE of the furthest stage a lead reached."""
    if lead.stage in PIPELINE:
        return PIPELINE.index(lead.stage)
    if lead.stage is Stage.LOST and lead.lost_at_stage in {s.value for s in PIPELINE}:
        return PIPELINE.index(Stage(lead.lost_at_stage))
    return 0


def period_of(moment: datetime, interval: Interval, tz: ZoneInfo) -> str:
    """The label of the period a moment falls in: 2026-11-28, 2026-W48 (ISO week) or 2026-11."""
    local = moment.astimezone(tz)
    if interval is Interval.DAY:
        return local.date().isoformat()
    if interval is Interval.WEEK:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local:%Y-%m}"


@dataclass
class Pipeline:
    """The whole report."""

    total: GroupFigures = field(default_factory=GroupFigures)
    by_source: dict[str, GroupFigures] = field(default_factory=lambda: defaultdict(GroupFigures))
    by_period: dict[str, GroupFigures] = field(default_factory=lambda: defaultdict(GroupFigures))


def pipeline(leads: Iterable[Opportunity], *, interval: Interval, tz: ZoneInfo) -> Pipeline:
    """Figures over `leads` (their period: when each was created; unknown creation: 'unknown')."""
    report = Pipeline()
    for lead in leads:
        report.total.add(lead)
        report.by_source[lead.source or "unknown"].add(lead)
        report.by_period[period_of(lead.created, interval, tz) if lead.created else "unknown"].add(lead)
    return report
