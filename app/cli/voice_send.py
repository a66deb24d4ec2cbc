"""`voice-send FILE.json`: sign a native voice event the way the platform must (DESIGN.md 6.3) and post
it to the running PRM, printing the answer. For integrators testing their mapping against the stack."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from app.config import Settings
from app.ingress.signing import sign

HELP = "Sign a voice-agent event (JSON file) and post it to the PRM"
EVENTS_PATH = "/webhooks/voice/events"
TIMEOUT_SECONDS = 30


def configure(parser: argparse.ArgumentParser) -> None:
    """voice-send's arguments."""
    parser.add_argument("file", type=Path, help="the event, as JSON (docs/webhooks/voice.md)")
    parser.add_argument("--api", help="the PRM's base URL (default: PRM_PUBLIC_BASE_URL)")
    parser.add_argument("--secret", help="the signing secret (default: PRM_VOICE_WEBHOOK_SECRET)")


def run(args: argparse.Namespace) -> int:
    """Sign and post the file; 0 when the PRM accepted it (202) or already had it (200)."""
    body = args.file.read_bytes()
    try:
        json.loads(body)
    except ValueError as exc:
        sys.stderr.write(f"{args.file}: not JSON ({exc})\n")
        return 2
    secret, api = args.secret, args.api
    if secret is None or api is None:
        settings = Settings()
        secret = secret or settings.voice_webhook_secret.get_secret_value()
        api = api or settings.public_base_url
    status, answer = post(api.rstrip("/") + EVENTS_PATH, body, secret=secret, now=time.time())
    sys.stdout.write(f"{status} {answer}\n")
    return 0 if status in (200, 202) else 1


def post(url: str, body: bytes, *, secret: str, now: float) -> tuple[int, str]:
    """POST `body` signed with `secret` at `now`: (HTTP status, response text)."""
    timestamp = str(int(now))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-PRM-Timestamp": timestamp,
            "X-PRM-Signature": sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
