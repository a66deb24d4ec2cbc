"""Small builders shared by every capability: extensions, codings, meta and Provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.fhir.canonical import CS_AGENT_TYPE, EXT_INSTRUCTION, SID_PRM_AGENT, SID_STAFF_USER
from app.fhir.client import Resource

DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"


def meta_profile(profile: str) -> dict[str, list[str]]:
    """`meta` declaring the PRM profile a resource conforms to."""
    return {"profile": [profile]}


def extension(url: str, **value: Any) -> dict[str, Any]:
    """An extension, e.g. extension(EXT_BOOKING_CHANNEL, valueCode="whatsapp")."""
    return {"url": url, **value}


def extension_value(resource: Resource, url: str) -> Any:
    """The value[x] of the first extension with `url`, or None."""
    for ext in resource.get("extension", []):
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def set_extension(resource: Resource, url: str, **value: Any) -> None:
    """Replace (or add) the extension `url` of a resource in place."""
    others = [e for e in resource.get("extension", []) if e.get("url") != url]
    resource["extension"] = [*others, extension(url, **value)]


def set_task_owner(task: Resource, user: str | None) -> None:
    """Give a Task to a staff user, referenced by identifier (None: nobody owns it)."""
    if user:
        task["owner"] = {"identifier": {"system": SID_STAFF_USER, "value": user}, "display": user}
    else:
        task.pop("owner", None)


def task_owner(task: Resource) -> str | None:
    """The staff user who owns a Task."""
    ident = (task.get("owner") or {}).get("identifier") or {}
    return str(ident["value"]) if ident.get("system") == SID_STAFF_USER and ident.get("value") else None


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A Coding."""
    return {"system": system, "code": code, **({"display": display} if display else {})}


def code_in(concept: dict[str, Any] | None, system: str) -> str | None:
    """The code of `system` in a CodeableConcept, or None."""
    for c in (concept or {}).get("coding", []):
        if c.get("system") == system:
            code: str = c["code"]
            return code
    return None


def split_name(full: str) -> tuple[str, str]:
    """(given, family) of a full name as people write it: the last word is the family name."""
    words = full.split()
    if not words:
        raise ValueError("a name must not be empty")
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (words[0], "")


def now_utc() -> datetime:
    """The current instant (UTC)."""
    return datetime.now(UTC)


def instant(moment: datetime) -> str:
    """FHIR instant/dateTime text of an aware datetime, keeping its offset."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.isoformat(timespec="seconds")


class AgentKind(StrEnum):
    """Who or what acted (CodeSystem prm-agent-type)."""

    STAFF = "staff"
    ASSISTANT = "assistant"
    WHATSAPP_BOT = "whatsapp-bot"
    VOICE_AGENT = "voice-agent"
    EHR = "ehr"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """An agent of a write: a staff user (by the API key's user), or a PRM agent."""

    kind: AgentKind
    user: str | None = None

    def agent(self) -> dict[str, Any]:
        """This actor as a Provenance.agent."""
        system, value = (SID_STAFF_USER, self.user) if self.user else (SID_PRM_AGENT, self.kind.value)
        return {
            "type": {"coding": [coding(CS_AGENT_TYPE, self.kind.value)]},
            "who": {"identifier": {"system": system, "value": value}, "display": value},
        }


def provenance(
    *,
    targets: list[str],
    actors: list[Actor],
    activity: str,
    operation: str = "CREATE",
    instruction: str | None = None,
) -> Resource:
    """A Provenance for a PRM write: what was written, by whom, doing what."""
    resource: Resource = {
        "resourceType": "Provenance",
        "target": [{"reference": ref} for ref in targets],
        "recorded": instant(now_utc()),
        "activity": {"coding": [coding(DATA_OPERATION, operation)], "text": activity},
        "agent": [actor.agent() for actor in actors],
    }
    if instruction:
        resource["extension"] = [extension(EXT_INSTRUCTION, valueString=instruction)]
    return resource
