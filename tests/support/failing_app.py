"""An app for `uvicorn --factory` in tests: the real middleware over unreachable servers, plus a failing route."""

from __future__ import annotations

from fastapi import FastAPI, Request

from app.config import Settings
from app.main import create_app


def create() -> FastAPI:
    """The PRM app (settings from the environment) with `POST /test-explode`, which always raises."""
    app = create_app(Settings(load_conformance_on_startup=False))

    @app.post("/test-explode", summary="test only")
    async def explode(request: Request) -> None:
        body = await request.json()
        # The message quotes the request, as pydantic's and httpx's do.
        raise ValueError(f"cannot handle {body} for {request.query_params}")

    return app
