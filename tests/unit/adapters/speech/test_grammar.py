"""The JSGF grammar built from hints, and pronunciations for words CMUdict lacks."""

# ruff: noqa: RUF001  (the IPA letters that look like Latin ones are meant)

from __future__ import annotations

import re
import shutil

import pytest

from adapters.speech.grammar import PHONE_DIGITS, build_grammar, specialty_phrases, spoken_words
from adapters.speech.pronunciation import espeak_pronunciation, ipa_to_arpabet, letters_to_arpabet, pronouncer

# The 39 phones of CMUdict, which pocketsphinx's en-us acoustic model knows.
ARPABET = frozenset(
    {
        "AA",
        "AE",
        "AH",
        "AO",
        "AW",
        "AY",
        "B",
        "CH",
        "D",
        "DH",
        "EH",
        "ER",
        "EY",
        "F",
        "G",
        "HH",
        "IH",
        "IY",
        "JH",
        "K",
        "L",
        "M",
        "N",
        "NG",
        "OW",
        "OY",
        "P",
        "R",
        "S",
        "SH",
        "T",
        "TH",
        "UH",
        "UW",
        "V",
        "W",
        "Y",
        "Z",
        "ZH",
    }
)
HINTS = ["Dr. Meera Iyer", "Rajiv Sharma", "Cardiology", "ENT (Ear, Nose and Throat)", "Ananya Reddy"]


def rule(jsgf: str, name: str) -> str:
    match = re.search(rf"^<{name}> = (.*);$", jsgf, re.MULTILINE)
    assert match, f"no rule <{name}>"
    return match.group(1)


def test_spoken_words_drop_titles_punctuation_and_parenthesised_text() -> None:
    assert spoken_words("Dr. Meera Iyer") == ["meera", "iyer"]
    assert spoken_words("ENT (Ear, Nose and Throat)") == ["ent"]
    assert spoken_words("D'Souza, Mrs.") == ["d'souza"]


def test_hints_become_names_and_specialties() -> None:
    grammar = build_grammar(HINTS)

    names = rule(grammar.jsgf, "name")
    for name in ("meera iyer", "meera", "iyer", "rajiv sharma", "sharma", "ananya reddy"):
        assert re.search(rf"[(|] {name} [|)]|\({name} \||\| {name}\)", names), name
    assert "cardiology" not in names and "dr" not in names.split()
    specialties = rule(grammar.jsgf, "specialty")
    for phrase in ("cardiology", "cardiologist", "ent", "e n t", "pediatrician"):
        assert phrase in specialties
    assert {"meera", "iyer", "rajiv", "cardiology", "tomorrow", "o'clock"} <= grammar.words
    assert not any(word.startswith("<") or "|" in word for word in grammar.words)


def test_the_grammar_reads_phone_numbers_digit_by_digit_and_knows_no_everyday_symptoms() -> None:
    grammar = build_grammar(HINTS)

    assert rule(grammar.jsgf, "phone").count("<digit>") == PHONE_DIGITS
    assert not {"heart", "skin", "sugar", "paediatrician"} & specialty_phrases()


def test_without_hints_the_grammar_still_parses() -> None:
    grammar = build_grammar([])

    assert rule(grammar.jsgf, "name") == "<VOID>"
    assert grammar.jsgf.startswith("#JSGF V1.0;")


def test_ipa_maps_to_arpabet() -> None:
    assert ipa_to_arpabet("mˈɪɹə") == "M IH R AH"
    assert ipa_to_arpabet("kævˈiːɾə") == "K AE V IY T AH"
    assert ipa_to_arpabet("ɹˈɑːdʒɛʃ") == "R AA JH EH SH"
    assert ipa_to_arpabet("ˌɔːɹθoʊpˈiːdɪks") == "AO R TH OW P IY D IH K S"


@pytest.mark.parametrize("word", ["meera", "kavita", "rajesh", "orthopedics", "lakshmi", "xylophone"])
def test_letter_to_sound_rules_give_only_arpabet_phones(word: str) -> None:
    phones = letters_to_arpabet(word).split()

    assert phones and set(phones) <= ARPABET


def test_letter_to_sound_rules_read_indian_names() -> None:
    assert letters_to_arpabet("meera") == "M IY R AH"
    assert letters_to_arpabet("rajesh") == "R AA JH EH SH"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="the espeak-ng binary is not installed")
def test_espeak_pronounces_words_missing_from_cmudict() -> None:
    assert espeak_pronunciation("meera") == "M IH R AH"
    assert espeak_pronunciation("kavita") == "K AE V IY T AH"


def test_without_espeak_the_letter_rules_pronounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)

    assert pronouncer()("kavita") == letters_to_arpabet("kavita")
