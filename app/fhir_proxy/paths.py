"""Confine a `/fhir` request path to the FHIR base: plain segments only, nothing that could escape it."""

from __future__ import annotations

import re

# Resource types, ids, `_history`, `_search`, `$operations` and version ids use nothing else.
_SEGMENT = re.compile(r"[A-Za-z0-9\-._$]{1,128}")


class PathRefused(ValueError):
    """The path is not a plain FHIR path below the base (the message says why; it quotes nothing)."""


def fhir_segments(raw_path: str) -> list[str]:
    """The segments of `raw_path` (the undecoded path after `/fhir`), or PathRefused."""
    if raw_path in ("", "/"):
        return []
    if not raw_path.startswith("/"):
        raise PathRefused("The path must continue the FHIR base with '/'")
    _refuse_escapes(raw_path)
    # One trailing slash is harmless (`/fhir/Patient/`); empty segments elsewhere are not.
    segments = raw_path[1:].removesuffix("/").split("/")
    for segment in segments:
        if segment in (".", ".."):
            raise PathRefused("'.' and '..' segments are not allowed in a FHIR path")
        if not segment:
            raise PathRefused("Empty path segments ('//') are not allowed in a FHIR path")
        if not _SEGMENT.fullmatch(segment):
            raise PathRefused("A FHIR path segment holds letters, digits, '-', '.', '_' or '$' (1-128)")
    return segments


def _refuse_escapes(raw_path: str) -> None:
    if "%" in raw_path:
        raise PathRefused("Percent-encoded characters are not allowed in a FHIR path")
    if "\\" in raw_path:
        raise PathRefused("Backslashes are not allowed in a FHIR path")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw_path):
        raise PathRefused("Control characters are not allowed in a FHIR path")
    if ":" in raw_path or "@" in raw_path:
        raise PathRefused("Absolute URLs are not allowed: the path is relative to the FHIR base")
