"""store_media against the real HAPI: Twilio's media (faked with respx, redirect to a CDN included)
ends as Binary + DocumentReference on the patient; retries store nothing twice; refusals write nothing;
voice notes are transcribed offline and the transcript stored beside them."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from adapters.twilio.media import TwilioMediaFetcher
from app.conformance.loader import comparable
from app.fhir.canonical import SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient, Resource
from app.messaging.media import MediaItem, Rejected, binary_id, store_media
from app.ports.media import MediaUnavailable
from app.ports.speech import Transcriber
from tests.clinic import make_patient
from tests.conformance.test_round_trip import content, dump, model_of
from tests.factories import unique
from tests.support.opus import opus_from_wav

pytestmark = pytest.mark.integration

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "test-twilio-auth-token"
RECEIVED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MAX_BYTES = 64 * 1024
SPOKEN = "book an appointment with doctor rajiv sharma of cardiology for ten a m tomorrow"
HINTS = ("Rajiv Sharma", "Cardiology")  # the offline engine recognises the names it is given


@pytest.fixture
def twilio() -> respx.MockRouter:
    """Twilio's API and CDN, faked for the fetcher's own client only (not patched in: HAPI stays real)."""
    return respx.MockRouter(assert_all_called=False)


@pytest.fixture
async def fetcher(twilio: respx.MockRouter) -> TwilioMediaFetcher:
    client = httpx.AsyncClient(transport=httpx.MockTransport(twilio.async_handler))
    return TwilioMediaFetcher(account_sid=ACCOUNT, auth_token=TOKEN, max_bytes=MAX_BYTES, http_client=client)


def serve(
    twilio: respx.MockRouter, sid: str, index: int, data: bytes, content_type: str
) -> tuple[str, respx.Route]:
    """Twilio's media URL redirecting to a CDN URL that serves `data`; returns the URL and the CDN route."""
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media/ME{index}"
    cdn = f"https://mms.twiliocdn.com/{ACCOUNT}/{sid}-{index}"
    twilio.get(url).mock(return_value=httpx.Response(307, headers={"Location": cdn}))
    route = twilio.get(cdn).mock(
        return_value=httpx.Response(200, content=data, headers={"Content-Type": content_type})
    )
    return url, route


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


async def stored_for(fhir: FhirClient, sid: str, index: int, suffix: str = "") -> list[Resource]:
    return await fhir.search(
        "DocumentReference", {"identifier": f"{SID_TWILIO_MESSAGE}|{sid}/{index}{suffix}"}
    )


async def test_an_image_and_a_pdf_become_binary_and_document_reference_on_the_patient(
    fhir: FhirClient,
    fetcher: TwilioMediaFetcher,
    twilio: respx.MockRouter,
    api: httpx.AsyncClient,
    staff: dict[str, str],
) -> None:
    patient = await make_patient(api, staff)
    sid = unique("MM")
    image_url, image_cdn = serve(twilio, sid, 0, PNG, "image/png")
    pdf_url, pdf_cdn = serve(twilio, sid, 1, PDF, "application/pdf")

    stored = await store_media(
        fhir,
        fetcher,
        None,
        items=[MediaItem(image_url, "image/png"), MediaItem(pdf_url, "application/pdf")],
        patient_id=patient["id"],
        received=RECEIVED,
        message_sid=sid,
    )

    assert stored.transcript is None and stored.rejected == ()
    assert len(stored.documents) == 2
    to_twilio = [call.request for call in twilio.calls if call.request.url.host == "api.twilio.com"]
    assert len(to_twilio) == 2 and all(r.headers["Authorization"].startswith("Basic ") for r in to_twilio)
    for index, (data, content_type, cdn) in enumerate(
        [(PNG, "image/png", image_cdn), (PDF, "application/pdf", pdf_cdn)]
    ):
        assert "Authorization" not in cdn.calls.last.request.headers
        document = await fhir.read("DocumentReference", stored.documents[index].split("/")[1])
        assert document["status"] == "current"
        assert document["subject"] == {"reference": f"Patient/{patient['id']}"}
        assert document["identifier"] == [{"system": SID_TWILIO_MESSAGE, "value": f"{sid}/{index}"}]
        assert document["context"]["related"] == [
            {"identifier": {"system": SID_TWILIO_MESSAGE, "value": sid}}
        ]
        attachment = document["content"][0]["attachment"]
        assert attachment["contentType"] == content_type
        assert attachment["size"] == len(data)
        assert attachment["hash"] == sha1(data)
        assert attachment["url"] == f"Binary/{binary_id(f'{sid}/{index}')}"
        binary = await fhir.read("Binary", attachment["url"].split("/")[1])
        assert binary["contentType"] == content_type
        assert base64.b64decode(binary["data"]) == data
        assert binary["securityContext"] == {"reference": f"Patient/{patient['id']}"}


