"""When a campaign runs and when it may send: pure arithmetic in the clinic's time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.campaigns.resources import WEEKDAYS, Campaign, Schedule


def due_occurrence(campaign: Campaign, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The latest scheduled run at or before `now` (None before the first one, or after the end).

    Daily and weekly runs fall at the start's local time; a weekly campaign without weekdays runs on
    the start's weekday. A scheduler that was down catches up with the latest occurrence only.
    """
    start = campaign.start
    if now < start:
        return None
    if campaign.schedule is Schedule.ONCE:
        return start
    local_start = start.astimezone(tz)
    at = local_start.timetz().replace(tzinfo=None)
    days = set(campaign.weekdays) or {WEEKDAYS[local_start.weekday()]}
    day = now.astimezone(tz).date()
    for _ in range(8):
        candidate = datetime.combine(day, at, tzinfo=tz)
        weekly_ok = campaign.schedule is Schedule.DAILY or WEEKDAYS[day.weekday()] in days
        if weekly_ok and start <= candidate <= now:
            return None if campaign.end and candidate > campaign.end else candidate
        day -= timedelta(days=1)
    return None


def window_opens(moment: datetime, *, start: time | None, end: time | None, tz: ZoneInfo) -> datetime | None:
    """When the send window next opens if `moment` is outside it (None: inside, or no window).

    A window whose start is after its end spans midnight (e.g. 18:00-02:00).
    """
    if start is None or end is None or start == end:
        return None
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if inside:
        return None
    day = local.date() if clock < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz)
