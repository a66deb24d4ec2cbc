"""Words that refer back to an earlier instruction."""

from __future__ import annotations

import pytest

from app.language.references import Referent, references_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("and send her the confirmation", {Referent.PATIENT}),
        ("book him with the same doctor next week", {Referent.PATIENT, Referent.PRACTITIONER}),
        ("cancel that appointment", {Referent.APPOINTMENT}),
        ("move it to Friday", {Referent.APPOINTMENT}),
        ("book 9844111173 with Dr Meera Iyer tomorrow", set()),
        ("Remind me to call Mohammed Irfan back about the results", set()),
    ],
)
def test_references(text: str, expected: set[Referent]) -> None:
    assert references_in(text) == expected
