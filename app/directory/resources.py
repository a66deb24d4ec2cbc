"""FHIR shapes of the clinic directory: Organization, Location, HealthcareService, Practitioner,
PractitionerRole (with weekly hours as availableTime) and the role's Schedule."""

from __future__ import annotations

import itertools
from datetime import time
from decimal import Decimal
from typing import Any

from app.fhir.builders import coding, extension, extension_value, meta_profile
from app.fhir.canonical import (
    CS_SPECIALTY,
    EXT_CONSULTATION_FEE,
    EXT_SLOT_MINUTES,
    EXT_TIMEZONE,
    PROFILE_LOCATION,
    PROFILE_PRACTITIONER_ROLE,
    SNOMED,
)
from app.fhir.client import Resource
from app.language.specialties import BY_CODE

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A day's opening hours: (start, end) pairs, in the location's local time.
DayHours = list[tuple[time, time]]
WeeklyHours = dict[str, DayHours]


def specialty_concept(code: str) -> dict[str, Any]:
    """The CodeableConcept of a specialty: the PRM's code plus SNOMED CT's."""
    spec = BY_CODE[code]
    return {
        "coding": [coding(CS_SPECIALTY, spec.code, spec.display), coding(SNOMED, spec.snomed, spec.display)],
        "text": spec.display,
    }


def organization_resource(
    *, name: str, phone: str | None, resource_id: str | None = None, emergency_phone: str | None = None
) -> Resource:
    """An Organization (the clinic); an emergency line is a contact whose purpose says so."""
    org: Resource = {"resourceType": "Organization", "active": True, "name": name}
    if phone:
        org["telecom"] = [{"system": "phone", "value": phone}]
    if emergency_phone:
        # ContactPoint.use has no "emergency"; Organization.contact.purpose is where FHIR says what for.
        org["contact"] = [
            {"purpose": {"text": "Emergency"}, "telecom": [{"system": "phone", "value": emergency_phone}]}
        ]
    if resource_id:
        org["id"] = resource_id
    return org


def location_resource(
    *,
    name: str,
    timezone: str,
    organization_id: str,
    address: str | None = None,
    city: str | None = None,
    resource_id: str | None = None,
) -> Resource:
    """A Location (branch) carrying its IANA time zone."""
    loc: Resource = {
        "resourceType": "Location",
        "meta": meta_profile(PROFILE_LOCATION),
        "extension": [extension(EXT_TIMEZONE, valueCode=timezone)],
        "status": "active",
        "name": name,
        "managingOrganization": {"reference": f"Organization/{organization_id}"},
    }
    if address or city:
        loc["address"] = {k: v for k, v in (("text", address), ("city", city)) if v}
    if resource_id:
        loc["id"] = resource_id
    return loc


def department_resource(
    *,
    name: str,
    specialty: str,
    organization_id: str,
    location_ids: list[str],
    resource_id: str | None = None,
    fee: Decimal | None = None,
    currency: str = "INR",
) -> Resource:
    """A HealthcareService (department) for one specialty, with its consultation fee if known."""
    service: Resource = {
        "resourceType": "HealthcareService",
        "active": True,
        "name": name,
        "providedBy": {"reference": f"Organization/{organization_id}"},
        "specialty": [specialty_concept(specialty)],
        "location": [{"reference": f"Location/{loc}"} for loc in location_ids],
    }
    if resource_id:
        service["id"] = resource_id
    if fee is not None:
        service["extension"] = [consultation_fee_extension(fee, currency)]
    return service


def consultation_fee_extension(fee: Decimal, currency: str = "INR") -> dict[str, Any]:
    """The consultation-fee extension of a department."""
    return extension(EXT_CONSULTATION_FEE, valueMoney={"value": float(fee), "currency": currency})


def consultation_fee(service: Resource) -> tuple[Decimal, str] | None:
    """A department's consultation fee and its currency, if it has one."""
    money = extension_value(service, EXT_CONSULTATION_FEE) or {}
    if money.get("value") is None:
        return None
    return Decimal(str(money["value"])), str(money.get("currency", "INR"))


def practitioner_resource(
    *, given: str, family: str, prefix: str | None, gender: str | None, resource_id: str | None = None
) -> Resource:
    """A Practitioner."""
    name: dict[str, Any] = {"family": family, "given": [given] if given else []}
    if prefix:
        name["prefix"] = [prefix]
    practitioner: Resource = {"resourceType": "Practitioner", "active": True, "name": [name]}
    if gender:
        practitioner["gender"] = gender
    if resource_id:
        practitioner["id"] = resource_id
    return practitioner


