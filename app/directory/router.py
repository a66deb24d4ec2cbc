"""HTTP API of the clinic directory."""

from __future__ import annotations

from fastapi import APIRouter, Query

from app.deps import Directory, Fhir, Now
from app.directory import resources as res
from app.directory import service
from app.directory.schemas import (
    Created,
    DepartmentIn,
    LocationIn,
    LocationUpdate,
    OrganizationIn,
    PractitionerIn,
    PractitionerOut,
    PractitionerUpdate,
)
from app.errors import error_responses, invalid, not_found
from app.fhir.builders import split_name
from app.fhir.client import Resource
from app.inputs import PathId, QueryId
from app.scheduling.slots import DEFAULT_HORIZON_DAYS, generate_slots
from app.security import AdminUser, StaffUser

router = APIRouter(prefix="/api/v1", tags=["directory"])


def _created(resource: Resource) -> Created:
    return Created(id=resource["id"], reference=f"{resource['resourceType']}/{resource['id']}")


@router.get("/practitioners", response_model=list[PractitionerOut], responses=error_responses(401, 422))
async def practitioners(
    directory: Directory,
    _: StaffUser,
    name: str | None = Query(default=None, max_length=200, description="Fuzzy: 'Meera Iyar', 'Dr Sharma'"),
    specialty: str | None = Query(default=None, description="Specialty code, e.g. cardiology"),
    location: QueryId = None,
) -> list[PractitionerOut]:
    """Practitioners (one entry per role), filtered by fuzzy name, specialty and location."""
    roles = await service.search_practitioners(directory, name=name, specialty=specialty, location=location)
    return [PractitionerOut.of(r) for r in roles]


@router.get(
    "/practitioners/{practitioner_id}", response_model=list[PractitionerOut], responses=error_responses(404)
)
async def practitioner(practitioner_id: PathId, directory: Directory, _: StaffUser) -> list[PractitionerOut]:
    """A practitioner's roles."""
    roles = (await directory.get()).by_practitioner(practitioner_id)
    if not roles:
        raise not_found("Practitioner", practitioner_id)
    return [PractitionerOut.of(r) for r in roles]


@router.post(
    "/practitioners",
    status_code=201,
    response_model=PractitionerOut,
    responses=error_responses(401, 403, 404, 422),
)
async def create_practitioner(
    body: PractitionerIn, fhir: Fhir, directory: Directory, now: Now, principal: AdminUser
) -> PractitionerOut:
    """Create a practitioner with their role and schedule, and generate slots over the horizon."""
    try:
        hours = res.parse_hours(body.hours)
    except ValueError as exc:
        raise invalid("hours", str(exc)) from None
    given, family = split_name(body.name)
    entry = await service.create_practitioner(
        fhir,
        directory,
        given=given,
        family=family,
        prefix=body.prefix,
        gender=body.gender,
        specialty=body.specialty,
        organization_id=body.organization,
        location_id=body.location,
        department_id=body.department,
        hours=hours,
        slot_minutes=body.slot_minutes,
        actor=principal.actor(),
    )
    await generate_slots(
        fhir, entry, first_day=now.astimezone(entry.timezone).date(), days=DEFAULT_HORIZON_DAYS, now=now
    )
    return PractitionerOut.of(entry)


@router.post(
    "/organizations", status_code=201, response_model=Created, responses=error_responses(401, 403, 422)
)
async def create_organization(body: OrganizationIn, fhir: Fhir, principal: AdminUser) -> Created:
    """Create an organization (a clinic)."""
    org = res.organization_resource(name=body.name, phone=body.phone)
    return _created(
        await service.create_with_provenance(
            fhir, org, actors=[principal.actor()], activity="directory.organization.create"
        )
    )


@router.post(
    "/locations", status_code=201, response_model=Created, responses=error_responses(401, 403, 404, 422)
)
async def create_location(
    body: LocationIn, fhir: Fhir, directory: Directory, principal: AdminUser
) -> Created:
    """Create a branch with its time zone."""
    service.require_timezone(body.timezone)
    await service.require(fhir, "Organization", body.organization, what="Organization")
    location = res.location_resource(
        name=body.name,
        timezone=body.timezone,
        organization_id=body.organization,
        address=body.address,
        city=body.city,
    )
    created = await service.create_with_provenance(
        fhir, location, actors=[principal.actor()], activity="directory.location.create"
    )
    directory.invalidate()
    return _created(created)


@router.post(
    "/departments", status_code=201, response_model=Created, responses=error_responses(401, 403, 404, 422)
)
async def create_department(body: DepartmentIn, fhir: Fhir, principal: AdminUser) -> Created:
    """Create a department (HealthcareService) for a specialty."""
    service.require_specialty(body.specialty)
    await service.require(fhir, "Organization", body.organization, what="Organization")
    for loc in body.locations:
        await service.require(fhir, "Location", loc, what="Location")
    department = res.department_resource(
        name=body.name,
        specialty=body.specialty,
        organization_id=body.organization,
        location_ids=body.locations,
    )
    return _created(
        await service.create_with_provenance(
            fhir, department, actors=[principal.actor()], activity="directory.department.create"
        )
    )


@router.patch(
    "/practitioners/{practitioner_id}",
    response_model=list[PractitionerOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_practitioner(
    practitioner_id: PathId, body: PractitionerUpdate, fhir: Fhir, directory: Directory, principal: AdminUser
) -> list[PractitionerOut]:
    """Change a practitioner's name, title, gender or activity; returns their roles."""
    await service.update_practitioner(
        fhir,
        directory,
        practitioner_id=practitioner_id,
        changes=body.model_dump(exclude_unset=True),
        actor=principal.actor(),
    )
    return [PractitionerOut.of(r) for r in (await directory.get()).by_practitioner(practitioner_id)]


@router.patch(
    "/locations/{location_id}", response_model=Created, responses=error_responses(401, 403, 404, 409, 422)
)
async def update_location(
    location_id: PathId, body: LocationUpdate, fhir: Fhir, directory: Directory, principal: AdminUser
) -> Created:
    """Change a branch's name, address or time zone."""
    updated = await service.update_location(
        fhir,
        directory,
        location_id=location_id,
        changes=body.model_dump(exclude_unset=True),
        actor=principal.actor(),
    )
    return _created(updated)
