"""Helpers of the analytics tests: PRM-shaped appointments and the nightly roll-up run at a chosen time."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from adapters.clock import FakeClock
from app.directory.resources import specialty_concept
from app.fhir.builders import extension, instant, meta_profile
from app.fhir.canonical import EXT_BOOKING_CHANNEL, PROFILE_APPOINTMENT
from app.fhir.client import Resource
from app.ports.jobs import Job
from app.services import Services
from tests.clinic import KOLKATA
from workers.registry import JOBS


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time of the clinic's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=KOLKATA)


def appointment(
    *,
    start: datetime,
    status: str,
    channel: str,
    specialty: str,
    patient: str,
    doctor: dict[str, Any],
    location: str,
) -> Resource:
    """A PRM appointment as the booking service writes it."""
    return {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": [extension(EXT_BOOKING_CHANNEL, valueCode=channel)],
        "status": status,
        "specialty": [specialty_concept(specialty)],
        "start": instant(start),
        "end": instant(start + timedelta(minutes=15)),
        "participant": [
            {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{doctor['id']}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{location}"}, "status": "accepted"},
        ],
    }


async def roll_up(services: Services, first: date, last: date, *, now: datetime) -> int:
    """The nightly job's roll-ups of `first` through `last`, run as if at `now` (those days being over)."""
    at_now = dataclasses.replace(services, clock=FakeClock(now))
    written = await JOBS[Job.ROLL_UP_ANALYTICS](
        at_now, {"first": first.isoformat(), "last": last.isoformat()}
    )
    assert isinstance(written, int)
    assert written == 4 * ((last - first).days + 1)  # every kind, every day
    return written
