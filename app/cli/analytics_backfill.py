"""`prm analytics-backfill --start 2026-01-01 --end 2026-11-28`: roll up every analytics report kind for
each closed day of a range (what the nightly job does for yesterday), e.g. after installing or restoring."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

from app.analytics.jobs import roll_up_days
from app.config import get_settings
from app.services import build_services

HELP = "Roll up the analytics reports of the closed days of a range (local dates, both included)"


def configure(parser: argparse.ArgumentParser) -> None:
    """analytics-backfill's arguments."""
    parser.add_argument("--start", required=True, type=date.fromisoformat, help="first local day, 2026-01-01")
    parser.add_argument("--end", required=True, type=date.fromisoformat, help="last local day (included)")


async def _backfill(start: date, end: date) -> int:
    services = build_services(get_settings())
    try:
        return await roll_up_days(
            fhir=services.fhir,
            state=services.state,
            now=services.clock.now(),
            timezone=services.settings.default_timezone,
            first=start.isoformat(),
            last=end.isoformat(),
        )
    finally:
        await services.aclose()


def run(args: argparse.Namespace) -> int:
    """Roll the range up; 2 for a range that ends before it starts."""
    if args.end < args.start:
        print("--end is before --start")  # noqa: T201
        return 2
    print(f"{asyncio.run(_backfill(args.start, args.end))} roll-ups written")  # noqa: T201
    return 0
