"""Administration: what operators look at when something went wrong in the background."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.deps import Queue
from app.errors import error_responses
from app.security import AdminUser

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class FailedJobOut(BaseModel):
    """A background job that failed after its last retry."""

    id: str
    name: str
    enqueued_at: datetime | None
    failed_at: datetime | None
    error_type: str
    attempts: int


@router.get(
    "/jobs/failed",
    response_model=list[FailedJobOut],
    responses=error_responses(401, 403, 503),
    summary="Jobs that exhausted their retries",
)
async def failed_jobs(
    queue: Queue, _: AdminUser, limit: int = Query(default=50, ge=1, le=500)
) -> list[FailedJobOut]:
    """List failed jobs, newest first (admin only)."""
    return [FailedJobOut(**vars(job)) for job in await queue.failed_jobs(limit=limit)]
