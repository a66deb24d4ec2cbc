"""How slots and appointments are written to a patient (dates in their language, numbered options)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from app.directory.index import DirectoryIndex
from app.fhir.client import Resource
from app.messaging.notifications import when_for
from app.scheduling.resources import participant
from app.scheduling.search import FreeSlot


def doctor(name: str) -> str:
    """A practitioner as the bot names them."""
    return f"Dr. {name}"


def numbered(lines: Sequence[str]) -> str:
    """'1. ...' lines."""
    return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, start=1))


def slot_line(free: FreeSlot, language: str) -> str:
    """One free slot: day, time, doctor, branch."""
    day, at = when_for(free.start, language=language, tz=free.role.timezone)
    return f"{day}, {at} - {doctor(free.role.practitioner_name)} ({free.role.location_name or ''})".replace(
        " ()", ""
    )


def slot_values(free: FreeSlot, language: str) -> dict[str, str]:
    """A slot's {who}, {date}, {time}, {location} for a text."""
    day, at = when_for(free.start, language=language, tz=free.role.timezone)
    return {
        "who": doctor(free.role.practitioner_name),
        "date": day,
        "time": at,
        "location": free.role.location_name or "",
    }


def appointment_values(
    appointment: Resource, index: DirectoryIndex, *, language: str, tz: ZoneInfo
) -> dict[str, str]:
    """An appointment's {who}, {date}, {time}, {location} (its role read from the directory)."""
    role = index.by_role(participant(appointment, "PractitionerRole") or "")
    start = datetime.fromisoformat(appointment["start"])
    day, at = when_for(start, language=language, tz=role.timezone if role else tz)
    return {
        "who": doctor(role.practitioner_name) if role else "",
        "date": day,
        "time": at,
        "location": (role.location_name if role else None) or "",
    }


def appointment_line(appointment: Resource, index: DirectoryIndex, *, language: str, tz: ZoneInfo) -> str:
    """One appointment: day, time, doctor."""
    values = appointment_values(appointment, index, language=language, tz=tz)
    return f"{values['date']}, {values['time']} - {values['who']}"
