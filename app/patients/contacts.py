"""A patient's contacts in FHIR: phones (mobile/home/work, one primary), email, an Indian postal address,
the emergency contact (Patient.contact) and the coded tags. Input checks are in schemas.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.fhir.builders import coding, extension
from app.fhir.canonical import CS_PATIENT_TAG, EXT_PATIENT_TAG, SID_PHONE
from app.fhir.client import Resource

# States and union territories of India (the address `state`), as India Post writes them.
INDIAN_STATES = (
    "Andaman and Nicobar Islands", "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chandigarh",
    "Chhattisgarh", "Dadra and Nagar Haveli and Daman and Diu", "Delhi", "Goa", "Gujarat", "Haryana",
    "Himachal Pradesh", "Jammu and Kashmir", "Jharkhand", "Karnataka", "Kerala", "Ladakh", "Lakshadweep",
    "Madhya Pradesh", "Maharashtra", "Manipur", "Meghalaya", "Mizoram", "Nagaland", "Odisha", "Puducherry",
    "Punjab", "Rajasthan", "Sikkim", "Tamil Nadu", "Telangana", "Tripura", "Uttar Pradesh", "Uttarakhand",
    "West Bengal",
)  # fmt: skip
# A PIN code: six digits, the first (the postal region) never 0.
PIN_PATTERN = r"^[1-9][0-9]{5}$"
# The emergency contact's relationship: our words -> HL7 v3 RoleCode.
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
RELATIONSHIPS = {
    "spouse": "SPS",
    "parent": "PRN",
    "child": "CHILD",
    "sibling": "SIB",
    "guardian": "GUARD",
    "friend": "FRND",
    "relative": "FAMMEMB",
    "other": "ONESELF",
}
_RELATIONSHIP_OF_CODE = {code: word for word, code in RELATIONSHIPS.items()}


@dataclass(frozen=True)
class Phone:
    """One phone in E.164 with its use; `primary` is rank 1 (the number messages go to)."""

    number: str
    use: str = "mobile"
    primary: bool = False


def set_phones(patient: Resource, phones: Sequence[Phone]) -> None:
    """Replace the patient's phones: the primary first (rank 1), each also a phone identifier."""
    ordered = sorted(_unique(phones), key=lambda p: not p.primary)
    telecom = [
        {"system": "phone", "value": p.number, "use": p.use, "rank": rank}
        for rank, p in enumerate(ordered, start=1)
    ]
    patient["telecom"] = telecom + [t for t in patient.get("telecom", []) if t.get("system") != "phone"]
    # A merged duplicate's phones stay (use=old): they still lead to this record.
    others = [
        i for i in patient.get("identifier", []) if i.get("system") != SID_PHONE or i.get("use") == "old"
    ]
    patient["identifier"] = [{"system": SID_PHONE, "value": p.number} for p in ordered] + others


def _unique(phones: Sequence[Phone]) -> list[Phone]:
    """One entry per number (the first wins), and exactly one primary (the first flagged, else the first)."""
    seen: dict[str, Phone] = {}
    for p in phones:
        seen.setdefault(p.number, p)
    unique = list(seen.values())
    primary = next((p.number for p in unique if p.primary), unique[0].number if unique else None)
    return [Phone(p.number, p.use, p.number == primary) for p in unique]


def phones_of(patient: Resource) -> list[Phone]:
    """The patient's phones, primary first."""
    entries = [t for t in patient.get("telecom", []) if t.get("system") == "phone" and t.get("value")]
    entries.sort(key=lambda t: t.get("rank", 99))
    return [Phone(str(t["value"]), t.get("use", "mobile"), i == 0) for i, t in enumerate(entries)]


def set_email(patient: Resource, email: str | None) -> None:
    """Replace (or with None remove) the patient's email."""
    telecom = [t for t in patient.get("telecom", []) if t.get("system") != "email"]
    if email:
        telecom.append({"system": "email", "value": email.lower(), "use": "home"})
    patient["telecom"] = telecom


