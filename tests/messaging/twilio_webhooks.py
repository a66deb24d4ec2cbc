"""Helpers for the webhook tests: post like Twilio, run the queued jobs, find what the jobs stored."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import httpx

from app.config import Settings
from app.fhir.canonical import SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient
from tests.changes.support import run_jobs
from tests.conftest import PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN
from tests.support.twilio import signed_headers

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def post_signed(api: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    """POST `form` to `path`, signed for the public URL with the test token."""
    headers = signed_headers(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + path, form)
    return await api.post(path, content=urlencode(form), headers=headers)


async def drain(settings: Settings) -> None:
    """Run every queued job with a real rq worker (in a thread of this process)."""
    await asyncio.to_thread(run_jobs, settings)


async def communications(fhir: FhirClient, sid: str) -> list[dict[str, Any]]:
    """The Communications carrying this provider id."""
    return await fhir.search("Communication", {"identifier": f"{SID_TWILIO_MESSAGE}|{sid}"})