async def test_a_retry_downloads_and_stores_nothing_twice(
    fhir: FhirClient, fetcher: TwilioMediaFetcher, twilio: respx.MockRouter
) -> None:
    sid = unique("MM")
    url, cdn = serve(twilio, sid, 0, PNG, "image/png")
    items = [MediaItem(url, "image/png")]

    first = await store_media(
        fhir, fetcher, None, items=items, patient_id=None, received=RECEIVED, message_sid=sid
    )
    again = await store_media(
        fhir, fetcher, None, items=items, patient_id=None, received=RECEIVED, message_sid=sid
    )

    assert again == first
    assert cdn.call_count == 1
    assert [d["id"] for d in await stored_for(fhir, sid, 0)] == [first.documents[0].split("/")[1]]
    binary = await fhir.read("Binary", binary_id(f"{sid}/0"))
    assert binary["meta"]["versionId"] == "1"


async def test_a_passing_failure_raises_and_the_retry_completes_without_refetching(
    fhir: FhirClient, fetcher: TwilioMediaFetcher, twilio: respx.MockRouter
) -> None:
    sid = unique("MM")
    image_url, image_cdn = serve(twilio, sid, 0, PNG, "image/png")
    pdf_url, pdf_cdn = serve(twilio, sid, 1, PDF, "application/pdf")
    pdf_cdn.side_effect = [
        httpx.Response(503),
        httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"}),
    ]
    items = [MediaItem(image_url, "image/png"), MediaItem(pdf_url, "application/pdf")]

    with pytest.raises(MediaUnavailable):
        await store_media(
            fhir, fetcher, None, items=items, patient_id=None, received=RECEIVED, message_sid=sid
        )
    assert len(await stored_for(fhir, sid, 0)) == 1
    assert await stored_for(fhir, sid, 1) == []

    stored = await store_media(
        fhir, fetcher, None, items=items, patient_id=None, received=RECEIVED, message_sid=sid
    )

    assert len(stored.documents) == 2
    assert image_cdn.call_count == 1


async def test_a_too_large_file_is_refused_without_a_partial_write(
    fhir: FhirClient, fetcher: TwilioMediaFetcher, twilio: respx.MockRouter
) -> None:
    sid = unique("MM")
    big_url, _ = serve(twilio, sid, 0, b"%PDF-1.4\n" + b"0" * MAX_BYTES, "application/pdf")
    image_url, _ = serve(twilio, sid, 1, PNG, "image/png")

    stored = await store_media(
        fhir,
        fetcher,
        None,
        items=[
            MediaItem(big_url, "application/pdf"),
            MediaItem(image_url, "image/png"),
            MediaItem(image_url, "video/mp4"),
        ],
        patient_id=None,
        received=RECEIVED,
        message_sid=sid,
    )

    assert stored.rejected == (Rejected(0, "too-large"), Rejected(2, "content-type"))
    assert len(stored.documents) == 1
    assert await stored_for(fhir, sid, 0) == []
    assert await stored_for(fhir, sid, 2) == []
    for index in (0, 2):
        assert await fhir.search("Binary", {"_id": binary_id(f"{sid}/{index}")}) == []


def spoken(tmp_path: Path, codec: str) -> bytes:
    """SPOKEN as Ogg audio (Opus, as WhatsApp records voice notes, or Vorbis), made with espeak-ng."""
    wav, resampled, ogg = tmp_path / "note.wav", tmp_path / "note16k.wav", tmp_path / "note.ogg"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), SPOKEN], check=True)
    if codec == "vorbis":
        subprocess.run(["sox", str(wav), str(ogg)], check=True)
        return ogg.read_bytes()
    subprocess.run(["sox", str(wav), "-r", "16000", str(resampled)], check=True)
    opus = opus_from_wav(resampled.read_bytes())
    if opus is None:
        pytest.skip("this libsndfile cannot write Ogg/Opus")
    return opus


