"""Reading FHIR dates written by anyone: partial dates and missing offsets never break a reader."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_datetime(text: object) -> datetime | None:
    """A FHIR dateTime as an aware datetime; partial dates start their period (UTC); None if unreadable."""
    if not isinstance(text, str) or not text:
        return None
    for candidate in (text, f"{text}-01", f"{text}-01-01"):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None
