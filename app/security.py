"""API-key authentication and role checks (`Authorization: Bearer <key>`)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Role
from app.deps import services
from app.errors import ApiError
from app.fhir.builders import Actor, AgentKind

_bearer = HTTPBearer(auto_error=False, description="An API key from PRM_API_KEYS")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's user (recorded in Provenance) and role."""

    user: str
    role: Role

    def actor(self) -> Actor:
        """This caller as the agent of a write (integration keys act as the EHR)."""
        return Actor(kind=AgentKind.EHR if self.role == Role.INTEGRATION else AgentKind.STAFF, user=self.user)


# RFC 6750: a 401 names the scheme the client should use.
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="prm"'}
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The key's principal; ApiError 401 (the caller shapes the error for its path), RateLimited 429."""
    settings = services(request).settings
    limiter = services(request).rate_limiter
    address = request.client.host if request.client else "unknown"
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        await limiter.refuse_blocked_address(address)
        raise ApiError(
            401,
            "unauthorized",
            "Missing API key: send 'Authorization: Bearer <key>'",
            headers=WWW_AUTHENTICATE,
        )
    # Keys are compared as SHA-256 digests (configured keys may be given only as hashes), each in
    # constant time and all of them, so the answer's timing reveals neither a prefix nor which key.
    presented = hashlib.sha256(credentials.credentials.encode()).digest()
    matched = [api_key for api_key in settings.api_keys if api_key.matches(presented)]
    if not matched:
        await limiter.refuse_blocked_address(address)
        await limiter.record_failure(address)
        raise ApiError(401, "unauthorized", "Invalid API key", headers=WWW_AUTHENTICATE)
    # Both limits at once: one Redis round trip of latency on every authenticated request.
    await asyncio.gather(limiter.refuse_blocked_address(address), limiter.hit_key(matched[0].digest_hex))
    return Principal(user=matched[0].user, role=matched[0].role)


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only callers whose key has one of `roles` (401 without a key, 403 otherwise)."""

    async def dependency(request: Request, credentials: BearerCredentials) -> Principal:
        principal = await authenticate(request, credentials)
        if principal.role not in roles:
            allowed = ", ".join(sorted(role.value for role in roles))
            raise ApiError(
                403, "forbidden", f"Role {principal.role.value!r} may not do this (needs: {allowed})"
            )
        return principal

    return dependency


AdminUser = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
StaffUser = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.STAFF))]
AnyUser = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.STAFF, Role.INTEGRATION))]
