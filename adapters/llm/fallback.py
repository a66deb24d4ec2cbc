"""FallbackExtractor: a primary IntentExtractor (the model) with a fallback (the offline rules)."""

from __future__ import annotations

import structlog

from app.ports.nlu import Extraction, ExtractionContext, ExtractionFailed, IntentExtractor

log = structlog.get_logger(__name__)

# Primaries other than OpenAIExtractor raise plain ExtractionFailed, without a reason code.
UNSPECIFIED_REASON = "extraction_failed"


class FallbackExtractor:
    """IntentExtractor that asks `primary` and, when it raises ExtractionFailed, asks `fallback`."""

    def __init__(self, primary: IntentExtractor, fallback: IntentExtractor) -> None:
        """Wrap `primary`; `fallback` answers whenever `primary` fails."""
        self._primary = primary
        self._fallback = fallback

    async def extract(self, text: str, *, context: ExtractionContext) -> Extraction:
        """The primary's extraction, or else the fallback's; raises the fallback's ExtractionFailed."""
        try:
            return await self._primary.extract(text, context=context)
        except ExtractionFailed as exc:
            # The reason code only: an exception's message may come from anywhere.
            log.warning(
                "assistant.extractor.fallback",
                reason=getattr(exc, "reason", UNSPECIFIED_REASON),
                primary=type(self._primary).__name__,
                fallback=type(self._fallback).__name__,
            )
        return await self._fallback.extract(text, context=context)

    async def aclose(self) -> None:
        """Close whichever of the two holds connections."""
        for extractor in (self._primary, self._fallback):
            closer = getattr(extractor, "aclose", None)
            if closer is not None:
                await closer()
