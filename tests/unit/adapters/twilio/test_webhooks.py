"""The webhooks' edge without servers: the signature is checked first (403, nothing read further), the
form is parsed (422 naming the field), and with Redis unreachable a good request gets 503 + Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN
from tests.support.twilio import INBOUND_PATH, STATUS_PATH, inbound_form, signed_headers, status_form
from tests.unit.app.test_openapi import openapi_document
from tests.unit.conftest import offline_app, serve
from tests.unit.messaging.test_openapi import ERROR_BODY


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async for http in serve(offline_app()):
        yield http


async def post(
    client: httpx.AsyncClient,
    path: str,
    form: dict[str, str],
    *,
    token: str = TWILIO_AUTH_TOKEN,
    url: str = "",
) -> httpx.Response:
    headers = signed_headers(token, url or PUBLIC_BASE_URL + path, form)
    return await client.post(path, content=urlencode(form), headers=headers)


async def test_no_signature_is_403(client: httpx.AsyncClient) -> None:
    form = inbound_form(sender="+919844111173")

    response = await client.post(INBOUND_PATH, data=form)

    assert response.status_code == 403
    assert response.json() == {"error": "invalid_signature", "message": "Missing or wrong X-Twilio-Signature"}


@pytest.mark.parametrize(
    "forgery",
    [
        {"token": "someone-elses-token"},
        {"url": "http://127.0.0.1:8000" + INBOUND_PATH},  # signed for another address than the public one
        {"url": PUBLIC_BASE_URL + STATUS_PATH},  # signed for the other webhook
    ],
)
async def test_a_wrong_signature_is_403(client: httpx.AsyncClient, forgery: dict[str, str]) -> None:
    response = await post(client, INBOUND_PATH, inbound_form(sender="+919844111173"), **forgery)

    assert response.status_code == 403


async def test_a_parameter_changed_after_signing_is_403(client: httpx.AsyncClient) -> None:
    form = inbound_form(sender="+919844111173", text="Book me in")
    headers = signed_headers(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + INBOUND_PATH, form)

    tampered = await client.post(INBOUND_PATH, content=urlencode({**form, "Body": "STOP"}), headers=headers)
    added = await client.post(INBOUND_PATH, content=urlencode({**form, "Extra": "1"}), headers=headers)

    assert (tampered.status_code, added.status_code) == (403, 403)


async def test_a_json_body_has_nothing_signed_and_is_403(client: httpx.AsyncClient) -> None:
    form = inbound_form(sender="+919844111173")
    headers = signed_headers(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + INBOUND_PATH, form)

    response = await client.post(
        INBOUND_PATH, json=form, headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]}
    )

    assert response.status_code == 403


async def test_without_a_configured_token_every_request_is_refused() -> None:
    form = inbound_form(sender="+919844111173")
    async for http in serve(offline_app(twilio_auth_token=None)):
        response = await post(http, INBOUND_PATH, form)

        assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        (INBOUND_PATH, {"From": "whatsapp:+919844111173", "Body": "hi"}, "MessageSid: is required"),
        (INBOUND_PATH, {"MessageSid": "SM1", "Body": "hi"}, "From: is required"),
        (INBOUND_PATH, {"MessageSid": "SM1", "From": "whatsapp:++"}, "From: is not a phone number"),
        (STATUS_PATH, {"MessageStatus": "delivered"}, "MessageSid: is required"),
        (STATUS_PATH, {"MessageSid": "SM1"}, "MessageStatus: is required"),
    ],
)
async def test_a_signed_form_missing_what_the_prm_needs_is_422(
    client: httpx.AsyncClient, path: str, form: dict[str, str], message: str
) -> None:
    response = await post(client, path, form)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["message"].startswith(message)


async def test_a_signed_status_that_says_nothing_about_delivery_is_acknowledged_without_the_queue(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, STATUS_PATH, status_form(sid="SM1", status="canceled"))

    assert response.status_code == 200
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@pytest.mark.parametrize("path", [INBOUND_PATH, STATUS_PATH])
async def test_a_good_request_with_redis_down_is_503_with_retry_after(
    client: httpx.AsyncClient, path: str
) -> None:
    form = (
        inbound_form(sender="+919844111173")
        if path == INBOUND_PATH
        else status_form(sid="SM1", status="sent")
    )

    response = await post(client, path, form)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


def test_both_webhooks_are_documented_as_signed_form_posts() -> None:
    paths = openapi_document()["paths"]

    for path in (INBOUND_PATH, STATUS_PATH):
        operation = paths[path]["post"]
        assert {"200", "400", "403", "413", "422", "503"} <= set(operation["responses"])
        assert operation["responses"]["403"]["content"] == ERROR_BODY
        assert operation["responses"]["200"]["content"] == {"text/xml": {"schema": {"type": "string"}}}
        form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert "MessageSid" in form["required"]
        assert operation["security"] == [{"TwilioSignature": []}]  # the signature, not an API key
        assert "401" not in operation["responses"]
    scheme = openapi_document()["components"]["securitySchemes"]["TwilioSignature"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Twilio-Signature")
