"""Ogg/Opus decoding through libsndfile: WhatsApp voice notes reach the speech engines as PCM."""

from __future__ import annotations

import pytest

from adapters.speech.audio import sniff_format, to_pcm16k
from adapters.speech.sndfile import is_opus
from app.ports.speech import TranscriptionFailed
from tests.support.opus import opus_from_wav
from tests.unit.adapters.speech.test_audio import wav_bytes


@pytest.fixture
def opus() -> bytes:
    encoded = opus_from_wav(wav_bytes(seconds=1.5, rate=48_000, channels=2))
    if encoded is None:
        pytest.skip("this libsndfile cannot write Ogg/Opus")
    return encoded


def test_ogg_opus_is_told_from_ogg_vorbis(opus: bytes) -> None:
    assert sniff_format(opus) == "ogg"
    assert is_opus(opus)
    assert not is_opus(b"OggS\x00\x02" + bytes(22) + b"\x01vorbis" + bytes(40))


def test_ogg_opus_decodes_to_mono_16_khz(opus: bytes) -> None:
    pcm = to_pcm16k(opus)

    assert pcm.duration_seconds == pytest.approx(1.5, abs=0.05)
    assert any(pcm.samples)  # the tone, not silence


def test_a_corrupt_opus_stream_is_refused() -> None:
    with pytest.raises(TranscriptionFailed):
        to_pcm16k(b"OggS\x00\x02" + bytes(22) + b"OpusHead" + b"\xff" * 200)
