"""HTTP API of intake: the questionnaires and a patient's answers."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import Fhir, Now
from app.errors import error_responses
from app.inputs import PathId
from app.intake import service
from app.intake.schemas import IntakeIn, IntakeOut, QuestionnaireOut
from app.security import StaffUser

router = APIRouter(prefix="/api/v1", tags=["intake"])


@router.get("/questionnaires", response_model=list[QuestionnaireOut], responses=error_responses(401, 403))
async def questionnaires(fhir: Fhir, _: StaffUser) -> list[QuestionnaireOut]:
    """The intake questionnaires (titles and questions in English, Hindi and Kannada), by id."""
    return [QuestionnaireOut.of(q) for q in await service.questionnaires(fhir)]


@router.get(
    "/questionnaires/{questionnaire_id}",
    response_model=QuestionnaireOut,
    responses=error_responses(401, 403, 404),
)
async def questionnaire(questionnaire_id: PathId, fhir: Fhir, _: StaffUser) -> QuestionnaireOut:
    """One questionnaire."""
    return QuestionnaireOut.of(await service.questionnaire(fhir, questionnaire_id))


@router.post(
    "/patients/{patient_id}/intake",
    status_code=201,
    response_model=IntakeOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def submit(patient_id: PathId, body: IntakeIn, fhir: Fhir, now: Now, principal: StaffUser) -> IntakeOut:
    """Record a patient's intake answers: checked against the questionnaire (422 naming `answers.<link_id>`
    or `version`), then the QuestionnaireResponse, the problems, allergies and medicines it reports and the
    chief complaint on the next appointment's reason are written in one transaction."""
    written = await service.submit(
        fhir,
        patient_id=patient_id,
        questionnaire_id=body.questionnaire,
        version=body.version,
        answers=body.answers,
        actors=[principal.actor()],
        now=now,
    )
    return IntakeOut.of(written)
