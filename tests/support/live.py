"""Run the API as a real uvicorn server on a free loopback port, in a thread (FHIR clients, benches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.servers import free_port, start_api

START_TIMEOUT_SECONDS = 30


@contextmanager
def serve(app: FastAPI) -> Iterator[int]:
    """Serve `app` on 127.0.0.1 (lifespan included) and yield its port; stop it on exit."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start under uvicorn")
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def serve_process(env: dict[str, str]) -> Iterator[int]:
    """Run the API in its own uvicorn process (settings from `env`) on a free port; yield the port."""
    server = start_api(env, free_port())
    try:
        yield int(server.url.rsplit(":", 1)[1])
    finally:
        server.stop()
