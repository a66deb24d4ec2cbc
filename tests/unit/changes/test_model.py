"""Keys, versions, kinds and history entries, without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.changes.history import advance, parse_entry, window_start
from app.changes.model import (
    BadChange,
    ChangeKind,
    check_type,
    cursor_key,
    dedupe_key,
    handle_job_id,
    kind_of,
    version_from_etag,
)
from app.changes.subscriptions import desired_subscription, subscription_id

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_keys_name_type_id_and_version() -> None:
    assert dedupe_key("Appointment", "a-1", "3") == "changes:seen:Appointment/a-1/3"
    assert handle_job_id("Appointment", "a-1", "3") == "change-Appointment-a-1-3"
    assert cursor_key("Patient") == "changes:cursor:Patient"


def test_versions_come_from_hapi_if_match_values() -> None:
    assert version_from_etag('W/"12"') == "12"
    assert version_from_etag('"7"') == "7"
    assert version_from_etag("12") is None
    assert version_from_etag(None) is None
    assert version_from_etag('W/"a b"') is None


def test_kind_is_created_for_version_1_updated_after_and_deleted_when_deleted() -> None:
    assert kind_of("1", deleted=False) is ChangeKind.CREATED
    assert kind_of("2", deleted=False) is ChangeKind.UPDATED
    assert kind_of("1", deleted=True) is ChangeKind.DELETED


@pytest.mark.parametrize("name", ["patient", "Pa tient", "../Patient", "", "P"])
def test_only_fhir_type_names_pass(name: str) -> None:
    with pytest.raises(BadChange):
        check_type(name)


def test_without_a_cursor_the_sweep_looks_back_and_with_one_it_overlaps() -> None:
    overlap, lookback = timedelta(seconds=120), timedelta(hours=24)

    assert window_start(None, now=T0, overlap=overlap, lookback=lookback) == T0 - lookback
    assert window_start(T0, now=T0 + timedelta(hours=1), overlap=overlap, lookback=lookback) == T0 - overlap


def test_the_cursor_moves_to_the_newest_read_and_never_backwards() -> None:
    assert advance(None, None) is None
    assert advance(None, T0) == T0
    assert advance(T0, T0 + timedelta(seconds=5)) == T0 + timedelta(seconds=5)
    assert advance(T0, T0 - timedelta(seconds=5)) == T0  # an overlapping re-read does not rewind it
    assert advance(T0, None) == T0  # only deletes (no time) or nothing read: stays


def _entry(method: str, version: str, *, resource: bool = True) -> dict[str, object]:
    entry: dict[str, object] = {
        "fullUrl": "http://hapi/fhir/Basic/b1",
        "request": {"method": method, "url": f"Basic/b1/_history/{version}"},
        "response": {"status": "200 OK", "etag": f'W/"{version}"'},
    }
    if resource:
        entry["resource"] = {
            "resourceType": "Basic",
            "id": "b1",
            "meta": {"versionId": version, "lastUpdated": "2026-12-01T10:00:01.250+00:00"},
        }
    return entry


def test_history_entries_parse_as_created_updated_and_deleted() -> None:
    created = parse_entry(_entry("POST", "1"))
    updated = parse_entry(_entry("PUT", "2"))
    deleted = parse_entry(_entry("DELETE", "3", resource=False))

    assert (created.kind, created.version, created.id) == (ChangeKind.CREATED, "1", "b1")
    assert created.last_updated == datetime(2026, 12, 1, 10, 0, 1, 250000, tzinfo=UTC)
    assert (updated.kind, updated.version) == (ChangeKind.UPDATED, "2")
    assert (deleted.kind, deleted.version, deleted.resource_type) == (ChangeKind.DELETED, "3", "Basic")
    assert deleted.last_updated is None


def test_a_delete_entry_without_a_versioned_url_is_rejected() -> None:
    with pytest.raises(BadChange):
        parse_entry({"request": {"method": "DELETE", "url": "Basic/b1"}})


def test_a_subscription_per_type_and_endpoint_with_the_secret_header_and_deletes() -> None:
    sub = desired_subscription("Appointment", endpoint="http://api/internal/changes", secret="s3")

    assert sub["id"] == subscription_id("Appointment", "http://api/internal/changes")
    assert sub["id"] != subscription_id("Appointment", "http://other/internal/changes")
    assert sub["criteria"] == "Appointment?"
    assert sub["channel"]["header"] == ["Authorization: Bearer s3"]
    assert sub["channel"]["payload"] == "application/fhir+json"
    assert sub["channel"]["extension"][0]["valueBoolean"] is True
