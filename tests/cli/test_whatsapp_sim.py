"""The WhatsApp simulator against the real stack: the API as a uvicorn process over the shared HAPI and
the test Redis; its lines are accepted as Twilio's and land on the patient's thread in the inbox."""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from app.cli.whatsapp_sim import SimConfig, SimulatorError, WhatsAppSim, format_reply
from app.config import Settings
from app.fhir.client import FhirClient
from tests.conftest import STAFF_KEY, TWILIO_AUTH_TOKEN, bearer
from tests.factories import phone
from tests.messaging.twilio_webhooks import communications, drain
from tests.support.servers import ROOT, Server, free_port, start_api

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim_settings(settings: Settings) -> Settings:
    """This module's own queue, so only the jobs its API enqueues are drained here."""
    return settings.model_copy(update={"queue_name": f"sim-{uuid.uuid4().hex[:10]}"})


@pytest.fixture(scope="module")
def api_server(sim_settings: Settings) -> Iterator[Server]:
    """The API as `make run` starts it, verifying signatures over its own URL."""
    port = free_port()
    env = {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": sim_settings.fhir_base_url,
        "PRM_REDIS_URL": sim_settings.redis_url,
        "PRM_QUEUE_NAME": sim_settings.queue_name,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_LOG_LEVEL": "WARNING",
        "PRM_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PRM_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "PRM_API_KEYS": json.dumps([{"key": STAFF_KEY, "role": "staff", "user": "reception@test"}]),
    }
    server = start_api(env, port)
    try:
        yield server
    finally:
        server.stop()


def _config(server: Server, patient: str) -> SimConfig:
    return SimConfig(
        api=server.url,
        public_url=server.url,
        auth_token=TWILIO_AUTH_TOKEN,
        staff_key=STAFF_KEY,
        patient=patient,
        clinic="+14155238886",
    )


async def test_a_line_is_accepted_as_twilios_and_lands_on_the_patients_thread(
    api_server: Server, sim_settings: Settings, fhir: FhirClient
) -> None:
    patient = phone()
    with httpx.Client(timeout=10) as client:
        sim = WhatsAppSim(_config(api_server, patient), client)
        assert sim.mark_seen() == 0
        sid = sim.send("what are your timings")
        await drain(sim_settings)
        messages = sim.thread_messages()

    stored = await communications(fhir, sid)
    assert len(stored) == 1
    inbound = [m for m in messages if m["direction"] == "inbound"]
    assert [(m["id"], m["text"], m["channel"]) for m in inbound] == [
        (stored[0]["id"], "what are your timings", "whatsapp")
    ]
    assert sim.conversation is not None


async def test_the_same_line_twice_is_two_messages_and_replies_are_read_back_once(
    api_server: Server, sim_settings: Settings
) -> None:
    """Each line gets its own MessageSid (no de-duplication across lines); a reply already shown is
    never shown again."""
    with httpx.Client(timeout=10) as client:
        sim = WhatsAppSim(_config(api_server, phone()), client)
        first, second = sim.send("hello"), sim.send("hello")
        await drain(sim_settings)
        texts = [m["text"] for m in sim.thread_messages() if m["direction"] == "inbound"]
        replies = sim.new_replies()
        again = sim.new_replies()

    assert first != second
    assert texts == ["hello", "hello"]
    assert all(r["direction"] == "outbound" for r in replies)
    assert again == []


async def _staff_reply(server: Server, conversation: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(STAFF_KEY), timeout=30) as api:
        response = await api.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text})
    assert response.status_code == 202, response.text


async def test_a_staff_reply_is_read_back_and_printed_as_staffs(
    api_server: Server, sim_settings: Settings
) -> None:
    with httpx.Client(timeout=10) as client:
        sim = WhatsAppSim(_config(api_server, phone()), client)
        sim.send("is anyone there?")
        await drain(sim_settings)
        sim.mark_seen()
        assert sim.conversation is not None
        await _staff_reply(api_server, sim.conversation, "Yes, this is the front desk.")
        replies = await asyncio.to_thread(sim.wait_for_replies, 10)

    assert [format_reply(r) for r in replies] == ["staff> Yes, this is the front desk."]


async def test_the_interactive_chat_prints_a_staff_reply_as_it_appears(
    api_server: Server, sim_settings: Settings
) -> None:
    patient = phone()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "whatsapp-sim",
            "--api",
            api_server.url,
            "--from",
            patient,
            "--token",
            TWILIO_AUTH_TOKEN,
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=_cli_env(api_server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    try:
        assert process.stdin is not None
        process.stdin.write("hello from the terminal\n")
        process.stdin.flush()
        with httpx.Client(timeout=10) as client:
            reader = WhatsAppSim(_config(api_server, patient), client)
            conversation = None
            for _ in range(40):  # the line is sent once the simulator has read it
                await drain(sim_settings)
                if reader.thread_messages():
                    conversation = reader.conversation
                    break
                await asyncio.sleep(0.25)
        assert conversation is not None
        await _staff_reply(api_server, conversation, "Hello from the front desk")
        printed = await asyncio.to_thread(_read_until, lines, "staff> Hello from the front desk", 20)
        process.stdin.write("/quit\n")
        process.stdin.flush()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert printed[0].startswith("Chatting as " + patient)


def _read_until(lines: queue.Queue[str], wanted: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            break
        if wanted in seen[-1]:
            return seen
    raise AssertionError(f"{wanted!r} not printed; got {seen}")


def test_a_wrong_token_is_refused_and_reported_clearly(api_server: Server) -> None:
    config = replace(_config(api_server, phone()), auth_token="not-the-token")
    with (
        httpx.Client(timeout=10) as client,
        pytest.raises(SimulatorError, match=r"refused the signature \(403\)"),
    ):
        WhatsAppSim(config, client).send("hello")


def test_a_wrong_staff_key_is_reported_clearly(api_server: Server) -> None:
    config = replace(_config(api_server, phone()), staff_key="wrong-key")
    with (
        httpx.Client(timeout=10) as client,
        pytest.raises(SimulatorError, match=r"refused the staff key \(401\)"),
    ):
        WhatsAppSim(config, client).thread_messages()


def _cli_env(server: Server) -> dict[str, str]:
    """The settings the simulator reads: the staff key and public URL of the API under test."""
    return {
        "PATH": "/usr/bin:/bin",
        "PRM_ENVIRONMENT": "test",
        "PRM_API_KEYS": json.dumps([{"key": STAFF_KEY, "role": "staff", "user": "reception@test"}]),
        "PRM_PUBLIC_BASE_URL": server.url,
    }


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "whatsapp-sim", "--api", server.url, *args],
        cwd=ROOT,
        env=_cli_env(server),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_sends_each_say_line_and_reports_no_reply_without_a_worker(api_server: Server) -> None:
    result = _cli(
        api_server,
        "--from",
        phone(),
        "--token",
        TWILIO_AUTH_TOKEN,
        "--say",
        "hi",
        "--say",
        "ok",
        "--timeout",
        "1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "you> hi",
        "(no reply within 1 s: is a worker running? `make run` starts one)",
        "you> ok",
        "(no reply within 1 s: is a worker running? `make run` starts one)",
    ]


def test_the_command_exits_1_with_the_reason_on_a_wrong_token(api_server: Server) -> None:
    result = _cli(api_server, "--from", phone(), "--token", "wrong", "--say", "hi")

    assert result.returncode == 1
    assert "whatsapp-sim: the API refused the signature (403)" in result.stderr
