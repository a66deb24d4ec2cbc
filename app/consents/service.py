"""Consent use cases: whether a patient agreed to be contacted on a channel."""

from __future__ import annotations

from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_CHANNEL
from app.fhir.client import FhirClient


async def opted_out(fhir: FhirClient, *, patient_id: str, channel: str) -> bool:
    """Whether the patient's latest active consent for the channel is an opt-out."""
    consents = await fhir.search(
        "Consent", {"patient": f"Patient/{patient_id}", "status": "active", "_sort": "-_lastUpdated"}
    )
    for consent in consents:
        if extension_value(consent, EXT_CHANNEL) == channel:
            return bool(consent.get("provision", {}).get("type") == "deny")
    return False
