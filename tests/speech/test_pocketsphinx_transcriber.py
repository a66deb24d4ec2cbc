"""PocketsphinxTranscriber end to end: instructions spoken by espeak-ng, recognised offline. No servers,
but seconds per sample, so it runs with the full suite rather than in `make test-unit`.

espeak-ng speaks with its American voice ("-v en-us"): pocketsphinx's acoustic model is US English,
and with espeak-ng's default British voice most words fall outside its beams.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

import app.demo
from adapters.speech.pocketsphinx_transcriber import PocketsphinxTranscriber
from app.ports.speech import TranscriptionFailed, TranscriptionUnavailable
from tests.unit.adapters.speech.test_audio import wav_bytes

pytest.importorskip("pocketsphinx", reason="offline speech needs the 'speech' extra (pocketsphinx)")
pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="the espeak-ng binary is needed to speak the test instructions"
)

ESPEAK = ["espeak-ng", "-v", "en-us", "-s", "140"]
MAX_DECODE_SECONDS = 3.0  # per utterance on one core; measured 0.2-0.8 s
_DIRECTORY = json.loads((Path(app.demo.__file__).parent / "directory.json").read_text())
HINTS = (
    *(p["name"] for p in _DIRECTORY["practitioners"]),
    *(p["name"] for p in _DIRECTORY["patients"]),
    *(d["name"] for d in _DIRECTORY["departments"]),
)

# (what is said, what the transcript must contain). "meera", "kavita" and "rajesh" are not in
# pocketsphinx's dictionary: their pronunciations come from espeak-ng.
INSTRUCTIONS = [
    (
        "book an appointment with doctor rajiv sharma of cardiology for ten a m tomorrow",
        ["book an appointment", "rajiv sharma", "cardiology", "10 am tomorrow"],
    ),
    ("cancel the appointment with doctor meera iyer on friday", ["cancel", "meera iyer", "friday"]),
    (
        "book appointment with doctor kavita nair of dermatology day after tomorrow at eleven fifteen a m",
        ["kavita nair", "dermatology", "day after tomorrow", "11:15 am"],
    ),
    (
        "book an appointment with doctor rajesh sharma of e n t on monday at five p m "
        "for phone number nine nine zero zero one one two two three three",
        ["rajesh sharma", "ent", "monday", "5 pm", "9900112233"],
    ),
    (
        "reschedule appointment for patient ananya reddy to monday at four thirty p m",
        ["reschedule", "ananya reddy", "monday", "4:30 pm"],
    ),
]


def speak(text: str, tmp_path: Path) -> bytes:
    """A WAV of `text` spoken by espeak-ng (22050 Hz mono)."""
    out = tmp_path / "instruction.wav"
    subprocess.run([*ESPEAK, "-w", str(out), text], check=True, capture_output=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def transcriber() -> PocketsphinxTranscriber:
    return PocketsphinxTranscriber(max_audio_seconds=30)


@pytest.mark.parametrize(("spoken", "expected"), INSTRUCTIONS, ids=[i[0][:40] for i in INSTRUCTIONS])
async def test_spoken_instructions_are_recognised(
    transcriber: PocketsphinxTranscriber, tmp_path: Path, spoken: str, expected: list[str]
) -> None:
    audio = speak(spoken, tmp_path)

    with structlog.testing.capture_logs() as logs:
        transcript = await transcriber.transcribe(audio, content_type="audio/wav", hints=HINTS)

    for words in expected:
        assert words in transcript.text, f"{words!r} not in {transcript.text!r}"
    assert transcript.engine == "pocketsphinx"
    assert transcript.duration_seconds == pytest.approx(len(audio) / (2 * 22_050), abs=0.1)
    done = next(entry for entry in logs if entry["event"] == "speech.transcribed")
    assert done["decode_seconds"] < MAX_DECODE_SECONDS
    # Event names, sizes and durations only: never the words.
    assert "sharma" not in repr(logs) and "meera" not in repr(logs) and "9900" not in repr(logs)


async def test_non_audio_bytes_are_refused(transcriber: PocketsphinxTranscriber) -> None:
    with pytest.raises(TranscriptionFailed, match=r"^not audio"):
        await transcriber.transcribe(b"book an appointment tomorrow", content_type="audio/wav", hints=HINTS)


async def test_audio_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    short = PocketsphinxTranscriber(max_audio_seconds=1)

    with pytest.raises(TranscriptionFailed, match=r"^audio is \d+\.\d s long; the limit is 1 s$"):
        await short.transcribe(speak("cancel the appointment", tmp_path), content_type="audio/wav")


async def test_audio_without_speech_is_refused(transcriber: PocketsphinxTranscriber) -> None:
    mains_hum = wav_bytes(seconds=1.0, rate=16_000)

    with pytest.raises(TranscriptionFailed, match="no clinic instruction recognised"):
        await transcriber.transcribe(mains_hum, content_type="audio/wav", hints=HINTS)


def test_without_pocketsphinx_the_engine_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)

    with pytest.raises(TranscriptionUnavailable, match="pip install"):
        PocketsphinxTranscriber()
