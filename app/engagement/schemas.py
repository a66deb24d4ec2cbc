"""API model of the engagement score."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.engagement.score import Engagement


class EngagementFactorOut(BaseModel):
    """One part of the score."""

    factor: str
    value: float = Field(description="What was counted (days since the last visit: -1 when none)")
    points: float


class EngagementOut(BaseModel):
    """A patient's engagement (0-100), its level and its factors."""

    score: float = Field(ge=0, le=100)
    level: Literal["high", "medium", "low"]
    factors: list[EngagementFactorOut]

    @classmethod
    def of(cls, engagement: Engagement) -> EngagementOut:
        """The API view."""
        return cls(
            score=engagement.score,
            level="high"
            if engagement.level == "high"
            else "medium"
            if engagement.level == "medium"
            else "low",
            factors=[
                EngagementFactorOut(factor=f.name, value=f.value, points=f.points) for f in engagement.factors
            ],
        )
