"""Clinic questions (placeholder until bot-nlu lands: three keyword answers, English only)."""

from __future__ import annotations

from dataclasses import dataclass

_ANSWERS = {
    "timings": (
        ("timing", "hours", "open"),
        "OPD Monday to Saturday; emergency desk open 24 hours at Indiranagar.",
    ),
    "fees": (
        ("fee", "charges", "cost"),
        "Consultation fees range from Rs 500 (general medicine) to Rs 1000 (cardiology).",
    ),
    "whitefield": (("whitefield",), "Sunrise Whitefield: ITPL Main Road, Whitefield, Bengaluru 560066."),
}


@dataclass(frozen=True)
class FaqAnswer:
    """An answer from the clinic FAQ."""

    faq_id: str
    text: str
    score: float


def answer(question: str, *, language: str) -> FaqAnswer | None:
    """The FAQ answer to `question`, or None when nothing matches well enough."""
    del language
    lowered = question.lower()
    for faq_id, (words, text) in _ANSWERS.items():
        if any(w in lowered for w in words):
            return FaqAnswer(faq_id, text, 1.0)
    return None
