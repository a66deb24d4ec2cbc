"""OpenAITranscriber against a faked OpenAI-compatible /audio/transcriptions endpoint (respx)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import respx

from adapters.speech.fake import FakeTranscriber
from adapters.speech.openai_transcriber import MAX_PROMPT_CHARS, OpenAITranscriber, hints_prompt
from app.ports.speech import Transcript, TranscriptionFailed
from tests.unit.adapters.speech.test_audio import wav_bytes

BASE_URL = "https://llm.test/v1"
MODEL = "whisper-test"
HINTS = ("Rajiv Sharma", "Meera Iyer", "cardiology")
AUDIO = wav_bytes(seconds=1.0, rate=16_000)


@pytest.fixture
def speech_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def transcriber() -> OpenAITranscriber:
    return OpenAITranscriber(api_key="sk-test", model=MODEL, base_url=BASE_URL, timeout_seconds=2.0)


def part(body: bytes, name: str) -> bytes:
    """The value of one multipart form field."""
    marker = f'name="{name}"'.encode()
    assert marker in body, f"no {name} field"
    return body.split(marker, 1)[1].split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]


async def test_the_audio_model_and_hints_are_sent_and_the_text_returned(
    speech_api: respx.MockRouter, transcriber: OpenAITranscriber
) -> None:
    route = speech_api.post("/audio/transcriptions").mock(
        return_value=httpx.Response(200, json={"text": " Book Dr. Meera Iyer at 10 am tomorrow. "})
    )

    transcript = await transcriber.transcribe(AUDIO, content_type="application/octet-stream", hints=HINTS)

    assert transcript == Transcript(
        text="Book Dr. Meera Iyer at 10 am tomorrow.", duration_seconds=1.0, engine=f"openai:{MODEL}"
    )
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.content
    assert part(body, "model") == MODEL.encode()
    assert part(body, "prompt") == b"Rajiv Sharma, Meera Iyer, cardiology"
    assert b'filename="audio.wav"' in body and b"Content-Type: audio/wav" in body
    assert AUDIO in body


async def test_without_hints_no_prompt_is_sent(
    speech_api: respx.MockRouter, transcriber: OpenAITranscriber
) -> None:
    route = speech_api.post("/audio/transcriptions")
    route.mock(return_value=httpx.Response(200, json={"text": "ok"}))

    await transcriber.transcribe(AUDIO, content_type="audio/wav")

    assert b'name="prompt"' not in route.calls.last.request.content


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(400, json={"error": {"message": "Invalid file format."}}),
            "the speech service could not read the audio (HTTP 400)",
        ),
        (
            httpx.Response(429, headers={"retry-after": "3"}, json={}),
            "the speech service is rate limited (HTTP 429); retry after 3 s",
        ),
        (httpx.Response(401, json={}), "the speech service refused our API key (HTTP 401)"),
        (httpx.Response(502, json={}), "the speech service answered HTTP 502"),
        (
            httpx.Response(200, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}),
            "the speech service did not answer with a transcription",
        ),
        (httpx.ReadTimeout("read timed out"), "the speech service did not answer in 2 s"),
        (httpx.ConnectError("refused"), "could not connect to the speech service"),
    ],
)
async def test_failures_raise_transcription_failed(
    speech_api: respx.MockRouter,
    transcriber: OpenAITranscriber,
    response: httpx.Response | Exception,
    message: str,
) -> None:
    route = speech_api.post("/audio/transcriptions")
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)

    with pytest.raises(TranscriptionFailed, match=f"^{re.escape(message)}$"):
        await transcriber.transcribe(AUDIO, content_type="audio/wav", hints=HINTS)


async def test_non_audio_is_refused_without_calling_the_api(
    speech_api: respx.MockRouter, transcriber: OpenAITranscriber
) -> None:
    route = speech_api.post("/audio/transcriptions")

    with pytest.raises(TranscriptionFailed, match=r"^not audio"):
        await transcriber.transcribe(b"<html>not a recording</html>", content_type="audio/wav")

    assert not route.called


async def test_audio_longer_than_the_limit_is_refused(speech_api: respx.MockRouter) -> None:
    transcriber = OpenAITranscriber(api_key="sk-test", base_url=BASE_URL, max_audio_seconds=0.5)

    with pytest.raises(TranscriptionFailed, match=r"^audio is 1\.0 s long; the limit is 0\.5 s$"):
        await transcriber.transcribe(AUDIO, content_type="audio/wav")


def test_the_prompt_keeps_whole_hints_within_its_limit() -> None:
    hints = [f"Doctor Number{i:03d}" for i in range(200)]

    prompt = hints_prompt([*hints[:2], hints[0], "  "])
    long_prompt = hints_prompt(hints)

    assert prompt == "Doctor Number000, Doctor Number001"
    assert len(long_prompt) <= MAX_PROMPT_CHARS
    assert long_prompt.split(", ") == hints[: len(long_prompt.split(", "))]


async def test_the_fake_transcriber_answers_in_order_and_records_calls() -> None:
    fake = FakeTranscriber("book an appointment", TranscriptionFailed("queued failure"))

    assert await fake.transcribe(AUDIO, content_type="audio/wav", hints=HINTS) == Transcript(
        text="book an appointment", engine="fake"
    )
    with pytest.raises(TranscriptionFailed, match="queued failure"):
        await fake.transcribe(b"x", content_type="audio/ogg")
    assert [(c.audio_bytes, c.content_type, c.hints) for c in fake.calls] == [
        (len(AUDIO), "audio/wav", HINTS),
        (1, "audio/ogg", ()),
    ]
