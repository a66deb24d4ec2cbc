"""Admin API of registered EHR endpoints: `/api/v1/integrations/endpoints` (docs/integrations/ehr.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.deps import AppSettings, Fhir
from app.errors import error_responses
from app.inputs import PathId
from app.integrations import service
from app.integrations.schemas import EndpointHealth, EndpointIn, EndpointOut, SubscriptionDeliveries
from app.security import AdminUser

router = APIRouter(prefix="/api/v1/integrations/endpoints", tags=["integrations"])
_ONE = error_responses(401, 403, 404, 409, 503)


@router.post(
    "", status_code=201, response_model=EndpointOut, responses=error_responses(401, 403, 409, 422, 503)
)
async def register_endpoint(
    body: EndpointIn, fhir: Fhir, settings: AppSettings, principal: AdminUser
) -> EndpointOut:
    """Register a receiver; the PRM creates one rest-hook Subscription per criteria in HAPI."""
    registration = await service.register(
        fhir,
        name=body.name,
        url=body.url,
        header=body.header,
        criteria=body.criteria,
        payload=body.payload,
        production=settings.environment == "production",
        actors=[principal.actor()],
    )
    return EndpointOut.of(registration)


@router.get("", response_model=list[EndpointOut], responses=error_responses(401, 403, 503))
async def list_endpoints(fhir: Fhir, _: AdminUser) -> list[EndpointOut]:
    """Every registered endpoint, active or paused."""
    return [EndpointOut.of(r) for r in await service.list_registrations(fhir)]


@router.get("/{endpoint_id}", response_model=EndpointOut, responses=_ONE)
async def get_endpoint(endpoint_id: PathId, fhir: Fhir, _: AdminUser) -> EndpointOut:
    """One registered endpoint."""
    return EndpointOut.of(await service.get_registration(fhir, endpoint_id))


@router.post("/{endpoint_id}/pause", response_model=EndpointOut, responses=_ONE)
async def pause_endpoint(endpoint_id: PathId, fhir: Fhir, principal: AdminUser) -> EndpointOut:
    """Stop deliveries (Subscriptions off); catch up later with _history (docs/integrations/ehr.md)."""
    return EndpointOut.of(
        await service.set_active(fhir, endpoint_id, active=False, actors=[principal.actor()])
    )


@router.post("/{endpoint_id}/resume", response_model=EndpointOut, responses=_ONE)
async def resume_endpoint(endpoint_id: PathId, fhir: Fhir, principal: AdminUser) -> EndpointOut:
    """Deliver again (HAPI re-activates the Subscriptions within seconds)."""
    return EndpointOut.of(
        await service.set_active(fhir, endpoint_id, active=True, actors=[principal.actor()])
    )


@router.delete("/{endpoint_id}", status_code=204, responses=_ONE)
async def delete_endpoint(endpoint_id: PathId, fhir: Fhir, principal: AdminUser) -> Response:
    """Remove the endpoint: its Subscriptions are deleted; the URL no longer admits Subscriptions via /fhir."""
    await service.remove(fhir, endpoint_id, actors=[principal.actor()])
    return Response(status_code=204)


@router.get("/{endpoint_id}/health", response_model=EndpointHealth, responses=_ONE)
async def endpoint_health(endpoint_id: PathId, fhir: Fhir, _: AdminUser) -> EndpointHealth:
    """HAPI's status and error text per Subscription, and its record of their last deliveries and failures."""
    registration = await service.get_registration(fhir, endpoint_id)
    out = EndpointOut.of(registration)
    record = await service.deliveries(fhir, [str(s["id"]) for s in registration.subscriptions])
    subscriptions = [
        SubscriptionDeliveries.with_deliveries(s, record[str(s["id"])]) for s in registration.subscriptions
    ]
    stamps = [(s.last_failure, s) for s in subscriptions if s.last_failure is not None]
    failed = max(stamps, key=lambda pair: pair[0])[1] if stamps else None
    errors = [s.error for s in subscriptions if s.error]
    return EndpointHealth(
        id=out.id,
        healthy=out.status == "active" and all(s.status == "active" and not s.error for s in subscriptions),
        status=out.status,
        subscriptions=subscriptions,
        last_delivery=max((s.last_delivery for s in subscriptions if s.last_delivery), default=None),
        last_failure=failed.last_failure if failed else None,
        last_error=errors[0] if errors else (failed.last_delivery_error if failed else None),
    )
