"""HTTP API of patient documents."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from app.deps import AppSettings, Fhir, Now
from app.documents import service
from app.documents.schemas import DocumentOut, DocumentType
from app.errors import error_responses
from app.fhir.records import require
from app.inputs import FhirId, PathId
from app.security import StaffUser

router = APIRouter(prefix="/api/v1/patients", tags=["documents"])


@router.post(
    "/{patient_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    responses=error_responses(401, 403, 404, 413, 415, 422),
)
async def upload(
    patient_id: PathId,
    fhir: Fhir,
    settings: AppSettings,
    now: Now,
    principal: StaffUser,
    file: UploadFile = File(description="A PDF, JPEG or PNG file; its content must be what it claims"),
    type: DocumentType = Form(description="What the document is"),
    title: str | None = Form(default=None, max_length=200),
    description: str | None = Form(default=None, max_length=1000),
    appointment: FhirId | None = Form(default=None, description="The Appointment it belongs to"),
) -> DocumentOut:
    """Upload a document for a patient (413 over the size limit, 415 when it is not the type it claims)."""
    limit = settings.max_document_bytes
    data = await file.read(limit + 1)
    content_type = service.check_upload(data, file.content_type or "", limit=limit)
    stored = await service.upload(
        fhir,
        patient_id=patient_id,
        file=service.Upload(
            data=data,
            content_type=content_type,
            kind=type,
            title=title or file.filename,
            description=description,
            appointment_id=appointment,
        ),
        actor=principal.actor(),
        now=now,
    )
    return DocumentOut.of(stored)


@router.get("/{patient_id}/documents", response_model=list[DocumentOut], responses=error_responses(401, 404))
async def documents(patient_id: PathId, fhir: Fhir, _: StaffUser) -> list[DocumentOut]:
    """The patient's documents (uploads and files sent on WhatsApp), newest first."""
    await require(fhir, "Patient", patient_id, what="Patient")
    return [DocumentOut.of(d) for d in await service.of_patient(fhir, patient_id=patient_id)]


@router.get(
    "/{patient_id}/documents/{document_id}/content",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}},
        **error_responses(401, 404),
    },
)
async def content(patient_id: PathId, document_id: PathId, fhir: Fhir, _: StaffUser) -> Response:
    """The document's bytes, exactly as uploaded."""
    data, content_type = await service.content(fhir, patient_id=patient_id, document_id=document_id)
    return Response(data, media_type=content_type, headers={"Content-Disposition": "attachment"})
