"""Building FHIR transaction Bundles: every multi-resource write of the PRM is one of these."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.fhir.client import Resource, etag, search_query


class Transaction:
    """Accumulates the entries of one transaction Bundle (all written, or none)."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def create(self, resource: Resource, *, if_none_exist: Mapping[str, str] | None = None) -> str:
        """Add a POST (conditional on no match of the `if_none_exist` search); returns its `urn:uuid:`."""
        full_url = f"urn:uuid:{uuid.uuid4()}"
        request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
        if if_none_exist:
            request["ifNoneExist"] = search_query(if_none_exist)
        self._entries.append({"fullUrl": full_url, "resource": resource, "request": request})
        return full_url

    def update(self, resource: Resource, *, if_match: str | None = None) -> str:
        """Add a PUT of `Type/id`; `if_match` is the version that must still be current."""
        ref = f"{resource['resourceType']}/{resource['id']}"
        request: dict[str, Any] = {"method": "PUT", "url": ref}
        if if_match is not None:
            request["ifMatch"] = etag(if_match)
        self._entries.append({"fullUrl": ref, "resource": resource, "request": request})
        return ref

    def write(self, resource: Resource) -> str:
        """PUT a resource that carries its (client-assigned) id, POST one that does not."""
        return self.update(resource) if "id" in resource else self.create(resource)

    def __len__(self) -> int:
        return len(self._entries)

    def bundle(self) -> Resource:
        """The transaction Bundle to send."""
        return {"resourceType": "Bundle", "type": "transaction", "entry": list(self._entries)}


def response_references(response: Resource) -> list[str]:
    """The `Type/id` each entry of a transaction-response points at, in request order."""
    refs = []
    for entry in response.get("entry", []):
        location = entry.get("response", {}).get("location", "")
        # location is "Type/id/_history/n"; keep Type/id.
        parts = location.split("/")
        refs.append("/".join(parts[:2]) if len(parts) >= 2 else location)
    return refs


def response_resources(response: Resource) -> list[Resource]:
    """The stored resources of a transaction-response (sent with Prefer: return=representation)."""
    return [entry.get("resource", {}) for entry in response.get("entry", [])]
