"""How slots and appointments are written to a patient (dates in their language, numbered options)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.directory.index import DirectoryIndex
from app.fhir.client import Resource
from app.messaging.notifications import when_for
from app.scheduling.resources import participant
from app.scheduling.search import FreeSlot


@dataclass(frozen=True)
class Option:
    """One option the bot offers: its numbered line in the text, its row where the channel has lists."""

    id: str  # the slot's, appointment's or patient's id: what a tapped row sends back
    line: str
    title: str  # short: a list row shows 24 characters
    description: str | None = None


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


def slot_option(free: FreeSlot, language: str) -> Option:
    """A free slot as an option: its line, and a list row titled by its day and time."""
    day, at = when_for(free.start, language=language, tz=free.role.timezone)
    location = f" ({free.role.location_name})" if free.role.location_name else ""
    return Option(
        id=str(free.slot["id"]),
        line=slot_line(free, language),
        title=f"{_without_year(day)}, {at}",
        description=f"{doctor(free.role.practitioner_name)}{location}",
    )


def _without_year(day: str) -> str:
    """'2 December 2026' -> '2 December': a list row's title holds 24 characters, the time must fit."""
    return day.rsplit(" ", 1)[0]


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


def appointment_option(
    appointment: Resource, index: DirectoryIndex, *, language: str, tz: ZoneInfo
) -> Option:
    """An appointment as an option: its line, and a list row titled by its day and time."""
    values = appointment_values(appointment, index, language=language, tz=tz)
    return Option(
        id=str(appointment["id"]),
        line=appointment_line(appointment, index, language=language, tz=tz),
        title=f"{_without_year(values['date'])}, {values['time']}",
        description=values["who"] or None,
    )
