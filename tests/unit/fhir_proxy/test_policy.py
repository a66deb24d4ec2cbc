"""The /fhir allow-list: requests classified by FHIR interaction, judged by role (a table)."""

from __future__ import annotations

import pytest

from app.config import Role
from app.fhir_proxy.policy import (
    FhirInteraction,
    Kind,
    UnsupportedRequest,
    classify,
    classify_entry,
    decide,
    entry_query,
)

STAFF, INTEGRATION, ADMIN = Role.STAFF, Role.INTEGRATION, Role.ADMIN


def _query(text: str) -> list[tuple[str, str]]:
    return entry_query("x?" + text) if text else []


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "metadata", "", FhirInteraction(Kind.CAPABILITIES)),
        ("GET", "", "_getpages=abc&_getpagesoffset=2", FhirInteraction(Kind.PAGE)),
        ("GET", "", "_type=Patient", FhirInteraction(Kind.SEARCH)),
        ("POST", "", "", FhirInteraction(Kind.BUNDLE)),
        ("GET", "_history", "", FhirInteraction(Kind.HISTORY)),
        ("GET", "Patient", "phone=1", FhirInteraction(Kind.SEARCH, "Patient")),
        ("HEAD", "Patient", "", FhirInteraction(Kind.SEARCH, "Patient")),
        ("POST", "Patient/_search", "", FhirInteraction(Kind.SEARCH, "Patient")),
        ("GET", "Patient/1", "", FhirInteraction(Kind.READ, "Patient")),
        ("GET", "Patient/1/_history/2", "", FhirInteraction(Kind.VREAD, "Patient")),
        ("GET", "Patient/1/_history", "", FhirInteraction(Kind.HISTORY, "Patient")),
        ("GET", "Patient/_history", "", FhirInteraction(Kind.HISTORY, "Patient")),
        ("GET", "Patient/1/Appointment", "", FhirInteraction(Kind.SEARCH, "Appointment")),
        ("POST", "Patient", "", FhirInteraction(Kind.CREATE, "Patient")),
        ("PUT", "Patient/1", "", FhirInteraction(Kind.UPDATE, "Patient")),
        ("PUT", "Patient", "identifier=a|b", FhirInteraction(Kind.UPDATE, "Patient", conditional=True)),
        ("PATCH", "Patient/1", "", FhirInteraction(Kind.PATCH, "Patient")),
        ("DELETE", "Patient/1", "", FhirInteraction(Kind.DELETE, "Patient")),
        ("DELETE", "Patient", "identifier=a|b", FhirInteraction(Kind.DELETE, "Patient", conditional=True)),
        ("POST", "Patient/$validate", "", FhirInteraction(Kind.OPERATION, "Patient", "$validate")),
        ("GET", "Patient/1/$everything", "", FhirInteraction(Kind.OPERATION, "Patient", "$everything")),
        ("POST", "$expunge", "", FhirInteraction(Kind.OPERATION, None, "$expunge")),
        (
            "POST",
            "Patient/1/_history/1/$meta-delete",
            "",
            FhirInteraction(Kind.OPERATION, "Patient", "$meta-delete"),
        ),
    ],
)
def test_requests_are_classified_by_interaction(
    method: str, path: str, query: str, expected: FhirInteraction
) -> None:
    segments = path.split("/") if path else []

    assert classify(method, segments, _query(query)) == expected


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("DELETE", "", "DELETE on the FHIR base is not a FHIR interaction"),
        ("DELETE", "Patient", "A delete on a resource type needs search parameters (conditional delete)"),
        ("POST", "Patient/1", "POST on a resource instance is not a FHIR interaction"),
        ("GET", "patient", "'patient' is not a FHIR resource type"),
        ("GET", "Patient/_foo", "GET Patient/_foo is not a FHIR interaction"),
        ("PUT", "metadata", "PUT /metadata is not a FHIR interaction"),
    ],
)
def test_what_is_not_a_fhir_interaction_is_unsupported(method: str, path: str, message: str) -> None:
    with pytest.raises(UnsupportedRequest) as unsupported:
        classify(method, path.split("/") if path else [], [])

    assert str(unsupported.value) == message


