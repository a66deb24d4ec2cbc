"""FHIR shape of the PRM's Patient (profile prm-patient)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.fhir.builders import extension, extension_value, meta_profile
from app.fhir.canonical import EXT_PREFERRED_CHANNEL, PROFILE_PATIENT, SID_PHONE
from app.fhir.client import Resource
from app.patients import contacts

BCP47 = "urn:ietf:bcp:47"


def patient_resource(
    *,
    given: str,
    family: str,
    phone: str,
    gender: str | None = None,
    birth_date: date | None = None,
    preferred_language: str | None = None,
    preferred_channel: str | None = None,
    birth_year: int | None = None,
) -> Resource:
    """A new Patient; `phone` is already E.164; `birth_year` (a partial birthDate) when only the age is known."""
    patient: Resource = {
        "resourceType": "Patient",
        "meta": meta_profile(PROFILE_PATIENT),
        "identifier": [{"system": SID_PHONE, "value": phone}],
        "active": True,
        "name": [_name(given, family)],
        "telecom": [{"system": "phone", "value": phone, "use": "mobile", "rank": 1}],
    }
    if gender:
        patient["gender"] = gender
    if birth_date:
        patient["birthDate"] = birth_date.isoformat()
    elif birth_year:
        patient["birthDate"] = f"{birth_year:04d}"
    set_preferences(patient, language=preferred_language, channel=preferred_channel)
    return patient


def _name(given: str, family: str) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "text": f"{given} {family}".strip()}
    if family:
        name["family"] = family
    if given:
        name["given"] = given.split()
    return name


def set_name(patient: Resource, *, given: str, family: str) -> None:
    """Replace the patient's official name."""
    patient["name"] = [_name(given, family)]


def set_phone(patient: Resource, phone: str) -> None:
    """Make `phone` (E.164) the patient's primary phone; the others stay, each a phone identifier."""
    others = [p for p in contacts.phones_of(patient) if p.number != phone]
    contacts.set_phones(
        patient, [contacts.Phone(phone, "mobile", True), *(contacts.Phone(p.number, p.use) for p in others)]
    )


def set_preferences(patient: Resource, *, language: str | None, channel: str | None) -> None:
    """Set the preferred language (core Patient.communication) and preferred channel (extension)."""
    if language:
        patient["communication"] = [
            {"language": {"coding": [{"system": BCP47, "code": language}]}, "preferred": True}
        ]
    if channel:
        patient["extension"] = [
            e for e in patient.get("extension", []) if e.get("url") != EXT_PREFERRED_CHANNEL
        ] + [extension(EXT_PREFERRED_CHANNEL, valueCode=channel)]


def phone_of(resource: Resource) -> str | None:
    """The first phone (by rank) of a Patient, or of anything with `telecom` (an Organization)."""
    phones = [t for t in resource.get("telecom", []) if t.get("system") == "phone" and t.get("value")]
    phones.sort(key=lambda t: t.get("rank", 99))
    return str(phones[0]["value"]) if phones else None


def preferred_language(patient: Resource) -> str | None:
    """The patient's preferred language code."""
    for comm in patient.get("communication", []):
        codes = comm.get("language", {}).get("coding", [])
        if codes and (comm.get("preferred") or len(patient["communication"]) == 1):
            return str(codes[0]["code"])
    return None


def preferred_channel(patient: Resource) -> str | None:
    """The patient's preferred contact channel."""
    value = extension_value(patient, EXT_PREFERRED_CHANNEL)
    return str(value) if value else None
