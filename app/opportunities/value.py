"""An opportunity's estimated value when nobody gave one: the consultation fee of its department.

Fees live on the departments (HealthcareService, extension consultation-fee; the demo seed writes
them from app/demo/directory.json). An appointment's department is its PractitionerRole's
healthcareService; failing that, the newest department of the specialty that has a fee.
"""

from __future__ import annotations

from decimal import Decimal

from app.directory.resources import consultation_fee
from app.fhir.builders import code_in
from app.fhir.canonical import CS_SPECIALTY
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirNotFound
from app.scheduling.resources import participant


async def _read(fhir: FhirClient, resource_type: str, resource_id: str | None) -> Resource | None:
    if not resource_id:
        return None
    try:
        return await fhir.read(resource_type, resource_id)
    except FhirNotFound:
        return None


async def department_fee(fhir: FhirClient, department_id: str) -> Decimal | None:
    """The consultation fee of a department (None: none recorded, or no such department)."""
    department = await _read(fhir, "HealthcareService", department_id)
    fee = consultation_fee(department) if department else None
    return fee[0] if fee else None


async def specialty_fee(fhir: FhirClient, specialty: str) -> Decimal | None:
    """The consultation fee of the newest department of a specialty that has one."""
    departments = await fhir.search(
        "HealthcareService",
        {"specialty": f"{CS_SPECIALTY}|{specialty}", "active": "true", "_sort": "-_lastUpdated"},
        limit=50,
    )
    fees = (consultation_fee(d) for d in departments)
    return next((fee[0] for fee in fees if fee), None)


async def appointment_fee(fhir: FhirClient, appointment: Resource) -> Decimal | None:
    """The consultation fee of the department an appointment is with."""
    role = await _read(fhir, "PractitionerRole", participant(appointment, "PractitionerRole"))
    for service in (role or {}).get("healthcareService", []):
        fee = await department_fee(fhir, str(service.get("reference", "")).removeprefix("HealthcareService/"))
        if fee is not None:
            return fee
    concepts = [*appointment.get("specialty", []), *(role or {}).get("specialty", [])]
    specialty = next((c for c in (code_in(concept, CS_SPECIALTY) for concept in concepts) if c), None)
    return await specialty_fee(fhir, specialty) if specialty else None
