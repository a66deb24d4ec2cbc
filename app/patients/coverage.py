"""A patient's insurance: FHIR Coverage (profile prm-coverage) with the payer, member id, plan,
validity and the patient's relationship to the subscriber."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import structlog

from app.errors import Conflict, Invalid, NotFound
from app.fhir.builders import Actor, code_in, coding, meta_profile
from app.fhir.canonical import PROFILE_COVERAGE
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.records import create_with_provenance, require, update_edited

log = structlog.get_logger(__name__)

SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
COVERAGES_PER_PATIENT = 50


def coverage_resource(*, patient_id: str, fields: Mapping[str, Any]) -> Resource:
    """A Coverage of API fields (payer, payer_organization, member_id, plan, valid_from/to, relationship)."""
    resource: Resource = {
        "resourceType": "Coverage",
        "meta": meta_profile(PROFILE_COVERAGE),
        "status": "active",
        "beneficiary": {"reference": f"Patient/{patient_id}"},
    }
    apply(resource, fields)
    return resource


def apply(coverage: Resource, fields: Mapping[str, Any]) -> None:
    """Apply API fields to a Coverage; a validity that ends before it starts is 422."""
    if "status" in fields:
        coverage["status"] = fields["status"]
    if "member_id" in fields:
        coverage["subscriberId"] = fields["member_id"]
    if "relationship" in fields or "relationship" not in coverage:
        code = fields.get("relationship") or "self"
        coverage["relationship"] = {"coding": [coding(SUBSCRIBER_RELATIONSHIP, code)]}
    if "payer" in fields or "payer_organization" in fields:
        payer = {"display": fields.get("payer") or coverage.get("payor", [{}])[0].get("display")}
        organization = fields.get("payer_organization")
        if organization:
            payer["reference"] = f"Organization/{organization}"
        coverage["payor"] = [payer]
    if "plan" in fields:
        plan = fields["plan"]
        if plan:
            coverage["class"] = [
                {"type": {"coding": [coding(COVERAGE_CLASS, "plan")]}, "value": plan, "name": plan}
            ]
        else:
            coverage.pop("class", None)
    period = dict(coverage.get("period", {}))
    for api, key in (("valid_from", "start"), ("valid_to", "end")):
        if api in fields:
            if fields[api] is None:
                period.pop(key, None)
            else:
                period[key] = fields[api].isoformat()
    if period.get("start") and period.get("end") and period["end"] < period["start"]:
        raise Invalid("valid_to", "ends before valid_from")
    if period:
        coverage["period"] = period
    else:
        coverage.pop("period", None)


def fields_of(coverage: Resource) -> dict[str, Any]:
    """A Coverage in API fields; parts others left out are None."""
    period = coverage.get("period", {})
    payer = (coverage.get("payor") or [{}])[0]
    plan = (coverage.get("class") or [{}])[0]
    return {
        "id": coverage["id"],
        "status": coverage.get("status"),
        "payer": payer.get("display"),
        "payer_organization": (payer.get("reference") or "").removeprefix("Organization/") or None,
        "member_id": coverage.get("subscriberId"),
        "plan": plan.get("name") or plan.get("value"),
        "valid_from": _day(period.get("start")),
        "valid_to": _day(period.get("end")),
        "relationship": code_in(coverage.get("relationship"), SUBSCRIBER_RELATIONSHIP),
    }


def _day(value: str | None) -> date | None:
    """The calendar day of a FHIR date or dateTime (others may write a year or a month only: None)."""
    try:
        return date.fromisoformat(value[:10]) if value and len(value) >= 10 else None
    except ValueError:
        return None


async def _check_payer(fhir: FhirClient, fields: Mapping[str, Any]) -> None:
    if fields.get("payer_organization"):
        try:
            await require(fhir, "Organization", fields["payer_organization"], what="Organization")
        except NotFound:
            missing = fields["payer_organization"]
            raise Invalid("payer_organization", f"Organization {missing!r} does not exist") from None


async def add(
    fhir: FhirClient, *, patient_id: str, fields: Mapping[str, Any], actors: Sequence[Actor]
) -> Resource:
    """Record a coverage for a patient."""
    await require(fhir, "Patient", patient_id, what="Patient")
    await _check_payer(fhir, fields)
    stored = await create_with_provenance(
        fhir, coverage_resource(patient_id=patient_id, fields=fields), actors=actors, activity="coverage.add"
    )
    log.info("coverage.added", coverage=f"Coverage/{stored['id']}", patient=f"Patient/{patient_id}")
    return stored


async def of_patient(fhir: FhirClient, *, patient_id: str) -> list[Resource]:
    """A patient's coverages, newest first."""
    return await fhir.search(
        "Coverage",
        {"beneficiary": f"Patient/{patient_id}", "_sort": "-_lastUpdated"},
        limit=COVERAGES_PER_PATIENT,
    )


async def change(
    fhir: FhirClient,
    *,
    patient_id: str,
    coverage_id: str,
    fields: Mapping[str, Any],
    actors: Sequence[Actor],
    if_match: str | None = None,
) -> Resource:
    """Change a patient's coverage (fields left out stay); with `if_match`, a concurrent change is 409."""
    coverage = await require(fhir, "Coverage", coverage_id, what="Coverage")
    if coverage.get("beneficiary", {}).get("reference") != f"Patient/{patient_id}":
        raise NotFound("Coverage", coverage_id)
    await _check_payer(fhir, fields)
    if if_match is not None and if_match != version_of(coverage):
        raise Conflict(f"Coverage {coverage_id!r} changed meanwhile (now version {version_of(coverage)})")

    def edit(resource: Resource) -> bool:
        apply(resource, fields)
        return True

    return await update_edited(
        fhir,
        coverage,
        edit,
        on_conflict=Conflict(f"Coverage {coverage_id!r} kept changing; retry"),
        actors=actors,
        activity="coverage.change",
    )
