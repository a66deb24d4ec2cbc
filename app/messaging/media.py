"""Media a patient sent (images, PDFs, voice notes) stored in FHIR as Binary + DocumentReference.

`store_media` is called by the inbound-message job before it records the Communication; the
Communication's payload then points at the returned DocumentReferences (`contentReference`).
Per item, in one transaction: the Binary (PUT on an id derived from MessageSid and index), the
DocumentReference (conditional create on identifier `<MessageSid>/<index>`), for a voice note its
transcript (a second DocumentReference that `transforms` the first), and their Provenance.
A retry finds the stored items by identifier and neither downloads nor writes them again.
Failures: MediaUnavailable (transient) propagates so the job retries; MediaRejected (gone, too
large, a refused type) skips that item, writes nothing for it, and is reported in `rejected`.
docs/fhir-model.md describes the resources.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import structlog

from app.documents import resources as documents
from app.fhir.builders import Actor, AgentKind, instant, provenance
from app.fhir.bundle import Transaction, response_references
from app.fhir.canonical import SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient, Resource
from app.ports.media import FetchedMedia, MediaFetcher, MediaRejected, accepted_type
from app.ports.speech import Transcriber, TranscriptionFailed, TranscriptionUnavailable

log = structlog.get_logger(__name__)

TRANSCRIPT_SUFFIX = "/transcript"
TRANSCRIPT_TYPE = "text/plain; charset=utf-8"
BOT = Actor(AgentKind.WHATSAPP_BOT)
# Why a voice note has no transcript, written into its DocumentReference.description.
NO_ENGINE = "no speech engine is configured"
UNREADABLE = "the audio could not be decoded or recognised"
SILENT = "no speech was recognised"


class MediaItem(NamedTuple):
    """One media item of an inbound message: Twilio's MediaUrlN and MediaContentTypeN."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Rejected:
    """An item refused for good (nothing stored): its index and a reason code (`too-large` ...)."""

    index: int
    reason: str


@dataclass(frozen=True)
class StoredMedia:
    """What `store_media` stored, in item order.

    `documents`: the DocumentReference of each stored item, for Communication.payload.contentReference.
    `transcript`: the voice notes' transcripts, one per line, or None when there is none.
    """

    documents: tuple[str, ...]
    transcript: str | None
    rejected: tuple[Rejected, ...]


async def store_media(
    fhir: FhirClient,
    fetcher: MediaFetcher,
    transcriber: Transcriber | None,
    *,
    items: Sequence[MediaItem],
    patient_id: str | None,
    received: datetime,
    message_sid: str,
    hints: Sequence[str] = (),
) -> StoredMedia:
    """Download and store every item of a message once; raises MediaUnavailable so the job retries.

    `hints` are words the speech engine should expect (the offline engine needs the clinic's doctor
    and specialty names to recognise them: the assistant's `hints()`).
    """
    documents: list[str] = []
    transcripts: list[str] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        key = f"{message_sid}/{index}"
        stored = await _stored(fhir, key)
        if stored is None:
            try:
                stored = await _store_item(
                    fhir,
                    fetcher,
                    transcriber,
                    item=item,
                    key=key,
                    message_sid=message_sid,
                    patient_id=patient_id,
                    received=received,
                    hints=hints,
                )
            except MediaRejected as exc:
                log.warning("media.rejected", message_sid=message_sid, index=index, reason=exc.reason)
                rejected.append(Rejected(index, exc.reason))
                continue
        document, transcript = stored
        documents.append(document)
        if transcript:
            transcripts.append(transcript)
    return StoredMedia(tuple(documents), "\n".join(transcripts) or None, tuple(rejected))


def binary_id(key: str) -> str:
    """The Binary id of item `<MessageSid>/<index>`: derived, so a retry rewrites the same Binary."""
    return "media-" + hashlib.sha256(key.encode()).hexdigest()[:40]


async def _stored(fhir: FhirClient, key: str) -> tuple[str, str | None] | None:
    """The DocumentReference already stored for `key` and its transcript text, or None."""
    found = await fhir.search(
        "DocumentReference",
        {"identifier": f"{SID_TWILIO_MESSAGE}|{key},{SID_TWILIO_MESSAGE}|{key}{TRANSCRIPT_SUFFIX}"},
    )
    by_key = {_identifier(doc): doc for doc in found}
    if key not in by_key:
        return None
    transcript = by_key.get(key + TRANSCRIPT_SUFFIX)
    text = _text_of(transcript) if transcript is not None else None
    return f"DocumentReference/{by_key[key]['id']}", text


