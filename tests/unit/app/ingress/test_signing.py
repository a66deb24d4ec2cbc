"""The voice contract's signature: HMAC-SHA256 over "<timestamp>.<body>", ±300 s, several secrets."""

from __future__ import annotations

import hashlib
import hmac

from app.ingress.signing import refusal, sign

BODY = b'{"event_id": "evt_1"}'
NOW = 1_800_000_000.0


def check(
    signature: str | None, *, timestamp: str | None = str(int(NOW)), secrets: tuple[str, ...] = ("s3cret",)
) -> str | None:
    return refusal(
        secrets=secrets, timestamp=timestamp, signature=signature, body=BODY, now=NOW, tolerance_seconds=300
    )


def test_the_signature_is_the_documented_hmac() -> None:
    expected = hmac.new(b"s3cret", b"1800000000." + BODY, hashlib.sha256).hexdigest()

    assert sign("s3cret", 1800000000, BODY) == f"v1={expected}"


def test_a_correct_signature_passes_and_a_wrong_one_is_named() -> None:
    assert check(sign("s3cret", int(NOW), BODY)) is None
    assert check(sign("other", int(NOW), BODY)) == "X-PRM-Signature does not match"
    assert check(sign("s3cret", int(NOW), BODY + b" ")) == "X-PRM-Signature does not match"


def test_the_timestamp_is_signed_and_must_be_within_300_seconds() -> None:
    old, future = str(int(NOW) - 301), str(int(NOW) + 301)

    assert check(sign("s3cret", old, BODY), timestamp=old) == "X-PRM-Timestamp is more than 300 s from now"
    assert (
        check(sign("s3cret", future, BODY), timestamp=future) == "X-PRM-Timestamp is more than 300 s from now"
    )
    edge = str(int(NOW) - 300)
    assert check(sign("s3cret", edge, BODY), timestamp=edge) is None
    # A signature made for another timestamp does not carry over.
    assert check(sign("s3cret", edge, BODY)) == "X-PRM-Signature does not match"


def test_missing_or_odd_headers_are_refused() -> None:
    assert check(None) == "X-PRM-Timestamp and X-PRM-Signature are required"
    assert check("v1=00", timestamp=None) == "X-PRM-Timestamp and X-PRM-Signature are required"
    assert check("v1=00", timestamp="1.5e9") == "X-PRM-Timestamp is not unix seconds"


def test_either_secret_of_a_rotation_is_accepted_and_no_secret_accepts_nothing() -> None:
    by_old = sign("old", int(NOW), BODY)

    assert check(by_old, secrets=("new", "old")) is None
    assert check(f"v1=deadbeef, {by_old}", secrets=("new", "old")) is None
    assert check(by_old, secrets=("", "")) == "no webhook secret is configured"
