"""Every bot text exists in English, Hindi and Kannada with the same placeholders."""

from __future__ import annotations

import pytest

from app.bot import strings


@pytest.mark.parametrize("key", sorted(strings.TEXTS))
def test_every_text_has_all_three_languages_with_the_same_placeholders(key: str) -> None:
    variants = strings.TEXTS[key]

    assert set(variants) == set(strings.LANGUAGES)
    assert all(v.strip() for v in variants.values())
    english = strings.placeholders(variants["en"])
    assert {lang: strings.placeholders(text) for lang, text in variants.items()} == dict.fromkeys(
        strings.LANGUAGES, english
    )


def test_a_text_is_filled_in_and_an_unknown_language_falls_back_to_english() -> None:
    assert strings.text("greet", "kn", name="Lakshmi") == "ನಮಸ್ಕಾರ Lakshmi!"
    assert strings.text("greet", "ta", name="Arun") == "Hello Arun!"
