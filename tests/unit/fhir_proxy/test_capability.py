"""The PRM's CapabilityStatement is HAPI's, naming the PRM and listing only what /fhir allows."""

from __future__ import annotations

from typing import Any

from app.fhir_proxy.capability import prm_capability_statement


def _interactions(*codes: str) -> list[dict[str, str]]:
    return [{"code": code} for code in codes]


HAPI: dict[str, Any] = {
    "resourceType": "CapabilityStatement",
    "id": "hapi",
    "fhirVersion": "4.0.1",
    "software": {"name": "HAPI FHIR Server", "version": "8.8.0"},
    "implementation": {"description": "HAPI FHIR", "url": "http://127.0.0.1:8080/fhir"},
    "rest": [
        {
            "mode": "server",
            "interaction": _interactions("transaction", "batch", "search-system", "history-system"),
            "operation": [{"name": "expunge"}, {"name": "reindex"}, {"name": "validate"}],
            "resource": [
                {
                    "type": "Patient",
                    "interaction": _interactions(
                        "read", "vread", "create", "update", "patch", "delete", "search-type"
                    ),
                    "conditionalDelete": "multiple",
                    "operation": [{"name": "everything"}, {"name": "meta-delete"}, {"name": "expunge"}],
                },
                {
                    "type": "Provenance",
                    "interaction": _interactions("read", "create", "update", "delete", "search-type"),
                    "conditionalCreate": True,
                },
                {"type": "Subscription", "interaction": _interactions("read", "create", "search-type")},
                {
                    "type": "StructureDefinition",
                    "interaction": _interactions("read", "update", "search-type"),
                },
            ],
        }
    ],
}


def test_the_statement_names_the_prm_and_its_security() -> None:
    statement = prm_capability_statement(HAPI, base_url="https://prm.test/fhir", version="0.1.0")

    assert "id" not in statement
    assert statement["software"] == {"name": "PRM FHIR endpoint", "version": "0.1.0"}
    assert statement["implementation"]["url"] == "https://prm.test/fhir"
    assert statement["rest"][0]["security"]["cors"] is True
    assert "service" not in statement["rest"][0]["security"]
    assert "127.0.0.1:8080" not in str(statement)


def test_only_allowed_operations_and_writes_remain() -> None:
    rest = prm_capability_statement(HAPI, base_url="https://prm.test/fhir", version="0.1.0")["rest"][0]
    resources = {r["type"]: r for r in rest["resource"]}

    assert rest["operation"] == [{"name": "validate"}]
    assert resources["Patient"]["operation"] == [{"name": "everything"}]
    assert resources["Patient"]["conditionalDelete"] == "single"
    assert [i["code"] for i in resources["Patient"]["interaction"]] == [
        "read", "vread", "create", "update", "patch", "delete", "search-type",
    ]  # fmt: skip
    assert [i["code"] for i in resources["Provenance"]["interaction"]] == ["read", "search-type"]
    assert "conditionalCreate" not in resources["Provenance"]
    assert "Subscription" not in resources
    assert [i["code"] for i in rest["interaction"]] == ["transaction", "batch", "search-system"]
    assert [i["code"] for i in resources["StructureDefinition"]["interaction"]] == ["read", "search-type"]


def test_hapis_statement_is_left_untouched() -> None:
    prm_capability_statement(HAPI, base_url="https://prm.test/fhir", version="0.1.0")

    assert HAPI["implementation"]["url"] == "http://127.0.0.1:8080/fhir"
    assert len(HAPI["rest"][0]["operation"]) == 3
