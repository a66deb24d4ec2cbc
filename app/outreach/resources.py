"""FHIR shape of a waitlist entry: an Appointment with status `waitlist` (profile prm-appointment).

The patient is the first participant; a PractitionerRole participant when one doctor was asked for;
`specialty` the department; `requestedPeriod` the times that suit (one period per day when a part of
the day was asked for); `created` the place in the queue (first come, first offered).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.directory.index import RoleEntry
from app.directory.resources import specialty_concept
from app.fhir.builders import code_in, extension, instant, meta_profile
from app.fhir.canonical import CS_SPECIALTY, EXT_BOOKING_CHANNEL, PROFILE_APPOINTMENT
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.scheduling.resources import participant
from app.scheduling.search import PARTS_OF_DAY
from app.vocabulary import Channel

WAITLIST = "waitlist"
# A waitlist entry that got its slot is closed as cancelled with this reason (its booking is a new Appointment).
FULFILLED = "booked from the waitlist"


def waitlist_resource(
    *,
    patient_id: str,
    roles: list[RoleEntry],
    start: datetime,
    end: datetime,
    created: datetime,
    channel: Channel = Channel.WHATSAPP,
    part_of_day: str | None = None,
) -> Resource:
    """A waitlist entry: the patient, the doctor (when one was asked for), the specialty and the times wanted."""
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": f"Patient/{patient_id}"}, "required": "required", "status": "needs-action"}
    ]
    if len({r.practitioner_id for r in roles}) == 1:
        participants.append(
            {
                "actor": {
                    "reference": f"PractitionerRole/{roles[0].role_id}",
                    "display": roles[0].practitioner_name,
                },
                "required": "required",
                "status": "needs-action",
            }
        )
    periods = (
        _periods(start, end, part_of_day, roles[0].timezone) if part_of_day and roles else [(start, end)]
    )
    appointment: Resource = {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": [extension(EXT_BOOKING_CHANNEL, valueCode=channel.value)],
        "status": WAITLIST,
        "created": instant(created),
        "requestedPeriod": [{"start": instant(s), "end": instant(e)} for s, e in periods],
        "participant": participants,
    }
    specialties = sorted({r.specialty for r in roles if r.specialty})
    if specialties:
        appointment["specialty"] = [specialty_concept(s) for s in specialties]
    return appointment


def _periods(start: datetime, end: datetime, part: str, tz: Any) -> list[tuple[datetime, datetime]]:
    """The part of each local day between start and end."""
    low, high = PARTS_OF_DAY[part]
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    periods = []
    while day <= last:
        s = max(start, datetime.combine(day, low, tz))
        e = min(end, datetime.combine(day, high, tz))
        if s < e:
            periods.append((s, e))
        day += timedelta(days=1)
    return periods


@dataclass(frozen=True)
class Entry:
    """A waitlist entry as the outreach reads it (anything missing reads as 'any')."""

    id: str
    patient_id: str | None
    role_id: str | None
    specialties: frozenset[str]
    periods: tuple[tuple[datetime, datetime], ...]
    created: datetime | None
    status: str
    # HAPI's write time (milliseconds): orders two entries created within the same second.
    written: datetime | None = None

    def wants(self, *, role: RoleEntry, start: datetime) -> bool:
        """Whether a slot of `role` starting at `start` suits this entry."""
        if self.role_id is not None and self.role_id != role.role_id:
            return False
        if self.role_id is None and self.specialties and role.specialty not in self.specialties:
            return False
        return not self.periods or any(s <= start < e for s, e in self.periods)


def entry_of(appointment: Resource) -> Entry:
    """Read a waitlist Appointment, whoever wrote it (partial dates and missing parts are tolerated)."""
    periods = []
    for period in appointment.get("requestedPeriod", []):
        s, e = parse_datetime(period.get("start")), parse_datetime(period.get("end"))
        if s is not None and e is not None:
            periods.append((s, e))
    specialties = {code_in(c, CS_SPECIALTY) for c in appointment.get("specialty", [])}
    return Entry(
        id=str(appointment["id"]),
        patient_id=participant(appointment, "Patient"),
        role_id=participant(appointment, "PractitionerRole"),
        specialties=frozenset(s for s in specialties if s),
        periods=tuple(periods),
        created=parse_datetime(appointment.get("created")),
        status=str(appointment.get("status")),
        written=parse_datetime((appointment.get("meta") or {}).get("lastUpdated")),
    )