async def _store_item(
    fhir: FhirClient,
    fetcher: MediaFetcher,
    transcriber: Transcriber | None,
    *,
    item: MediaItem,
    key: str,
    message_sid: str,
    patient_id: str | None,
    received: datetime,
    hints: Sequence[str],
) -> tuple[str, str | None]:
    """Download one item and write it (and its transcript) in one transaction: (document, transcript)."""
    accepted_type(item.content_type)  # a type we refuse is not even downloaded
    media = await fetcher.fetch(item.url)
    audio = media.content_type.startswith("audio/")
    transcript, why_not = await _transcribe(transcriber, media, hints) if audio else (None, None)
    tx = Transaction()
    binary = tx.update(documents.binary(binary_id(key), media.data, media.content_type, patient_id))
    description = "WhatsApp voice note" if audio else "WhatsApp media"
    if why_not:
        description += f" (not transcribed: {why_not})"
    document = tx.create(
        _document(
            key,
            media.data,
            media.content_type,
            binary=binary,
            description=description,
            message_sid=message_sid,
            patient_id=patient_id,
            received=received,
        ),
        if_none_exist={"identifier": f"{SID_TWILIO_MESSAGE}|{key}"},
    )
    targets = [binary, document]
    if transcript:
        text = _document(
            key + TRANSCRIPT_SUFFIX,
            transcript.encode(),
            TRANSCRIPT_TYPE,
            binary=None,
            description="Transcript of a WhatsApp voice note (machine transcription)",
            message_sid=message_sid,
            patient_id=patient_id,
            received=received,
        )
        text["docStatus"] = "preliminary"
        text["relatesTo"] = [{"code": "transforms", "target": {"reference": document}}]
        targets.append(
            tx.create(text, if_none_exist={"identifier": f"{SID_TWILIO_MESSAGE}|{key}{TRANSCRIPT_SUFFIX}"})
        )
    tx.create(provenance(targets=targets, actors=[BOT], activity="store patient media"))
    refs = response_references(await fhir.transaction(tx.bundle()))
    log.info(
        "media.stored",
        document=refs[1],
        binary=refs[0],
        content_type=media.content_type,
        size=media.size,
        transcribed=transcript is not None,
    )
    return refs[1], transcript


async def _transcribe(
    transcriber: Transcriber | None, media: FetchedMedia, hints: Sequence[str]
) -> tuple[str | None, str | None]:
    """(transcript, None), or (None, why it was not transcribed)."""
    if transcriber is None:
        return None, NO_ENGINE
    try:
        result = await transcriber.transcribe(media.data, content_type=media.content_type, hints=hints)
    except TranscriptionUnavailable:
        return None, NO_ENGINE
    except TranscriptionFailed as exc:
        log.info("media.transcription.failed", error=type(exc).__name__, content_type=media.content_type)
        return None, UNREADABLE
    text = result.text.strip()
    return (text, None) if text else (None, SILENT)


def _document(
    key: str,
    data: bytes,
    content_type: str,
    *,
    binary: str | None,
    description: str,
    message_sid: str,
    patient_id: str | None,
    received: datetime,
) -> Resource:
    """A DocumentReference for `data`: stored in `binary`, or inline when `binary` is None (a transcript)."""
    attachment = documents.attachment(data, content_type, created=received, url=binary)
    document: Resource = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": SID_TWILIO_MESSAGE, "value": key}],
        "status": "current",
        "type": {"coding": [documents.PATIENT_NOTE], "text": "Patient-sent media"},
        "date": instant(received),
        "description": description,
        "content": [{"attachment": attachment}],
        # The message is named by its MessageSid: the Communication is written after its media.
        "context": {"related": [{"identifier": {"system": SID_TWILIO_MESSAGE, "value": message_sid}}]},
    }
    if patient_id:
        document["subject"] = {"reference": f"Patient/{patient_id}"}
    return document


def _identifier(document: Resource) -> str | None:
    return next(
        (i.get("value") for i in document.get("identifier", []) if i.get("system") == SID_TWILIO_MESSAGE),
        None,
    )


def _text_of(document: Resource) -> str | None:
    """The inline text of a transcript DocumentReference (None when absent or unreadable)."""
    for content in document.get("content", []):
        data = content.get("attachment", {}).get("data")
        if data:
            try:
                return base64.b64decode(data).decode("utf-8")
            except ValueError:
                return None
    return None
