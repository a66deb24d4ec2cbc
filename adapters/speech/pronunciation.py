"""Pronunciations (ARPAbet, as pocketsphinx's en-us model wants) for words its dictionary lacks.

Indian names ("meera", "kavita") and some specialties ("orthopedics") are not in CMUdict. When the
espeak-ng binary is installed its IPA output is mapped to ARPAbet; otherwise a small set of
letter-to-sound rules, tuned for romanised Indian names, gives a usable guess.
"""

# ruff: noqa: RUF001, RUF002  (the IPA letters that look like Latin ones are meant)

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from functools import lru_cache

import structlog

log = structlog.get_logger(__name__)

ESPEAK_BINARY = "espeak-ng"
# American English: the phones of pocketsphinx's en-us acoustic model.
ESPEAK_VOICE = "en-us"
ESPEAK_TIMEOUT_SECONDS = 5.0
PRONUNCIATION_CACHE_SIZE = 4096
IGNORED_IPA = re.compile("[ˈˌ\u200d\u0329.\\-‿ ]")

# espeak-ng's IPA phonemes (en-us) -> ARPAbet. Longest symbols are matched first.
IPA_TO_ARPABET: dict[str, str] = {
    "ɑːɹ": "AA R",
    "ɔːɹ": "AO R",
    "oːɹ": "AO R",
    "ɛɹ": "EH R",
    "ɪɹ": "IH R",
    "ʊɹ": "UH R",
    "iə": "IY AH",
    "aɪ": "AY",
    "aʊ": "AW",
    "eɪ": "EY",
    "oʊ": "OW",
    "əʊ": "OW",
    "ɔɪ": "OY",
    "tʃ": "CH",
    "dʒ": "JH",
    "ɑː": "AA",
    "ɔː": "AO",
    "ɜː": "ER",
    "iː": "IY",
    "uː": "UW",
    "ɑ": "AA",
    "ɒ": "AA",
    "æ": "AE",
    "a": "AE",
    "ʌ": "AH",
    "ə": "AH",
    "ɐ": "AH",
    "ɚ": "ER",
    "ɜ": "ER",
    "ɝ": "ER",
    "ɛ": "EH",
    "e": "EH",
    "ɪ": "IH",
    "ᵻ": "IH",
    "i": "IY",
    "ʊ": "UH",
    "u": "UW",
    "o": "OW",
    "ɔ": "AO",
    "b": "B",
    "d": "D",
    "f": "F",
    "ɡ": "G",
    "g": "G",
    "h": "HH",
    "j": "Y",
    "k": "K",
    "l": "L",
    "ɫ": "L",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "p": "P",
    "ɹ": "R",
    "r": "R",
    "s": "S",
    "ʃ": "SH",
    "t": "T",
    "θ": "TH",
    "ð": "DH",
    "v": "V",
    "w": "W",
    "z": "Z",
    "ʒ": "ZH",
    "ɾ": "T",
    "x": "K",
    "ç": "HH",
    "ʔ": "",
}
_IPA_SYMBOLS = sorted(IPA_TO_ARPABET, key=len, reverse=True)

# Letter-to-sound rules for romanised (mostly Indian) names, longest spelling first.
LETTERS_TO_ARPABET: dict[str, str] = {
    "sh": "SH",
    "ch": "CH",
    "th": "T",
    "dh": "D",
    "bh": "B",
    "kh": "K",
    "gh": "G",
    "jh": "JH",
    "ph": "F",
    "ck": "K",
    "ng": "NG",
    "ee": "IY",
    "ea": "IY",
    "oo": "UW",
    "ai": "AY",
    "ay": "EY",
    "au": "AW",
    "ou": "AW",
    "ei": "EY",
    "ie": "IY",
    "aa": "AA",
    "a": "AA",
    "e": "EH",
    "i": "IH",
    "o": "OW",
    "u": "UH",
    "y": "Y",
    "b": "B",
    "c": "K",
    "d": "D",
    "f": "F",
    "g": "G",
    "h": "HH",
    "j": "JH",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "p": "P",
    "q": "K",
    "r": "R",
    "s": "S",
    "t": "T",
    "v": "V",
    "w": "W",
    "x": "K S",
    "z": "Z",
}
_LETTER_SPELLINGS = sorted(LETTERS_TO_ARPABET, key=len, reverse=True)


def ipa_to_arpabet(ipa: str) -> str:
    """Map espeak-ng IPA ('mˈɪɹə') to space-separated ARPAbet ('M IH R AH'); unknown symbols are skipped."""
    return _greedy(IGNORED_IPA.sub("", ipa), _IPA_SYMBOLS, IPA_TO_ARPABET)


def letters_to_arpabet(word: str) -> str:
    """A rule-based guess from spelling ('meera' -> 'M IY R AH'), for when espeak-ng is missing."""
    phones = _greedy(word.lower(), _LETTER_SPELLINGS, LETTERS_TO_ARPABET)
    # A final "a" in Indian names is a short schwa: Meera, Kavita, Sharma.
    return phones[: -len("AA")] + "AH" if word.lower().endswith("a") and phones.endswith("AA") else phones


def _greedy(text: str, symbols: list[str], table: dict[str, str]) -> str:
    phones: list[str] = []
    i = 0
    while i < len(text):
        symbol = next((s for s in symbols if text.startswith(s, i)), None)
        if symbol is None:
            i += 1  # a diacritic or letter we have no phone for
            continue
        if table[symbol]:
            phones.extend(table[symbol].split())
        i += len(symbol)
    # espeak writes "ɜːɹ" and "ɑːɹɹ" for some r-coloured vowels: ER or one R already carries the r.
    return " ".join(p for n, p in enumerate(phones) if not (p == "R" and n and phones[n - 1] in ("R", "ER")))


def espeak_available() -> bool:
    """Whether the espeak-ng binary is on PATH."""
    return shutil.which(ESPEAK_BINARY) is not None


@lru_cache(maxsize=PRONUNCIATION_CACHE_SIZE)
def espeak_pronunciation(word: str) -> str | None:
    """ARPAbet for one word from espeak-ng's IPA output, or None if espeak-ng fails."""
    try:
        result = subprocess.run(
            [ESPEAK_BINARY, "-q", "-v", ESPEAK_VOICE, "--ipa", word],
            capture_output=True,
            text=True,
            timeout=ESPEAK_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        log.warning("speech.pronunciation.espeak_failed")
        return None
    return ipa_to_arpabet(result.stdout.strip()) or None


def pronouncer() -> Callable[[str], str]:
    """The best available word -> ARPAbet function: espeak-ng if installed, else letter-to-sound rules."""
    if not espeak_available():
        return letters_to_arpabet

    def pronounce(word: str) -> str:
        return espeak_pronunciation(word) or letters_to_arpabet(word)

    return pronounce
