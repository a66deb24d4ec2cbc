"""The project's questionnaires as the code reads them, and the answer checks (no servers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.conformance.loader import PROFILES_DIR
from app.errors import Invalid
from app.intake.questionnaires import LANGUAGES, Questionnaire, parse
from app.intake.resources import answers_of, response

FORMS = {p.stem: parse(json.loads(p.read_text())) for p in (PROFILES_DIR / "Questionnaire").glob("*.json")}
CARDIOLOGY = FORMS["intake-cardiology"]
VALID = {"chief-complaint": "Chest pain", "symptoms": ["Chest pain"], "consent": True}


def test_every_questionnaire_has_every_text_in_english_hindi_and_kannada() -> None:
    assert set(FORMS) == {"intake-general", "intake-cardiology", "intake-orthopedics"}
    for form in FORMS.values():
        assert set(form.titles) == set(LANGUAGES), form.id
        for item in form.items:
            assert set(item.texts) == set(LANGUAGES), (form.id, item.link_id)
            for option in item.options:
                assert set(option.texts) == set(LANGUAGES), (form.id, item.link_id, option.value)
        links = {i.link_id for i in form.items}
        assert {"chief-complaint", "symptoms", "allergies", "medications", "conditions", "consent"} <= links


def test_specialties_and_the_pain_score_bounds_are_read() -> None:
    assert {f.id: f.specialty for f in FORMS.values()} == {
        "intake-general": None,
        "intake-cardiology": "cardiology",
        "intake-orthopedics": "orthopedics",
    }
    pain = FORMS["intake-orthopedics"].item("pain-score")
    assert pain is not None and (pain.kind, pain.minimum, pain.maximum) == ("integer", 0, 10)


def test_choices_are_accepted_in_any_language_and_stored_in_english() -> None:
    checked = CARDIOLOGY.check({**VALID, "symptoms": ["CHEST PAIN", "सांस फूलना", "ಎದೆ ಬಡಿತ"]})

    assert checked["symptoms"] == ["Chest pain", "Breathlessness", "Palpitations"]
    assert checked["allergies"] == [] and checked["smoker"] == []


@pytest.mark.parametrize(
    ("change", "field", "form"),
    [
        ({"chief-complaint": "  "}, "answers.chief-complaint", CARDIOLOGY),
        ({"chief-complaint": 3}, "answers.chief-complaint", CARDIOLOGY),
        ({"chief-complaint": "x" * 501}, "answers.chief-complaint", CARDIOLOGY),
        ({"symptoms": ["Sneezing"]}, "answers.symptoms", CARDIOLOGY),
        ({"smoker": "no"}, "answers.smoker", CARDIOLOGY),
        ({"smoker": [True, False]}, "answers.smoker", CARDIOLOGY),
        ({"consent": False}, "answers.consent", CARDIOLOGY),
        ({"unknown": "x"}, "answers.unknown", CARDIOLOGY),
        ({"symptoms": None, "pain-score": -1}, "answers.pain-score", FORMS["intake-orthopedics"]),
        ({"symptoms": None, "pain-score": True}, "answers.pain-score", FORMS["intake-orthopedics"]),
        ({"symptoms": None, "pain-score": "5"}, "answers.pain-score", FORMS["intake-orthopedics"]),
    ],
)
def test_a_bad_answer_names_its_question(change: dict[str, Any], field: str, form: Questionnaire) -> None:
    with pytest.raises(Invalid) as refused:
        form.check({**VALID, **change})

    assert refused.value.field == field


def test_a_response_round_trips_its_answers() -> None:
    from datetime import UTC, datetime

    checked = CARDIOLOGY.check({**VALID, "smoker": False, "medications": ["Aspirin"]})
    qr = response(CARDIOLOGY, checked, patient_ref="Patient/p1", now=datetime(2026, 11, 29, tzinfo=UTC))

    assert qr["questionnaire"] == "https://fhir.prm.health/Questionnaire/intake-cardiology|1.0.0"
    assert answers_of(qr) == {
        "chief-complaint": ["Chest pain"],
        "symptoms": ["Chest pain"],
        "smoker": [False],
        "medications": ["Aspirin"],
        "consent": [True],
    }
    assert answers_of({"resourceType": "QuestionnaireResponse"}) == {}  # written by others: nothing breaks
