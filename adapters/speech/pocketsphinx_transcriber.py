"""Offline speech recognition with pocketsphinx, decoding against the clinic instruction grammar.

Fully offline: no network, no model download (pocketsphinx's PyPI wheel ships its en-us model).
One decoder per transcriber; decoding is CPU-bound and runs in a worker thread, one utterance at a
time (a pocketsphinx decoder is not thread-safe).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from adapters.speech.audio import (
    Pcm,
    add_noise_floor,
    check_duration,
    require_audio,
    to_pcm16k,
    wav_duration_seconds,
)
from adapters.speech.grammar import build_grammar
from adapters.speech.pronunciation import pronouncer
from adapters.speech.spoken import normalize_spoken
from app.ports.speech import Transcript, TranscriptionFailed, TranscriptionUnavailable

log = structlog.get_logger(__name__)

ENGINE = "pocketsphinx"
MODEL_LANGUAGE = "en-us"
# Peak of the noise added under the speech, in 16-bit sample units (about -50 dBFS): a quiet room.
NOISE_FLOOR_AMPLITUDE = 128
# Grammars kept loaded, one per distinct set of hints (a clinic's directory changes rarely).
GRAMMAR_CACHE_SIZE = 8
# Decoder settings. bestpath=False: the lattice pass adds seconds per utterance on a grammar with
# loops and did not improve accuracy in our measurements.
DECODER_OPTIONS: dict[str, Any] = {"bestpath": False, "loglevel": "FATAL"}


class PocketsphinxTranscriber:
    """Transcriber (app.ports) that recognises clinic instructions offline."""

    def __init__(self, *, max_audio_seconds: float | None = None, model_dir: str | None = None) -> None:
        """Load the acoustic model; raises TranscriptionUnavailable if pocketsphinx is not installed."""
        try:
            import pocketsphinx
        except ImportError as exc:
            raise TranscriptionUnavailable(
                "offline speech recognition needs pocketsphinx: pip install 'prm[speech]'"
            ) from exc
        model = model_dir or os.path.join(pocketsphinx.get_model_path(), MODEL_LANGUAGE)
        self._decoder = pocketsphinx.Decoder(
            hmm=os.path.join(model, MODEL_LANGUAGE),
            dict=os.path.join(model, f"cmudict-{MODEL_LANGUAGE}.dict"),
            lm=None,
            samprate=16_000,
            **DECODER_OPTIONS,
        )
        self._max_audio_seconds = max_audio_seconds
        self._pronounce: Callable[[str], str] = pronouncer()
        self._searches: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    async def transcribe(self, audio: bytes, *, content_type: str, hints: Sequence[str] = ()) -> Transcript:
        """Recognise a clinic instruction in `audio`; raises TranscriptionFailed."""
        kind = require_audio(audio)
        check_duration(wav_duration_seconds(audio), self._max_audio_seconds)
        pcm = await asyncio.to_thread(_prepare, audio)
        check_duration(pcm.duration_seconds, self._max_audio_seconds)
        started = time.perf_counter()
        words = await asyncio.to_thread(self._decode, pcm, tuple(hints))
        log.info(
            "speech.transcribed",
            engine=ENGINE,
            format=kind,
            audio_bytes=len(audio),
            audio_seconds=round(pcm.duration_seconds, 2),
            decode_seconds=round(time.perf_counter() - started, 3),
            recognised=bool(words),
        )
        if not words:
            raise TranscriptionFailed("no clinic instruction recognised in the audio; try again or type it")
        return Transcript(text=normalize_spoken(words), duration_seconds=pcm.duration_seconds, engine=ENGINE)

    def _decode(self, pcm: Pcm, hints: tuple[str, ...]) -> str:
        with self._lock:
            self._decoder.activate_search(self._search_for(hints))
            try:
                self._decoder.start_utt()
                self._decoder.process_raw(pcm.samples, full_utt=True)
                self._decoder.end_utt()
            except RuntimeError as exc:
                raise TranscriptionFailed(f"the speech decoder failed: {exc}") from exc
            hypothesis = self._decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis is not None else ""

    def _search_for(self, hints: tuple[str, ...]) -> str:
        """The name of a loaded grammar search for these hints, building (and caching) it if needed."""
        key = hashlib.sha256("\n".join(sorted(set(hints))).encode()).hexdigest()[:16]
        if key in self._searches:
            self._searches.move_to_end(key)
            return self._searches[key]
        grammar = build_grammar(hints)
        self._add_missing_words(grammar.words)
        name = f"clinic_{key}"
        self._decoder.add_jsgf_string(name, grammar.jsgf)
        self._searches[key] = name
        if len(self._searches) > GRAMMAR_CACHE_SIZE:
            _, evicted = self._searches.popitem(last=False)
            self._decoder.remove_search(evicted)
        log.info("speech.grammar.loaded", words=len(grammar.words), hints=len(hints))
        return name

    def _add_missing_words(self, words: frozenset[str]) -> None:
        missing = sorted(w for w in words if self._decoder.lookup_word(w) is None)
        for word in missing:
            phones = self._pronounce(word)
            if phones:
                # update=False: the grammar search added next is built from the dictionary as it is then.
                self._decoder.add_word(word, phones, False)
        if missing:
            log.info("speech.pronunciations.added", words=len(missing))


def _prepare(audio: bytes) -> Pcm:
    return add_noise_floor(to_pcm16k(audio), NOISE_FLOOR_AMPLITUDE)
