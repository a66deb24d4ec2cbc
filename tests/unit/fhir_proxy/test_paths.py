"""A /fhir path is plain segments below the FHIR base; anything that could leave it is refused."""

from __future__ import annotations

import pytest

from app.fhir_proxy.paths import PathRefused, fhir_segments


@pytest.mark.parametrize(
    ("raw", "segments"),
    [
        ("", []),
        ("/", []),
        ("/Patient", ["Patient"]),
        ("/Patient/", ["Patient"]),
        ("/Patient/abc-1.2", ["Patient", "abc-1.2"]),
        ("/Patient/1/_history/2", ["Patient", "1", "_history", "2"]),
        ("/Patient/$validate", ["Patient", "$validate"]),
        ("/metadata", ["metadata"]),
    ],
)
def test_plain_paths_become_segments(raw: str, segments: list[str]) -> None:
    assert fhir_segments(raw) == segments


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("/http://127.0.0.1:18999/x", "Absolute URLs are not allowed: the path is relative to the FHIR base"),
        ("//evil.example/x", "Empty path segments ('//') are not allowed in a FHIR path"),
        ("/user@evil.example", "Absolute URLs are not allowed: the path is relative to the FHIR base"),
        ("/../error", "'.' and '..' segments are not allowed in a FHIR path"),
        ("/Patient/../../error", "'.' and '..' segments are not allowed in a FHIR path"),
        ("/./Patient", "'.' and '..' segments are not allowed in a FHIR path"),
        ("/%2e%2e/error", "Percent-encoded characters are not allowed in a FHIR path"),
        ("/Patient%2F..%2Ferror", "Percent-encoded characters are not allowed in a FHIR path"),
        ("/%24expunge", "Percent-encoded characters are not allowed in a FHIR path"),
        ("/..\\error", "Backslashes are not allowed in a FHIR path"),
        ("/Patient\x00", "Control characters are not allowed in a FHIR path"),
        ("/Patient/a b", "A FHIR path segment holds letters, digits, '-', '.', '_' or '$' (1-128)"),
        ("/Patient/" + "a" * 129, "A FHIR path segment holds letters, digits, '-', '.', '_' or '$' (1-128)"),
        ("Patient", "The path must continue the FHIR base with '/'"),
    ],
)
def test_escapes_are_refused_with_a_precise_reason(raw: str, message: str) -> None:
    with pytest.raises(PathRefused) as refused:
        fhir_segments(raw)

    assert str(refused.value) == message
