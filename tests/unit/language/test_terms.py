"""The CRM vocabularies map staff words onto codes the capabilities accept, and only those."""

from __future__ import annotations

import pytest

from app.language import terms
from app.opportunities.resources import LostReason, Stage
from app.patients.contacts import RELATIONSHIPS
from app.patients.schemas import PatientTag
from app.tickets.resources import Category, Priority
from app.vocabulary import ContactChannel


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (terms.TICKET_CATEGORIES, {c.value for c in Category}),
        (terms.TICKET_PRIORITIES, {p.value for p in Priority}),
        (terms.OPPORTUNITY_STAGES, {s.value for s in Stage}),
        (terms.LOST_REASONS, {r.value for r in LostReason}),
        (terms.CHANNELS, {c.value for c in ContactChannel}),
        (terms.RELATIONSHIPS, set(RELATIONSHIPS)),
        (terms.LANGUAGES, {"en", "hi", "kn"}),
        (terms.PATIENT_TAGS, {t.value for t in PatientTag}),
    ],
)
def test_every_word_maps_to_a_code_the_capability_accepts(table: dict[str, str], codes: set[str]) -> None:
    assert set(table.values()) <= codes


@pytest.mark.parametrize(
    ("table", "written", "code"),
    [
        (terms.TICKET_CATEGORIES, "Refund", "billing"),
        (terms.TICKET_PRIORITIES, "critical", "stat"),
        (terms.LOST_REASONS, "too  expensive", "price"),
        (terms.LANGUAGES, "Hindi", "hi"),
        (terms.METRICS, "no shows", "no-shows"),
        (terms.RELATIONSHIPS, "wife", "spouse"),
        (terms.CHANNELS, "e-mail", "email"),
        (terms.PATIENT_TAGS, "Senior Citizen", "senior-citizen"),
    ],
)
def test_words_as_written_map_to_codes(table: dict[str, str], written: str, code: str) -> None:
    assert terms.code_of(table, written) == code


def test_unknown_words_have_no_code() -> None:
    assert terms.code_of(terms.TICKET_CATEGORIES, "parking") is None
    assert terms.code_of(terms.TICKET_CATEGORIES, None) is None


def test_the_pattern_finds_the_longest_synonym() -> None:
    match = terms.pattern_of(terms.LOST_REASONS).search("lost, no longer interested in it")

    assert match is not None and match.group(0) == "no longer interested"
