"""Clinic FAQ: answered in the patient's language from the FAQ file, out-of-scope questions get None,
and the file's facts are the demo clinic's."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any
from urllib.parse import quote_plus

import pytest

from app.bot import faq
from app.bot.faq import FaqAnswer, answer, best_match

FAQ: dict[str, Any] = json.loads(resources.files("app.bot").joinpath("data/faq.json").read_text("utf-8"))
CLINIC: dict[str, Any] = json.loads(resources.files("app.demo").joinpath("directory.json").read_text("utf-8"))
ENTRIES = {e["id"]: e for e in FAQ["entries"]}
LANGUAGES = ("en", "hi", "kn")

# Questions the FAQ answers, and which entry answers them (calibration set, all three languages).
ANSWERED = [
    ("what are your timings", "hours"),
    ("what r ur timmings", "hours"),
    ("timings", "hours"),
    ("are you open on sunday", "hours"),
    ("clinic ki timing kya hai", "hours"),
    ("क्लिनिक कब खुलता है", "hours"),
    ("ಕ್ಲಿನಿಕ್ ಸಮಯ ಏನು", "hours"),
    ("where is the Whitefield branch", "location-whitefield"),
    ("Whitefield branch kahan hai", "location-whitefield"),
    ("ವೈಟ್‌ಫೀಲ್ಡ್ ಶಾಖೆ ಎಲ್ಲಿದೆ", "location-whitefield"),
    ("how to reach indiranagar", "location-indiranagar"),
    ("where is your clinic", "branches"),
    ("consultation fee for cardiology", "fee-cardiology"),
    ("fees for heart doctor", "fee-cardiology"),
    ("cardiology ki fees kitni hai", "fee-cardiology"),
    ("how much for skin doctor", "fee-dermatology"),
    ("ENT fees", "fee-ent"),
    ("what is the consultation fee", "fees"),
    ("डॉक्टर की फीस कितनी है", "fees"),
    ("ಡಾಕ್ಟರ್ ಫೀಸ್ ಎಷ್ಟು", "fees"),
    ("when is the orthopedic doctor available", "timings-orthopedics"),
    ("pediatrician timings", "timings-pediatrics"),
    ("do you accept insurance", "insurance"),
    ("insurence accepted?", "insurance"),
    ("insurance chalega kya", "insurance"),
    ("emergency number", "emergency"),
    ("ambulance", "emergency"),
    ("phone number of clinic", "contact"),
    ("is the clinic open today", "hours"),
    ("kitne baje tak khula hai", "hours"),
    ("where is indiranagar clinic", "location-indiranagar"),
    ("google maps link", "branches"),
    ("when does dr rajiv sharma sit", "timings-cardiology"),
    ("Dr Meera Iyer timings", "timings-cardiology"),
    ("dr priya menon kab milengi", "timings-endocrinology"),
    ("ENT doctor kab milte hain", "timings-ent"),
    ("what is the emergency contact", "emergency"),
]
# Questions the FAQ must not answer: the engine hands them to a person.
OUT_OF_SCOPE = [
    "what is the capital of France",
    "can I get a discount on surgery",
    "my mother is in ICU what should I do",
    "what is the surgery cost for knee replacement",
    "what is the fee for surgery",
    "what medicine for fever",
    "is the doctor available tomorrow",
    "where is my report",
    "when will my results come",
    "heart doctor tomorrow morning",
    "kal subah cardiology",
    "mujhe doctor chahiye",
    "is there parking",
    "I am at the whitefield branch, where do I park",
    "Dr Rajiv Sharma is rude",
    "is Dr Rajiv Sharma good",
    "dr meera iyer",
    "my father needs emergency help",
    "insurance claim rejected",
    "can I pay the fees online",
    "do you have a pharmacy",
    "I want to book an appointment",
    "cancel my appointment",
    "hello",
    "ok thanks",
    "1",
    "",
    "😀",
]


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_clinic_questions_are_answered_by_the_right_entry(question: str, expected: str) -> None:
    result = answer(question, language="en")
    assert result is not None
    assert result.faq_id == expected
    assert result.text == ENTRIES[expected]["answers"]["en"]


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_questions_get_no_answer(question: str) -> None:
    assert answer(question, language="en") is None


def test_the_thresholds_are_calibrated_with_a_margin() -> None:
    """Every answered question clears both thresholds; no out-of-scope one clears both, and the
    nearest ones miss by a margin (measured: answered score >= 2.21 and coverage 1.0; out of scope
    coverage <= 0.75)."""
    answered = [best_match(q) for q, _ in ANSWERED]
    assert all(m is not None for m in answered)
    assert min(m.score for m in answered if m) >= faq.MIN_SCORE + 0.2
    assert min(m.coverage for m in answered if m) == 1.0
    rejected = [m for q in OUT_OF_SCOPE if (m := best_match(q)) is not None]
    assert max(m.coverage for m in rejected) <= faq.MIN_COVERAGE - 0.05


def test_answers_come_in_the_requested_language() -> None:
    for language in LANGUAGES:
        result = answer("consultation fee for cardiology", language=language)
        assert result == FaqAnswer(
            "fee-cardiology", ENTRIES["fee-cardiology"]["answers"][language], result.score if result else 0
        )
    hindi = answer("cardiology ki fees kitni hai", language="hi")
    assert hindi is not None
    assert "₹1000" in hindi.text
    assert re.search(r"[\u0900-\u097f]", hindi.text)
    kannada = answer("ವೈಟ್‌ಫೀಲ್ಡ್ ಶಾಖೆ ಎಲ್ಲಿದೆ", language="kn")
    assert kannada is not None
    assert re.search(r"[\u0c80-\u0cff]", kannada.text)


def test_an_unknown_language_gets_english() -> None:
    result = answer("emergency number", language="ta")
    assert result is not None
    assert result.text == ENTRIES["emergency"]["answers"]["en"]


def test_every_entry_has_questions_and_answers_in_three_languages() -> None:
    assert len(ENTRIES) == len(FAQ["entries"])
    for entry in FAQ["entries"]:
        assert set(entry["questions"]) == set(LANGUAGES), entry["id"]
        assert set(entry["answers"]) == set(LANGUAGES), entry["id"]
        assert all(len(entry["questions"][lang]) >= 2 for lang in LANGUAGES), entry["id"]
        assert all(entry["answers"][lang].strip() for lang in LANGUAGES), entry["id"]


def test_every_entry_answers_its_own_questions() -> None:
    """Each phrasing in the file retrieves its own entry, so no two entries compete for a question."""
    misses = [
        (entry["id"], q)
        for entry in FAQ["entries"]
        for lang in LANGUAGES
        for q in entry["questions"][lang]
        if (m := best_match(q)) is None or m.faq_id != entry["id"]
    ]
    assert misses == []


def test_fees_match_the_demo_clinic() -> None:
    fees = CLINIC["organization"]["consultation_fees_inr"]
    for code, fee in fees.items():
        for language in LANGUAGES:
            text = ENTRIES[f"fee-{code}"]["answers"][language]
            assert re.findall(r"₹(\d+)", text) == [str(fee)], (code, language)
            assert f"₹{fee}" in ENTRIES["fees"]["answers"][language]
    listed = {int(v) for lang in LANGUAGES for v in re.findall(r"₹(\d+)", ENTRIES["fees"]["answers"][lang])}
    assert listed == set(fees.values())


def test_addresses_maps_links_and_phones_match_the_demo_clinic() -> None:
    org = CLINIC["organization"]
    for location in CLINIC["locations"]:
        link = "https://www.google.com/maps/search/?api=1&query=" + quote_plus(
            f"{location['name']}, {location['address']}"
        )
        for language in LANGUAGES:
            text = ENTRIES[f"location-{location['key']}"]["answers"][language]
            assert location["address"] in text
            assert link in text
            assert location["address"] in ENTRIES["branches"]["answers"][language]
    phones = {org["phone"], org["emergency_phone"]}
    for entry in FAQ["entries"]:
        for language in LANGUAGES:
            for number in re.findall(r"\+\d{10,15}", entry["answers"][language]):
                assert number in phones, (entry["id"], number)
    for language in LANGUAGES:
        assert org["emergency_phone"] in ENTRIES["emergency"]["answers"][language]
        assert org["phone"] in ENTRIES["contact"]["answers"][language]
        assert org["phone"] in ENTRIES["insurance"]["answers"][language]


def test_department_timings_match_the_practitioners_hours() -> None:
    for practitioner in CLINIC["practitioners"]:
        text = ENTRIES[f"timings-{practitioner['specialty']}"]["answers"]["en"]
        assert practitioner["name"] in text
        for spans in practitioner["hours"].values():
            for span in spans:
                start, end = (_twelve_hour(t) for t in span.split("-"))
                assert f"{start}\u2013{end}" in text, (practitioner["key"], span)


def test_insurance_answer_names_no_insurer() -> None:
    text = ENTRIES["insurance"]["answers"]["en"].lower()
    assert "front desk" in text
    for insurer in ("star health", "hdfc", "icici", "niva", "bajaj", "care health", "tata aig"):
        assert insurer not in text


def _twelve_hour(value: str) -> str:
    hour, minute = (int(p) for p in value.split(":"))
    return f"{hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def test_the_name_words_are_the_demo_doctors_names() -> None:
    names = {w.lower() for p in CLINIC["practitioners"] for w in p["name"].split()}
    assert set(FAQ["name_words"]) == names
