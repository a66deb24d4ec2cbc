"""Ogg/Opus test audio (WhatsApp's voice-note format), encoded with the system's libsndfile: sox 14.4
has no Opus encoder and opus-tools is not installed."""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import tempfile
import wave
from pathlib import Path

SFM_WRITE = 0x20
SF_FORMAT_OGG_OPUS = 0x200000 | 0x0064
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class _Info(ctypes.Structure):
    _fields_ = [  # SF_INFO, as sndfile.h declares it
        ("frames", ctypes.c_int64),
        ("samplerate", ctypes.c_int),
        ("channels", ctypes.c_int),
        ("format", ctypes.c_int),
        ("sections", ctypes.c_int),
        ("seekable", ctypes.c_int),
    ]


def opus_from_wav(wav_bytes: bytes) -> bytes | None:
    """A 16-bit PCM WAV (at an Opus rate) as Ogg/Opus; None when libsndfile cannot write Opus here."""
    name = ctypes.util.find_library("sndfile")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_Info)]
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_write_short.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
    lib.sf_write_short.restype = ctypes.c_int64
    lib.sf_close.argtypes = [ctypes.c_void_p]
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getframerate() in OPUS_RATES, "16-bit WAV at an Opus rate"
        info = _Info(0, wav.getframerate(), wav.getnchannels(), SF_FORMAT_OGG_OPUS, 0, 0)
        frames = wav.readframes(wav.getnframes())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "note.opus"
        handle = lib.sf_open(str(path).encode(), SFM_WRITE, ctypes.byref(info))
        if not handle:
            return None
        lib.sf_write_short(handle, frames, len(frames) // 2)
        lib.sf_close(handle)
        return path.read_bytes()
