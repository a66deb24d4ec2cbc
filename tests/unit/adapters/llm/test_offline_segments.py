"""The offline rules read a segment-size question and the segment's name, never as a report or a send."""

from __future__ import annotations

import pytest

from adapters.llm.offline.extractor import extract
from app.ports.nlu import Intent
from tests.unit.adapters.llm.test_openai_extractor import CONTEXT


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("how many patients are in the diabetes follow-up segment?", "diabetes follow-up"),
        ("preview the 'Women over 40' segment", "Women over 40"),
        ("size of segment senior citizens", "senior citizens"),
        ("kitne patients hain elderly cardiology audience mein", "elderly cardiology"),
    ],
)
def test_a_segment_question_names_the_segment(text: str, name: str) -> None:
    extraction = extract(text, CONTEXT)

    assert extraction.intent is Intent.PREVIEW_SEGMENT
    assert extraction.entities.segment == name


def test_sending_to_a_segment_is_not_a_preview_but_a_refused_bulk_send() -> None:
    assert extract("send a whatsapp to every patient in the diabetics segment", CONTEXT).intent is (
        Intent.UNSUPPORTED
    )
