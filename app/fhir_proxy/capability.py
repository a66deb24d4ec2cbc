"""The PRM's CapabilityStatement: HAPI's own, cut down to what `/fhir` allows and naming the PRM."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.fhir_proxy.policy import (
    EXPORT_OPERATIONS,
    READ_OPERATIONS,
    SECRET_TYPES,
    FhirInteraction,
    Kind,
    write_decision,
)

Resource = dict[str, Any]

# HAPI's statement changes only when SearchParameters or profiles are loaded; a minute is fresh enough.
CACHE_SECONDS = 60.0
# Base URLs differ only by the loopback host names and the public one; bound it anyway.
MAX_RENDERINGS = 16
SECURITY_TEXT = (
    "Every request except GET /metadata needs 'Authorization: Bearer <API key>'. A key's role decides "
    "what it may do: staff read; integration and admin read and write clinical and CRM resources. "
    "Administrative operations, writes of conformance, Provenance, AuditEvent and Subscription "
    "resources, reads of Subscriptions (they carry delivery secrets) and history across every type "
    "are refused; bulk $export is for integration and admin keys. Writes are attributed to the key's user in meta.source. See the PRM's "
    "docs/fhir-endpoint.md."
)
_WRITE_INTERACTIONS = {
    "create": Kind.CREATE,
    "update": Kind.UPDATE,
    "patch": Kind.PATCH,
    "delete": Kind.DELETE,
}
_SYSTEM_INTERACTIONS = frozenset({"transaction", "batch", "search-system"})


def prm_capability_statement(hapi: Resource, *, base_url: str, version: str) -> Resource:
    """HAPI's CapabilityStatement with the PRM's identity, security and allow-list (`base_url` is /fhir's)."""
    statement = copy.deepcopy(hapi)
    statement.pop("id", None)
    statement.pop("text", None)
    statement["software"] = {"name": "PRM FHIR endpoint", "version": version}
    statement["implementation"] = {
        "description": "PRM (Patient Relationship Management) FHIR endpoint",
        "url": base_url,
    }
    for rest in statement.get("rest", []):
        rest["security"] = {"cors": True, "description": SECURITY_TEXT}
        rest["interaction"] = [
            i for i in rest.get("interaction", []) if i.get("code") in _SYSTEM_INTERACTIONS
        ]
        _keep_allowed_operations(rest)
        rest["resource"] = [r for r in rest.get("resource", []) if r.get("type") not in SECRET_TYPES]
        for resource in rest["resource"]:
            _restrict_resource(resource)
    return statement


def _keep_allowed_operations(holder: Resource) -> None:
    if "operation" not in holder:
        return
    offered = READ_OPERATIONS | EXPORT_OPERATIONS
    holder["operation"] = [op for op in holder["operation"] if f"${op.get('name', '')}" in offered]
    if not holder["operation"]:
        del holder["operation"]


def _restrict_resource(resource: Resource) -> None:
    resource_type = str(resource.get("type", ""))
    writable = write_decision(FhirInteraction(Kind.CREATE, resource_type)).allowed
    kept = []
    for interaction in resource.get("interaction", []):
        if interaction.get("code") in _WRITE_INTERACTIONS and not writable:
            continue
        kept.append(interaction)
    resource["interaction"] = kept
    if not writable:
        for flag in ("conditionalCreate", "conditionalUpdate", "conditionalDelete", "updateCreate"):
            resource.pop(flag, None)
    elif "conditionalDelete" in resource:
        # HAPI's multiple delete is off: a conditional delete must match one resource.
        resource["conditionalDelete"] = "single"
    _keep_allowed_operations(resource)


class CapabilityCache:
    """HAPI's CapabilityStatement fetched through the gateway at most once per CACHE_SECONDS.

    HAPI's statement is large (every type and search parameter): the PRM's rendering of it is
    cached too, per base URL and pretty-printing, so serving metadata costs a dict lookup.
    """

    def __init__(self, fetch: Callable[[], Awaitable[Resource]], *, seconds: float = CACHE_SECONDS) -> None:
        self._fetch = fetch
        self._seconds = seconds
        self._value: Resource | None = None
        self._fetched_at = 0.0
        self._rendered: dict[tuple[str, str, bool], bytes] = {}

    async def get(self) -> Resource:
        """HAPI's statement, refreshed when older than the cache time."""
        now = time.monotonic()
        if self._value is None or now - self._fetched_at > self._seconds:
            self._value = await self._fetch()
            self._fetched_at = now
            self._rendered = {}
        return self._value

    async def render(self, *, base_url: str, version: str, pretty: bool) -> bytes:
        """The PRM's statement for clients calling `base_url`, as JSON bytes."""
        hapi = await self.get()
        key = (base_url, version, pretty)
        if key not in self._rendered:
            if len(self._rendered) >= MAX_RENDERINGS:
                self._rendered.clear()
            statement = prm_capability_statement(hapi, base_url=base_url, version=version)
            self._rendered[key] = json.dumps(
                statement, indent=2 if pretty else None, ensure_ascii=False
            ).encode()
        return self._rendered[key]
