"""The /fhir reverse proxy: authenticated, confined to the FHIR base, allowed by role and interaction."""

from __future__ import annotations

import asyncio
import http.client
import socket

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.conftest import PUBLIC_BASE_URL
from tests.factories import TEST_SYSTEM, organization, person_name, phone, unique
from tests.fhir_proxy.support import FHIR_JSON, patient

pytestmark = pytest.mark.integration

OUTCOME_TYPE = "application/fhir+json"


def diagnostics(response: httpx.Response) -> str:
    """The first issue's text of a PRM OperationOutcome (asserting the shape on the way)."""
    assert response.headers["content-type"].startswith(OUTCOME_TYPE)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    text: str = body["issue"][0]["diagnostics"]
    return text


async def raw_request(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """A request with the path exactly as given (like curl --path-as-is), to the live API."""

    def send() -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    return await asyncio.to_thread(send)


async def test_without_a_key_the_answer_is_a_401_outcome_with_www_authenticate(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/fhir/Patient")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="prm"'
    assert diagnostics(response) == "Missing API key: send 'Authorization: Bearer <key>'"


async def test_with_a_wrong_key_the_answer_is_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/fhir/Patient", headers={"Authorization": "Bearer not-a-key"})

    assert response.status_code == 401
    assert diagnostics(response) == "Invalid API key"


async def test_api_401s_keep_their_shape_and_name_the_scheme(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/patients", params={"phone": "+919800000000"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="prm"'
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/fhir/http://127.0.0.1:{port}/x",
            "Absolute URLs are not allowed: the path is relative to the FHIR base",
        ),
        ("/fhir/../error", "'.' and '..' segments are not allowed in a FHIR path"),
        ("/fhir/Patient/../../error", "'.' and '..' segments are not allowed in a FHIR path"),
        ("/fhir/%2e%2e/error", "Percent-encoded characters are not allowed in a FHIR path"),
        ("/fhir/Patient%2f..%2f..%2ferror", "Percent-encoded characters are not allowed in a FHIR path"),
        ("/fhir/..\\error", "Backslashes are not allowed in a FHIR path"),
    ],
)
async def test_paths_that_leave_the_fhir_base_are_400_and_reach_nothing(
    live_api: int, integration: dict[str, str], path: str, message: str
) -> None:
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen()
        trap.setblocking(False)
        status, body = await raw_request(
            live_api, "GET", path.format(port=trap.getsockname()[1]), {**integration, "Host": "prm.test"}
        )
        with pytest.raises(BlockingIOError):
            trap.accept()  # nobody connected to the address in the path

    assert status == 400
    assert httpx.Response(400, content=body).json()["issue"][0]["diagnostics"] == message


async def test_staff_read_search_by_post_and_validate(
    api: httpx.AsyncClient, staff: dict[str, str], integration: dict[str, str]
) -> None:
    created = (
        await api.post("/fhir/Organization", json=organization(), headers={**integration, **FHIR_JSON})
    ).json()
    identifier = f"{TEST_SYSTEM}|{created['identifier'][0]['value']}"

    read = await api.get(f"/fhir/Organization/{created['id']}", headers=staff)
    searched = await api.post("/fhir/Organization/_search", data={"identifier": identifier}, headers=staff)
    validated = await api.post(
        "/fhir/Organization/$validate", json=organization(), headers={**staff, **FHIR_JSON}
    )

    assert read.status_code == 200
    assert searched.status_code == 200
    assert [e["resource"]["id"] for e in searched.json()["entry"]] == [created["id"]]
    assert validated.status_code == 200
    assert validated.json()["resourceType"] == "OperationOutcome"


