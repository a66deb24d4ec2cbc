"""Acknowledged means durable: 200 signed webhooks answered 200, Redis killed (SIGKILL) right after the
last answer and started again on the same files, and every message is stored exactly once."""

from __future__ import annotations

import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest
from redis import Redis

from app.config import Settings
from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_THREAD, SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient
from app.main import create_app
from tests.conftest import started
from tests.factories import phone
from tests.messaging.twilio_webhooks import communications, drain, post_signed
from tests.support.servers import start_redis
from tests.support.twilio import INBOUND_PATH, inbound_form

pytestmark = pytest.mark.integration

MESSAGES = 200


async def test_every_acknowledged_webhook_survives_a_redis_crash_and_is_stored_once(
    tmp_path: Path, settings: Settings, fhir: FhirClient
) -> None:
    redis_server = start_redis(tmp_path / "redis")
    # Storage is what is tested: the WhatsApp bot's 200 answers would only slow the drain down.
    durable = settings.model_copy(
        update={
            "redis_url": redis_server.url,
            "queue_name": f"durability-{uuid.uuid4().hex[:8]}",
            "bot_enabled": False,
        }
    )
    sender = phone()
    forms = [inbound_form(sender=sender, text=f"message {n}") for n in range(MESSAGES)]
    try:
        async for client in started(create_app(durable)):
            answers = [(await post_signed(client, INBOUND_PATH, form)).status_code for form in forms]
            assert redis_server.process is not None
            redis_server.process.send_signal(signal.SIGKILL)
            redis_server.process.wait(timeout=10)
        assert answers == [200] * MESSAGES

        # Started again on the same files (on another port: the workers follow the new URL).
        redis_server = start_redis(tmp_path / "redis")
        durable = durable.model_copy(update={"redis_url": redis_server.url})
        queued = Redis.from_url(redis_server.url).llen(f"rq:queue:{durable.queue_name}")
        await drain(durable)
    finally:
        redis_server.stop()

    assert queued == MESSAGES
    first = await communications(fhir, forms[0]["MessageSid"])
    thread = extension_value(first[0], EXT_THREAD)
    stored = await fhir.search("Communication", {"conversation-thread": thread})
    counts = Counter(
        i["value"] for c in stored for i in c.get("identifier", []) if i.get("system") == SID_TWILIO_MESSAGE
    )
    assert counts == Counter({form["MessageSid"]: 1 for form in forms})
