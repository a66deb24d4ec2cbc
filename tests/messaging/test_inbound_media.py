"""Inbound media end to end: a signed webhook with an image and a voice note -> worker -> Binary +
DocumentReference linked from the stored message; a voice note's transcript becomes the message text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from adapters.sandbox.media import SandboxMediaFetcher
from app.config import Settings
from app.fhir.client import FhirClient
from app.messaging import inbound
from app.messaging.resources import message_of
from app.ports.inbound import InboundMedia, InboundMessage
from app.ports.messaging import MessageChannel
from app.ports.speech import Transcriber
from tests.changes.support import environment, worker_env
from tests.clinic import make_patient
from tests.messaging.test_media import HINTS, PNG, RECEIVED, SPOKEN
from tests.messaging.twilio_webhooks import communications, drain, post_signed
from tests.support.opus import opus_from_wav
from tests.support.twilio import INBOUND_PATH, inbound_form
from workers.bootstrap import runtime

pytestmark = pytest.mark.integration

MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/{sid}/Media/ME{index}"


async def test_an_image_and_a_voice_note_are_stored_and_linked_from_the_message(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings
) -> None:
    patient = await make_patient(api, staff)
    form = inbound_form(sender=patient["phone"], text=None)
    urls = [MEDIA.format(sid=form["MessageSid"], index=i) for i in range(2)]
    form |= {"NumMedia": "2", "MediaUrl0": urls[0], "MediaContentType0": "image/png"}
    form |= {"MediaUrl1": urls[1], "MediaContentType1": "audio/ogg"}
    with environment(worker_env(settings)):
        # The worker's own services (built now, used by drain): its sandbox fetcher serves the files.
        fetcher = runtime().services.media
    assert isinstance(fetcher, SandboxMediaFetcher)
    fetcher.add(urls[0], PNG, "image/png")
    fetcher.add(urls[1], b"OggS" + bytes(200), "audio/ogg")

    response = await post_signed(api, INBOUND_PATH, form)
    await drain(settings)

    assert response.status_code == 200
    [stored] = await communications(fhir, form["MessageSid"])
    message = message_of(stored)
    assert len(message.attachments) == 2
    image, note = [await fhir.read("DocumentReference", ref.split("/")[1]) for ref in message.attachments]
    assert image["content"][0]["attachment"]["contentType"] == "image/png"
    assert image["subject"] == {"reference": f"Patient/{patient['id']}"}
    assert note["content"][0]["attachment"]["contentType"] == "audio/ogg"
    assert "not transcribed" in note["description"]  # the test worker runs without a speech engine
    assert message.text is None


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")
async def test_a_voice_note_alone_is_stored_with_its_transcript_as_the_text(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, app: object, tmp_path: Path
) -> None:
    pytest.importorskip("pocketsphinx", reason="offline speech needs the 'speech' extra (pocketsphinx)")
    from adapters.speech.pocketsphinx_transcriber import PocketsphinxTranscriber

    transcriber: Transcriber = PocketsphinxTranscriber(max_audio_seconds=120)
    wav, resampled = tmp_path / "note.wav", tmp_path / "note16k.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), SPOKEN], check=True)
    subprocess.run(["sox", str(wav), "-r", "16000", str(resampled)], check=True)
    opus = opus_from_wav(resampled.read_bytes())
    if opus is None:
        pytest.skip("this libsndfile cannot write Ogg/Opus")
    patient = await make_patient(api, staff)
    services = app.state.services  # type: ignore[attr-defined]
    form = inbound_form(sender=patient["phone"], text=None)
    url = MEDIA.format(sid=form["MessageSid"], index=0)
    fetcher = SandboxMediaFetcher(max_bytes=1024 * 1024)
    fetcher.add(url, opus, "audio/ogg")
    message = InboundMessage(
        provider_id=form["MessageSid"],
        channel=MessageChannel.WHATSAPP,
        sender=patient["phone"],
        recipient=None,
        text=None,
        media=(InboundMedia(url, "audio/ogg"),),
        received_at=RECEIVED,
    )

    stored = await inbound.receive_message(
        fhir, services.state, services.queue, message=message, region="IN",
        fetcher=fetcher, transcriber=transcriber, hints=HINTS,
    )  # fmt: skip

    assert (
        message_of(stored).text
        == "book an appointment with doctor rajiv sharma of cardiology for 10 am tomorrow"
    )
    assert len(message_of(stored).attachments) == 1
