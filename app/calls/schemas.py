"""The live tools' request bodies (the voice agent calls them during a call)."""

from __future__ import annotations

from pydantic import Field

from app.inputs import FhirId, InputModel


class ToolBookIn(InputModel):
    """Book a free slot for the caller."""

    slot: FhirId = Field(description="Slot id (from GET /api/v1/voice/tools/slots)")
    patient: FhirId = Field(description="Patient id (from GET /api/v1/voice/tools/patients)")
    reason: str | None = Field(default=None, max_length=500)


class ToolHoldIn(ToolBookIn):
    """Hold a slot while the caller decides."""

    seconds: int = Field(default=300, ge=30, le=1800, description="How long the hold lasts")


class ToolCancelIn(InputModel):
    """Cancel the caller's appointment (the patient must be the appointment's)."""

    patient: FhirId = Field(description="The caller's patient id: another patient's appointment is not found")
    reason: str | None = Field(default=None, max_length=500)
