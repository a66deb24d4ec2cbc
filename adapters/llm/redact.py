"""PHI minimisation for remote models: phone numbers and patient names leave the PRM as placeholders.

Before an instruction is sent, every phone number and every patient name (a known patient's, fuzzily,
or a name the offline rules read as the patient's, e.g. of someone being registered) becomes
`[PHONE_n]` / `[PATIENT_n]`; the model copies placeholders into the entities and they are put back
after extraction. Doctors' names stay: they are the clinic's directory, not patient data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from adapters.llm.offline import names
from adapters.llm.offline.text import mask, plain
from app.language.phones import phones_in_text
from app.ports.nlu import ExtractedEntities, Extraction, ExtractionContext, ExtractionStep, IntentExtractor

log = structlog.get_logger(__name__)

MAX_NAMES = 4  # patient names looked for in one instruction


@dataclass
class Redaction:
    """An instruction with its PHI replaced, and what each placeholder stands for."""

    text: str
    originals: dict[str, str] = field(default_factory=dict)

    def restore(self, extraction: Extraction) -> Extraction:
        """The extraction with every placeholder in its entities put back."""
        steps = [
            ExtractionStep(intent=s.intent, entities=self._restored(s.entities)) for s in extraction.steps()
        ]
        first, *then = steps
        return extraction.model_copy(update={"entities": first.entities, "then": then})

    def _restored(self, entities: ExtractedEntities) -> ExtractedEntities:
        values = entities.model_dump()
        for key, value in values.items():
            if isinstance(value, str):
                for placeholder, original in self.originals.items():
                    value = value.replace(placeholder, original)
                values[key] = value
        return ExtractedEntities.model_validate(values)


def redact(text: str, context: ExtractionContext) -> Redaction:
    """`text` with phone numbers and patient names replaced by placeholders."""
    original = plain(text)
    spans: list[tuple[int, int, str]] = []
    work = original
    for written, _ in phones_in_text(original):
        start = work.find(written)
        if start >= 0:
            spans.append((start, start + len(written), "PHONE"))
            work = mask(work, start, start + len(written))
    # Doctors are masked from the search only: they stay in the text the model reads.
    while doctor := names.practitioner_in(work, context.practitioner_names):
        work = mask(work, doctor.start, doctor.end)
    for _ in range(MAX_NAMES):
        patient = names.patient_in(work, context.patient_names)
        if patient is None:
            break
        spans.append((patient.start, patient.end, "PATIENT"))
        work = mask(work, patient.start, patient.end)
    redaction = Redaction(text="")
    counts: dict[str, int] = {}
    pieces, at = [], 0
    for start, end, kind in sorted(spans):
        counts[kind] = counts.get(kind, 0) + 1
        placeholder = f"[{kind}_{counts[kind]}]"
        redaction.originals[placeholder] = original[start:end]
        pieces += [original[at:start], placeholder]
        at = end
    redaction.text = "".join([*pieces, original[at:]])
    return redaction


class PhiStaysLocal:
    """IntentExtractor that reads any instruction holding PHI with `local` and only the rest with `remote`."""

    def __init__(self, remote: IntentExtractor, local: IntentExtractor) -> None:
        """Route between a remote model and the offline rules."""
        self._remote = remote
        self._local = local

    async def extract(self, text: str, *, context: ExtractionContext) -> Extraction:
        """The local extraction when `text` names a phone or a patient, else the remote one."""
        if redact(text, context).originals:
            log.info("assistant.extractor.phi_kept_local")
            return await self._local.extract(text, context=context)
        return await self._remote.extract(text, context=context)

    async def aclose(self) -> None:
        """Close whichever of the two holds connections."""
        for extractor in (self._remote, self._local):
            closer = getattr(extractor, "aclose", None)
            if closer is not None:
                await closer()
