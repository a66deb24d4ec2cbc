"""FHIR shapes of stored files: a Binary and the Attachment a DocumentReference points at it with.
Shared by uploads (app/documents/service.py) and WhatsApp media (app/messaging/media.py)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from app.fhir.builders import instant
from app.fhir.client import Resource

# The DocumentReference.type of a file a patient sent (WhatsApp media).
LOINC = "http://loinc.org"
PATIENT_NOTE = {"system": LOINC, "code": "51855-5", "display": "Patient Note"}


def binary(binary_id: str, data: bytes, content_type: str, patient_id: str | None) -> Resource:
    """A Binary holding `data`, readable in the patient's security context."""
    resource: Resource = {
        "resourceType": "Binary",
        "id": binary_id,
        "contentType": content_type,
        "data": base64.b64encode(data).decode("ascii"),
    }
    if patient_id:
        resource["securityContext"] = {"reference": f"Patient/{patient_id}"}
    return resource


def attachment(
    data: bytes, content_type: str, *, created: datetime, url: str | None, title: str | None = None
) -> dict[str, Any]:
    """An Attachment of `data`: pointing at its Binary (`url`), or inline when `url` is None."""
    result: dict[str, Any] = {
        "contentType": content_type,
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # FHIR: SHA-1
        "creation": instant(created),
    }
    if title:
        result["title"] = title
    if url is None:
        result["data"] = base64.b64encode(data).decode("ascii")
    else:
        result["url"] = url
    return result


def attachment_of(document: Resource) -> dict[str, Any]:
    """The first attachment of a DocumentReference (empty when others wrote none)."""
    for content in document.get("content", []):
        found = content.get("attachment")
        if isinstance(found, dict):
            return found
    return {}
