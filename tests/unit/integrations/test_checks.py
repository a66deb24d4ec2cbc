"""Registration input checks: URL (https in production), one header, FHIR search criteria."""

from __future__ import annotations

import pytest

from app.errors import Invalid
from app.integrations.service import check_criteria, check_header, check_url


def test_https_is_required_in_production_only() -> None:
    assert check_url("http://ehr.local:8080/hook", production=False) == "http://ehr.local:8080/hook"
    assert check_url("https://ehr.example/hook", production=True) == "https://ehr.example/hook"
    with pytest.raises(Invalid) as refused:
        check_url("http://ehr.example/hook", production=True)
    assert refused.value.field == "url"


def test_a_header_is_one_name_and_value() -> None:
    assert check_header("Authorization:   Bearer abc ") == "Authorization: Bearer abc"
    for bad in ("Authorization", ": value", "Bad Name: v", "X: a\nY: b"):
        with pytest.raises(Invalid):
            check_header(bad)


def test_criteria_get_their_question_mark_and_secret_types_are_refused() -> None:
    assert check_criteria(["Appointment", "Patient?name=x"]) == ["Appointment?", "Patient?name=x"]
    with pytest.raises(Invalid) as refused:
        check_criteria(["Patient?", "Endpoint?"])
    assert refused.value.field == "criteria[1]"
    with pytest.raises(Invalid):
        check_criteria(["Patient?", "Patient"])
    with pytest.raises(Invalid):
        check_criteria([])
