"""Message templates: every file loads, each language has the same placeholders, rendering fills them all."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.errors import Invalid, NotFound
from app.messaging import catalog
from app.messaging.catalog import LANGUAGES, TEMPLATES_DIR, RenderedReply, TemplateFileError

EXPECTED = {
    "appointment_confirmation",
    "appointment_reminder_24h",
    "appointment_reminder_2h",
    "appointment_reminder_72h",
    "appointment_cancellation",
    "appointment_reschedule",
    "handoff_acknowledgement",
    "opt_out_confirmation",
    "welcome",
    "no_show_follow_up",
    "waitlist_offer",
    "waitlist_slot_gone",
    "intake_invitation",
    "health_checkup_invitation",
}
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
VALUES = {
    "patient_name": "Ananya",
    "clinic_name": "Sunrise Clinic",
    "practitioner_name": "Dr. Meera Rao",
    "date": "2 December",
    "time": "10:30 AM",
    "location_name": "Indiranagar",
    "clinic_phone": "+91 80 4000 1234",
    "maps_link": "https://maps.example/indiranagar",
    "question_count": "6",
    "offer": "a free ECG",
}
REMINDER_VARIABLES = {
    k: VALUES[k] for k in ("patient_name", "clinic_name", "practitioner_name", "time", "location_name")
}


def values_for(name: str) -> dict[str, str]:
    return {variable: VALUES[variable] for variable in catalog.template(name).variables}


def test_the_nine_templates_load_from_their_files() -> None:
    assert set(catalog.CATALOG) == EXPECTED
    assert {path.stem for path in TEMPLATES_DIR.glob("*.json")} == EXPECTED
    assert [t.name for t in catalog.templates()] == sorted(EXPECTED)
    for template in catalog.templates():
        assert template.version >= 1
        assert template.category == "utility"
        assert "whatsapp" in template.channels


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_language_has_exactly_the_declared_placeholders(name: str) -> None:
    raw = json.loads((TEMPLATES_DIR / f"{name}.json").read_text(encoding="utf-8"))

    for language in ("en", "hi", "kn"):
        assert set(PLACEHOLDER.findall(raw[language]["body"])) == set(raw["variables"]), language
        assert raw[language]["content_sid"] is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("language", LANGUAGES)
def test_rendering_with_every_variable_leaves_no_placeholder(name: str, language: str) -> None:
    rendered = catalog.render(name, language=language, variables=values_for(name))

    assert rendered.language == language
    for text in (rendered.body, rendered.subject or ""):
        assert "{{" not in text
        assert "}}" not in text
    for value in values_for(name).values():
        assert value in rendered.body


def test_hindi_and_kannada_are_in_their_own_scripts() -> None:
    for template in catalog.templates():
        assert re.search("[\u0900-\u097f]", template.hi.body), template.name
        assert re.search("[\u0c80-\u0cff]", template.kn.body), template.name


def test_render_in_english_hindi_and_kannada() -> None:
    variables = values_for("appointment_confirmation")

    en = catalog.render("appointment_confirmation", language="en", variables=variables)
    hi = catalog.render("appointment_confirmation", language="hi", variables=variables)
    kn = catalog.render("appointment_confirmation", language="kn", variables=variables)

    assert en.body == (
        "Hello Ananya, your appointment with Dr. Meera Rao at Sunrise Clinic is confirmed for 2 December at "
        "10:30 AM, Indiranagar (map: https://maps.example/indiranagar). To change it, reply here or call us on "
        "+91 80 4000 1234."
    )
    assert en.subject == "Appointment confirmed: 2 December at 10:30 AM"
    assert hi.body == (
        "नमस्ते Ananya, Sunrise Clinic में Dr. Meera Rao के साथ आपका अपॉइंटमेंट 2 December को 10:30 AM पर, "
        "Indiranagar में पक्का हो गया है (नक्शा: https://maps.example/indiranagar)। इसे बदलने के लिए यहाँ जवाब दें "
        "या हमें +91 80 4000 1234 पर कॉल करें।"
    )
    assert hi.subject == "अपॉइंटमेंट पक्का: 2 December, 10:30 AM"
    assert kn.body.startswith("ನಮಸ್ಕಾರ Ananya, Sunrise Clinic ನಲ್ಲಿ Dr. Meera Rao ಅವರೊಂದಿಗೆ")
    assert (en.name, en.version, en.quick_replies, en.content_sid) == (
        "appointment_confirmation",
        2,
        (),
        None,
    )


@pytest.mark.parametrize(
    "name", ["appointment_reminder_24h", "appointment_reminder_2h", "appointment_reminder_72h"]
)
def test_reminders_offer_confirm_reschedule_cancel_in_three_languages(name: str) -> None:
    replies = {
        language: catalog.render(name, language=language, variables=values_for(name)).quick_replies
        for language in LANGUAGES
    }

    assert replies == {
        "en": (
            RenderedReply("confirm", "Confirm"),
            RenderedReply("reschedule", "Reschedule"),
            RenderedReply("cancel", "Cancel"),
        ),
        "hi": (
            RenderedReply("confirm", "पुष्टि करें"),
            RenderedReply("reschedule", "समय बदलें"),
            RenderedReply("cancel", "रद्द करें"),
        ),
        "kn": (
            RenderedReply("confirm", "ದೃಢೀಕರಿಸಿ"),
            RenderedReply("reschedule", "ಸಮಯ ಬದಲಿಸಿ"),
            RenderedReply("cancel", "ರದ್ದುಗೊಳಿಸಿ"),
        ),
    }


def test_only_the_reminders_have_quick_replies() -> None:
    with_replies = {t.name for t in catalog.templates() if t.quick_replies}

    assert with_replies == {"appointment_reminder_24h", "appointment_reminder_2h", "appointment_reminder_72h"}


@pytest.mark.parametrize(
    ("preferred", "language"),
    [
        ("kn-IN", "kn"),
        ("hi-IN", "hi"),
        ("hi", "hi"),
        ("KN", "kn"),
        ("en-GB", "en"),
        ("ta", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_preferred_language_picks_the_template_language(preferred: str | None, language: str) -> None:
    assert catalog.choose_language(preferred) == language


def test_an_unavailable_language_falls_back_to_english() -> None:
    rendered = catalog.render("welcome", language="ta-IN", variables=values_for("welcome"))

    assert rendered.language == "en"
    assert rendered.body.startswith("Welcome to Sunrise Clinic, Ananya!")


def test_a_missing_variable_is_named() -> None:
    variables = values_for("appointment_reminder_2h")
    del variables["time"]

    with pytest.raises(Invalid) as raised:
        catalog.render("appointment_reminder_2h", language="hi", variables=variables)

    assert raised.value.field == "variables.time"
    assert raised.value.message == "variables.time: is required by template appointment_reminder_2h"


def test_an_unknown_variable_is_named() -> None:
    with pytest.raises(Invalid) as raised:
        catalog.render(
            "appointment_reminder_2h", language="en", variables={**REMINDER_VARIABLES, "doctor": "Dr. Rao"}
        )

    assert raised.value.field == "variables.doctor"
    assert raised.value.message == "variables.doctor: is not a variable of template appointment_reminder_2h"


@pytest.mark.parametrize(
    ("value", "message"), [("{{clinic_name}}", "may not contain '{{'"), ("  ", "may not be empty")]
)
def test_a_value_that_is_empty_or_looks_like_a_placeholder_is_refused(value: str, message: str) -> None:
    with pytest.raises(Invalid) as raised:
        catalog.render(
            "appointment_reminder_2h", language="en", variables={**REMINDER_VARIABLES, "patient_name": value}
        )

    assert raised.value.message == f"variables.patient_name: {message}"


def test_values_are_inserted_as_plain_text() -> None:
    rendered = catalog.render(
        "handoff_acknowledgement",
        language="en",
        variables={"patient_name": "{0} %s }}", "clinic_name": "A&B"},
    )

    assert rendered.body == "Thank you, {0} %s }}. A member of the A&B team will reply to you here shortly."


def test_an_unknown_template_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        catalog.render("birthday", language="en", variables={})

    assert raised.value.message == "Template 'birthday' does not exist"


def test_a_mapped_content_sid_wins_over_the_file() -> None:
    sid = "HX" + "0" * 32
    sids = {"welcome.hi": sid}

    assert (
        catalog.render(
            "welcome", language="hi", variables=values_for("welcome"), content_sids=sids
        ).content_sid
        == sid
    )
    assert (
        catalog.render(
            "welcome", language="kn", variables=values_for("welcome"), content_sids=sids
        ).content_sid
        is None
    )


# --- a bad file stops the loader, naming the file


def good() -> dict[str, Any]:
    return json.loads((TEMPLATES_DIR / "appointment_reminder_2h.json").read_text(encoding="utf-8"))


def write(directory: Path, doc: dict[str, Any], name: str = "appointment_reminder_2h") -> None:
    (directory / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_a_good_copy_loads(tmp_path: Path) -> None:
    write(tmp_path, good())

    assert list(catalog.load_catalog(tmp_path)) == ["appointment_reminder_2h"]


def broken(change: str) -> dict[str, Any]:
    doc = good()
    if change == "unknown key":
        doc["colour"] = "blue"
    elif change == "missing language":
        del doc["kn"]
    elif change == "undeclared placeholder":
        doc["hi"]["body"] += " {{doctor}}"
    elif change == "unused variable":
        doc["kn"]["body"] = doc["kn"]["body"].replace("{{time}}", "")
    elif change == "malformed placeholder":
        doc["en"]["body"] += " {{ time }}"
    elif change == "marketing":
        doc["category"] = "marketing"
    elif change == "subject without email":
        doc["en"]["subject"] = "Reminder"
    elif change == "long button":
        doc["quick_replies"][0]["title"]["en"] = "Confirm my appointment now"
    elif change == "missing button language":
        del doc["quick_replies"][0]["title"]["hi"]
    return doc


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("unknown key", "colour"),
        ("missing language", "kn"),
        ("undeclared placeholder", "hi.body: undeclared variables doctor"),
        ("unused variable", "kn.body: declared variables not used: time"),
        ("malformed placeholder", "en.body: a placeholder is not of the form {{variable_name}}"),
        ("marketing", "category"),
        ("subject without email", "en.subject: required for email templates, and only for them"),
        ("long button", "at most 20 characters"),
        ("missing button language", "quick_replies.0.title.hi"),
    ],
)
def test_a_bad_file_fails_loudly_with_its_name(tmp_path: Path, change: str, reason: str) -> None:
    write(tmp_path, broken(change))

    with pytest.raises(TemplateFileError) as raised:
        catalog.load_catalog(tmp_path)

    assert str(raised.value).startswith("message template appointment_reminder_2h.json: ")
    assert reason in str(raised.value)


def test_a_file_must_be_named_after_its_template(tmp_path: Path) -> None:
    write(tmp_path, good(), name="reminder")

    with pytest.raises(
        TemplateFileError, match=r"^message template reminder.json: name 'appointment_reminder_2h'"
    ):
        catalog.load_catalog(tmp_path)
