"""The FHIR shape of an inbox conversation (Task, profile prm-conversation) and how to read one back.

A conversation is one per channel and patient address: its identifier is `<channel>:<address>` in
SID_CONVERSATION. Its messages are Communications whose conversation-thread extension holds the
conversation's id. Open is Task.status `in-progress`, closed is `completed`; `lastModified` is the
time of the latest message; `owner` is the assigned staff user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.fhir.builders import coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CS_TASK_TYPE,
    EXT_CHANNEL,
    EXT_CONVERSATION_TAG,
    EXT_READ_UP_TO,
    PROFILE_CONVERSATION,
    SID_CONVERSATION,
    SID_STAFF_USER,
    TASK_TYPE_CONVERSATION,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime


class ConversationStatus(StrEnum):
    """Whether staff still have to look at the thread."""

    OPEN = "open"
    CLOSED = "closed"


_TASK_STATUS = {ConversationStatus.OPEN: "in-progress", ConversationStatus.CLOSED: "completed"}


def conversation_key(channel: str, address: str) -> str:
    """The identifier value of the thread of an address on a channel, e.g. `whatsapp:+919844111173`."""
    return f"{channel}:{address}"


def identifier_search(channel: str, address: str) -> dict[str, str]:
    """The FHIR search that finds the conversation of an address on a channel."""
    return {"identifier": f"{SID_CONVERSATION}|{conversation_key(channel, address)}"}


def conversation_resource(*, channel: str, address: str, patient_id: str | None, at: datetime) -> Resource:
    """A new open conversation for an address (the patient's, when known)."""
    task: Resource = {
        "resourceType": "Task",
        "meta": meta_profile(PROFILE_CONVERSATION),
        "extension": [extension(EXT_CHANNEL, valueCode=channel)],
        "identifier": [{"system": SID_CONVERSATION, "value": conversation_key(channel, address)}],
        "status": _TASK_STATUS[ConversationStatus.OPEN],
        "intent": "order",
        "code": {"coding": [coding(CS_TASK_TYPE, TASK_TYPE_CONVERSATION)]},
        "authoredOn": instant(at),
        "lastModified": instant(at),
    }
    if patient_id:
        task["for"] = {"reference": f"Patient/{patient_id}"}
    return task


def set_status(task: Resource, status: ConversationStatus) -> None:
    """Open or close the conversation."""
    task["status"] = _TASK_STATUS[status]


def set_owner(task: Resource, user: str | None) -> None:
    """Assign the conversation to a staff user, or unassign it (None)."""
    if user is None:
        task.pop("owner", None)
    else:
        task["owner"] = {"identifier": {"system": SID_STAFF_USER, "value": user}, "display": user}


def set_tags(task: Resource, tags: list[str]) -> None:
    """Replace the conversation's tags (kept sorted and unique)."""
    others = [e for e in task.get("extension", []) if e.get("url") != EXT_CONVERSATION_TAG]
    task["extension"] = others + [extension(EXT_CONVERSATION_TAG, valueString=t) for t in sorted(set(tags))]


def set_read_up_to(task: Resource, at: datetime) -> None:
    """Mark every inbound message received up to `at` as read."""
    others = [e for e in task.get("extension", []) if e.get("url") != EXT_READ_UP_TO]
    task["extension"] = [*others, extension(EXT_READ_UP_TO, valueDateTime=instant(at))]


def set_patient(task: Resource, patient_id: str) -> None:
    """Join the conversation to the patient the address turned out to belong to."""
    task["for"] = {"reference": f"Patient/{patient_id}"}


def touch(task: Resource, at: datetime, *, reopen: bool) -> bool:
    """Record a message at `at` (and reopen a closed thread if asked); False if nothing changed."""
    changed = False
    latest = parse_datetime(task.get("lastModified"))
    if latest is None or at > latest:
        task["lastModified"] = instant(at)
        changed = True
    if reopen and task.get("status") != _TASK_STATUS[ConversationStatus.OPEN]:
        set_status(task, ConversationStatus.OPEN)
        changed = True
    return changed


@dataclass(frozen=True)
class Conversation:
    """A conversation as the PRM reads it (tolerant of Tasks written by others)."""

    id: str
    channel: str | None
    address: str | None
    patient_id: str | None
    status: ConversationStatus
    assignee: str | None
    tags: tuple[str, ...]
    read_up_to: datetime | None
    last_message_at: datetime | None

    @property
    def reference(self) -> str:
        """`Task/<id>`: what logs may name."""
        return f"Task/{self.id}"


def conversation_of(task: Resource) -> Conversation:
    """Read a conversation Task back."""
    key = next(
        (i.get("value", "") for i in task.get("identifier", []) if i.get("system") == SID_CONVERSATION), ""
    )
    address = key.partition(":")[2] or None
    subject = (task.get("for") or {}).get("reference", "")
    owner = ((task.get("owner") or {}).get("identifier") or {}).get("value")
    closed = task.get("status") in ("completed", "cancelled", "failed")
    return Conversation(
        id=str(task.get("id", "")),
        channel=extension_value(task, EXT_CHANNEL),
        address=address,
        patient_id=subject.removeprefix("Patient/") if subject.startswith("Patient/") else None,
        status=ConversationStatus.CLOSED if closed else ConversationStatus.OPEN,
        assignee=owner,
        tags=tuple(
            str(e["valueString"])
            for e in task.get("extension", [])
            if e.get("url") == EXT_CONVERSATION_TAG and e.get("valueString")
        ),
        read_up_to=parse_datetime(extension_value(task, EXT_READ_UP_TO)),
        last_message_at=parse_datetime(task.get("lastModified")),
    )
