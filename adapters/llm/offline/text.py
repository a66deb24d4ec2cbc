"""The instruction text as the offline extractor reads it, and the spans it takes out of it."""

from __future__ import annotations

from dataclasses import dataclass

# Typographic characters phones and word processors put in, each replaced by one ASCII character so
# that offsets into the cleaned text are offsets into the original.
_PLAIN = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\t": " ",
        "\n": " ",
        "\r": " ",
    }
)


@dataclass(frozen=True)
class Found:
    """A value read from the instruction, and where the words it was read from are."""

    value: str
    start: int
    end: int


def plain(text: str) -> str:
    """`text` with typographic quotes, dashes and odd spaces made ASCII, the same length as `text`."""
    return text.translate(_PLAIN)


def mask(text: str, start: int, end: int) -> str:
    """`text` with text[start:end] blanked out, so that later rules do not read those words again."""
    return text[:start] + " " * (end - start) + text[end:]
