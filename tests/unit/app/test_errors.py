"""Domain errors render as the API's one error shape, with today's codes and statuses."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI

from app.errors import (
    Conflict,
    DomainError,
    Expired,
    Invalid,
    InvalidTransition,
    MarketingOptedOut,
    NotFound,
    NotSupported,
    OptedOut,
    PatientBusy,
    SlotTaken,
    http_status,
    install_error_handlers,
)


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            SlotTaken("s1"),
            409,
            {"error": "slot_taken", "message": "Slot 's1' is no longer free", "slot": "s1"},
        ),
        (NotFound("Patient", "p1"), 404, {"error": "not_found", "message": "Patient 'p1' does not exist"}),
        (
            Invalid("end", "must be after start"),
            422,
            {
                "error": "validation_error",
                "message": "end: must be after start",
                "fields": [{"field": "end", "message": "must be after start"}],
            },
        ),
        (
            InvalidTransition(current="fulfilled", wanted="cancelled", allowed=()),
            409,
            {
                "error": "invalid_transition",
                "message": "An appointment that is 'fulfilled' cannot become 'cancelled'; it cannot change any more",
                "current_status": "fulfilled",
                "allowed": [],
            },
        ),
        (
            OptedOut("p1", "whatsapp"),
            409,
            {"error": "opted_out", "message": "Patient/p1 opted out of whatsapp messages"},
        ),
        (
            MarketingOptedOut("p1"),
            409,
            {"error": "marketing_opted_out", "message": "Patient/p1 opted out of marketing messages"},
        ),
        (Expired("gone", code="plan_expired"), 410, {"error": "plan_expired", "message": "gone"}),
        (
            NotSupported("no engine", code="transcription_unavailable"),
            501,
            {"error": "transcription_unavailable", "message": "no engine"},
        ),
    ],
)
async def test_a_domain_error_renders_its_code_status_and_details(
    error: DomainError, status: int, body: dict[str, object]
) -> None:
    app = FastAPI()
    install_error_handlers(app)
    handler = app.exception_handlers[DomainError]

    response = await handler(None, error)  # type: ignore[arg-type]

    assert response.status_code == status
    assert json.loads(bytes(response.body)) == body


def test_the_kinds_of_conflict_are_conflicts() -> None:
    assert isinstance(PatientBusy("Appointment/a"), Conflict)
    assert http_status(PatientBusy("Appointment/a")) == 409
