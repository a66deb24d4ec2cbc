"""A real HTTP receiver for rest-hook deliveries, run by a test on a free port (what an EHR would run)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.servers import free_port

# HAPI parses the reply as FHIR: an OperationOutcome counts as a delivered notification.
REPLY = b'{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}'


@dataclass(frozen=True)
class Delivery:
    """One request HAPI made."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The deliveries received so far, and the URL to register."""

    url: str
    status: int = 200  # what it answers; a test may change it (an EHR going down and coming back)
    deliveries: list[Delivery] = field(default_factory=list)

    def to(self, path: str) -> list[Delivery]:
        """Deliveries whose path ends with `path` (e.g. '/Substance/123')."""
        return [d for d in self.deliveries if d.path.endswith(path)]


@contextmanager
def receiver(*, status: int = 200) -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1 recording every request to /hook and answering `status` (or
    the receiver's `status` as the test changes it)."""
    port = free_port()
    received = Receiver(url=f"http://127.0.0.1:{port}/hook", status=status)

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received.deliveries.append(
                Delivery(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            self.send_response(received.status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(REPLY)))
            self.end_headers()
            self.wfile.write(REPLY)

        do_PUT = do_POST = do_DELETE = _record

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
