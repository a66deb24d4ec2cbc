"""Spoken instructions through /api/v1/assistant/interpret-audio, with speech made by espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.assistant.test_router import said_the_day_before_a_workday
from tests.conftest import STAFF_KEY, bearer, make_settings, started

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the test instruction"),
]
SPOKEN = (
    "book an appointment with doctor rajiv sharma of cardiology for ten a m tomorrow "
    "for phone number nine nine zero zero one one two two three three"
)


def speak(text: str, path: Path) -> bytes:
    """WAV audio of `text` in espeak-ng's US voice (the acoustic model is US English)."""
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), text], check=True)
    return path.read_bytes()


async def test_a_spoken_booking_becomes_the_same_plan_as_a_typed_one(
    api: httpx.AsyncClient, staff: dict[str, str], demo_clinic: None, tmp_path: Path
) -> None:
    audio = speak(SPOKEN, tmp_path / "instruction.wav")

    response = await api.post(
        "/api/v1/assistant/interpret-audio",
        files={"audio": ("instruction.wav", audio, "audio/wav")},
        data={"now": said_the_day_before_a_workday().isoformat()},
        headers=staff,
    )

    assert response.status_code == 200, response.text
    plan = response.json()
    assert "rajiv sharma" in plan["transcript"].lower()
    assert "9900112233" in plan["transcript"]
    assert plan["intent"] == "book_appointment"
    assert plan["entities"]["patient_phone"] == "+919900112233"
    assert plan["resolved"]["practitioner"] == "Practitioner/rajiv-sharma"
    assert plan["entities"]["time"] == "10:00"


async def test_without_a_speech_engine_audio_is_501(settings: Settings, tmp_path: Path) -> None:
    app = create_app(
        make_settings(
            fhir_base_url=settings.fhir_base_url, redis_url=settings.redis_url, transcription_engine="none"
        )
    )
    audio = speak("cancel", tmp_path / "cancel.wav")

    async for client in started(app):
        response = await client.post(
            "/api/v1/assistant/interpret-audio",
            files={"audio": ("cancel.wav", audio, "audio/wav")},
            headers=bearer(STAFF_KEY),
        )

    assert response.status_code == 501
    assert response.json()["error"] == "transcription_unavailable"


async def test_bytes_that_are_not_audio_are_422(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    response = await api.post(
        "/api/v1/assistant/interpret-audio",
        files={"audio": ("fake.wav", b"RIFF....not really a wave file", "audio/wav")},
        headers=staff,
    )

    assert response.status_code == 422
    assert response.json()["error"] == "unreadable_audio"


async def test_audio_longer_than_the_limit_is_413(settings: Settings, tmp_path: Path) -> None:
    app = create_app(
        make_settings(
            fhir_base_url=settings.fhir_base_url, redis_url=settings.redis_url, max_audio_seconds=1.0
        )
    )
    audio = speak(SPOKEN, tmp_path / "long.wav")

    async for client in started(app):
        response = await client.post(
            "/api/v1/assistant/interpret-audio",
            files={"audio": ("long.wav", audio, "audio/wav")},
            headers=bearer(STAFF_KEY),
        )

    assert response.status_code == 413
    assert response.json()["error"] == "audio_too_long"
