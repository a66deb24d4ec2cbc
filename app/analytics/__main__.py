"""`python -m app.analytics backfill --start 2026-01-01 --end 2026-11-28`: roll up every report kind for
each closed day of a range (what the nightly job does for yesterday), e.g. after installing or restoring."""

from __future__ import annotations

import argparse
import asyncio

from app.analytics.jobs import roll_up_days
from app.config import get_settings
from app.services import build_services


async def _backfill(start: str, end: str) -> int:
    services = build_services(get_settings())
    try:
        return await roll_up_days(
            fhir=services.fhir,
            state=services.state,
            now=services.clock.now(),
            timezone=services.settings.default_timezone,
            first=start,
            last=end,
        )
    finally:
        await services.aclose()


def main() -> None:
    """Parse the range and roll it up."""
    parser = argparse.ArgumentParser(prog="python -m app.analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser("backfill", help="roll up the closed days of a range (local dates)")
    backfill.add_argument("--start", required=True, help="first local day, 2026-01-01")
    backfill.add_argument("--end", required=True, help="last local day (included)")
    args = parser.parse_args()
    print(f"{asyncio.run(_backfill(args.start, args.end))} roll-ups written")  # noqa: T201


if __name__ == "__main__":
    main()
