"""API-key authentication and role checks (`Authorization: Bearer <key>`)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Role, Settings
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


def authenticate(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The key's principal, or ApiError 401 (the caller shapes the error for its path)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(
            401,
            "unauthorized",
            "Missing API key: send 'Authorization: Bearer <key>'",
            headers=WWW_AUTHENTICATE,
        )
    presented = credentials.credentials.encode()
    for api_key in settings.api_keys:
        # Compare every key in constant time so the answer's timing does not reveal a prefix.
        if hmac.compare_digest(presented, api_key.key.get_secret_value().encode()):
            return Principal(user=api_key.user, role=api_key.role)
    raise ApiError(401, "unauthorized", "Invalid API key", headers=WWW_AUTHENTICATE)


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only callers whose key has one of `roles` (401 without a key, 403 otherwise)."""

    async def dependency(request: Request, credentials: BearerCredentials) -> Principal:
        principal = authenticate(request.app.state.settings, credentials)
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
