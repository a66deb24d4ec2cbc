"""Each platform adapter against the real Redis and HAPI: its own signature accepted (the sample
queued, then stored by the job) or refused (401, nothing queued)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis import Redis

from app.config import Settings
from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_TICKET_CATEGORY
from app.fhir.client import FhirClient
from app.main import create_app
from tests.calls.support import keyed
from tests.conftest import started
from tests.factories import phone, unique
from tests.messaging.twilio_webhooks import drain

pytestmark = pytest.mark.integration
DATA = Path(__file__).parents[1] / "data" / "voice"
SECRETS = {"vapi": "vapi-test-secret", "retell": "key_retell_test", "elevenlabs": "wsec_elevenlabs_test"}


@pytest.fixture(scope="module")
def platform_app(settings: Settings) -> FastAPI:
    return create_app(
        settings.model_copy(
            update={
                "vapi_webhook_secret": SecretStr(SECRETS["vapi"]),
                "retell_api_key": SecretStr(SECRETS["retell"]),
                "elevenlabs_webhook_secret": SecretStr(SECRETS["elevenlabs"]),
            }
        )
    )


@pytest.fixture(scope="module")
async def client(platform_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for api in started(platform_app):
        yield api


def vapi(caller: str) -> tuple[dict[str, Any], str]:
    body = json.loads((DATA / "vapi-end-of-call-report.json").read_text())
    call_id = unique("vapi-")
    body["message"]["call"]["id"] = call_id
    body["message"]["customer"]["number"] = caller
    body["message"]["startedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return body, call_id


def retell(caller: str) -> tuple[dict[str, Any], str]:
    body = json.loads((DATA / "retell-call-analyzed.json").read_text())
    call_id = unique("retell")
    body["call"].update(call_id=call_id, from_number=caller, start_timestamp=int(time.time() * 1000))
    return body, call_id


def elevenlabs(caller: str) -> tuple[dict[str, Any], str]:
    body = json.loads((DATA / "elevenlabs-post-call-transcription.json").read_text())
    call_id = unique("conv_")
    body["data"]["conversation_id"] = call_id
    body["data"]["metadata"]["phone_call"]["external_number"] = caller
    body["data"]["metadata"]["start_time_unix_secs"] = int(time.time())
    return body, call_id


def headers(platform: str, raw: bytes, secret: str) -> dict[str, str]:
    if platform == "vapi":
        return {"X-Vapi-Secret": secret}
    if platform == "retell":
        at = str(int(time.time() * 1000))
        digest = hmac.new(secret.encode(), raw + at.encode(), hashlib.sha256).hexdigest()
        return {"X-Retell-Signature": f"v={at},d={digest}"}
    at = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"ElevenLabs-Signature": f"t={at},v0={digest}"}


SAMPLES = {"vapi": vapi, "retell": retell, "elevenlabs": elevenlabs}
# What each sample asks for: the ticket it becomes (Vapi's booking has no practitioner: a callback).
EXPECTED = {
    "vapi": ("callback", "routine"),
    "retell": ("callback", "routine"),
    "elevenlabs": ("emergency", "stat"),
}


@pytest.mark.parametrize("platform", ["vapi", "retell", "elevenlabs"])
async def test_a_signed_sample_is_queued_once_and_becomes_the_call_and_its_ticket(
    client: httpx.AsyncClient, fhir: FhirClient, settings: Settings, platform: str
) -> None:
    body, call_id = SAMPLES[platform](phone())
    raw = json.dumps(body).encode()

    first = await client.post(
        f"/webhooks/voice/{platform}", content=raw, headers=headers(platform, raw, SECRETS[platform])
    )
    again = await client.post(
        f"/webhooks/voice/{platform}", content=raw, headers=headers(platform, raw, SECRETS[platform])
    )
    await drain(settings)

    assert (first.status_code, first.json()) == (202, {"status": "accepted"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    [call] = await keyed(fhir, "Communication", call_id)
    [ticket] = [t for t in await keyed(fhir, "Task", call_id) if extension_value(t, EXT_TICKET_CATEGORY)]
    assert (extension_value(ticket, EXT_TICKET_CATEGORY), ticket["priority"]) == EXPECTED[platform]
    assert call["about"][0] == {"reference": f"Task/{ticket['id']}"}


@pytest.mark.parametrize("platform", ["vapi", "retell", "elevenlabs"])
async def test_a_wrong_signature_is_401_and_nothing_is_queued(
    client: httpx.AsyncClient, settings: Settings, platform: str
) -> None:
    body, call_id = SAMPLES[platform](phone())
    raw = json.dumps(body).encode()

    response = await client.post(
        f"/webhooks/voice/{platform}", content=raw, headers=headers(platform, raw, "not-the-secret")
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert Redis.from_url(settings.redis_url).keys(f"prm:ingress:voice:event:*{call_id}*") == []


async def test_a_platform_without_a_configured_secret_refuses_everything(api: httpx.AsyncClient) -> None:
    body, _ = vapi(phone())

    response = await api.post("/webhooks/voice/vapi", json=body, headers={"X-Vapi-Secret": ""})

    assert response.status_code == 401
    assert response.json()["message"] == "no vapi webhook secret is configured"


@pytest.fixture(scope="module")
async def hmac_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The stack with Vapi's HMAC credential chosen instead of the secret header."""
    app = create_app(
        settings.model_copy(
            update={"vapi_webhook_secret": SecretStr(SECRETS["vapi"]), "vapi_webhook_auth": "hmac"}
        )
    )
    async for api in started(app):
        yield api


def vapi_hmac(raw: bytes, secret: str, at: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"X-Timestamp": str(at), "X-Signature": digest}


async def test_vapi_hmac_credential_good_bad_stale_and_the_secret_header_no_longer_enough(
    hmac_client: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    body, call_id = vapi(phone())
    raw = json.dumps(body).encode()
    now_ms = int(time.time() * 1000)

    wrong = await hmac_client.post(
        "/webhooks/voice/vapi", content=raw, headers=vapi_hmac(raw, "not-the-secret", now_ms)
    )
    stale = await hmac_client.post(
        "/webhooks/voice/vapi", content=raw, headers=vapi_hmac(raw, SECRETS["vapi"], now_ms - 301_000)
    )
    header_only = await hmac_client.post(
        "/webhooks/voice/vapi", content=raw, headers={"X-Vapi-Secret": SECRETS["vapi"]}
    )
    assert [r.status_code for r in (wrong, stale, header_only)] == [401, 401, 401]
    assert Redis.from_url(settings.redis_url).keys(f"prm:ingress:voice:event:*{call_id}*") == []

    good = await hmac_client.post(
        "/webhooks/voice/vapi", content=raw, headers=vapi_hmac(raw, SECRETS["vapi"], now_ms)
    )
    await drain(settings)

    assert (good.status_code, good.json()) == (202, {"status": "accepted"})
    [call] = await keyed(fhir, "Communication", call_id)
    assert call["about"][0]["reference"].startswith("Task/")


async def test_vapi_secret_in_the_newer_x_vapi_signature_header_is_accepted(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body, call_id = vapi(phone())
    raw = json.dumps(body).encode()

    wrong = await client.post("/webhooks/voice/vapi", content=raw, headers={"X-Vapi-Signature": "guess"})
    good = await client.post(
        "/webhooks/voice/vapi", content=raw, headers={"X-Vapi-Signature": SECRETS["vapi"]}
    )

    assert (wrong.status_code, good.status_code) == (401, 202)
    assert Redis.from_url(settings.redis_url).keys(f"prm:ingress:voice:event:*{call_id}*") != []
