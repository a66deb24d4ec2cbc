"""Ogg/Opus (WhatsApp's voice notes) decoded through the system's libsndfile, which reads Opus since
1.0.29; the sox binary (14.4) cannot. ctypes over the shared library sox already depends on, so no
new package: where libsndfile is missing or too old the audio is refused like any undecodable one."""

from __future__ import annotations

import array
import ctypes
import ctypes.util
import functools
import tempfile

from app.ports.speech import TranscriptionFailed

SFM_READ = 0x10
OPUS_MARKER = b"OpusHead"  # the first packet of an Ogg/Opus stream
OPUS_SNIFF_BYTES = 128
MAX_SECONDS = 30 * 60  # refuse a header that claims more before allocating for it


class _Info(ctypes.Structure):
    _fields_ = [  # SF_INFO, as sndfile.h declares it
        ("frames", ctypes.c_int64),
        ("samplerate", ctypes.c_int),
        ("channels", ctypes.c_int),
        ("format", ctypes.c_int),
        ("sections", ctypes.c_int),
        ("seekable", ctypes.c_int),
    ]


def is_opus(audio: bytes) -> bool:
    """True for an Ogg container carrying Opus (not Vorbis)."""
    return audio[:4] == b"OggS" and OPUS_MARKER in audio[:OPUS_SNIFF_BYTES]


@functools.cache
def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("sndfile")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_Info)]
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_short), ctypes.c_int64]
    lib.sf_readf_short.restype = ctypes.c_int64
    lib.sf_close.argtypes = [ctypes.c_void_p]
    lib.sf_close.restype = ctypes.c_int
    return lib


def read_opus(audio: bytes) -> tuple[array.array[int], int, int]:
    """(interleaved 16-bit samples in native byte order, channels, sample rate); raises TranscriptionFailed."""
    lib = _library()
    if lib is None:
        raise TranscriptionFailed("unsupported audio: ogg/opus needs libsndfile")
    info = _Info()
    with tempfile.NamedTemporaryFile(suffix=".opus") as file:
        file.write(audio)
        file.flush()
        handle = lib.sf_open(file.name.encode(), SFM_READ, ctypes.byref(info))
        if not handle:
            raise TranscriptionFailed("could not decode ogg/opus audio (libsndfile refused it)")
        try:
            if (
                info.channels < 1
                or info.samplerate < 1
                or not 0 < info.frames <= MAX_SECONDS * info.samplerate
            ):
                raise TranscriptionFailed("could not decode ogg/opus audio (implausible header)")
            buffer = (ctypes.c_short * (info.frames * info.channels))()
            read = lib.sf_readf_short(handle, buffer, info.frames)
        finally:
            lib.sf_close(handle)
    samples = array.array("h")
    samples.frombytes(bytes(buffer)[: max(read, 0) * info.channels * ctypes.sizeof(ctypes.c_short)])
    return samples, info.channels, info.samplerate
