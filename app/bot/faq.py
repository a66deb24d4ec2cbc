"""Clinic questions ("what are your timings", "where is the Whitefield branch") answered from the clinic's
FAQ file (`data/faq.json`, facts from the demo clinic), by BM25 retrieval over its phrasings.

Every phrasing of every entry (English, Hindi, Kannada) is one BM25 document; a question scores an
entry by its best phrasing, and the best-scoring entry holding MIN_COVERAGE of the question's content
words (stop words and doctors' names left out: "is Dr Rajiv Sharma good?" asks nothing the FAQ
answers) is the match. The answer is given only when:
* its BM25 score is at least MIN_SCORE, and
* at least MIN_COVERAGE of the question's content words are words of that entry.
Otherwise None: the engine hands the question to a person, never a made-up answer. The two numbers
are calibrated in tests/unit/bot/test_faq.py on questions the FAQ answers and questions it must not
("what is the capital of France", "can I get a discount on surgery").
A misspelt word ("timmings") is read as the nearest FAQ word when rapidfuzz scores it FUZZY_CUTOFF
or more; words shorter than FUZZY_MIN_LENGTH are taken as written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rank_bm25 import BM25Okapi
from rapidfuzz import fuzz, process

from app.bot.text import tokens

MIN_SCORE = 2.0
MIN_COVERAGE = 0.8
FUZZY_CUTOFF = 85.0
FUZZY_MIN_LENGTH = 5
FALLBACK_LANGUAGE = "en"

# Words that say nothing about which answer is wanted, in the three languages as patients write them.
STOP_WORDS = frozenset(
    tokens(
        """
        a an the is are am was were be do does did can could will would shall should may i me my we our us
        you your it its this that these of to in on at for with from and or what which who how tell know
        want need like get have has there hi hello sir madam please ok okay dear thanks thank u ur r pls plz
        hai hain kya ka ki ke ko se me mein aap aapka aapke mujhe kar karo ho bhi to ji batao bataiye tak dr
        है हैं क्या का की के को से में मुझे आप आपका कृपया
        ide enu nimma nanage dayavittu heli ಇದೆ ಏನು ನಿಮ್ಮ ನನಗೆ ದಯವಿಟ್ಟು
        """
    )
)


@dataclass(frozen=True)
class FaqAnswer:
    """An answer from the clinic FAQ."""

    faq_id: str
    text: str  # the answer in the requested language
    score: float


def _stem(word: str) -> str:
    """English plurals as their singular ("timings" -> "timing", "fees" -> "fee"); other words as is."""
    if word.isascii() and len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The content words of a text as the index holds them."""
    return [_stem(w) for w in tokens(text) if w not in STOP_WORDS]


@dataclass(frozen=True)
class _Index:
    bm25: BM25Okapi
    owners: tuple[int, ...]  # entry index of each document (phrasing)
    entries: tuple[dict[str, Any], ...]
    vocabulary: tuple[str, ...]
    known: frozenset[str]
    names: frozenset[str]  # doctors' names: they pick an entry but are not what is asked about
    entry_words: tuple[frozenset[str], ...]


@cache
def _index() -> _Index:
    raw = json.loads(resources.files("app.bot").joinpath("data/faq.json").read_text("utf-8"))
    entries = tuple(raw["entries"])
    documents: list[list[str]] = []
    owners: list[int] = []
    for i, entry in enumerate(entries):
        for phrasings in entry["questions"].values():
            for phrasing in phrasings:
                documents.append(terms(phrasing))
                owners.append(i)
    entry_words = tuple(
        frozenset(w for d, owner in zip(documents, owners, strict=True) if owner == i for w in d)
        for i in range(len(entries))
    )
    vocabulary = tuple(sorted({w for d in documents for w in d}))
    names = frozenset(raw["name_words"])
    return _Index(
        BM25Okapi(documents), tuple(owners), entries, vocabulary, frozenset(vocabulary), names, entry_words
    )


def _spelled(word: str, index: _Index) -> str:
    """A misspelt word as the FAQ word it most likely is; any other word unchanged."""
    if len(word) < FUZZY_MIN_LENGTH or not word.isascii() or word in index.known:
        return word
    best = process.extractOne(word, index.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    return best[0] if best else word


@dataclass(frozen=True)
class Match:
    """The FAQ entry closest to a question, and how close: what the thresholds judge."""

    faq_id: str
    entry: int
    score: float
    coverage: float


def best_match(question: str) -> Match | None:
    """The FAQ entry that best answers a question: the highest BM25 score among the entries holding
    MIN_COVERAGE of its content words (else the highest score overall, to be refused by answer())."""
    index = _index()
    query = [_spelled(w, index) for w in terms(question)]
    if not query:
        return None
    scores = index.bm25.get_scores(query)
    best: dict[int, float] = {}
    for doc, owner in enumerate(index.owners):
        best[owner] = max(best.get(owner, 0.0), float(scores[doc]))
    # "Is Dr Rajiv Sharma good?" names a doctor but asks what no entry answers: names are not covered words.
    asked = [w for w in query if w not in index.names]
    matches = [
        Match(
            str(index.entries[owner]["id"]),
            owner,
            score,
            sum(w in index.entry_words[owner] for w in asked) / len(asked) if asked else 0.0,
        )
        for owner, score in best.items()
    ]
    covered = [m for m in matches if m.coverage >= MIN_COVERAGE]
    return max(covered or matches, key=lambda m: m.score)


def answer(question: str, *, language: str) -> FaqAnswer | None:
    """The FAQ answer to a patient's question in `language`; None when the FAQ does not answer it."""
    match = best_match(question)
    if match is None or match.score < MIN_SCORE or match.coverage < MIN_COVERAGE:
        return None
    entry = _index().entries[match.entry]
    answers: dict[str, str] = entry["answers"]
    return FaqAnswer(match.faq_id, answers.get(language, answers[FALLBACK_LANGUAGE]), round(match.score, 3))
