"""Shared webhook plumbing: verify a bearer secret, de-duplicate on the StateStore, enqueue or answer 503."""

from __future__ import annotations

import hmac
from contextlib import suppress
from typing import Any

from fastapi import HTTPException

from app.ports.jobs import Job, JobQueue, QueueUnavailable
from app.ports.state import StateStore, StateUnavailable

# What a 503 asks the sender to wait before retrying.
RETRY_AFTER_SECONDS = 5
# A claim lives this long until the job is queued: if the process dies between the claim and the
# enqueue, the mark expires and the sender's retry (or a catch-up sweep) is not taken for a duplicate.
PENDING_SECONDS = 60
_PENDING, _QUEUED = "pending", "queued"
# How each provider signs its webhooks, as OpenAPI security schemes (webhooks carry no API key).
TWILIO_SIGNATURE = "TwilioSignature"
VOICE_SIGNATURE = "VoiceSignature"
VAPI_SECRET = "VapiSecret"
VAPI_HMAC = "VapiHmac"
RETELL_SIGNATURE = "RetellSignature"
ELEVENLABS_SIGNATURE = "ElevenLabsSignature"
SIGNATURE_SCHEMES: dict[str, dict[str, str]] = {
    TWILIO_SIGNATURE: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Signature",
        "description": "Twilio's HMAC-SHA1 of the public URL and every form parameter, made with the "
        "account's auth token (docs/webhooks/whatsapp.md); a missing or wrong one is answered 403.",
    },
    VOICE_SIGNATURE: {
        "type": "apiKey",
        "in": "header",
        "name": "X-PRM-Signature",
        "description": "v1=<hex HMAC-SHA256(PRM_VOICE_WEBHOOK_SECRET, '<X-PRM-Timestamp>.<raw body>')> "
        "(docs/webhooks/voice.md); a wrong one, or a timestamp more than 300 s away, is answered 401.",
    },
    VAPI_SECRET: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Vapi-Secret",
        "description": "The server URL secret configured in Vapi (PRM_VAPI_WEBHOOK_SECRET); otherwise 401.",
    },
    VAPI_HMAC: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "With PRM_VAPI_WEBHOOK_AUTH=hmac: a Vapi HMAC credential's hex HMAC-SHA256("
        "PRM_VAPI_WEBHOOK_SECRET, '<X-Timestamp>.<body>'); a wrong one or a stale X-Timestamp is 401.",
    },
    RETELL_SIGNATURE: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Retell-Signature",
        "description": "v=<unix ms>,d=<hex HMAC-SHA256(PRM_RETELL_API_KEY, body + timestamp)>; otherwise 401.",
    },
    ELEVENLABS_SIGNATURE: {
        "type": "apiKey",
        "in": "header",
        "name": "ElevenLabs-Signature",
        "description": "t=<unix s>,v0=<hex HMAC-SHA256(PRM_ELEVENLABS_WEBHOOK_SECRET, '<t>.<body>')>; otherwise 401.",
    },
}


def bearer_matches(authorization: str | None, secret: str) -> bool:
    """True if `authorization` is exactly `Bearer <secret>` (compared in constant time)."""
    if not authorization or not secret:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())


async def dedupe(state: StateStore, key: str, *, ttl_seconds: int) -> bool:
    """Claim `key` (briefly, until `confirm`); False if it was already claimed or confirmed."""
    return await state.set_if_absent(
        f"ingress:{key}", _PENDING, ttl_seconds=min(PENDING_SECONDS, ttl_seconds)
    )


async def confirm(state: StateStore, key: str, *, ttl_seconds: int) -> None:
    """Keep the claim on `key` for `ttl_seconds`: the work it stands for is durably queued."""
    await state.set(f"ingress:{key}", _QUEUED, ttl_seconds=ttl_seconds)


async def release(state: StateStore, key: str) -> None:
    """Drop a claim (best effort) so that a retry of the same delivery is accepted."""
    with suppress(StateUnavailable):
        await state.delete(f"ingress:{key}")


async def enqueue_once(
    state: StateStore,
    queue: JobQueue,
    *,
    key: str,
    ttl_seconds: int,
    job: Job,
    payload: dict[str, Any],
    job_id: str,
) -> bool:
    """Queue `job` unless `key` was seen within `ttl_seconds`; True if queued now.

    Raises QueueUnavailable / StateUnavailable (nothing is claimed then, so a retry is fresh).
    """
    if not await dedupe(state, key, ttl_seconds=ttl_seconds):
        return False
    try:
        await queue.enqueue(job, payload, job_id=job_id)
    except QueueUnavailable:
        await release(state, key)
        raise
    # If this fails the job is queued anyway; the claim expires and a retry hits the job id's dedup.
    await confirm(state, key, ttl_seconds=ttl_seconds)
    return True


def unavailable(what: str) -> HTTPException:
    """503 with Retry-After, so webhook senders retry later."""
    return HTTPException(
        status_code=503,
        detail=f"{what} unavailable, retry later",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def accept(
    state: StateStore,
    queue: JobQueue,
    *,
    key: str,
    ttl_seconds: int,
    job: Job,
    payload: dict[str, Any],
    job_id: str,
) -> bool:
    """`enqueue_once` for a request path: queue or state down becomes a 503 the sender retries."""
    try:
        return await enqueue_once(
            state, queue, key=key, ttl_seconds=ttl_seconds, job=job, payload=payload, job_id=job_id
        )
    except QueueUnavailable as exc:
        raise unavailable("job queue") from exc
    except StateUnavailable as exc:
        raise unavailable("state store") from exc
