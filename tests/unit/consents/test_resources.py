"""The Consent shape (copied from the profile's example), reading it back, and the contact rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.conformance.loader import PROFILES_DIR
from app.consents.resources import (
    ConsentSource,
    Decision,
    Purpose,
    consent_resource,
    current_of,
    marketing_of,
    newest_first,
    parse_datetime,
    record_of,
)
from app.consents.service import allows, opt_out_among

IST = timezone(timedelta(hours=5, minutes=30))


def _example(name: str = "consent") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (PROFILES_DIR / "examples" / f"Consent-prm-example-{name}.json").read_text()
    )
    return data


def test_the_consent_has_the_shape_of_the_profile_example() -> None:
    example = _example()
    built = consent_resource(
        patient_id="prm-example-patient",
        channel="whatsapp",
        decision=Decision.OPT_IN,
        source=ConsentSource.WHATSAPP,
        recorded_at=datetime(2026, 1, 9, 18, 5, tzinfo=IST),
    )

    expected = {k: v for k, v in example.items() if k not in ("id", "organization")}
    expected["meta"] = {"profile": example["meta"]["profile"]}
    assert built == expected


def test_a_marketing_opt_out_has_the_shape_of_its_example_and_reads_back_without_a_channel() -> None:
    example = _example("marketing-opt-out")
    built = consent_resource(
        patient_id="prm-example-patient",
        channel=None,
        decision=Decision.OPT_OUT,
        source=ConsentSource.STAFF,
        recorded_at=datetime(2026, 2, 3, 10, 15, tzinfo=IST),
    )

    expected = {k: v for k, v in example.items() if k not in ("id", "organization")}
    expected["meta"] = {"profile": example["meta"]["profile"]}
    for purpose in expected["provision"]["purpose"]:
        purpose.pop("display")
    assert built == expected
    record = record_of({**built, "id": "m1"})
    assert record is not None
    assert (record.purpose, record.channel, record.decision) == (Purpose.MARKETING, None, Decision.OPT_OUT)


def test_marketing_and_channel_decisions_are_separate_and_stop_wins_over_both() -> None:
    marketing = consent_resource(
        patient_id="p1", channel=None, decision=Decision.OPT_OUT, source=ConsentSource.STAFF,
        recorded_at=datetime(2026, 3, 2, tzinfo=UTC),
    )  # fmt: skip
    records = newest_first(
        [
            {**marketing, "id": "dnd"},
            _consent("in", Decision.OPT_IN, "2026-03-01", "2026-03-01T00:00:00Z"),
        ]
    )

    assert {c: r.consent_id for c, r in current_of(records).items()} == {"whatsapp": "in"}
    assert (found := marketing_of(records)) is not None and found.consent_id == "dnd"
    assert opt_out_among(records, channel="whatsapp", marketing=False) is None  # a reminder goes
    assert opt_out_among(records, channel="whatsapp", marketing=True) is Purpose.MARKETING
    stopped = newest_first(
        [{**marketing, "id": "dnd"}, _consent("stop", Decision.OPT_OUT, "2026-03-03", "2026-03-03T00:00:00Z")]
    )
    assert opt_out_among(stopped, channel="whatsapp", marketing=False) is Purpose.CONTACT
    assert opt_out_among(stopped, channel="whatsapp", marketing=True) is Purpose.CONTACT
    assert (
        marketing_of(newest_first([_consent("in", Decision.OPT_IN, "2026", "2026-01-01T00:00:00Z")])) is None
    )


def test_an_opt_out_is_a_deny_provision_from_its_time() -> None:
    built = consent_resource(
        patient_id="p1",
        channel="sms",
        decision=Decision.OPT_OUT,
        source=ConsentSource.STAFF,
        recorded_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    )

    assert built["provision"] == {"type": "deny", "period": {"start": "2026-03-01T09:00:00+00:00"}}
    record = record_of({**built, "id": "c1"})
    assert record is not None
    assert (record.channel, record.decision, record.source) == ("sms", Decision.OPT_OUT, "staff")


def _consent(
    cid: str, decision: Decision, when: str | None, updated: str, channel: str = "whatsapp"
) -> dict[str, Any]:
    built = consent_resource(
        patient_id="p1",
        channel=channel,
        decision=decision,
        source=ConsentSource.IMPORT,
        recorded_at=datetime.now(UTC),
    )
    if when is None:
        del built["dateTime"]
    else:
        built["dateTime"] = when
    return {**built, "id": cid, "meta": {"lastUpdated": updated}}


def test_the_latest_by_date_then_last_updated_wins_per_channel() -> None:
    consents = [
        _consent("old", Decision.OPT_IN, "2026-01-01T10:00:00+05:30", "2026-02-01T00:00:00Z"),
        _consent("later-date", Decision.OPT_OUT, "2026-01-02", "2026-01-02T00:00:00Z"),
        _consent("same-date-newer-write", Decision.OPT_IN, "2026-01-02", "2026-01-03T00:00:00Z"),
        _consent("undated", Decision.OPT_OUT, None, "2026-05-01T00:00:00Z"),
        _consent("sms", Decision.OPT_OUT, "2025", "2025-01-01T00:00:00Z", channel="sms"),
        {
            **_consent("inactive", Decision.OPT_OUT, "2027-01-01", "2027-01-01T00:00:00Z"),
            "status": "inactive",
        },
        {"resourceType": "Consent", "id": "foreign", "status": "active"},
    ]

    records = newest_first(consents)

    assert [r.consent_id for r in records] == ["same-date-newer-write", "later-date", "old", "sms", "undated"]
    current = current_of(records)
    assert {c: r.consent_id for c, r in current.items()} == {
        "whatsapp": "same-date-newer-write",
        "sms": "sms",
    }


def test_partial_and_unreadable_dates() -> None:
    assert parse_datetime("2026") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime("2026-04") == datetime(2026, 4, 1, tzinfo=UTC)
    assert parse_datetime("2026-04-05T10:00:00+05:30") == datetime(2026, 4, 5, 10, tzinfo=IST)
    assert parse_datetime("soon") is None
    assert parse_datetime(None) is None


@pytest.mark.parametrize(
    ("decision", "business_initiated", "allowed"),
    [
        (Decision.OPT_IN, True, True),
        (Decision.OPT_OUT, True, False),
        (None, True, False),
        (Decision.OPT_IN, False, True),
        (Decision.OPT_OUT, False, False),
        (None, False, True),
    ],
)
def test_business_initiated_needs_an_opt_in_and_replies_only_no_opt_out(
    decision: Decision | None, business_initiated: bool, allowed: bool
) -> None:
    assert allows(decision, business_initiated=business_initiated) is allowed
