"""FHIR shapes of an intake: the QuestionnaireResponse and what is extracted from it (problems,
allergies, medicines), all patient-reported and unconfirmed until a clinician reviews them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.fhir.builders import coding, instant, meta_profile
from app.fhir.canonical import (
    PROFILE_ALLERGY,
    PROFILE_INTAKE_RESPONSE,
    PROFILE_MEDICATION_STATEMENT,
    PROFILE_PROBLEM,
)
from app.fhir.client import Resource
from app.intake.questionnaires import Answer, Questionnaire

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
# The items whose answers become resources of their own.
CONDITIONS_ITEM, ALLERGIES_ITEM, MEDICATIONS_ITEM = "conditions", "allergies", "medications"
CHIEF_COMPLAINT_ITEM = "chief-complaint"


def _value(answer: Answer) -> dict[str, Any]:
    if isinstance(answer, bool):
        return {"valueBoolean": answer}
    if isinstance(answer, int):
        return {"valueInteger": answer}
    return {"valueString": answer}


def response(
    questionnaire: Questionnaire, answers: dict[str, list[Answer]], *, patient_ref: str, now: datetime
) -> Resource:
    """The completed QuestionnaireResponse of checked answers (unanswered items left out)."""
    return {
        "resourceType": "QuestionnaireResponse",
        "meta": meta_profile(PROFILE_INTAKE_RESPONSE),
        "questionnaire": questionnaire.canonical,
        "status": "completed",
        "subject": {"reference": patient_ref},
        "authored": instant(now),
        "source": {"reference": patient_ref},
        "item": [
            {"linkId": i.link_id, "text": i.texts["en"], "answer": [_value(a) for a in answers[i.link_id]]}
            for i in questionnaire.items
            if answers.get(i.link_id)
        ],
    }


def problem(text: str, *, patient_ref: str, response_ref: str, now: datetime) -> Resource:
    """A condition the patient reported, on the problem list, unconfirmed."""
    return {
        "resourceType": "Condition",
        "meta": meta_profile(PROFILE_PROBLEM),
        "clinicalStatus": {"coding": [coding(CONDITION_CLINICAL, "active")]},
        "verificationStatus": {"coding": [coding(CONDITION_VERIFICATION, "unconfirmed")]},
        "category": [{"coding": [coding(CONDITION_CATEGORY, "problem-list-item")]}],
        "code": {"text": text},
        "subject": {"reference": patient_ref},
        "recordedDate": instant(now),
        "asserter": {"reference": patient_ref},
        "evidence": [{"detail": [{"reference": response_ref}]}],
    }


def allergy(text: str, *, patient_ref: str, now: datetime) -> Resource:
    """An allergy the patient reported, unconfirmed."""
    return {
        "resourceType": "AllergyIntolerance",
        "meta": meta_profile(PROFILE_ALLERGY),
        "clinicalStatus": {"coding": [coding(ALLERGY_CLINICAL, "active")]},
        "verificationStatus": {"coding": [coding(ALLERGY_VERIFICATION, "unconfirmed")]},
        "code": {"text": text},
        "patient": {"reference": patient_ref},
        "recordedDate": instant(now),
        "asserter": {"reference": patient_ref},
    }


def medication(text: str, *, patient_ref: str, response_ref: str, now: datetime) -> Resource:
    """A medicine the patient said they take."""
    return {
        "resourceType": "MedicationStatement",
        "meta": meta_profile(PROFILE_MEDICATION_STATEMENT),
        "status": "active",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": patient_ref},
        "dateAsserted": instant(now),
        "informationSource": {"reference": patient_ref},
        "derivedFrom": [{"reference": response_ref}],
    }


def named(resource: Resource) -> str:
    """What an extracted resource names (its code or medicine text), for comparing with new answers."""
    concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
    text = concept.get("text") or next((c.get("display") for c in concept.get("coding", [])), None) or ""
    return str(text).strip().casefold()


def answers_of(qr: Resource) -> dict[str, list[Answer]]:
    """linkId -> answer values of a QuestionnaireResponse (written by anyone; odd answers skipped)."""
    found: dict[str, list[Answer]] = {}
    for item in qr.get("item", []):
        values: list[Answer] = []
        for answer in item.get("answer", []):
            for key in ("valueString", "valueBoolean", "valueInteger"):
                if key in answer:
                    values.append(answer[key])
            if "valueCoding" in answer:
                values.append(str(answer["valueCoding"].get("display") or answer["valueCoding"].get("code")))
        if "linkId" in item:
            found[str(item["linkId"])] = values
    return found
