"""Patient documents: uploads (PDF, JPEG, PNG; the content is sniffed, never trusted) stored as
Binary + DocumentReference in one transaction, listed with the files patients sent on WhatsApp,
and read back byte for byte."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from app.documents import resources as res
from app.errors import Invalid, NotFound, TooLarge, UnsupportedMedia
from app.fhir.builders import Actor, provenance
from app.fhir.bundle import Transaction, response_resources
from app.fhir.canonical import SID_STAFF_USER
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirNotFound
from app.fhir.records import require

log = structlog.get_logger(__name__)

DOCUMENTS_PER_PATIENT = 200
# Leading bytes of each accepted type (PDF 1.7 / ISO 32000 header; JPEG SOI + marker; PNG signature).
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
# Document types staff pick: API code -> LOINC document type (None: text only).
DOCUMENT_TYPES: dict[str, tuple[str | None, str]] = {
    "lab-report": ("11502-2", "Laboratory report"),
    "prescription": ("57833-6", "Prescription for medication"),
    "discharge-summary": ("18842-5", "Discharge summary"),
    "imaging": ("18748-4", "Diagnostic imaging study"),
    "referral": ("57133-1", "Referral note"),
    "insurance-card": ("64290-0", "Insurance card"),
    "id-proof": (None, "Identity document"),
    "other": (None, "Other document"),
}


def sniff(data: bytes) -> str | None:
    """The accepted type `data` really is, by its leading bytes, or None."""
    return next((t for t, heads in SIGNATURES.items() if data.startswith(heads)), None)


def check_upload(data: bytes, claimed: str, *, limit: int) -> str:
    """The content type of an upload: 413 over `limit`, 415 unless it is a PDF/JPEG/PNG that is what it claims."""
    if len(data) > limit:
        raise TooLarge("file", f"is larger than {limit} bytes")
    if not data:
        raise Invalid("file", "is empty")
    actual = sniff(data)
    claimed = claimed.split(";", 1)[0].strip().lower()
    if actual is None:
        raise UnsupportedMedia("file", "is not a PDF, JPEG or PNG file")
    if claimed != actual:
        raise UnsupportedMedia("file", f"claims to be {claimed or 'nothing'} but is {actual}")
    return actual


@dataclass(frozen=True)
class Upload:
    """A file staff upload for a patient."""

    data: bytes
    content_type: str
    kind: str
    title: str | None = None
    description: str | None = None
    appointment_id: str | None = None


async def upload(fhir: FhirClient, *, patient_id: str, file: Upload, actor: Actor, now: datetime) -> Resource:
    """Store an uploaded (already checked) file for a patient: Binary + DocumentReference + Provenance."""
    await require(fhir, "Patient", patient_id, what="Patient")
    if file.appointment_id:
        appointment = await _read_or_none(fhir, "Appointment", file.appointment_id)
        patients = [p.get("actor", {}).get("reference") for p in (appointment or {}).get("participant", [])]
        if f"Patient/{patient_id}" not in patients:
            raise Invalid("appointment", f"Appointment {file.appointment_id!r} is not this patient's")
    tx = Transaction()
    binary = tx.update(res.binary(f"doc-{uuid.uuid4().hex}", file.data, file.content_type, patient_id))
    code, display = DOCUMENT_TYPES[file.kind]
    document: Resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": res.LOINC, "code": code, "display": display}]} if code else {},
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": now.isoformat(timespec="seconds"),
        "content": [
            {
                "attachment": res.attachment(
                    file.data, file.content_type, created=now, url=binary, title=file.title
                )
            }
        ],
    }
    document["type"]["text"] = display
    if actor.user:
        document["author"] = [
            {"identifier": {"system": SID_STAFF_USER, "value": actor.user}, "display": actor.user}
        ]
    if file.description:
        document["description"] = file.description
    if file.appointment_id:
        document["context"] = {"related": [{"reference": f"Appointment/{file.appointment_id}"}]}
    ref = tx.create(document)
    tx.create(provenance(targets=[binary, ref], actors=[actor], activity="document.upload"))
    stored = response_resources(await fhir.transaction(tx.bundle()))[1]
    log.info(
        "document.uploaded", document=f"DocumentReference/{stored['id']}", binary=binary, size=len(file.data)
    )
    return stored


async def _read_or_none(fhir: FhirClient, resource_type: str, resource_id: str) -> Resource | None:
    try:
        return await fhir.read(resource_type, resource_id)
    except FhirNotFound:
        return None


async def of_patient(fhir: FhirClient, *, patient_id: str) -> list[Resource]:
    """A patient's documents (uploads, WhatsApp media and their transcripts), newest first."""
    return await fhir.search(
        "DocumentReference",
        {"subject": f"Patient/{patient_id}", "_sort": "-date"},
        limit=DOCUMENTS_PER_PATIENT,
    )


async def document_of(fhir: FhirClient, *, patient_id: str, document_id: str) -> Resource:
    """One of the patient's documents; 404 when it is not theirs."""
    document = await _read_or_none(fhir, "DocumentReference", document_id)
    if document is None or document.get("subject", {}).get("reference") != f"Patient/{patient_id}":
        raise NotFound("Document", document_id)
    return document


async def content(fhir: FhirClient, *, patient_id: str, document_id: str) -> tuple[bytes, str]:
    """The bytes of a patient's document and their content type."""
    document = await document_of(fhir, patient_id=patient_id, document_id=document_id)
    attachment = res.attachment_of(document)
    content_type = str(attachment.get("contentType") or "application/octet-stream")
    if attachment.get("data"):
        return base64.b64decode(attachment["data"]), content_type
    url = str(attachment.get("url") or "")
    binary = (
        await _read_or_none(fhir, "Binary", url.removeprefix("Binary/"))
        if url.startswith("Binary/")
        else None
    )
    if binary is None or not binary.get("data"):
        raise NotFound("Document content", document_id)
    return base64.b64decode(binary["data"]), str(binary.get("contentType") or content_type)
