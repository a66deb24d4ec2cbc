"""Ports: what the core needs from the outside world, as Protocols and vendor-neutral DTOs.

Concrete adapters live in `adapters/` and `workers/`; only `app/main.py` and
`workers/bootstrap.py` choose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class QueueUnavailable(Exception):
    """The job queue (Redis) cannot take work right now; callers answer 503 so senders retry."""


@dataclass(frozen=True)
class FailedJob:
    """A job that exhausted its retries (no payload: it may carry PHI)."""

    id: str
    name: str
    enqueued_at: datetime | None
    failed_at: datetime | None
    error_type: str
    attempts: int


class JobQueue(Protocol):
    """Background work: jobs take ids or small JSON, re-read state and are idempotent."""

    async def enqueue(self, name: str, payload: dict[str, Any], *, job_id: str | None = None) -> str:
        """Queue job `name` with `payload`; a repeated `job_id` is not queued twice. Returns the job id."""
        ...

    async def failed_jobs(self, *, limit: int = 50) -> list[FailedJob]:
        """Jobs that failed after their last retry, newest first."""
        ...