async def test_staff_may_not_write(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    response = await api.post("/fhir/Organization", json=organization(), headers={**staff, **FHIR_JSON})

    assert response.status_code == 403
    assert diagnostics(response) == (
        "Refused create Organization: Role 'staff' may only read through /fhir; use the PRM API to write"
    )


FORBIDDEN = [
    (
        "POST",
        "/fhir/$expunge",
        None,
        "Refused operation $expunge: $expunge is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/Organization/$expunge",
        None,
        "Refused operation $expunge on Organization: $expunge is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/$delete-expunge",
        None,
        "Refused operation $delete-expunge: $delete-expunge is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/$reindex",
        None,
        "Refused operation $reindex: $reindex is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/$mark-all-resources-for-reindexing",
        None,
        "Refused operation $mark-all-resources-for-reindexing: $mark-all-resources-for-reindexing is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/Patient/x/$meta-delete",
        None,
        "Refused operation $meta-delete on Patient: $meta-delete is an administrative operation, never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/Patient/$frobnicate",
        None,
        "Refused operation $frobnicate on Patient: The operation $frobnicate is not on the /fhir allow-list",
    ),
    (
        "DELETE",
        "/fhir/Organization?name=x&_cascade=delete",
        None,
        "Refused conditional delete Organization: The parameter _cascade is never allowed through /fhir",
    ),
    (
        "POST",
        "/fhir/Provenance",
        {"resourceType": "Provenance"},
        "Refused create Provenance: Provenance is written by the PRM only; it cannot be changed through /fhir",
    ),
    (
        "DELETE",
        "/fhir/Provenance/x",
        None,
        "Refused delete Provenance: Provenance is written by the PRM only; it cannot be changed through /fhir",
    ),
    (
        "POST",
        "/fhir/AuditEvent",
        {"resourceType": "AuditEvent"},
        "Refused create AuditEvent: AuditEvent is written by the PRM only; it cannot be changed through /fhir",
    ),
    (
        "PUT",
        "/fhir/StructureDefinition/prm-patient",
        {"resourceType": "StructureDefinition"},
        "Refused update StructureDefinition: StructureDefinition is conformance content, loaded by the PRM's own loader, not /fhir",
    ),
    (
        "POST",
        "/fhir/Subscription",
        {"resourceType": "Subscription"},
        "Refused create Subscription: Only rest-hook Subscriptions are offered (Subscription.channel.type)",
    ),
]


@pytest.mark.parametrize("key", ["integration", "admin"])
@pytest.mark.parametrize(("method", "path", "body", "message"), FORBIDDEN)
async def test_admin_and_destructive_requests_are_403_for_every_role(
    api: httpx.AsyncClient,
    request: pytest.FixtureRequest,
    key: str,
    method: str,
    path: str,
    body: dict[str, str] | None,
    message: str,
) -> None:
    headers = {**request.getfixturevalue(key), **FHIR_JSON}

    response = await api.request(method, path, json=body, headers=headers)

    assert response.status_code == 403
    assert diagnostics(response) == message


async def test_a_transaction_with_a_forbidden_entry_is_refused_and_writes_nothing(
    api: httpx.AsyncClient, integration: dict[str, str], fhir: FhirClient
) -> None:
    org = organization()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": org, "request": {"method": "POST", "url": "Organization"}},
            {"request": {"method": "DELETE", "url": "Provenance/some-provenance"}},
        ],
    }

    response = await api.post("/fhir", json=bundle, headers={**integration, **FHIR_JSON})

    assert response.status_code == 403
    assert diagnostics(response) == (
        "Refused Bundle.entry[1] (delete Provenance): Provenance is written by the PRM only; "
        "it cannot be changed through /fhir; nothing was written"
    )
    found = await fhir.search(
        "Organization", {"identifier": f"{TEST_SYSTEM}|{org['identifier'][0]['value']}"}
    )
    assert found == []


async def test_a_batch_putting_a_structure_definition_is_refused(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": {"resourceType": "StructureDefinition", "id": "prm-patient"},
                "request": {"method": "PUT", "url": "StructureDefinition/prm-patient"},
            }
        ],
    }

    response = await api.post("/fhir", json=bundle, headers={**admin, **FHIR_JSON})

    assert response.status_code == 403
    assert diagnostics(response).startswith("Refused Bundle.entry[0] (update StructureDefinition)")


async def test_an_xml_transaction_is_415(api: httpx.AsyncClient, integration: dict[str, str]) -> None:
    response = await api.post(
        "/fhir",
        content=b'<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/></Bundle>',
        headers={**integration, "Content-Type": "application/fhir+xml"},
    )

    assert response.status_code == 415
    assert diagnostics(response) == (
        "Send transaction and batch Bundles as JSON (Content-Type: application/fhir+json)"
    )


