"""FakeExtractor: an in-memory IntentExtractor for tests, answering what they queue."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from app.ports.nlu import Extraction, ExtractionContext


@dataclass(frozen=True)
class ExtractCall:
    """One call the fake received."""

    text: str
    context: ExtractionContext


class FakeExtractor:
    """IntentExtractor returning queued Extractions, or raising queued exceptions, in order."""

    def __init__(self, *answers: Extraction | Exception, default: Extraction | None = None) -> None:
        """Queue `answers`; once they are used up, return `default` (or fail the test if None)."""
        self._answers: deque[Extraction | Exception] = deque(answers)
        self._default = default
        self.calls: list[ExtractCall] = []

    def queue(self, *answers: Extraction | Exception) -> None:
        """Add answers for the next calls."""
        self._answers.extend(answers)

    async def extract(self, text: str, *, context: ExtractionContext) -> Extraction:
        """Record the call, then return or raise the next queued answer."""
        self.calls.append(ExtractCall(text=text, context=context))
        if self._answers:
            answer = self._answers.popleft()
        elif self._default is not None:
            answer = self._default
        else:
            raise AssertionError("FakeExtractor: no answer queued for this call")
        if isinstance(answer, Exception):
            raise answer
        return answer
