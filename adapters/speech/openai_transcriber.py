"""OpenAITranscriber: speech to text through OpenAI's audio transcription API (or a compatible one)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
import openai
import structlog
from openai.types.audio import Transcription

from adapters.llm.openai_extractor import openai_client
from adapters.speech.audio import FORMATS, check_duration, require_audio, wav_duration_seconds
from app.ports.speech import Transcript, TranscriptionFailed

log = structlog.get_logger(__name__)

# Whisper reads at most 224 tokens of prompt; a longer one is cut from the front. Whole hints only.
MAX_PROMPT_CHARS = 800
HINT_SEPARATOR = ", "
GENERIC_CONTENT_TYPES = frozenset({"", "application/octet-stream"})
UNREADABLE_ANSWER = "the speech service did not answer with a transcription"


def hints_prompt(hints: Sequence[str]) -> str:
    """The hints as a transcription prompt: whole hints, comma-separated, at most MAX_PROMPT_CHARS."""
    prompt = ""
    for hint in dict.fromkeys(h.strip() for h in hints if h.strip()):
        candidate = f"{prompt}{HINT_SEPARATOR}{hint}" if prompt else hint
        if len(candidate) > MAX_PROMPT_CHARS:
            break
        prompt = candidate
    return prompt


class OpenAITranscriber:
    """Transcriber (app.ports) backed by an OpenAI-compatible /audio/transcriptions endpoint."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "whisper-1",
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        max_audio_seconds: float | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the client; `base_url` points at any OpenAI-compatible server (None: OpenAI)."""
        self._model = model
        self._timeout_seconds = timeout_seconds
        self._max_audio_seconds = max_audio_seconds
        self._client = openai_client(
            api_key=api_key, base_url=base_url, timeout_seconds=timeout_seconds, http_client=http_client
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()

    async def transcribe(self, audio: bytes, *, content_type: str, hints: Sequence[str] = ()) -> Transcript:
        """Transcribe `audio`; raises TranscriptionFailed with a message that quotes none of it."""
        kind = require_audio(audio)
        duration = wav_duration_seconds(audio)
        check_duration(duration, self._max_audio_seconds)
        extension, mime = FORMATS[kind]
        # The API tells formats apart by the file name's extension, so it must match the bytes.
        sent_type = mime if content_type in GENERIC_CONTENT_TYPES else content_type
        upload = (f"audio.{extension}", audio, sent_type)
        prompt = hints_prompt(hints)
        started = time.perf_counter()
        try:
            result = await self._client.audio.transcriptions.create(
                model=self._model, file=upload, prompt=prompt or openai.omit
            )
        except openai.APIError as exc:
            raise self._failure(exc) from exc
        except (openai.OpenAIError, ValueError) as exc:
            raise TranscriptionFailed(UNREADABLE_ANSWER) from exc
        # The SDK hands back the raw text when the server says its body is not JSON.
        if not isinstance(result, Transcription):
            raise TranscriptionFailed(UNREADABLE_ANSWER)
        log.info(
            "speech.transcribed",
            engine="openai",
            model=self._model,
            format=kind,
            audio_bytes=len(audio),
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
        return Transcript(text=result.text.strip(), duration_seconds=duration, engine=f"openai:{self._model}")

    def _failure(self, exc: openai.APIError) -> TranscriptionFailed:
        log.warning("speech.transcription.failed", engine="openai", error=type(exc).__name__)
        if isinstance(exc, openai.APITimeoutError):
            return TranscriptionFailed(f"the speech service did not answer in {self._timeout_seconds:g} s")
        if isinstance(exc, openai.RateLimitError):
            retry_after = exc.response.headers.get("retry-after")
            hint = f"; retry after {retry_after} s" if retry_after else ""
            return TranscriptionFailed(f"the speech service is rate limited (HTTP 429){hint}")
        if isinstance(exc, openai.BadRequestError):
            return TranscriptionFailed("the speech service could not read the audio (HTTP 400)")
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return TranscriptionFailed(f"the speech service refused our API key (HTTP {exc.status_code})")
        if isinstance(exc, openai.APIStatusError):
            return TranscriptionFailed(f"the speech service answered HTTP {exc.status_code}")
        if isinstance(exc, openai.APIConnectionError):
            return TranscriptionFailed("could not connect to the speech service")
        return TranscriptionFailed(UNREADABLE_ANSWER)
