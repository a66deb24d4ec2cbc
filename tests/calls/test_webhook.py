"""The native voice webhook against the real Redis queue: verify, parse, de-duplicate, enqueue."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from pydantic import SecretStr
from redis import Redis

from app.config import Settings
from app.fhir.client import FhirClient
from app.main import create_app
from app.services import build_queue
from tests.calls.support import EVENTS_PATH, event, keyed, post_event, signed
from tests.conftest import started
from tests.factories import phone
from tests.messaging.twilio_webhooks import drain
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def queued(settings: Settings, event_id: str) -> bool:
    return bool(Redis.from_url(settings.redis_url).exists(f"rq:job:voice-{event_id}"))


async def test_a_signed_event_is_202_queued_once_and_stored_by_the_worker(
    api: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    body = event(caller=phone(), intent=None)

    first = await post_event(api, body)
    again = await post_event(api, body)
    assert queued(settings, body["event_id"])
    await drain(settings)

    assert (first.status_code, first.json()) == (202, {"status": "accepted"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    [call] = await keyed(fhir, "Communication", body["call"]["id"])
    assert call["status"] == "completed"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "X-PRM-Timestamp and X-PRM-Signature are required"),
        ({"X-PRM-Signature": "v1=" + "0" * 64}, "X-PRM-Signature does not match"),
        ({"secret": "someone-elses-secret"}, "X-PRM-Signature does not match"),
        ({"at": -301}, "X-PRM-Timestamp is more than 300 s from now"),
        ({"at": +400}, "X-PRM-Timestamp is more than 300 s from now"),
        ({"X-PRM-Timestamp": "soon"}, "X-PRM-Timestamp is not unix seconds"),
    ],
)
async def test_a_bad_signature_or_stale_timestamp_is_401_and_nothing_is_queued(
    api: httpx.AsyncClient, settings: Settings, headers: dict[str, object], message: str
) -> None:
    body = event(caller=phone())
    signing = {k: v for k, v in headers.items() if k == "secret"}
    if "at" in headers:
        signing["at"] = time.time() + float(headers["at"])  # type: ignore[arg-type]
    raw, sent = signed(body, **signing)  # type: ignore[arg-type]
    if not headers:
        sent = {"Content-Type": "application/json"}
    sent.update({k: str(v) for k, v in headers.items() if k.startswith("X-")})

    response = await api.post(EVENTS_PATH, content=raw, headers=sent)

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_signature", "message": message}
    assert not queued(settings, body["event_id"])
    # Nothing was claimed either: the platform's correctly signed retry is accepted.
    assert (await post_event(api, body)).status_code == 202


async def test_a_body_changed_after_signing_is_401(api: httpx.AsyncClient, settings: Settings) -> None:
    body = event(caller=phone())
    raw, headers = signed(body)
    tampered = raw.replace(b"0.95", b"0.99")

    response = await api.post(EVENTS_PATH, content=tampered, headers=headers)

    assert response.status_code == 401
    assert not queued(settings, body["event_id"])


async def test_the_previous_secret_is_accepted_while_rotating(settings: Settings) -> None:
    rotating = settings.model_copy(
        update={
            "voice_webhook_secret": SecretStr("the-new-secret"),
            "voice_webhook_previous_secret": SecretStr("the-old-secret"),
        }
    )
    old, new, other = (event(caller=phone()) for _ in range(3))

    async for client in started(create_app(rotating)):
        by_old = await post_event(client, old, secret="the-old-secret")
        by_new = await post_event(client, new, secret="the-new-secret")
        by_other = await post_event(client, other, secret="test-voice-webhook-secret")

    assert (by_old.status_code, by_new.status_code, by_other.status_code) == (202, 202, 401)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["call"].pop("from"), "body.call.from"),
        (lambda b: b["call"].update(started_at="yesterday"), "body.call.started_at"),
        (lambda b: b["extraction"].update(intent="buy_a_car"), "body.extraction.intent"),
        (lambda b: b["extraction"].update(confidence=1.5), "body.extraction.confidence"),
        (lambda b: b.update(event_id="evt|1,2"), "body.event_id"),
        (lambda b: b["transcript"]["segments"][0].pop("speaker"), "body.transcript.segments.0.speaker"),
    ],
)
async def test_a_malformed_event_is_422_naming_the_field_path(
    api: httpx.AsyncClient, settings: Settings, change: object, field: str
) -> None:
    body = event(caller=phone())
    change(body)  # type: ignore[operator]

    response = await post_event(api, body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert [f["field"] for f in response.json()["fields"]] == [field]
    assert not queued(settings, body["event_id"])


async def test_a_body_that_is_not_json_is_422(api: httpx.AsyncClient) -> None:
    response = await post_event(api, b"{not json")

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "body"


async def test_an_event_other_than_a_completed_call_is_acknowledged_and_ignored(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    body = event(caller=phone())
    body["event"] = "call.started"

    response = await post_event(api, body)

    assert (response.status_code, response.json()) == (202, {"status": "ignored"})
    assert not queued(settings, body["event_id"])


async def test_with_the_queue_down_the_event_is_503_and_the_retry_accepted(
    api: httpx.AsyncClient, fhir: FhirClient, settings: Settings
) -> None:
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    body = event(caller=phone(), intent=None)

    async for client in started(create_app(settings, queue=build_queue(down))):
        refused = await post_event(client, body)
    retried = await post_event(api, body)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert retried.status_code == 202
    assert json.loads(retried.text) == {"status": "accepted"}


async def test_the_webhook_and_the_job_log_no_phone_name_or_words_of_the_call(
    api: httpx.AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    caller, name = phone(), "Secretname Patientson"
    body = event(
        caller=caller,
        intent="complaint",
        summary="confidential: my sugar readings are 310",
        patient={"name": name, "phone": caller, "dob": "1970-01-01", "gender": "female"},
    )
    capsys.readouterr()

    await post_event(api, body)
    await post_event(api, body)
    await api.post(EVENTS_PATH, json=body)  # unsigned
    await drain(settings)

    logged = capsys.readouterr().out
    assert '"voice.event.received"' in logged and '"voice.call.processed"' in logged  # webhook and job
    assert body["call"]["id"] in logged
    for secret in (caller, caller[3:], "sugar", name, "Secretname", body["recording"]["url"]):
        assert secret not in logged