READS = [
    ("GET", "metadata", ""),
    ("GET", "Patient/1", ""),
    ("GET", "Patient/1/_history/1", ""),
    ("GET", "Patient", "phone=%2B91"),
    ("POST", "Patient/_search", ""),
    ("GET", "Patient/_history", ""),
    ("GET", "", "_getpages=x"),
    ("POST", "Patient/$validate", ""),
    ("GET", "Patient/1/$everything", ""),
    ("POST", "", ""),  # a Bundle: its entries are judged one by one
    ("GET", "", "_type=Patient,Appointment"),
]
SUBSCRIPTION_WRITES = (
    "Subscriptions are created and updated one at a time (no patch, delete or conditional writes), "
    "to an endpoint registered with the PRM"
)
SECRETS = "Subscription resources carry delivery secrets; not readable here"
SECRET_READS = [
    ("GET", "Subscription/1", "", SECRETS),
    ("GET", "Subscription", "status=active", SECRETS),
    ("GET", "Subscription/_history", "", SECRETS),
    ("GET", "Subscription/1/_history/2", "", SECRETS),
    ("GET", "_history", "", "History across every type is not offered; read a type's _history"),
    ("GET", "", "", "A search across types must name them with _type (Subscription excluded)"),
    (
        "GET",
        "",
        "_type=Patient,Subscription",
        "A search across types must name them with _type (Subscription excluded)",
    ),
]
CLINICAL_WRITES = [
    ("POST", "Patient", ""),
    ("PUT", "Patient/1", ""),
    ("PUT", "Appointment", "identifier=a|b"),
    ("PATCH", "Task/1", ""),
    ("DELETE", "Observation/1", ""),
    ("DELETE", "Observation", "identifier=a|b"),
]
NEVER = [
    ("POST", "$expunge", "", "$expunge is an administrative operation, never allowed through /fhir"),
    (
        "POST",
        "Patient/1/$expunge",
        "",
        "$expunge is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "$delete-expunge",
        "",
        "$delete-expunge is an administrative operation, never allowed through /fhir",
    ),
    ("POST", "$reindex", "", "$reindex is an administrative operation, never allowed through /fhir"),
    (
        "POST",
        "$mark-all-resources-for-reindexing",
        "",
        "$mark-all-resources-for-reindexing is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "Patient/1/$meta-delete",
        "",
        "$meta-delete is an administrative operation, never allowed through /fhir",
    ),
    ("POST", "Patient/$frobnicate", "", "The operation $frobnicate is not on the /fhir allow-list"),
    ("DELETE", "Patient/1", "_cascade=delete", "The parameter _cascade is never allowed through /fhir"),
    ("DELETE", "Patient", "name=x&_cascade=delete", "The parameter _cascade is never allowed through /fhir"),
    ("DELETE", "Patient/1", "_expunge=true", "The parameter _expunge is never allowed through /fhir"),
    ("POST", "Provenance", "", "Provenance is written by the PRM only; it cannot be changed through /fhir"),
    (
        "DELETE",
        "Provenance/1",
        "",
        "Provenance is written by the PRM only; it cannot be changed through /fhir",
    ),
    ("PUT", "AuditEvent/1", "", "AuditEvent is written by the PRM only; it cannot be changed through /fhir"),
    (
        "PUT",
        "StructureDefinition/prm-patient",
        "",
        "StructureDefinition is conformance content, loaded by the PRM's own loader, not /fhir",
    ),
    (
        "POST",
        "SearchParameter",
        "",
        "SearchParameter is conformance content, loaded by the PRM's own loader, not /fhir",
    ),
    (
        "DELETE",
        "ValueSet/x",
        "",
        "ValueSet is conformance content, loaded by the PRM's own loader, not /fhir",
    ),
    ("DELETE", "Subscription/1", "", SUBSCRIPTION_WRITES),
    (
        "POST",
        "Endpoint",
        "",
        "Endpoint resources are registered through /api/v1/integrations/endpoints, not /fhir",
    ),
    ("PATCH", "Subscription/1", "", SUBSCRIPTION_WRITES),
    ("PUT", "Subscription", "status=active", SUBSCRIPTION_WRITES),
]


def _decide(role: Role, method: str, path: str, query: str) -> tuple[bool, str]:
    q = _query(query)
    decision = decide(role, classify(method, path.split("/") if path else [], q), q)
    return decision.allowed, decision.reason


@pytest.mark.parametrize("role", [STAFF, INTEGRATION, ADMIN])
@pytest.mark.parametrize(("method", "path", "query"), READS)
def test_every_role_may_read(role: Role, method: str, path: str, query: str) -> None:
    assert _decide(role, method, path, query) == (True, "")


