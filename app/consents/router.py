"""HTTP API of consents (under a patient)."""

from __future__ import annotations

from fastapi import APIRouter

from app.consents import service
from app.consents.schemas import ConsentIn, ConsentsOut
from app.deps import Fhir, Now
from app.errors import error_responses
from app.inputs import PathId
from app.security import StaffUser
from app.vocabulary import ContactChannel

router = APIRouter(prefix="/api/v1/patients", tags=["consents"])


@router.get(
    "/{patient_id}/consents", response_model=ConsentsOut, responses=error_responses(401, 403, 404, 422)
)
async def get_consents(patient_id: PathId, fhir: Fhir, _: StaffUser) -> ConsentsOut:
    """The current decision per channel (whatsapp, sms, email, voice) and the history, newest first."""
    return ConsentsOut.of(await service.overview(fhir, patient_id=patient_id))


@router.put(
    "/{patient_id}/consents/marketing",
    response_model=ConsentsOut,
    responses=error_responses(401, 403, 404, 422),
)
async def put_marketing_consent(
    patient_id: PathId, body: ConsentIn, fhir: Fhir, now: Now, principal: StaffUser
) -> ConsentsOut:
    """Record an opt-in or opt-out (do not disturb) for marketing: campaigns on every channel; care
    messages (confirmations, reminders) are not affected."""
    await service.record(
        fhir,
        patient_id=patient_id,
        channel=None,
        decision=body.decision,
        source=body.source,
        actors=[principal.actor()],
        recorded_at=now,
    )
    return ConsentsOut.of(await service.history(fhir, patient_id=patient_id))


@router.put(
    "/{patient_id}/consents/{channel}",
    response_model=ConsentsOut,
    responses=error_responses(401, 403, 404, 422),
)
async def put_consent(
    patient_id: PathId, channel: ContactChannel, body: ConsentIn, fhir: Fhir, now: Now, principal: StaffUser
) -> ConsentsOut:
    """Record an opt-in or opt-out for a channel (a new Consent; earlier ones stay as history)."""
    await service.record(
        fhir,
        patient_id=patient_id,
        channel=channel.value,
        decision=body.decision,
        source=body.source,
        actors=[principal.actor()],
        recorded_at=now,
    )
    return ConsentsOut.of(await service.history(fhir, patient_id=patient_id))
