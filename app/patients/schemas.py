"""API models of patients."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

from app.directory.resources import display_name
from app.fhir.canonical import SID_ABHA_ADDRESS, SID_ABHA_NUMBER, SID_MRN
from app.fhir.client import Resource
from app.inputs import CalendarDate, FhirId, InputModel
from app.patients import contacts, identifiers, lifecycle
from app.patients import resources as res
from app.patients.coverage import fields_of as coverage_fields
from app.vocabulary import ContactChannel, Gender

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Z]{2})?$"


class PatientTag(StrEnum):
    """A patient tag (CodeSystem patient-tag)."""

    VIP = "vip"
    NEEDS_INTERPRETER = "needs-interpreter"
    WHEELCHAIR = "wheelchair"
    SENIOR_CITIZEN = "senior-citizen"
    CHRONIC_CARE = "chronic-care"
    STAFF = "staff"
    CORPORATE = "corporate"


Relationship = Literal["spouse", "parent", "child", "sibling", "guardian", "friend", "relative", "other"]
_STATES = {s.lower(): s for s in contacts.INDIAN_STATES}


class PhoneIn(InputModel):
    """One of the patient's phones."""

    number: str = Field(min_length=1, max_length=32, description="Any common format; default region IN")
    use: Literal["mobile", "home", "work"] = "mobile"
    primary: bool = Field(default=False, description="The number messages go to (one; else the first)")


