"""HTTP API of the clinic directory."""

from __future__ import annotations

from fastapi import APIRouter, Query

from app.deps import Fhir
from app.directory import service
from app.directory.deps import Directory
from app.directory.schemas import (
    Created,
    DepartmentIn,
    LocationIn,
    LocationUpdate,
    OrganizationIn,
    PractitionerOut,
    PractitionerUpdate,
)
from app.errors import NotFound, error_responses
from app.fhir.client import Resource
from app.inputs import PathId, QueryId
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
        raise NotFound("Practitioner", practitioner_id)
    return [PractitionerOut.of(r) for r in roles]


@router.post(
    "/organizations", status_code=201, response_model=Created, responses=error_responses(401, 403, 422)
)
async def create_organization(body: OrganizationIn, fhir: Fhir, principal: AdminUser) -> Created:
    """Create an organization (a clinic)."""
    return _created(
        await service.create_organization(fhir, name=body.name, phone=body.phone, actor=principal.actor())
    )


@router.post(
    "/locations", status_code=201, response_model=Created, responses=error_responses(401, 403, 404, 422)
)
async def create_location(
    body: LocationIn, fhir: Fhir, directory: Directory, principal: AdminUser
) -> Created:
    """Create a branch with its time zone."""
    created = await service.create_location(
        fhir,
        directory,
        name=body.name,
        timezone=body.timezone,
        organization_id=body.organization,
        address=body.address,
        city=body.city,
        actor=principal.actor(),
    )
    return _created(created)


@router.post(
    "/departments", status_code=201, response_model=Created, responses=error_responses(401, 403, 404, 422)
)
async def create_department(body: DepartmentIn, fhir: Fhir, principal: AdminUser) -> Created:
    """Create a department (HealthcareService) for a specialty."""
    created = await service.create_department(
        fhir,
        name=body.name,
        specialty=body.specialty,
        organization_id=body.organization,
        location_ids=body.locations,
        fee=body.consultation_fee,
        actor=principal.actor(),
    )
    return _created(created)


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
