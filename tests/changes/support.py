"""Running the change feed's jobs in this process (so handlers registered by a test see them)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from redis import Redis
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext
from app.config import Settings, get_settings
from workers.bootstrap import close_runtime
from workers.queue import lane_queues

WATCHED = "Substance"  # unprofiled and written by no other test: cheap to write, no cross-talk


class ThreadWorker(SimpleWorker):
    """An rq worker that runs jobs in a non-main thread (no signals: a timer enforces timeouts)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        """Signals belong to the main thread."""


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment the API process and the jobs read their settings from."""
    return {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": settings.fhir_base_url,
        "PRM_REDIS_URL": settings.redis_url,
        "PRM_QUEUE_NAME": settings.queue_name,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_LOG_LEVEL": "WARNING",
        "PRM_CHANGE_FEED_ENDPOINT": settings.change_feed_endpoint,
        "PRM_CHANGE_FEED_SECRET": settings.change_feed_secret.get_secret_value(),
        "PRM_CHANGE_FEED_TYPES": f'["{WATCHED}"]',
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "true",
        "PRM_BOT_ENABLED": str(settings.bot_enabled).lower(),
    }


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """Job wrappers read get_settings(): point it at the test servers while jobs run."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def run_jobs(settings: Settings) -> None:
    """Run every queued job (burst) in this thread: call it through asyncio.to_thread."""
    redis = Redis.from_url(settings.redis_url)
    with environment(worker_env(settings)):
        try:
            ThreadWorker(lane_queues(redis, settings.queue_name), connection=redis).work(
                burst=True, with_scheduler=False, logging_level="WARNING"
            )
        finally:
            close_runtime()


@dataclass(eq=False)
class Recorder:
    """A handler that records what it was given (type, id, version, kind)."""

    changes: list[Change] = field(default_factory=list)

    async def __call__(self, change: Change, *, context: ChangeContext) -> None:
        """Record."""
        self.changes.append(change)

    @property
    def __name__(self) -> str:
        return "recorder"

    def counts(self, ids: set[str]) -> Counter[tuple[str, str, ChangeKind]]:
        """How many times each (id, version, kind) of these ids was handled."""
        return Counter((c.id, c.version, c.kind) for c in self.changes if c.id in ids)
