"""A segment's Group and the Patient search it pushes into HAPI."""

from __future__ import annotations

from datetime import date

from app.segments.evaluate import patient_search
from app.segments.resources import Criteria, reserved_in, segment_of, segment_resource

EVERYTHING = Criteria(
    age_min=30, age_max=50, gender="female", specialty_seen="cardiology", practitioner_seen="pr1",
    last_visit_before=date(2026, 10, 1), last_visit_after=date(2026, 1, 1), upcoming_appointment=False,
    journey="diabetes-management", opportunity_stage="qualified", language="hi", channel_consent="whatsapp",
    marketing_opt_out=False,
    engagement="high", search="address-city=Bengaluru",
)  # fmt: skip


def test_a_segment_reads_back_as_defined() -> None:
    group = {**segment_resource(name="Women 30-50", description="a <b> & c", criteria=EVERYTHING), "id": "g1"}

    segment = segment_of(group)

    assert segment.criteria == EVERYTHING
    assert (segment.name, segment.description) == ("Women 30-50", "a <b> & c")
    assert group["actual"] is False and "member" not in group


def test_hapi_gets_what_it_can_evaluate_exactly_and_the_age_band_as_birthdates() -> None:
    params = patient_search(EVERYTHING, date(2026, 11, 29))

    assert params == [
        ("active:not", "false"),
        ("gender", "female"),
        ("language", "hi"),
        (
            "_has:Task:patient:business-status",
            "https://fhir.prm.health/CodeSystem/opportunity-stage|qualified",
        ),
        ("address-city", "Bengaluru"),
        ("birthdate", "le1996-11-29"),
        ("birthdate", "gt1975-11-29"),
    ]
    assert EVERYTHING.in_code()
    assert not Criteria(gender="male", search="family=X").in_code()


def test_the_evaluation_controls_paging_and_elements() -> None:
    assert reserved_in("family=X&_count=5&_elements=name") == ["_count", "_elements"]
    assert reserved_in("family=X") == []