class AddressIn(InputModel):
    """A postal address in India."""

    line: list[str] = Field(min_length=1, max_length=3, description="House, street, area")
    city: str = Field(min_length=1, max_length=100)
    district: str | None = Field(default=None, min_length=1, max_length=100)
    state: str = Field(description="A state or union territory of India, e.g. Karnataka")
    postal_code: str = Field(pattern=contacts.PIN_PATTERN, description="6-digit PIN code, e.g. 560001")

    @field_validator("line", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        lines = [value] if isinstance(value, str) else value
        if isinstance(lines, list) and any(not isinstance(x, str) or not x.strip() for x in lines):
            raise ValueError("every line must be non-empty text")
        return lines

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if value.lower() not in _STATES:
            raise ValueError(f"{value!r} is not a state or union territory of India")
        return _STATES[value.lower()]


class EmergencyContactIn(InputModel):
    """Who to call in an emergency."""

    name: str = Field(min_length=1, max_length=200)
    relationship: Relationship
    phone: str = Field(min_length=1, max_length=32)


class _Details(InputModel):
    """Contacts, identifiers and tags: the same on registration and on change."""

    email: EmailStr | None = None
    address: AddressIn | None = None
    phones: list[PhoneIn] | None = Field(
        default=None, min_length=1, max_length=5, description="Every phone; replaces `phone` when given"
    )
    emergency_contact: EmergencyContactIn | None = None
    tags: list[PatientTag] | None = Field(default=None, max_length=20)
    abha_number: str | None = Field(
        default=None, pattern=identifiers.ABHA_NUMBER_INPUT, description="14 digits, e.g. 91-1234-5678-9012"
    )
    abha_address: str | None = Field(
        default=None, max_length=64, description="ABHA address, e.g. ananya.reddy@abdm"
    )
    deceased: bool | None = None

    @field_validator("abha_address")
    @classmethod
    def _abha_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(identifiers.ABHA_ADDRESS_PATTERN, value.lower()):
            raise ValueError("must be like name@abdm (4-32 letters, digits, '.' or '_', then @abdm)")
        return value.lower() if value is not None else None

    @field_validator("phones")
    @classmethod
    def _one_primary(cls, value: list[PhoneIn] | None) -> list[PhoneIn] | None:
        if value is not None and sum(p.primary for p in value) > 1:
            raise ValueError("only one phone can be primary")
        return value


class PatientIn(_Details):
    """A patient to register: `phone`, or `phones` (the primary, else the first, is the main number)."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(
        default=None, min_length=1, max_length=32, description="Any common format; default region IN"
    )
    gender: Gender | None = None
    birth_date: CalendarDate | None = None
    preferred_language: str | None = Field(
        default=None, pattern=LANGUAGE_PATTERN, examples=["en", "hi", "kn"]
    )
    preferred_channel: ContactChannel | None = None

    @model_validator(mode="after")
    def _a_phone(self) -> PatientIn:
        if not self.phone and not self.phones:
            raise ValueError("give phone or phones")
        return self

    def main_phone(self) -> str:
        """The number the patient is registered (and de-duplicated) by."""
        if self.phone:
            return self.phone
        phones = self.phones or []
        return next((p.number for p in phones if p.primary), phones[0].number)


class PatientUpdate(_Details):
    """Changes to a patient; fields left out stay as they are, null clears an optional one."""

    not_null = frozenset({"name", "phone", "phones", "tags"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    gender: Gender | None = None
    birth_date: CalendarDate | None = None
    preferred_language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN)
    preferred_channel: ContactChannel | None = None


class MergeIn(InputModel):
    """Merge a duplicate into this patient."""

    source: FhirId = Field(description="The duplicate Patient id, merged into the path's patient")


class PhoneOut(BaseModel):
    """A phone as stored (E.164)."""

    number: str
    use: str
    primary: bool


class AddressOut(BaseModel):
    """An address as stored; parts others left out are null."""

    line: list[str]
    city: str | None
    district: str | None
    state: str | None
    postal_code: str | None


class EmergencyContactOut(BaseModel):
    """The emergency contact as stored."""

    name: str | None
    relationship: str | None
    phone: str | None


class PatientOut(BaseModel):
    """A patient's demographics, contacts, identifiers and preferences."""

    id: str
    name: str
    phone: str | None = Field(description="The primary phone (E.164)")
    phones: list[PhoneOut] = Field(default_factory=list)
    email: str | None = None
    address: AddressOut | None = None
    emergency_contact: EmergencyContactOut | None = None
    tags: list[str] = Field(default_factory=list)
    mrn: str | None = Field(default=None, examples=["SUN-000123"])
    abha_number: str | None = Field(default=None, description="Shown xx-xxxx-xxxx-xxxx")
    abha_address: str | None = None
    registered_at: str | None = Field(default=None, description="When the PRM issued the MRN")
    deceased: bool = False
    last_visit: str | None = Field(
        default=None,
        description="List only, when sorted or filtered by appointments: the last appointment held",
    )
    has_upcoming_appointment: bool | None = Field(
        default=None, description="List only, when sorted or filtered by appointments"
    )
    gender: str | None
    birth_date: str | None = Field(description="As recorded: YYYY, YYYY-MM or YYYY-MM-DD")
    preferred_language: str | None
    preferred_channel: str | None
    active: bool
    replaced_by: str | None = Field(default=None, description="Patient/<id> this record was merged into")

    @classmethod
    def of(cls, patient: Resource) -> PatientOut:
        """From a FHIR Patient."""
        return cls(
            id=patient["id"],
            name=display_name(patient),
            phone=res.phone_of(patient),
            phones=[
                PhoneOut(number=p.number, use=p.use, primary=p.primary) for p in contacts.phones_of(patient)
            ],
            email=contacts.email_of(patient),
            address=AddressOut(**address) if (address := contacts.address_of(patient)) else None,
            emergency_contact=EmergencyContactOut(**ec)
            if (ec := contacts.emergency_contact_of(patient))
            else None,
            tags=contacts.tags_of(patient),
            mrn=identifiers.identifier_of(patient, SID_MRN),
            abha_number=identifiers.display_abha_number(
                identifiers.identifier_of(patient, SID_ABHA_NUMBER) or ""
            )
            or None,
            abha_address=identifiers.identifier_of(patient, SID_ABHA_ADDRESS),
            registered_at=identifiers.registered_at(patient),
            deceased=bool(patient.get("deceasedBoolean") or patient.get("deceasedDateTime")),
            gender=patient.get("gender"),
            birth_date=patient.get("birthDate"),
            preferred_language=res.preferred_language(patient),
            preferred_channel=res.preferred_channel(patient),
            active=patient.get("active", True),
            replaced_by=lifecycle.merged_into(patient),
        )


class CoverageIn(InputModel):
    """A patient's insurance."""

    payer: str = Field(min_length=1, max_length=200, description="The insurer, e.g. Star Health")
    payer_organization: FhirId | None = Field(
        default=None, description="The insurer's Organization id, if any"
    )
    member_id: str = Field(min_length=1, max_length=64, description="The member id on the card")
    plan: str | None = Field(default=None, min_length=1, max_length=200)
    valid_from: CalendarDate | None = None
    valid_to: CalendarDate | None = None
    relationship: Literal["self", "spouse", "child", "parent", "other"] = Field(
        default="self", description="The patient's relationship to the subscriber"
    )


class CoverageUpdate(InputModel):
    """Changes to a coverage; fields left out stay as they are."""

    not_null = frozenset({"payer", "member_id", "relationship", "status"})

    payer: str | None = Field(default=None, min_length=1, max_length=200)
    payer_organization: FhirId | None = None
    member_id: str | None = Field(default=None, min_length=1, max_length=64)
    plan: str | None = Field(default=None, min_length=1, max_length=200)
    valid_from: CalendarDate | None = None
    valid_to: CalendarDate | None = None
    relationship: Literal["self", "spouse", "child", "parent", "other"] | None = None
    status: Literal["active", "cancelled"] | None = None


class CoverageOut(BaseModel):
    """A coverage as stored; parts others left out are null."""

    id: str
    status: str | None
    payer: str | None
    payer_organization: str | None
    member_id: str | None
    plan: str | None
    valid_from: date | None
    valid_to: date | None
    relationship: str | None

    @classmethod
    def of(cls, coverage: Resource) -> CoverageOut:
        """From a FHIR Coverage."""
        return cls(**coverage_fields(coverage))


class PatientStatsOut(BaseModel):
    """Counts over the patients matching the filters."""

    total: int
    by_gender: dict[str, int]
    by_age_band: dict[str, int] = Field(description="0-17, 18-39, 40-59, 60+ and unknown")
    by_location: dict[str, int] = Field(description="Location id -> patients seen there (once each)")
    new_per_month: dict[str, int] = Field(description="YYYY-MM of registration (MRN issued) -> count")


class DuplicateOut(BaseModel):
    """A possible duplicate and why."""

    patient: PatientOut
    reasons: list[str]
    name_similarity: float
