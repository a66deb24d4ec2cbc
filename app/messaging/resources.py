"""FHIR shape of an outbound message: a Communication in preparation, its delivery queued."""

from __future__ import annotations

from app.fhir.builders import coding, extension, meta_profile
from app.fhir.canonical import CS_CHANNEL, EXT_CHANNEL, EXT_DELIVERY_STATUS, PROFILE_COMMUNICATION
from app.fhir.client import Resource


def queued_message(*, patient_ref: str, channel: str, text: str) -> Resource:
    """An outbound message waiting to be sent (Communication in preparation, delivery queued)."""
    return {
        "resourceType": "Communication",
        "meta": meta_profile(PROFILE_COMMUNICATION),
        "extension": [
            extension(EXT_CHANNEL, valueCode=channel),
            extension(EXT_DELIVERY_STATUS, valueCode="queued"),
        ],
        "status": "preparation",
        "subject": {"reference": patient_ref},
        "recipient": [{"reference": patient_ref}],
        "medium": [{"coding": [coding(CS_CHANNEL, channel)]}],
        "payload": [{"contentString": text}],
    }