@pytest.mark.parametrize("role", [STAFF, INTEGRATION, ADMIN])
@pytest.mark.parametrize(("method", "path", "query", "reason"), SECRET_READS)
def test_no_role_reads_subscriptions_or_sweeps_every_type(
    role: Role, method: str, path: str, query: str, reason: str
) -> None:
    assert _decide(role, method, path, query) == (False, reason)


@pytest.mark.parametrize(("method", "path", "query"), CLINICAL_WRITES)
def test_integration_and_admin_write_clinical_types_and_staff_may_not(
    method: str, path: str, query: str
) -> None:
    assert _decide(INTEGRATION, method, path, query) == (True, "")
    assert _decide(ADMIN, method, path, query) == (True, "")
    assert _decide(STAFF, method, path, query) == (
        False,
        "Role 'staff' may only read through /fhir; use the PRM API to write",
    )


@pytest.mark.parametrize("role", [INTEGRATION, ADMIN])
@pytest.mark.parametrize(("method", "path", "query", "reason"), NEVER)
def test_what_no_role_may_do_through_fhir(
    role: Role, method: str, path: str, query: str, reason: str
) -> None:
    assert _decide(role, method, path, query) == (False, reason)


def test_staff_are_refused_administrative_operations_for_the_same_reason() -> None:
    assert _decide(STAFF, "POST", "$expunge", "") == (
        False,
        "$expunge is an administrative operation, never allowed through /fhir",
    )


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", "Patient", FhirInteraction(Kind.CREATE, "Patient")),
        ("PUT", "Patient?identifier=a|b", FhirInteraction(Kind.UPDATE, "Patient", conditional=True)),
        ("delete", "Provenance/1", FhirInteraction(Kind.DELETE, "Provenance")),
        ("GET", "/Patient/1", FhirInteraction(Kind.READ, "Patient")),
        ("POST", "$expunge", FhirInteraction(Kind.OPERATION, None, "$expunge")),
    ],
)
def test_bundle_entries_are_classified_like_requests(
    method: str, url: str, expected: FhirInteraction
) -> None:
    assert classify_entry(method, url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:18999/x", "Entry URLs must be relative to the FHIR base, not absolute"),
        ("", "A transaction or batch cannot contain another one"),
        ("Patient/../$expunge", "'.' and '..' segments are not allowed in a FHIR path"),
    ],
)
def test_bundle_entries_that_escape_are_unsupported(url: str, message: str) -> None:
    with pytest.raises(UnsupportedRequest) as unsupported:
        classify_entry("POST", url)

    assert str(unsupported.value) == message


def test_describe_names_the_interaction() -> None:
    assert FhirInteraction(Kind.CREATE, "Patient").describe() == "create Patient"
    assert (
        FhirInteraction(Kind.DELETE, "Patient", conditional=True).describe() == "conditional delete Patient"
    )
    assert FhirInteraction(Kind.OPERATION, None, "$expunge").describe() == "operation $expunge"
    assert FhirInteraction(Kind.BUNDLE).describe() == "transaction/batch (system)"


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "$export", "_type=Patient,Appointment&_since=2026-01-01T00:00:00Z"),
        ("GET", "Patient/$export", ""),
        ("GET", "Group/7/$export", ""),
        ("GET", "$export-poll-status", "_jobId=abc"),
        ("DELETE", "$export-poll-status", "_jobId=abc"),
    ],
)
def test_bulk_export_is_for_integration_and_admin_keys_only(method: str, path: str, query: str) -> None:
    assert _decide(INTEGRATION, method, path, query) == (True, "")
    assert _decide(ADMIN, method, path, query) == (True, "")
    allowed, reason = _decide(STAFF, method, path, query)
    assert not allowed
    assert reason.endswith("(bulk export) is for integration and admin keys only")


@pytest.mark.parametrize(("method", "path"), [("POST", "Subscription"), ("PUT", "Subscription/ehr-1")])
def test_subscription_writes_are_allowed_to_writers_only_after_the_body_check(method: str, path: str) -> None:
    for role in (INTEGRATION, ADMIN):
        decision = decide(role, classify(method, path.split("/"), []))
        assert (decision.allowed, decision.check_subscription) == (True, True)
    assert not decide(STAFF, classify(method, path.split("/"), [])).allowed
