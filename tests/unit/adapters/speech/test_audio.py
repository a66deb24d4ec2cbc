"""Audio decoding: format sniffing, WAV to mono 16 kHz PCM (sox or pure Python), the noise floor."""

from __future__ import annotations

import array
import io
import math
import shutil
import wave

import pytest

from adapters.speech.audio import Pcm, add_noise_floor, sniff_format, to_pcm16k, wav_duration_seconds
from app.ports.speech import TranscriptionFailed

TONE_HZ = 50  # mains hum: sound, but no speech
AMPLITUDE = 8000


def wav_bytes(*, seconds: float, rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    """A low sine tone as a WAV file."""
    frames = int(seconds * rate)
    tone = [int(AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / rate)) for n in range(frames)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(sample_width)
        wav.setframerate(rate)
        if sample_width == 1:
            wav.writeframes(bytes((s // 256 + 128) for s in tone for _ in range(channels)))
        else:
            wav.writeframes(array.array("h", [s for s in tone for _ in range(channels)]).tobytes())
    return buffer.getvalue()


@pytest.fixture
def no_sox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (wav_bytes(seconds=0.01, rate=16_000)[:16], "wav"),
        (b"OggS\x00\x02" + bytes(10), "ogg"),
        (b"fLaC" + bytes(12), "flac"),
        (b"ID3\x04" + bytes(12), "mp3"),
        (b"\x1a\x45\xdf\xa3" + bytes(12), "webm"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(4), "mp4"),
        (b'{"text": "book an appointment"}', None),
        (b"%PDF-1.7\n" + bytes(10), None),
        (b"RIFF", None),
    ],
)
def test_formats_are_told_apart_by_their_first_bytes(head: bytes, kind: str | None) -> None:
    assert sniff_format(head) == kind


def test_non_audio_bytes_are_refused() -> None:
    with pytest.raises(TranscriptionFailed, match=r"^not audio: 26 bytes"):
        to_pcm16k(b"definitely not a recording")


def test_16_khz_mono_wav_is_used_as_it_is() -> None:
    pcm = to_pcm16k(wav_bytes(seconds=0.5, rate=16_000))

    assert pcm.duration_seconds == pytest.approx(0.5)


@pytest.mark.skipif(shutil.which("sox") is None, reason="the sox binary is not installed")
def test_sox_decodes_other_encodings() -> None:
    pcm = to_pcm16k(wav_bytes(seconds=0.5, rate=44_100, channels=2, sample_width=1))

    assert pcm.duration_seconds == pytest.approx(0.5, abs=0.01)


@pytest.mark.usefixtures("no_sox")
def test_16_bit_wav_is_resampled_and_mixed_down_in_python() -> None:
    source = wav_bytes(seconds=0.5, rate=22_050, channels=2)

    pcm = to_pcm16k(source)

    samples = array.array("h")
    samples.frombytes(pcm.samples)
    assert pcm.duration_seconds == pytest.approx(0.5, abs=0.01)
    assert max(samples) == pytest.approx(AMPLITUDE, rel=0.01)


@pytest.mark.usefixtures("no_sox")
@pytest.mark.parametrize(
    ("recording", "message"),
    [
        (wav_bytes(seconds=0.1, rate=16_000, sample_width=1), "unsupported audio: wav needs the sox binary"),
        (b"OggS\x00\x02" + bytes(100), "unsupported audio: ogg needs the sox binary"),
    ],
)
def test_without_sox_other_encodings_are_refused(recording: bytes, message: str) -> None:
    with pytest.raises(TranscriptionFailed, match=message):
        to_pcm16k(recording)


@pytest.mark.skipif(shutil.which("sox") is None, reason="the sox binary is not installed")
def test_a_corrupt_recording_is_refused() -> None:
    with pytest.raises(TranscriptionFailed, match=r"could not decode ogg audio \(sox exit code"):
        to_pcm16k(b"OggS\x00\x02" + bytes(100))


def test_the_wav_header_gives_the_duration() -> None:
    assert wav_duration_seconds(wav_bytes(seconds=1.5, rate=8_000)) == pytest.approx(1.5)
    assert wav_duration_seconds(b"OggS" + bytes(20)) is None


def test_the_noise_floor_is_low_bounded_and_deterministic() -> None:
    silence = Pcm(bytes(2 * 16_000))

    first, second = add_noise_floor(silence, 128), add_noise_floor(silence, 128)

    samples = array.array("h")
    samples.frombytes(first.samples)
    assert first == second
    assert max(samples) <= 128 and min(samples) >= -128 and any(samples)
    assert first.duration_seconds == silence.duration_seconds


def test_the_noise_floor_never_overflows() -> None:
    loud = Pcm(array.array("h", [32_767, -32_768] * 100).tobytes())

    samples = array.array("h")
    samples.frombytes(add_noise_floor(loud, 128).samples)
    assert max(samples) == 32_767 and min(samples) == -32_768
