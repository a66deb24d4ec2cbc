"""Seeding many patients at once (one FHIR transaction each 100) with their consents and visits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app.consents.resources import ConsentSource, Decision, consent_resource
from app.directory.resources import specialty_concept
from app.fhir.builders import extension, instant, meta_profile
from app.fhir.bundle import Transaction, response_references
from app.fhir.canonical import EXT_BOOKING_CHANNEL, PROFILE_APPOINTMENT
from app.fhir.client import FhirClient
from app.patients.resources import patient_resource
from tests.factories import phone, unique

CHUNK = 100


@dataclass(frozen=True)
class Seed:
    """One patient to seed: their details, their WhatsApp decision and their visits."""

    gender: str = "female"
    birth_date: date = date(1990, 1, 1)
    language: str | None = None
    email: str | None = None
    whatsapp: Decision | None = Decision.OPT_IN
    visits: tuple[tuple[datetime, str, str], ...] = field(default=())  # (start, specialty, status)


@dataclass(frozen=True)
class Seeded:
    """The family name every seeded patient shares (a segment's `search` isolates them) and their ids."""

    family: str
    ids: list[str]


async def seed(fhir: FhirClient, seeds: list[Seed], *, at: datetime) -> Seeded:
    """Write the patients, their consents and visits in transactions of CHUNK patients."""
    family = unique("Fam")
    ids: list[str] = []
    for start in range(0, len(seeds), CHUNK):
        tx = Transaction()
        refs = []
        for number, s in enumerate(seeds[start : start + CHUNK], start=start):
            patient = patient_resource(
                given=f"Given{number}",
                family=family,
                phone=phone(),
                gender=s.gender,
                birth_date=s.birth_date,
                preferred_language=s.language,
            )
            if s.email:
                patient["telecom"].append({"system": "email", "value": s.email})
            ref = tx.create(patient)
            refs.append(ref)
            if s.whatsapp is not None:
                consent = consent_resource(
                    patient_id="x",
                    channel="whatsapp",
                    decision=s.whatsapp,
                    source=ConsentSource.IMPORT,
                    recorded_at=at - timedelta(days=1),
                )
                consent["patient"] = {"reference": ref}
                tx.create(consent)
            for when, specialty, status in s.visits:
                tx.create(_visit(ref, when, specialty, status))
        written = response_references(await fhir.transaction(tx.bundle()))
        ids += [r.removeprefix("Patient/") for r in written if r.startswith("Patient/")]
    return Seeded(family=family, ids=ids)


def _visit(patient_ref: str, start: datetime, specialty: str, status: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": [extension(EXT_BOOKING_CHANNEL, valueCode="ehr")],
        "status": status,
        "specialty": [specialty_concept(specialty)],
        "start": instant(start),
        "end": instant(start + timedelta(minutes=15)),
        "participant": [{"actor": {"reference": patient_ref}, "status": "accepted"}],
    }
