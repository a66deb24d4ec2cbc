"""Language detection: English, Hindi (Devanagari and Hinglish), Kannada (script and Latin), or None."""

from __future__ import annotations

import pytest

from app.bot.language import ENGLISH, HINGLISH, KANNADA_LATIN, detect_language


@pytest.mark.parametrize(
    "text",
    [
        "what are your timings",
        "I want to book a heart doctor tomorrow morning",
        "skin doctor this week mornings please",
        "Can I come at 5?",
        "where is the Whitefield branch",
        "none of these",
        "thank you",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "kal subah cardiology",
        "mujhe doctor chahiye",
        "mera appointment cancel karo",
        "haan",
        "nahi",
        "Kal shaam 5 baje",
        "mujhe doctor chahiye for tomorrow",  # a tie with English goes to Hindi
        "मुझे कल डॉक्टर से मिलना है",
        "हाँ",
        "नमस्ते, अपॉइंटमेंट चाहिए",
    ],
)
def test_hindi_in_devanagari_and_hinglish(text: str) -> None:
    assert detect_language(text) == "hi"


@pytest.mark.parametrize(
    "text",
    [
        "ನನಗೆ ನಾಳೆ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಬೇಕು",
        "ಹೌದು",
        "ನಮಸ್ಕಾರ, doctor appointment",
        "nanage nale appointment beku",
        "hegiddira",
        "dhanyavadagalu",
        "illa beda",
    ],
)
def test_kannada_in_script_and_latin(text: str) -> None:
    assert detect_language(text) == "kn"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ok",
        "OK 👍",
        "12345",
        "😀😀",
        "Ramesh Kumar",
        "Dr Rajiv Sharma",
        "hi",
        "hello",
        "yes",
        "cancel",
        "ortho appointment",
        "2nd",
        "+91 98441 11173",
        "\x00\x07",
    ],
)
def test_none_when_the_text_says_nothing(text: str) -> None:
    assert detect_language(text) is None


def test_the_script_wins_over_latin_words() -> None:
    assert detect_language("I want ಜ್ವರ doctor") == "kn"
    assert detect_language("please बुखार") == "hi"


def test_the_lexicons_do_not_overlap() -> None:
    assert not HINGLISH & ENGLISH
    assert not KANNADA_LATIN & ENGLISH
    assert not KANNADA_LATIN & HINGLISH


def test_long_text_is_handled() -> None:
    assert detect_language("mujhe doctor chahiye " * 300) == "hi"
