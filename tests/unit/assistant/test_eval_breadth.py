"""The breadth labelled set (tests/assistant/eval_breadth.jsonl: tickets, leads, journeys, messages, patient
details, waitlist, 360, date ranges, analytics, injection attempts) through the offline extractor and the
core's normalisation, scored per intent. Every example must pass; the per-intent accuracy is printed."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.llm.offline import OfflineExtractor
from app.ports.nlu import ExtractionContext, Intent
from app.understanding.draft import Draft, normalise
from tests.unit.adapters.llm.test_offline_extractor import PATIENTS, PRACTITIONERS, SPECIALTIES

LABELLED = Path(__file__).parents[2] / "assistant" / "eval_breadth.jsonl"
EXAMPLES = [json.loads(line) for line in LABELLED.read_text().splitlines() if line]
TZ = ZoneInfo("Asia/Kolkata")
# Intents this set covers beyond the original eleven (each needs examples here).
BREADTH = {
    Intent.JOIN_WAITLIST, Intent.PATIENT_SUMMARY, Intent.CREATE_TICKET, Intent.UPDATE_TICKET, Intent.ASSIGN_TICKET,
    Intent.COMMENT_TICKET, Intent.RESOLVE_TICKET, Intent.CLOSE_TICKET, Intent.LIST_TICKETS,
    Intent.MOVE_OPPORTUNITY, Intent.LOSE_OPPORTUNITY, Intent.START_JOURNEY, Intent.LIST_JOURNEYS,
    Intent.ADVANCE_JOURNEY, Intent.MESSAGE_HISTORY, Intent.ASK_ANALYTICS,
}  # fmt: skip


async def interpret(text: str, now: datetime) -> Draft:
    """What the core makes of an instruction before resolving it against FHIR."""
    context = ExtractionContext(
        now=now, practitioner_names=PRACTITIONERS, patient_names=PATIENTS, specialty_codes=SPECIALTIES
    )
    extraction = await OfflineExtractor().extract(text, context=context)
    return normalise(extraction, text=text, now=now, tz=TZ, region="IN")


def marks(draft: Draft, expect: dict[str, Any]) -> dict[str, bool]:
    """Per labelled key: right or not (text compared case-insensitively)."""
    found = {"intent": draft.intent.value} | draft.entities.model_dump(mode="json")
    return {
        key: (
            isinstance(found.get(key), str) and found[key].strip().lower() == want.strip().lower()
            if isinstance(want, str)
            else found.get(key) == want
        )
        for key, want in expect.items()
    }


def test_the_set_covers_every_new_intent_and_injection() -> None:
    labelled = Counter(example["expect"]["intent"] for example in EXAMPLES)

    assert len(EXAMPLES) >= 100
    assert {intent.value for intent in BREADTH} <= set(labelled)
    assert labelled[Intent.UNSUPPORTED.value] >= 5


async def test_every_breadth_example_is_extracted_right() -> None:
    per_intent: Counter[str] = Counter()
    right: Counter[str] = Counter()
    failures = []
    for example in EXAMPLES:
        draft = await interpret(example["text"], datetime.fromisoformat(example["now"]))
        scored = marks(draft, example["expect"])
        intent = example["expect"]["intent"]
        per_intent[intent] += 1
        right[intent] += all(scored.values())
        if not all(scored.values()):
            failures.append((example["id"], example["text"], [k for k, ok in scored.items() if not ok]))
    total = sum(right.values())
    print(f"\nassistant breadth eval: {total}/{len(EXAMPLES)} fully right ({total / len(EXAMPLES):.0%})")  # noqa: T201
    for intent in sorted(per_intent):
        share = right[intent] / per_intent[intent]
        print(f"  {intent:24} {right[intent]}/{per_intent[intent]} ({share:.0%})")  # noqa: T201
    assert failures == []