async def test_a_conditional_delete_matching_several_is_refused_by_hapi(
    api: httpx.AsyncClient, integration: dict[str, str], fhir: FhirClient
) -> None:
    name = unique("multi")
    for _ in range(2):
        await api.post(
            "/fhir/Organization", json=organization(name=name), headers={**integration, **FHIR_JSON}
        )

    response = await api.delete("/fhir/Organization", params={"name:exact": name}, headers=integration)

    assert response.status_code == 412
    assert len(await fhir.search("Organization", {"name:exact": name})) == 2


async def test_writes_through_fhir_are_attributed_to_the_keys_user(
    api: httpx.AsyncClient, integration: dict[str, str], fhir: FhirClient
) -> None:
    resource = patient(phone=phone(), name=person_name())
    resource["meta"]["source"] = "urn:forged#x"
    response = await api.post(
        "/fhir/Patient",
        json=resource,
        headers={**integration, **FHIR_JSON, "X-Request-ID": "attrib-1", "X-PRM-User": "someone-else"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "attrib-1"
    patient_id = response.headers["location"].split("/Patient/")[1].split("/")[0]
    stored = await fhir.read("Patient", patient_id)
    assert stored["meta"]["source"] == "urn:prm:user:ehr@test#attrib-1"


async def test_create_returns_201_with_etag_and_a_location_on_the_prm(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.post("/fhir/Organization", json=organization(), headers={**integration, **FHIR_JSON})

    assert response.status_code == 201
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["location"].startswith(f"{PUBLIC_BASE_URL}/fhir/Organization/")


async def test_if_none_exist_is_forwarded(api: httpx.AsyncClient, integration: dict[str, str]) -> None:
    org = organization()
    headers = {
        **integration,
        **FHIR_JSON,
        "If-None-Exist": f"identifier={TEST_SYSTEM}|{org['identifier'][0]['value']}",
    }

    first = await api.post("/fhir/Organization", json=org, headers=headers)
    second = await api.post("/fhir/Organization", json=org, headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)


async def test_a_stale_if_match_is_forwarded_and_hapi_status_returned(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    created = (
        await api.post("/fhir/Organization", json=organization(), headers={**integration, **FHIR_JSON})
    ).json()
    url = f"/fhir/Organization/{created['id']}"
    ok = await api.put(
        url, json={**created, "name": "v2"}, headers={**integration, **FHIR_JSON, "If-Match": 'W/"1"'}
    )
    stale = await api.put(
        url, json={**created, "name": "v3"}, headers={**integration, **FHIR_JSON, "If-Match": 'W/"1"'}
    )

    assert ok.status_code == 200
    assert ok.headers["etag"] == 'W/"2"'
    assert stale.status_code == 409
    assert stale.json()["resourceType"] == "OperationOutcome"


async def test_a_request_hapi_rejects_comes_back_unchanged(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.post(
        "/fhir/Organization",
        content=b'{"resourceType": "Organization", "active": "yes"}',
        headers={**integration, **FHIR_JSON},
    )

    assert response.status_code == 400
    assert "HAPI-" in response.json()["issue"][0]["diagnostics"]


async def test_methods_fhir_does_not_use_are_405_outcomes(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.request("TRACE", "/fhir/Patient", headers=integration)

    assert response.status_code == 405
    assert diagnostics(response) == "TRACE is not a FHIR interaction"


@pytest.mark.parametrize("key", ["staff", "integration", "admin"])
async def test_subscriptions_and_their_secrets_are_not_readable_through_fhir(
    api: httpx.AsyncClient, fhir: FhirClient, request: pytest.FixtureRequest, key: str
) -> None:
    secret = unique("secret")
    stored = await fhir.create(
        {
            "resourceType": "Subscription",
            "status": "off",
            "reason": "test",
            "criteria": "Basic?",
            "channel": {
                "type": "rest-hook",
                "endpoint": "http://127.0.0.1:9/none",
                "header": [f"Authorization: Bearer {secret}"],
            },
        }
    )
    headers = request.getfixturevalue(key)

    try:
        answers = [
            await api.get(f"/fhir/Subscription/{stored['id']}", headers=headers),
            await api.get("/fhir/Subscription", params={"status": "off"}, headers=headers),
            await api.get("/fhir/_history", headers=headers),
            await api.get("/fhir", params={"_type": "Subscription"}, headers=headers),
        ]
    finally:
        await fhir.delete("Subscription", stored["id"])

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert all(secret not in a.text for a in answers)
    assert "carry delivery secrets" in diagnostics(answers[0])
