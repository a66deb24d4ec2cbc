"""The directory's FastAPI dependency: the cached index of the Services object."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import services
from app.directory.index import DirectoryCache


async def _directory(request: Request) -> DirectoryCache:
    return services(request).directory


Directory = Annotated[DirectoryCache, Depends(_directory)]
