"""The campaign tests' world: services on a fake clock, a memory queue, the sandbox messenger."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.config import Settings
from tests.campaigns.support import World, world_of


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    async with world_of(settings) as made:
        yield made
