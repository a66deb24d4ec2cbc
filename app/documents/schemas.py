"""API models of patient documents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.documents import resources as res
from app.fhir.canonical import SID_TWILIO_MESSAGE
from app.fhir.client import Resource

DocumentType = Literal[
    "lab-report",
    "prescription",
    "discharge-summary",
    "imaging",
    "referral",
    "insurance-card",
    "id-proof",
    "other",
]


class DocumentOut(BaseModel):
    """A patient's document (an upload, or a file they sent on WhatsApp)."""

    id: str
    type: str | None = Field(description="What it is, as text (e.g. Laboratory report, Patient Note)")
    source: Literal["upload", "whatsapp", "other"]
    content_type: str | None
    size: int | None
    title: str | None
    description: str | None
    date: str | None
    appointment: str | None = Field(description="Appointment/<id> it belongs to, if any")

    @classmethod
    def of(cls, document: Resource) -> DocumentOut:
        """From a FHIR DocumentReference (any part may be missing when others wrote it)."""
        attachment = res.attachment_of(document)
        related = [r.get("reference") for r in document.get("context", {}).get("related", [])]
        whatsapp = any(i.get("system") == SID_TWILIO_MESSAGE for i in document.get("identifier", []))
        kind = document.get("type", {})
        return cls(
            id=document["id"],
            type=kind.get("text") or next((c.get("display") for c in kind.get("coding", [])), None),
            source="whatsapp" if whatsapp else "upload" if document.get("author") else "other",
            content_type=attachment.get("contentType"),
            size=attachment.get("size"),
            title=attachment.get("title"),
            description=document.get("description"),
            date=document.get("date"),
            appointment=next((r for r in related if r and r.startswith("Appointment/")), None),
        )
