"""FakeTranscriber: an in-memory Transcriber for tests, answering what they queue."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from app.ports.speech import Transcript


@dataclass(frozen=True)
class TranscribeCall:
    """One call the fake received (the audio's size only: tests rarely need the bytes)."""

    audio_bytes: int
    content_type: str
    hints: tuple[str, ...]


class FakeTranscriber:
    """Transcriber returning queued Transcripts (or texts), or raising queued exceptions, in order."""

    def __init__(self, *answers: Transcript | str | Exception) -> None:
        """Queue `answers`; a str becomes Transcript(text=..., engine='fake')."""
        self._answers: deque[Transcript | str | Exception] = deque(answers)
        self.calls: list[TranscribeCall] = []

    def queue(self, *answers: Transcript | str | Exception) -> None:
        """Add answers for the next calls."""
        self._answers.extend(answers)

    async def transcribe(self, audio: bytes, *, content_type: str, hints: Sequence[str] = ()) -> Transcript:
        """Record the call, then return or raise the next queued answer."""
        call = TranscribeCall(audio_bytes=len(audio), content_type=content_type, hints=tuple(hints))
        self.calls.append(call)
        if not self._answers:
            raise AssertionError("FakeTranscriber: no answer queued for this call")
        answer = self._answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        return Transcript(text=answer, engine="fake") if isinstance(answer, str) else answer
