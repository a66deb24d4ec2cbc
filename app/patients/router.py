"""HTTP API of patients."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse

from app.deps import AppSettings, Fhir, Now, State
from app.errors import error_responses
from app.fhir.records import require
from app.inputs import PathId, QueryId
from app.patients import contacts, coverage, identifiers, lifecycle, listing, service
from app.patients import merge as merging
from app.patients.schemas import (
    LANGUAGE_PATTERN,
    CoverageIn,
    CoverageOut,
    CoverageUpdate,
    DuplicateOut,
    MergeIn,
    PatientIn,
    PatientOut,
    PatientStatsOut,
    PatientTag,
    PatientUpdate,
)
from app.security import AdminUser, StaffUser
from app.vocabulary import Gender

# Registration's own arguments; every other field of PatientIn is a detail applied like a change.
PATIENT_CORE = {"name", "phone", "gender", "birth_date", "preferred_language", "preferred_channel"}

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


async def list_filters(
    status: Literal["active", "inactive", "all"] = Query(default="active"),
    gender: Gender | None = None,
    age_band: Literal["0-17", "18-39", "40-59", "60+"] | None = None,
    language: str | None = Query(default=None, pattern=LANGUAGE_PATTERN),
    tag: PatientTag | None = None,
    postal_code: str | None = Query(default=None, pattern=contacts.PIN_PATTERN, description="PIN code"),
    has_upcoming: bool | None = Query(
        default=None, description="With (true) or without an upcoming appointment"
    ),
    location: QueryId = None,
    practitioner: QueryId = None,
) -> listing.Filters:
    """The list's filters (also the statistics'); `location` and `practitioner`: where and by whom seen."""
    return listing.Filters(
        active={"active": True, "inactive": False, "all": None}[status],
        gender=gender,
        age_band=age_band,
        language=language,
        tag=tag,
        postal_code=postal_code,
        has_upcoming=has_upcoming,
        location=location,
        practitioner=practitioner,
    )


ListFilters = Annotated[listing.Filters, Depends(list_filters)]
PAGE_HEADERS = {
    "X-Next-Cursor": {
        "description": "The cursor of the next page (absent on the last)",
        "schema": {"type": "string"},
    },
    "X-Total-Count": {"description": "How many patients match the filters", "schema": {"type": "integer"}},
}


@router.get(
    "",
    response_model=list[PatientOut],
    responses={200: {"headers": PAGE_HEADERS}, **error_responses(401, 422)},
)
async def search(
    fhir: Fhir,
    settings: AppSettings,
    now: Now,
    response: Response,
    filters: ListFilters,
    _: StaffUser,
    phone: str | None = Query(
        default=None, max_length=32, description="Any common format: 9844111173, +91 98441 11173"
    ),
    name: str | None = Query(default=None, max_length=200, description="Fuzzy: 'Ananya Redy'"),
    mrn: str | None = Query(default=None, max_length=32, description="Exact: SUN-000123"),
    abha_number: str | None = Query(
        default=None, pattern=identifiers.ABHA_NUMBER_INPUT, description="Exact, with or without separators"
    ),
    abha_address: str | None = Query(default=None, max_length=64, description="Exact: name@abdm"),
    email: str | None = Query(default=None, max_length=254, description="Exact (case-insensitive)"),
    limit: int = Query(default=20, ge=1, le=100, description="List: patients per page"),
    cursor: str | None = Query(
        default=None, max_length=2000, description="List: X-Next-Cursor of the last page"
    ),
    sort: listing.Sort = Query(default="name", description="List order; '-' for descending"),
) -> list[PatientOut]:
    """Find patients by phone (any format), name (fuzzy), MRN, ABHA number or address, or email; without
    those, list them (filters, sort, cursor paging: the next page's cursor is in X-Next-Cursor)."""
    exact = {"mrn": mrn, "abha_number": abha_number, "abha_address": abha_address, "email": email}
    lookups = [(field, value) for field, value in exact.items() if value]
    if phone:
        found = await service.find_by_phone(fhir, phone=phone, region=settings.default_phone_region)
    elif name:
        found = await service.find_by_name(fhir, name=name)
    elif lookups:
        found = await service.find_by(fhir, field=lookups[0][0], value=lookups[0][1])
    else:
        page = await listing.patient_page(
            fhir, filters=filters, sort=sort, limit=limit, cursor=cursor, now=now
        )
        response.headers["X-Total-Count"] = str(page.total)
        if page.next_cursor:
            response.headers["X-Next-Cursor"] = page.next_cursor
        return [
            PatientOut.of(r.patient).model_copy(
                update={
                    "last_visit": r.last_visit.isoformat() if r.last_visit else None,
                    "has_upcoming_appointment": r.upcoming if page.visits else None,
                }
            )
            for r in page.rows
        ]
    return [PatientOut.of(p) for p in found]


@router.get("/stats", response_model=PatientStatsOut, responses=error_responses(401, 422))
async def stats(fhir: Fhir, now: Now, filters: ListFilters, _: StaffUser) -> PatientStatsOut:
    """Counts by gender, age band, location seen and month of registration, over the filtered patients."""
    counted = await listing.patient_stats(fhir, filters=filters, now=now)
    return PatientStatsOut(**dataclasses.asdict(counted))


@router.post(
    "",
    status_code=201,
    response_model=PatientOut,
    responses={
        200: {"model": PatientOut, "description": "The phone was already registered"},
        **error_responses(401, 409, 422),
    },
)
async def register(
    body: PatientIn, fhir: Fhir, state: State, settings: AppSettings, now: Now, principal: StaffUser
) -> JSONResponse:
    """Register a patient (a new MRN); 200 with the existing patient when the phone is already registered."""
    details = body.model_dump(exclude_unset=True, exclude=PATIENT_CORE, mode="python")
    patient, created = await service.register(
        fhir,
        state,
        name=body.name,
        phone=body.main_phone(),
        region=settings.default_phone_region,
        gender=body.gender,
        birth_date=body.birth_date,
        preferred_language=body.preferred_language,
        preferred_channel=body.preferred_channel,
        actors=[principal.actor()],
        details=details,
        mrn_prefix=settings.mrn_prefix,
        now=now,
    )
    return JSONResponse(PatientOut.of(patient).model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/{patient_id}", response_model=PatientOut, responses=error_responses(401, 404))
async def get(patient_id: PathId, fhir: Fhir, _: StaffUser) -> PatientOut:
    """One patient."""
    return PatientOut.of(await require(fhir, "Patient", patient_id, what="Patient"))


@router.patch("/{patient_id}", response_model=PatientOut, responses=error_responses(401, 404, 409, 422))
async def update(
    patient_id: PathId,
    body: PatientUpdate,
    fhir: Fhir,
    state: State,
    settings: AppSettings,
    principal: StaffUser,
    if_match: str | None = Header(default=None, description='Version id the change is based on (W/"3" or 3)'),
) -> PatientOut:
    """Change demographics or preferences; with If-Match, a concurrent change gives 409, and so does an
    ABHA number or address another patient already has."""
    version = if_match.removeprefix("W/").strip('"') if if_match else None
    patient = await service.update(
        fhir,
        state,
        patient_id=patient_id,
        changes=body.model_dump(exclude_unset=True),
        region=settings.default_phone_region,
        actors=[principal.actor()],
        if_match=version,
    )
    return PatientOut.of(patient)


@router.post(
    "/{patient_id}/deactivate", response_model=PatientOut, responses=error_responses(401, 403, 404, 409)
)
async def deactivate(patient_id: PathId, fhir: Fhir, principal: StaffUser) -> PatientOut:
    """Deactivate the record: it can no longer be booked and drops out of lists and campaigns."""
    return PatientOut.of(
        await lifecycle.set_active(fhir, patient_id=patient_id, active=False, actors=[principal.actor()])
    )


@router.post(
    "/{patient_id}/reactivate", response_model=PatientOut, responses=error_responses(401, 403, 404, 409)
)
async def reactivate(patient_id: PathId, fhir: Fhir, principal: StaffUser) -> PatientOut:
    """Reactivate a deactivated record (a merged one stays merged: 409)."""
    return PatientOut.of(
        await lifecycle.set_active(fhir, patient_id=patient_id, active=True, actors=[principal.actor()])
    )


@router.post(
    "/{patient_id}/coverages",
    status_code=201,
    response_model=CoverageOut,
    responses=error_responses(401, 403, 404, 422),
)
async def add_coverage(patient_id: PathId, body: CoverageIn, fhir: Fhir, principal: StaffUser) -> CoverageOut:
    """Record the patient's insurance."""
    stored = await coverage.add(
        fhir, patient_id=patient_id, fields=body.model_dump(exclude_unset=True), actors=[principal.actor()]
    )
    return CoverageOut.of(stored)


@router.get("/{patient_id}/coverages", response_model=list[CoverageOut], responses=error_responses(401, 404))
async def coverages(patient_id: PathId, fhir: Fhir, _: StaffUser) -> list[CoverageOut]:
    """The patient's insurance, newest first."""
    await require(fhir, "Patient", patient_id, what="Patient")
    return [CoverageOut.of(c) for c in await coverage.of_patient(fhir, patient_id=patient_id)]


@router.patch(
    "/{patient_id}/coverages/{coverage_id}",
    response_model=CoverageOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def change_coverage(
    patient_id: PathId,
    coverage_id: PathId,
    body: CoverageUpdate,
    fhir: Fhir,
    principal: StaffUser,
    if_match: str | None = Header(default=None, description='Version id the change is based on (W/"3" or 3)'),
) -> CoverageOut:
    """Change a coverage (e.g. renewal dates, or status cancelled); with If-Match a concurrent change is 409."""
    stored = await coverage.change(
        fhir,
        patient_id=patient_id,
        coverage_id=coverage_id,
        fields=body.model_dump(exclude_unset=True),
        actors=[principal.actor()],
        if_match=if_match.removeprefix("W/").strip('"') if if_match else None,
    )
    return CoverageOut.of(stored)


@router.get(
    "/{patient_id}/duplicates", response_model=list[DuplicateOut], responses=error_responses(401, 404)
)
async def duplicates(patient_id: PathId, fhir: Fhir, _: StaffUser) -> list[DuplicateOut]:
    """Other patients who may be the same person (same phone, or similar name and same birth date)."""
    return [
        DuplicateOut(
            patient=PatientOut.of(c.patient), reasons=list(c.reasons), name_similarity=round(c.score, 1)
        )
        for c in await service.duplicates(fhir, patient_id=patient_id)
    ]


@router.post(
    "/{patient_id}/merge", response_model=PatientOut, responses=error_responses(401, 403, 404, 409, 422)
)
async def merge(patient_id: PathId, body: MergeIn, fhir: Fhir, principal: AdminUser) -> PatientOut:
    """Merge the `source` patient into this one: their appointments and messages move here (admin only)."""
    return PatientOut.of(
        await merging.merge(fhir, source_id=body.source, target_id=patient_id, actor=principal.actor())
    )
