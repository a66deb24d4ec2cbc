"""Reading appointments: by day, by practitioner or patient, and counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from app.fhir.builders import instant
from app.fhir.client import FhirClient, Resource
from app.scheduling.schemas import AppointmentOut, StatsOut

MAX_APPOINTMENTS = 1000


async def list_appointments(
    fhir: FhirClient,
    *,
    start: datetime,
    end: datetime,
    practitioner_id: str | None = None,
    patient_id: str | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = MAX_APPOINTMENTS,
) -> list[Resource]:
    """Appointments starting in [start, end), earliest first, filtered as given."""
    query: list[tuple[str, str]] = [
        ("date", f"ge{instant(start)}"),
        ("date", f"lt{instant(end)}"),
        ("_sort", "date"),
    ]
    if practitioner_id:
        query.append(("practitioner", f"Practitioner/{practitioner_id}"))
    if patient_id:
        query.append(("patient", f"Patient/{patient_id}"))
    if statuses:
        query.append(("status", ",".join(statuses)))
    return await fhir.search("Appointment", query, limit=limit)


async def stats(fhir: FhirClient, *, start: datetime, end: datetime) -> StatsOut:
    """Counts of the period's appointments by status, booking channel and specialty."""
    appointments = [AppointmentOut.of(a) for a in await list_appointments(fhir, start=start, end=end)]
    return StatsOut(
        start=start,
        end=end,
        total=len(appointments),
        by_status=dict(Counter(a.status for a in appointments)),
        by_channel=dict(Counter(a.channel or "unknown" for a in appointments)),
        by_specialty=dict(Counter(a.specialty or "unknown" for a in appointments)),
    )
