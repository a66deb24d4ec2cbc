"""Intake use cases: list the questionnaires, submit a patient's answers (checked, then extracted into
problems, allergies and medicines, the chief complaint onto the next appointment: one transaction),
and the latest intake for the 360."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from app.errors import Conflict, Invalid
from app.fhir.builders import Actor, instant, provenance
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.records import commit, require
from app.intake import resources as res
from app.intake.questionnaires import Answer, Questionnaire, parse
from app.vocabulary import UPCOMING_APPOINTMENT_STATUSES

log = structlog.get_logger(__name__)

LIST_LIMIT = 100


async def questionnaires(fhir: FhirClient) -> list[Questionnaire]:
    """The active questionnaires in HAPI (the project's, loaded by the conformance loader, and any a
    clinic added), by id."""
    found = await fhir.search("Questionnaire", {"status": "active"}, limit=LIST_LIMIT)
    return sorted((parse(q) for q in found), key=lambda q: q.id)


async def questionnaire(fhir: FhirClient, questionnaire_id: str) -> Questionnaire:
    """One questionnaire, or 404."""
    return parse(await require(fhir, "Questionnaire", questionnaire_id, what="Questionnaire"))


async def for_specialty(fhir: FhirClient, specialty: str) -> Questionnaire | None:
    """The pre-visit questionnaire of a department's specialty, if it has one."""
    return next((q for q in await questionnaires(fhir) if q.specialty == specialty), None)


@dataclass(frozen=True)
class Submitted:
    """What an intake wrote, as `Type/id` references."""

    response: str
    conditions: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    appointment: str | None = None


async def submit(
    fhir: FhirClient,
    *,
    patient_id: str,
    questionnaire_id: str,
    version: str | None,
    answers: dict[str, Any],
    actors: Sequence[Actor],
    now: datetime,
) -> Submitted:
    """Check the answers against the questionnaire (version must match when given) and write the
    QuestionnaireResponse and what it says in one transaction; problems, allergies and medicines the
    patient already has on record are not written twice."""
    patient = await require(fhir, "Patient", patient_id, what="Patient")
    form = await questionnaire(fhir, questionnaire_id)
    if version is not None and version != form.version:
        raise Invalid("version", f"{questionnaire_id} is at version {form.version!r}, not {version!r}")
    checked = form.check(answers)
    ref = f"Patient/{patient['id']}"
    conditions, allergies, medications, appointment = await asyncio.gather(
        fhir.search("Condition", {"subject": ref}, limit=LIST_LIMIT),
        fhir.search("AllergyIntolerance", {"patient": ref}, limit=LIST_LIMIT),
        fhir.search("MedicationStatement", {"subject": ref, "status": "active"}, limit=LIST_LIMIT),
        next_appointment(fhir, patient_ref=ref, now=now),
    )
    tx = Transaction()
    response_ref = tx.create(res.response(form, checked, patient_ref=ref, now=now))
    written = Submitted(response=response_ref)
    for text in _new(checked.get(res.CONDITIONS_ITEM, []), conditions):
        written.conditions.append(
            tx.create(res.problem(text, patient_ref=ref, response_ref=response_ref, now=now))
        )
    for text in _new(checked.get(res.ALLERGIES_ITEM, []), allergies):
        written.allergies.append(tx.create(res.allergy(text, patient_ref=ref, now=now)))
    for text in _new(checked.get(res.MEDICATIONS_ITEM, []), medications):
        written.medications.append(
            tx.create(res.medication(text, patient_ref=ref, response_ref=response_ref, now=now))
        )
    complaint = next(iter(checked.get(res.CHIEF_COMPLAINT_ITEM, [])), None)
    targets = [response_ref, *written.conditions, *written.allergies, *written.medications]
    if appointment is not None and isinstance(complaint, str):
        appointment.setdefault("reasonCode", []).append({"text": complaint})
        targets.append(tx.update(appointment, if_match=version_of(appointment)))
    tx.create(provenance(targets=targets, actors=list(actors), activity="patient.intake"))
    stored = await commit(fhir, tx, on_conflict=Conflict("The appointment changed meanwhile; submit again"))
    refs = [f"{r['resourceType']}/{r['id']}" for r in stored]
    result = _resolved(written, refs, appointment)
    log.info(
        "patient.intake.submitted",
        patient=ref,
        response=result.response,
        conditions=len(result.conditions),
        allergies=len(result.allergies),
        medications=len(result.medications),
        appointment=result.appointment,
    )
    return result


def _new(values: list[Answer], existing: list[Resource]) -> list[str]:
    """The answers not already on record (nor repeated), as given."""
    seen = {res.named(r) for r in existing}
    fresh: list[str] = []
    for value in values:
        key = str(value).strip().casefold()
        if key and key not in seen:
            seen.add(key)
            fresh.append(str(value))
    return fresh


def _resolved(written: Submitted, refs: list[str], appointment: Resource | None) -> Submitted:
    """`written` with the transaction's placeholders replaced by the stored references (entry order)."""
    it = iter(refs)
    response = next(it)
    conditions = [next(it) for _ in written.conditions]
    allergies = [next(it) for _ in written.allergies]
    medications = [next(it) for _ in written.medications]
    return Submitted(
        response=response,
        conditions=conditions,
        allergies=allergies,
        medications=medications,
        appointment=f"Appointment/{appointment['id']}" if appointment is not None else None,
    )


async def next_appointment(fhir: FhirClient, *, patient_ref: str, now: datetime) -> Resource | None:
    """The patient's next booked (or pending) appointment from `now`."""
    found = await fhir.search(
        "Appointment",
        {
            "patient": patient_ref,
            "date": f"ge{instant(now)}",
            "status": ",".join(UPCOMING_APPOINTMENT_STATUSES),
            "_sort": "date",
        },
        limit=1,
    )
    return found[0] if found else None


@dataclass
class IntakeRecord:
    """The latest intake and what the patient has reported, for the 360."""

    latest: Resource | None = None
    conditions: list[Resource] = field(default_factory=list)
    allergies: list[Resource] = field(default_factory=list)
    medications: list[Resource] = field(default_factory=list)


async def record_of(fhir: FhirClient, *, patient_id: str) -> IntakeRecord:
    """The patient's latest QuestionnaireResponse and their problems, allergies and medicines (newest first)."""
    ref = f"Patient/{patient_id}"
    newest = {"_sort": "-_lastUpdated"}
    latest, conditions, allergies, medications = await asyncio.gather(
        fhir.search("QuestionnaireResponse", {"subject": ref, "_sort": "-authored"}, limit=1),
        fhir.search("Condition", {"subject": ref, **newest}, limit=LIST_LIMIT),
        fhir.search("AllergyIntolerance", {"patient": ref, **newest}, limit=LIST_LIMIT),
        fhir.search("MedicationStatement", {"subject": ref, **newest}, limit=LIST_LIMIT),
    )
    return IntakeRecord(
        latest=latest[0] if latest else None,
        conditions=conditions,
        allergies=allergies,
        medications=medications,
    )
