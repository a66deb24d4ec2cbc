"""Which headers cross the proxy and which address HAPI is told the client called."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from app.config import Settings
from app.fhir_proxy.forwarding import client_address, request_headers, response_headers

SETTINGS = Settings(environment="test", public_base_url="https://prm.clinic.example/prm")


def _request(host: str | None, scheme: str = "http") -> Request:
    headers = [(b"host", host.encode())] if host is not None else []
    return Request({"type": "http", "scheme": scheme, "path": "/fhir", "headers": headers, "root_path": ""})


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("localhost:8000", ("http", "localhost:8000", "/fhir")),
        ("127.0.0.1:8000", ("http", "127.0.0.1:8000", "/fhir")),
        ("[::1]:8000", ("http", "[::1]:8000", "/fhir")),
        ("prm.clinic.example", ("https", "prm.clinic.example", "/prm/fhir")),
        ("evil.example", ("https", "prm.clinic.example", "/prm/fhir")),
        ("localhost.evil.example", ("https", "prm.clinic.example", "/prm/fhir")),
        ("localhost:8000/x", ("https", "prm.clinic.example", "/prm/fhir")),
        (None, ("https", "prm.clinic.example", "/prm/fhir")),
    ],
)
def test_links_use_a_loopback_host_as_called_and_the_public_base_otherwise(
    host: str | None, address: tuple[str, str, str]
) -> None:
    assert client_address(_request(host), SETTINGS) == address


def test_only_allowed_headers_reach_hapi_and_the_prm_sets_its_own() -> None:
    incoming = {
        "Authorization": "Bearer secret",
        "Accept": "application/fhir+json",
        "If-Match": 'W/"2"',
        "Content-Encoding": "gzip",
        "X-Forwarded-Host": "evil.example",
        "X-PRM-User": "forged",
        "X-Request-ID": "client-chosen",
        "Cookie": "a=b",
        "Origin": "https://evil.example",
    }

    headers = request_headers(
        incoming, forwarded=("http", "localhost:8000", "/fhir"), request_id="rid-1", user="ehr@test"
    )

    assert headers == {
        "Accept": "application/fhir+json",
        "If-Match": 'W/"2"',
        "Content-Encoding": "gzip",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "localhost:8000",
        "X-Forwarded-Prefix": "/fhir",
        "X-PRM-User": "ehr@test",
        "X-Request-ID": "rid-1",
    }


def test_only_client_relevant_headers_come_back() -> None:
    upstream = {
        "Content-Type": "application/fhir+json",
        "ETag": 'W/"1"',
        "X-Powered-By": "HAPI FHIR 8.8.0",
        "Access-Control-Allow-Origin": "*",
        "Content-Encoding": "gzip",
    }

    assert response_headers(upstream) == {
        "Content-Type": "application/fhir+json",
        "ETag": 'W/"1"',
        "Content-Encoding": "gzip",
    }
