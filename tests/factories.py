"""Factory functions for FHIR test data; unique identifiers keep tests independent on one HAPI."""

from __future__ import annotations

import uuid
from typing import Any

TEST_SYSTEM = "urn:prm:test"


def unique(prefix: str = "t") -> str:
    """A short unique token for identifiers and names."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def organization(*, value: str | None = None, name: str = "Test Org") -> dict[str, Any]:
    """An Organization (a type the PRM does not profile) with a unique identifier."""
    return {
        "resourceType": "Organization",
        "identifier": [{"system": TEST_SYSTEM, "value": value or unique("org")}],
        "name": name,
    }


def phone() -> str:
    """A unique, valid Indian mobile number in E.164."""
    return f"+9197{uuid.uuid4().int % 10**8:08d}"


def person_name() -> str:
    """A unique two-word name of random letters (no shared prefix, so fuzzy matching tells them apart)."""
    letters = "".join(chr(ord("a") + b % 26) for b in uuid.uuid4().bytes[:14])
    return f"{letters[:7].title()} {letters[7:].title()}"
