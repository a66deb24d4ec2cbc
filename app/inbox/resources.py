"""The FHIR shape of a canned response (Library, profile prm-canned-response) and how to read one back.

Why Library: it is FHIR's container for a reusable knowledge artifact with a title, topics and content,
and its content Attachments carry their own `language`, so one Library holds a reply in every language
without extensions. Basic would need an extension per field. Deleting retires it (status `retired`)
instead of removing it: its Provenance keeps pointing at something.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.fhir.builders import coding, instant, meta_profile
from app.fhir.canonical import (
    CS_LIBRARY_TYPE,
    LIBRARY_TYPE_CANNED_RESPONSE,
    PROFILE_CANNED_RESPONSE,
    SID_CANNED_RESPONSE_SHORTCUT,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime

TEXT_PLAIN = "text/plain"


def canned_search(*, shortcut: str | None = None) -> dict[str, str]:
    """The FHIR search for active canned responses (with this shortcut, if given)."""
    params = {"type": f"{CS_LIBRARY_TYPE}|{LIBRARY_TYPE_CANNED_RESPONSE}", "status": "active"}
    if shortcut is not None:
        params["identifier"] = f"{SID_CANNED_RESPONSE_SHORTCUT}|{shortcut}"
    return params


def fill(
    library: Resource,
    *,
    title: str,
    texts: Mapping[str, str],
    tags: Sequence[str],
    shortcut: str | None,
    at: datetime,
) -> Resource:
    """Write a canned response's fields into `library` (a new `{}` or a stored one being replaced)."""
    library.update(
        {
            "resourceType": "Library",
            "meta": {**library.get("meta", {}), **meta_profile(PROFILE_CANNED_RESPONSE)},
            "title": title,
            "status": "active",
            "type": {"coding": [coding(CS_LIBRARY_TYPE, LIBRARY_TYPE_CANNED_RESPONSE)]},
            "date": instant(at),
            "content": [
                {
                    "contentType": TEXT_PLAIN,
                    "language": language,
                    "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                }
                for language, text in sorted(texts.items())
            ],
        }
    )
    for key, value in (
        ("topic", [{"text": tag} for tag in sorted(set(tags))]),
        ("identifier", [{"system": SID_CANNED_RESPONSE_SHORTCUT, "value": shortcut}] if shortcut else []),
    ):
        if value:
            library[key] = value
        else:
            library.pop(key, None)
    return library


def retire(library: Resource) -> bool:
    """Take it out of use (kept for its history); False if it already was."""
    if library.get("status") == "retired":
        return False
    library["status"] = "retired"
    return True


@dataclass(frozen=True)
class CannedResponse:
    """A canned response as staff use it (tolerant of Libraries written by others)."""

    id: str
    title: str
    texts: Mapping[str, str]
    tags: tuple[str, ...]
    shortcut: str | None
    active: bool
    updated_at: datetime | None

    def text_in(self, language: str, *, fallback: str) -> str | None:
        """The text in `language`, else in `fallback`, else None."""
        return self.texts.get(language) or self.texts.get(fallback)


def is_canned_response(library: Resource) -> bool:
    """Whether a Library is one of ours."""
    codings = (library.get("type") or {}).get("coding", [])
    return any(
        c.get("system") == CS_LIBRARY_TYPE and c.get("code") == LIBRARY_TYPE_CANNED_RESPONSE for c in codings
    )


def _decoded(data: object) -> str | None:
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def canned_of(library: Resource) -> CannedResponse:
    """Read a canned response back (a content item it cannot decode is skipped)."""
    texts: dict[str, str] = {}
    for item in library.get("content", []):
        language, text = item.get("language"), _decoded(item.get("data"))
        if isinstance(language, str) and text is not None:
            texts.setdefault(language, text)
    shortcut = next(
        (
            str(i["value"])
            for i in library.get("identifier", [])
            if i.get("system") == SID_CANNED_RESPONSE_SHORTCUT and i.get("value")
        ),
        None,
    )
    return CannedResponse(
        id=str(library.get("id", "")),
        title=str(library.get("title") or ""),
        texts=texts,
        tags=tuple(str(t["text"]) for t in library.get("topic", []) if isinstance(t.get("text"), str)),
        shortcut=shortcut,
        active=library.get("status") == "active",
        updated_at=parse_datetime((library.get("meta") or {}).get("lastUpdated")),
    )
