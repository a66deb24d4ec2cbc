"""Twilio's webhook signature, computed as Twilio computes it (the simulator and tests sign with it)."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def webhook_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` of a form POST of `params` to `url` (the public URL Twilio calls)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))
