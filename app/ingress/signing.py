"""The voice contract's signature (DESIGN.md 6.3), shared by the webhook and the voice-send tool:
`X-PRM-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with `X-PRM-Timestamp: <unix
seconds>`; a timestamp further than the tolerance from now is refused."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v1"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-PRM-Signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def refusal(
    *,
    secrets: Sequence[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance_seconds: int,
) -> str | None:
    """Why the delivery is refused (a short reason, safe to log and to answer), or None if it is signed."""
    usable = [s for s in secrets if s]
    if not usable:
        return "no webhook secret is configured"
    if not timestamp or not signature:
        return "X-PRM-Timestamp and X-PRM-Signature are required"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "X-PRM-Timestamp is not unix seconds"
    if abs(now - int(timestamp)) > tolerance_seconds:
        return f"X-PRM-Timestamp is more than {tolerance_seconds} s from now"
    offered = [part.strip() for part in signature.split(",")]
    # Every secret is tried against every offered signature, each compare in constant time.
    for secret in usable:
        expected = sign(secret, timestamp, body)
        if any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in offered):
            return None
    return "X-PRM-Signature does not match"
