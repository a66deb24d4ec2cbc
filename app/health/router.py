"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.deps import Fhir, State
from app.fhir.errors import FhirError
from app.ports.state import StateUnavailable

router = APIRouter(tags=["health"])


class Dependency(BaseModel):
    """One dependency's state as seen by /ready."""

    status: str
    latency_ms: float | None = None
    error: str | None = None


class Readiness(BaseModel):
    """The /ready answer: `ready` only when every dependency is up."""

    status: str
    dependencies: dict[str, Dependency]


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    """Liveness: no dependency is checked."""
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: HAPI FHIR and Redis answer",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is down (named in the body)"}},
)
async def ready(fhir: Fhir, state: State) -> JSONResponse:
    """Check HAPI and Redis concurrently; 503 names whichever is down."""
    fhir_state, redis_state = await asyncio.gather(_check_fhir(fhir), _check_state(state))
    deps = {"fhir": fhir_state, "redis": redis_state}
    down = [name for name, dep in deps.items() if dep.status != "up"]
    body = Readiness(status="ready" if not down else "unavailable: " + ", ".join(down), dependencies=deps)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503 if down else 200)


async def _check_fhir(fhir: Fhir) -> Dependency:
    try:
        seconds = await fhir.ping()
    except FhirError as exc:
        return Dependency(status="down", error=exc.message)
    return Dependency(status="up", latency_ms=round(seconds * 1000, 1))


async def _check_state(state: State) -> Dependency:
    try:
        seconds = await state.ping()
    except StateUnavailable as exc:
        # The driver's error type, as before the port existed ("ConnectionError", "TimeoutError").
        return Dependency(status="down", error=type(exc.__cause__ or exc).__name__)
    return Dependency(status="up", latency_ms=round(seconds * 1000, 1))