def role_resource(
    *,
    practitioner_ref: str,
    organization_id: str,
    specialty: str,
    location_id: str,
    department_id: str | None,
    hours: WeeklyHours,
    resource_id: str | None = None,
) -> Resource:
    """A PractitionerRole: specialty, where, which department, and the weekly hours."""
    role: Resource = {
        "resourceType": "PractitionerRole",
        "meta": meta_profile(PROFILE_PRACTITIONER_ROLE),
        "active": True,
        "practitioner": {"reference": practitioner_ref},
        "organization": {"reference": f"Organization/{organization_id}"},
        "specialty": [specialty_concept(specialty)],
        "location": [{"reference": f"Location/{location_id}"}],
        "availableTime": available_time(hours),
    }
    if department_id:
        role["healthcareService"] = [{"reference": f"HealthcareService/{department_id}"}]
    if resource_id:
        role["id"] = resource_id
    return role


def schedule_resource(*, role_ref: str, slot_minutes: int, resource_id: str | None = None) -> Resource:
    """The Schedule whose Slots are a role's bookable time."""
    schedule: Resource = {
        "resourceType": "Schedule",
        "active": True,
        "extension": [extension(EXT_SLOT_MINUTES, valueInteger=slot_minutes)],
        "actor": [{"reference": role_ref}],
    }
    if resource_id:
        schedule["id"] = resource_id
    return schedule


def available_time(hours: WeeklyHours) -> list[dict[str, Any]]:
    """Weekly hours as PractitionerRole.availableTime (one entry per distinct time range)."""
    by_range: dict[tuple[time, time], list[str]] = {}
    for day in WEEKDAYS:
        for start, end in hours.get(day, []):
            by_range.setdefault((start, end), []).append(day)
    return [
        {
            "daysOfWeek": days,
            "availableStartTime": start.isoformat(timespec="seconds"),
            "availableEndTime": end.isoformat(timespec="seconds"),
        }
        for (start, end), days in sorted(by_range.items())
    ]


def hours_of(role: Resource) -> WeeklyHours:
    """Weekly hours read back from PractitionerRole.availableTime."""
    hours: WeeklyHours = {}
    for entry in role.get("availableTime", []):
        if "availableStartTime" not in entry or "availableEndTime" not in entry:
            continue
        span = (
            time.fromisoformat(entry["availableStartTime"]),
            time.fromisoformat(entry["availableEndTime"]),
        )
        for day in entry.get("daysOfWeek", []):
            hours.setdefault(day, []).append(span)
    return {day: sorted(spans) for day, spans in hours.items()}


def parse_hours(raw: dict[str, list[str]]) -> WeeklyHours:
    """Hours written as {"mon": ["09:00-13:00"]} (the demo and API format); ValueError if malformed."""
    hours: WeeklyHours = {}
    for day, ranges in raw.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown day {day!r} (use {', '.join(WEEKDAYS)})")
        spans: DayHours = []
        for text in ranges:
            start_text, sep, end_text = text.partition("-")
            if not sep:
                raise ValueError(f"{day}: {text!r} is not HH:MM-HH:MM")
            try:
                start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
            except ValueError as exc:
                raise ValueError(f"{day}: {text!r} is not HH:MM-HH:MM") from exc
            if end <= start:
                raise ValueError(f"{day}: {text!r} ends before it starts")
            spans.append((start, end))
        spans.sort()
        for (_, prev_end), (next_start, _) in itertools.pairwise(spans):
            if next_start < prev_end:
                raise ValueError(f"{day}: time ranges overlap")
        if spans:
            hours[day] = spans
    return hours


def format_hours(hours: WeeklyHours) -> dict[str, list[str]]:
    """Weekly hours in the API format {"mon": ["09:00-13:00"]}."""
    return {
        day: [f"{s.strftime('%H:%M')}-{e.strftime('%H:%M')}" for s, e in hours[day]]
        for day in WEEKDAYS
        if hours.get(day)
    }


def display_name(practitioner: Resource) -> str:
    """A practitioner's or patient's name as people say it ("Rajiv Sharma")."""
    names = practitioner.get("name") or [{}]
    name = names[0]
    if name.get("text"):
        return str(name["text"])
    return " ".join([*name.get("given", []), name.get("family", "")]).strip()
