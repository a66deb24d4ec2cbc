"""voice-send signs a file the way the platform must and posts it (to a local HTTP server here)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.cli.__main__ import main
from app.ingress.signing import refusal

received: list[tuple[str, dict[str, str], bytes]] = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status = 202 if b"evt_ok" in body else 401
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b'{"status": "accepted"}' if status == 202 else b'{"error": "invalid_signature"}')

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_voice_send_posts_the_file_signed_with_the_secret(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    received.clear()
    event = tmp_path / "event.json"
    event.write_bytes(json.dumps({"event_id": "evt_ok"}).encode())

    status = main(["voice-send", str(event), "--api", server, "--secret", "s3cret"])

    assert status == 0
    [(path, headers, body)] = received
    assert path == "/webhooks/voice/events"
    assert body == event.read_bytes()
    assert (
        refusal(
            secrets=["s3cret"],
            timestamp=headers["x-prm-timestamp"],
            signature=headers["x-prm-signature"],
            body=body,
            now=time.time(),
            tolerance_seconds=300,
        )
        is None
    )
    assert capsys.readouterr().out == '202 {"status": "accepted"}\n'


def test_a_refused_event_exits_1_and_a_file_that_is_not_json_exits_2(server: str, tmp_path: Path) -> None:
    refused, broken = tmp_path / "refused.json", tmp_path / "broken.json"
    refused.write_text('{"event_id": "evt_no"}')
    broken.write_text("{not json")

    assert main(["voice-send", str(refused), "--api", server, "--secret", "s"]) == 1
    assert main(["voice-send", str(broken), "--api", server, "--secret", "s"]) == 2