@pytest.fixture(scope="module")
def pocketsphinx() -> Transcriber:
    pytest.importorskip("pocketsphinx", reason="offline speech needs the 'speech' extra (pocketsphinx)")
    from adapters.speech.pocketsphinx_transcriber import PocketsphinxTranscriber

    return PocketsphinxTranscriber(max_audio_seconds=120)


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")
@pytest.mark.parametrize("codec", ["opus", "vorbis"])
async def test_a_voice_note_is_transcribed_and_the_transcript_stored_beside_it(
    codec: str,
    fhir: FhirClient,
    fetcher: TwilioMediaFetcher,
    twilio: respx.MockRouter,
    pocketsphinx: Transcriber,
    tmp_path: Path,
    api: httpx.AsyncClient,
    staff: dict[str, str],
) -> None:
    patient = await make_patient(api, staff)
    sid = unique("MM")
    audio = spoken(tmp_path, codec)
    url, _ = serve(twilio, sid, 0, audio, "audio/ogg")
    items = [MediaItem(url, "audio/ogg")]

    stored = await store_media(
        fhir,
        fetcher,
        pocketsphinx,
        items=items,
        patient_id=patient["id"],
        received=RECEIVED,
        message_sid=sid,
        hints=HINTS,
    )

    assert (
        stored.transcript == "book an appointment with doctor rajiv sharma of cardiology for 10 am tomorrow"
    )
    [note] = await stored_for(fhir, sid, 0)
    assert f"DocumentReference/{note['id']}" == stored.documents[0]
    assert note["content"][0]["attachment"]["contentType"] == "audio/ogg"
    [text] = await stored_for(fhir, sid, 0, "/transcript")
    assert text["relatesTo"] == [
        {"code": "transforms", "target": {"reference": f"DocumentReference/{note['id']}"}}
    ]
    assert text["subject"] == {"reference": f"Patient/{patient['id']}"}
    attachment = text["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    assert base64.b64decode(attachment["data"]).decode() == stored.transcript
    assert stored.documents == (f"DocumentReference/{note['id']}",)

    again = await store_media(
        fhir, fetcher, pocketsphinx, items=items, patient_id=patient["id"], received=RECEIVED, message_sid=sid
    )
    assert again == stored


async def test_audio_that_cannot_be_decoded_is_stored_and_marked_not_transcribed(
    fhir: FhirClient, fetcher: TwilioMediaFetcher, twilio: respx.MockRouter, pocketsphinx: Transcriber
) -> None:
    sid = unique("MM")
    url, _ = serve(twilio, sid, 0, b"#!AMR\n" + bytes(200), "audio/amr")

    stored = await store_media(
        fhir,
        fetcher,
        pocketsphinx,
        items=[MediaItem(url, "audio/amr")],
        patient_id=None,
        received=RECEIVED,
        message_sid=sid,
    )

    assert stored.transcript is None
    [note] = await stored_for(fhir, sid, 0)
    assert note["description"].startswith("WhatsApp voice note (not transcribed:")
    assert await stored_for(fhir, sid, 0, "/transcript") == []


async def test_what_store_media_writes_round_trips_through_the_r4b_models(
    fhir: FhirClient,
    fetcher: TwilioMediaFetcher,
    twilio: respx.MockRouter,
    pocketsphinx: Transcriber,
    tmp_path: Path,
) -> None:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("needs espeak-ng and sox")
    sid = unique("MM")
    url, _ = serve(twilio, sid, 0, spoken(tmp_path, "vorbis"), "audio/ogg")

    stored = await store_media(
        fhir, fetcher, pocketsphinx, items=[MediaItem(url, "audio/ogg")], patient_id=None,
        received=RECEIVED, message_sid=sid, hints=HINTS,
    )  # fmt: skip

    assert stored.transcript is not None
    [note] = await stored_for(fhir, sid, 0)
    [text] = await stored_for(fhir, sid, 0, "/transcript")
    binary = await fhir.read("Binary", binary_id(f"{sid}/0"))
    for resource in (note, text, binary):
        model = model_of(resource["resourceType"])
        body = {**dump(model.model_validate(resource)), "id": unique("rt-")}
        body.pop("identifier", None)  # the copy must not be taken for the message's media

        await fhir.update(body)
        read_back = await fhir.read(resource["resourceType"], body["id"])

        assert comparable(read_back) == comparable(body)  # HAPI keeps what the R4B model wrote
        assert content(dump(model.model_validate(read_back))) == content(body)
