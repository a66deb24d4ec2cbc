"""Session fixtures: one real HAPI FHIR server and one real Redis, started lazily for the tests marked
`integration` (and only for them: a pure test asking for a server fixture fails)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import ApiKey, Role, Settings
from app.conformance import LoadReport, load_conformance
from app.fhir.client import FhirClient
from tests.clinic import Clinic, make_clinic
from tests.support.servers import Server, start_hapi, start_redis

ADMIN_KEY = "test-admin-key"
STAFF_KEY = "test-staff-key"
INTEGRATION_KEY = "test-integration-key"
PUBLIC_BASE_URL = "https://prm.test"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
VOICE_WEBHOOK_SECRET = "test-voice-webhook-secret"


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


# Fixtures that start, or stand on, the session's servers.
SERVER_FIXTURES = frozenset(
    {"hapi", "redis_server", "conformance", "settings", "fhir", "app", "api", "clinic", "demo_clinic"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fuzz stage first, while HAPI holds little more than the demo clinic: it checks robustness
    (no 5xx, conforming answers), and late in a session its list and slot searches outgrow its
    request timeout on a large HAPI (performance is bench/'s subject)."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/test_fuzz.py"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Keep the fast loop fast: only tests marked `integration` may start servers."""
    if item.get_closest_marker("integration") is None:
        wanted = SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        if wanted:
            pytest.fail(
                f"{item.nodeid} uses {', '.join(sorted(wanted))} but is not marked integration "
                "(add pytestmark = pytest.mark.integration, or move it out of tests/unit)",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def hapi(workdir: Path) -> Iterator[Server]:
    server = start_hapi(workdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(workdir: Path) -> Iterator[Server]:
    server = start_redis(workdir / "redis")
    yield server
    server.stop()


def make_settings(*, fhir_base_url: str, redis_url: str, **overrides: object) -> Settings:
    """Settings for a test app: test keys, the session's servers, conformance loaded by the session."""
    values: dict[str, object] = {
        "environment": "test",
        "fhir_base_url": fhir_base_url,
        "redis_url": redis_url,
        "public_base_url": PUBLIC_BASE_URL,
        "load_conformance_on_startup": False,
        # Only tests/changes subscribe HAPI to a receiver (their own port); others must not point it at :8000.
        "change_feed_subscribe_on_startup": False,
        "log_json": True,
        # One HAPI on H2 serves the whole session and grows to hundreds of thousands of resources, with
        # earlier tests' subscriptions still retrying deliveries: late in a run a slot search by specialty
        # (every schedule of it so far) has taken over the 15 s default (CI, 2026-11-29). The suite tests
        # behaviour, bench/ measures speed; tests/fhir sets short timeouts where timeouts are the subject.
        "fhir_timeout_seconds": 60.0,
        # Signs and verifies Twilio webhooks in tests (tests/support/twilio.py signs like Twilio).
        "twilio_auth_token": SecretStr(TWILIO_AUTH_TOKEN),
        # Signs and verifies the voice agent's events (tests/calls/support.py signs like a platform).
        "voice_webhook_secret": SecretStr(VOICE_WEBHOOK_SECRET),
        # The session's in-process client calls from one address with three keys, faster than any
        # clinic: the suite must not be answered 429. tests/app/test_ratelimit.py sets real limits.
        "auth_failure_limit": "1000/minute",
        "rate_limit_per_key": "1000000/minute",
        "api_keys": [
            ApiKey(key=SecretStr(ADMIN_KEY), role=Role.ADMIN, user="admin@test"),
            ApiKey(key=SecretStr(STAFF_KEY), role=Role.STAFF, user="reception@test"),
            ApiKey(key=SecretStr(INTEGRATION_KEY), role=Role.INTEGRATION, user="ehr@test"),
        ],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def conformance(hapi: Server) -> LoadReport:
    """The PRM's profiles, terminology, search parameters and examples, loaded once before any
    integration test writes (HAPI validates writes against them)."""
    client = FhirClient(hapi.url, timeout_seconds=120)
    try:
        return await load_conformance(client)
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def settings(hapi: Server, redis_server: Server, conformance: LoadReport) -> Settings:
    return make_settings(fhir_base_url=hapi.url, redis_url=redis_server.url)


@pytest.fixture(scope="session")
async def fhir(settings: Settings) -> AsyncIterator[FhirClient]:
    # A fresh HAPI validates the first examples transaction with a cold validator: on a busy 2-core
    # machine that took over the default 15 s, and the session's conformance fixture then failed.
    client = FhirClient(settings.fhir_base_url, timeout_seconds=120)
    yield client
    await client.aclose()


async def started(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield an HTTP client speaking to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            yield client


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    # Imported here: the whole application (and the vendor SDKs it names) would slow `make test-unit`.
    from app.main import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started(app):
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def admin() -> dict[str, str]:
    return bearer(ADMIN_KEY)


@pytest.fixture(scope="session")
def staff() -> dict[str, str]:
    return bearer(STAFF_KEY)


@pytest.fixture(scope="session")
def integration() -> dict[str, str]:
    return bearer(INTEGRATION_KEY)


@pytest.fixture(scope="session")
async def clinic(api: httpx.AsyncClient, admin: dict[str, str]) -> Clinic:
    return await make_clinic(api, admin)


# The demo clinic's slots are generated this far ahead in tests (the run command uses 30 days).
DEMO_TEST_HORIZON_DAYS = 14


@pytest.fixture(scope="session")
async def demo_clinic(fhir: FhirClient, settings: Settings, app: FastAPI, api: httpx.AsyncClient) -> None:
    """The demo clinic of app/demo/directory.json, loaded once (idempotently) into the session's HAPI."""
    from app.demo.seed import load_demo

    directory = app.state.services.directory
    state = app.state.services.state
    await load_demo(
        fhir,
        directory,
        state,
        now=datetime.now(UTC),
        mrn_prefix=settings.mrn_prefix,
        horizon_days=DEMO_TEST_HORIZON_DAYS,
    )
    # The app may have read the directory before the demo existed; make it read it again.
    directory.invalidate()