def email_of(patient: Resource) -> str | None:
    """The patient's email."""
    return next(
        (
            str(t["value"])
            for t in patient.get("telecom", [])
            if t.get("system") == "email" and t.get("value")
        ),
        None,
    )


def address_resource(fields: dict[str, Any]) -> dict[str, Any]:
    """A FHIR Address of API fields `line` (list), `city`, `district`, `state`, `postal_code`."""
    address: dict[str, Any] = {"use": "home", "type": "both", "line": list(fields["line"])}
    for api, fhir in (("city", "city"), ("district", "district"), ("state", "state")):
        if fields.get(api):
            address[fhir] = fields[api]
    address["postalCode"] = fields["postal_code"]
    address["country"] = "IN"
    return address


def set_address(patient: Resource, fields: dict[str, Any] | None) -> None:
    """Replace (or with None remove) the patient's home address."""
    patient.pop("address", None)
    if fields:
        patient["address"] = [address_resource(fields)]


def address_of(patient: Resource) -> dict[str, Any] | None:
    """The first address in API fields; any part may be missing when others wrote it."""
    for address in patient.get("address", []):
        return {
            "line": list(address.get("line", [])),
            "city": address.get("city"),
            "district": address.get("district"),
            "state": address.get("state"),
            "postal_code": address.get("postalCode"),
        }
    return None


def set_emergency_contact(patient: Resource, contact: dict[str, Any] | None) -> None:
    """Replace (or with None remove) the emergency contact: a Patient.contact with role C and relationship."""
    kept = [c for c in patient.get("contact", []) if not _is_emergency(c)]
    if contact:
        kept.insert(
            0,
            {
                "relationship": [
                    {"coding": [coding(V2_CONTACT_ROLE, "C", "Emergency Contact")]},
                    {"coding": [coding(V3_ROLE_CODE, RELATIONSHIPS[contact["relationship"]])]},
                ],
                "name": {"text": contact["name"]},
                "telecom": [{"system": "phone", "value": contact["phone"], "use": "mobile"}],
            },
        )
    if kept:
        patient["contact"] = kept
    else:
        patient.pop("contact", None)


def _is_emergency(contact: dict[str, Any]) -> bool:
    return any(
        c.get("system") == V2_CONTACT_ROLE and c.get("code") == "C"
        for rel in contact.get("relationship", [])
        for c in rel.get("coding", [])
    )


def emergency_contact_of(patient: Resource) -> dict[str, Any] | None:
    """The emergency contact in API fields (name, relationship, phone), parts None when absent."""
    for contact in patient.get("contact", []):
        if not _is_emergency(contact):
            continue
        codes = [c.get("code") for rel in contact.get("relationship", []) for c in rel.get("coding", [])]
        phone = next((t.get("value") for t in contact.get("telecom", []) if t.get("system") == "phone"), None)
        return {
            "name": contact.get("name", {}).get("text"),
            "relationship": next(
                (_RELATIONSHIP_OF_CODE[c] for c in codes if c in _RELATIONSHIP_OF_CODE), None
            ),
            "phone": phone,
        }
    return None


def set_tags(patient: Resource, tags: Sequence[str]) -> None:
    """Replace the patient's tags (codes of CodeSystem patient-tag), kept as extensions."""
    kept = [e for e in patient.get("extension", []) if e.get("url") != EXT_PATIENT_TAG]
    patient["extension"] = kept + [
        extension(EXT_PATIENT_TAG, valueCoding=coding(CS_PATIENT_TAG, t)) for t in dict.fromkeys(tags)
    ]
    if not patient["extension"]:
        del patient["extension"]


def tags_of(patient: Resource) -> list[str]:
    """The patient's tag codes."""
    return [
        str(e["valueCoding"]["code"])
        for e in patient.get("extension", [])
        if e.get("url") == EXT_PATIENT_TAG and e.get("valueCoding", {}).get("code")
    ]
