"""No-show risk of upcoming appointments (app.outreach.model): the clinic's own model when its history
allows one, else the heuristic; high-risk appointments get the extra reminder."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from app.fhir.builders import instant
from app.fhir.client import FhirClient, Resource
from app.messaging.reminders import add_extra_reminder
from app.outreach.model import HEURISTIC_MODEL, OUTCOME, Model, Score, features, fit
from app.scheduling.resources import participant

log = structlog.get_logger(__name__)

# A score at or above this is high risk: the appointment gets the extra reminder.
HIGH_RISK = 0.5
TRAINING_DAYS = 365
MAX_TRAINING = 5000
_HISTORY = "noshow,cancelled,fulfilled,arrived"
_PATIENTS_PER_SEARCH = 40


@dataclass(frozen=True)
class AtRisk:
    """An upcoming appointment and its score."""

    appointment: Resource
    patient_id: str
    score: Score


async def _histories(
    fhir: FhirClient, patient_ids: Iterable[str], *, before: datetime
) -> dict[str, list[Resource]]:
    """Each patient's earlier appointments that say something (came, did not, cancelled)."""
    ids = sorted(set(patient_ids))
    found: dict[str, list[Resource]] = defaultdict(list)
    for i in range(0, len(ids), _PATIENTS_PER_SEARCH):
        chunk = ",".join(f"Patient/{p}" for p in ids[i : i + _PATIENTS_PER_SEARCH])
        params = [("patient", chunk), ("status", _HISTORY), ("date", f"lt{instant(before)}")]
        for appointment in await fhir.search("Appointment", params):
            patient = participant(appointment, "Patient")
            if patient:
                found[patient].append(appointment)
    return found


async def clinic_model(fhir: FhirClient, *, now: datetime, tz: ZoneInfo) -> Model:
    """A model fitted on the past year's outcomes, or the heuristic when there are too few."""
    past = await fhir.search(
        "Appointment",
        [
            ("status", _HISTORY),
            ("date", f"ge{instant(now - timedelta(days=TRAINING_DAYS))}"),
            ("date", f"lt{instant(now)}"),
        ],
        limit=MAX_TRAINING,
    )
    by_patient: dict[str, list[Resource]] = defaultdict(list)
    for appointment in past:
        if patient := participant(appointment, "Patient"):
            by_patient[patient].append(appointment)
    rows, outcomes = [], []
    for history in by_patient.values():
        for appointment in history:
            if appointment.get("status") in OUTCOME:
                rows.append(features(appointment, history, tz=tz))
                outcomes.append(OUTCOME[str(appointment["status"])])
    return fit(rows, outcomes) or HEURISTIC_MODEL


async def at_risk(
    fhir: FhirClient, *, start: datetime, end: datetime, now: datetime, tz: ZoneInfo, threshold: float
) -> list[AtRisk]:
    """Booked appointments between start and end scoring at least `threshold`, riskiest first."""
    upcoming = await fhir.search(
        "Appointment", [("status", "booked"), ("date", f"ge{instant(start)}"), ("date", f"lt{instant(end)}")]
    )
    patients = {a["id"]: p for a in upcoming if (p := participant(a, "Patient"))}
    if not patients:
        return []
    model = await clinic_model(fhir, now=now, tz=tz)
    histories = await _histories(fhir, patients.values(), before=now)
    scored = [
        AtRisk(a, patients[a["id"]], model.score(features(a, histories.get(patients[a["id"]], []), tz=tz)))
        for a in upcoming
        if a["id"] in patients
    ]
    risky = [s for s in scored if s.score.probability >= threshold]
    return sorted(risky, key=lambda s: (-s.score.probability, s.appointment["id"]))


async def remind_high_risk(fhir: FhirClient, *, now: datetime, tz: ZoneInfo, days: int = 7) -> list[str]:
    """Give the high-risk appointments of the next `days` days their extra reminder (idempotent)."""
    risky = await at_risk(
        fhir, start=now, end=now + timedelta(days=days), now=now, tz=tz, threshold=HIGH_RISK
    )
    added = [
        r.appointment["id"]
        for r in risky
        if await add_extra_reminder(fhir, appointment_id=r.appointment["id"], now=now)
    ]
    if added:
        log.info("risk.extra_reminders", count=len(added))
    return added
