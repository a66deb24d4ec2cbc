"""Speech to text, for spoken staff instructions and patients' voice notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class TranscriptionUnavailable(Exception):
    """No speech engine is configured or installed."""


class TranscriptionFailed(Exception):
    """The audio could not be transcribed (not audio, unreadable, engine error)."""


@dataclass(frozen=True)
class Transcript:
    """Text recognised in audio."""

    text: str
    duration_seconds: float | None = None
    engine: str = ""


class Transcriber(Protocol):
    """Speech to text. `hints` are phrases likely to occur (doctor names, specialties)."""

    async def transcribe(self, audio: bytes, *, content_type: str, hints: Sequence[str] = ()) -> Transcript:
        """Transcribe `audio`; raises TranscriptionFailed or TranscriptionUnavailable."""
        ...
