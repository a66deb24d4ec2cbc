"""What a change is (type, id, version, kind) and the keys derived from it for de-duplication and jobs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Resource = dict[str, Any]

# FHIR's own rules: a resource type name, a logical id, a version id.
_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ETAG = re.compile(r'^(?:W/)?"([A-Za-z0-9\-.]{1,64})"$')


class ChangeKind(StrEnum):
    """What happened to the resource at that version."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class BadChange(ValueError):
    """A notification or history entry that does not name a valid type/id/version."""


@dataclass(frozen=True)
class Change:
    """One version of one resource; `resource` is its content when known (never for a delete)."""

    resource_type: str
    id: str
    version: str
    kind: ChangeKind
    resource: Resource | None = None

    @property
    def reference(self) -> str:
        """`Type/id/_history/version`: what logs may name."""
        return f"{self.resource_type}/{self.id}/_history/{self.version}"


def check_type(resource_type: str) -> str:
    """The type name, or BadChange."""
    if not _TYPE.match(resource_type):
        raise BadChange(f"not a FHIR resource type: {resource_type[:64]!r}")
    return resource_type


def check_id(value: str, what: str = "id") -> str:
    """A FHIR id (letters, digits, '-', '.', at most 64), or BadChange."""
    if not _ID.match(value):
        raise BadChange(f"not a FHIR {what}: {value[:64]!r}")
    return value


def version_from_etag(etag: str | None) -> str | None:
    """The version id in an ETag / If-Match value such as `W/"3"`, or None."""
    match = _ETAG.match(etag.strip()) if etag else None
    return match.group(1) if match else None


def kind_of(version: str, *, deleted: bool) -> ChangeKind:
    """Deleted, or created for version 1, else updated (the same answer on every path)."""
    if deleted:
        return ChangeKind.DELETED
    return ChangeKind.CREATED if version == "1" else ChangeKind.UPDATED


def dedupe_key(resource_type: str, resource_id: str, version: str) -> str:
    """The StateStore key marking a version as seen (rest-hook and sweep share it)."""
    return f"changes:seen:{resource_type}/{resource_id}/{version}"


def handle_job_id(resource_type: str, resource_id: str, version: str) -> str:
    """The deterministic id of the job handling one version, so it is queued once whoever asks."""
    return f"change-{resource_type}-{resource_id}-{version}"


def cursor_key(resource_type: str) -> str:
    """The StateStore key holding the sweep's cursor (HAPI's lastUpdated) for a type."""
    return f"changes:cursor:{resource_type}"
