"""The calls capability's background work: one post-call event, as the webhook queued it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.calls.rules import CallRules
from app.calls.service import CallOutcome, process_call
from app.directory.index import DirectoryCache
from app.fhir.client import FhirClient
from app.ports.media import MediaFetcher
from app.ports.state import StateStore
from app.ports.voice import VoiceEvent


async def process_voice_event(
    *,
    fhir: FhirClient,
    state: StateStore,
    directory: DirectoryCache,
    rules: CallRules,
    recordings: MediaFetcher | None,
    now: datetime,
    event: dict[str, Any],
) -> CallOutcome:
    """Store the call and act on it (idempotent: a retry or replay changes nothing)."""
    return await process_call(
        fhir,
        state,
        directory,
        event=VoiceEvent.model_validate(event),
        rules=rules,
        fetcher=recordings,
        now=now,
    )
