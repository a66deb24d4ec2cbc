"""Pure tests: no servers (the root conftest refuses server fixtures to tests not marked integration);
apps built here point at ports where nothing listens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.security import AnyUser
from tests.conftest import make_settings
from tests.support.servers import free_port


def offline_settings(**overrides: object) -> Settings:
    """Test settings whose HAPI and Redis are unreachable (connections are refused at once)."""
    values: dict[str, object] = {"transcription_engine": "none"}  # loading a speech model takes ~0.3 s
    values.update(overrides)
    return make_settings(
        fhir_base_url=f"http://127.0.0.1:{free_port()}/fhir",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        **values,
    )


def offline_app(**overrides: object) -> FastAPI:
    """The real app over unreachable servers, plus `/whoami` (authenticated, no dependency)."""
    app = create_app(offline_settings(**overrides))

    @app.get("/whoami", summary="test only")
    async def whoami(principal: AnyUser) -> dict[str, str]:
        return {"user": principal.user}

    return app


async def serve(
    app: FastAPI, client: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield an in-process client calling from `client`."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as http:
            yield http
