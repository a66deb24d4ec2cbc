"""HTTP API of journeys: templates (admins write them, staff read them) and a patient's journeys (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.deps import Fhir, Now
from app.errors import error_responses
from app.inputs import PathId
from app.journeys import service, templates
from app.journeys.model import StageStatus
from app.journeys.schemas import JourneyOut, JourneyStart, TemplateCreate, TemplateIn, TemplateOut
from app.security import AdminUser, StaffUser

router = APIRouter(prefix="/api/v1", tags=["journeys"])

TemplateName = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="A journey template's name")
]
StageCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="A stage's code")]


@router.post(
    "/journey-templates",
    status_code=201,
    response_model=TemplateOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_template(body: TemplateCreate, fhir: Fhir, principal: AdminUser) -> TemplateOut:
    """Create a template; 422 names an unknown message template, ticket category, department or event."""
    template = body.template(body.name)
    saved = await templates.save_template(fhir, template=template, actors=[principal.actor()], create=True)
    return TemplateOut.of(saved)


@router.get("/journey-templates", response_model=list[TemplateOut], responses=error_responses(401, 403, 422))
async def list_templates(
    fhir: Fhir, _: StaffUser, include_retired: bool = Query(default=False)
) -> list[TemplateOut]:
    """The templates, by name (active ones unless `include_retired`)."""
    found = await templates.list_templates(fhir, include_retired=include_retired)
    return [TemplateOut.of(t) for t in found]


@router.get(
    "/journey-templates/{name}", response_model=TemplateOut, responses=error_responses(401, 403, 404, 422)
)
async def get_template(name: TemplateName, fhir: Fhir, _: StaffUser) -> TemplateOut:
    """One template."""
    return TemplateOut.of(await templates.get_template(fhir, name=name))


@router.put(
    "/journey-templates/{name}", response_model=TemplateOut, responses=error_responses(401, 403, 404, 422)
)
async def replace_template(
    name: TemplateName, body: TemplateIn, fhir: Fhir, principal: AdminUser
) -> TemplateOut:
    """Replace a template (and make it active again); running journeys keep their stages."""
    template = body.template(name)
    saved = await templates.save_template(fhir, template=template, actors=[principal.actor()], create=False)
    return TemplateOut.of(saved)


@router.delete("/journey-templates/{name}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def retire_template(name: TemplateName, fhir: Fhir, principal: AdminUser) -> Response:
    """Retire a template: it starts no more journeys; running ones go on."""
    await templates.retire_template(fhir, name=name, actors=[principal.actor()])
    return Response(status_code=204)


@router.post(
    "/patients/{patient_id}/journeys",
    status_code=201,
    response_model=JourneyOut,
    responses=error_responses(401, 403, 404, 422),
)
async def start_journey(
    patient_id: PathId, body: JourneyStart, fhir: Fhir, now: Now, principal: StaffUser
) -> JourneyOut:
    """Start a journey for the patient, anchored at the appointment's start, at `anchor`, or now."""
    journey = await service.start_journey(
        fhir,
        patient_id=patient_id,
        template_name=body.template,
        appointment_id=body.appointment,
        anchor=body.anchor,
        now=now,
        actors=[principal.actor()],
    )
    return JourneyOut.of(journey)


@router.get(
    "/patients/{patient_id}/journeys",
    response_model=list[JourneyOut],
    responses=error_responses(401, 403, 404, 422),
)
async def patient_journeys(patient_id: PathId, fhir: Fhir, _: StaffUser) -> list[JourneyOut]:
    """The patient's journeys, newest first, each with its stages and the current one."""
    return [JourneyOut.of(j) for j in await service.patient_journeys(fhir, patient_id=patient_id)]


@router.get(
    "/journeys/{journey_id}", response_model=JourneyOut, responses=error_responses(401, 403, 404, 422)
)
async def get_journey(journey_id: PathId, fhir: Fhir, _: StaffUser) -> JourneyOut:
    """One journey."""
    return JourneyOut.of(await service.get_journey(fhir, journey_id=journey_id))


@router.post(
    "/journeys/{journey_id}/advance",
    response_model=JourneyOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def advance(journey_id: PathId, fhir: Fhir, now: Now, principal: StaffUser) -> JourneyOut:
    """Complete the current stage; the next one starts."""
    journey = await service.change_stage(
        fhir,
        journey_id=journey_id,
        stage=None,
        status=StageStatus.COMPLETED,
        now=now,
        actors=[principal.actor()],
    )
    return JourneyOut.of(journey)


@router.post(
    "/journeys/{journey_id}/stages/{stage}/complete",
    response_model=JourneyOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def complete_stage(
    journey_id: PathId, stage: StageCode, fhir: Fhir, now: Now, principal: StaffUser
) -> JourneyOut:
    """Complete a stage (the current one; 409 names it otherwise)."""
    journey = await service.change_stage(
        fhir,
        journey_id=journey_id,
        stage=stage,
        status=StageStatus.COMPLETED,
        now=now,
        actors=[principal.actor()],
    )
    return JourneyOut.of(journey)


@router.post(
    "/journeys/{journey_id}/stages/{stage}/skip",
    response_model=JourneyOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def skip_stage(
    journey_id: PathId, stage: StageCode, fhir: Fhir, now: Now, principal: StaffUser
) -> JourneyOut:
    """Skip a stage (the current one): its actions not yet run never run."""
    journey = await service.change_stage(
        fhir,
        journey_id=journey_id,
        stage=stage,
        status=StageStatus.SKIPPED,
        now=now,
        actors=[principal.actor()],
    )
    return JourneyOut.of(journey)


@router.post(
    "/journeys/{journey_id}/cancel",
    response_model=JourneyOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def cancel(journey_id: PathId, fhir: Fhir, now: Now, principal: StaffUser) -> JourneyOut:
    """Cancel the journey: nothing more is sent or created for it."""
    return JourneyOut.of(
        await service.cancel_journey(fhir, journey_id=journey_id, now=now, actors=[principal.actor()])
    )
