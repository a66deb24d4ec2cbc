"""The FHIR shape of a message (Communication, profile prm-communication) and how to read one back.

Inbound: status `completed`, delivery-status `received`, `received` set, the provider's id as identifier.
Outbound: created `preparation` with delivery-status `queued` before anything is sent; the send job
moves it on (completed / on-hold / not-done) and status callbacks move its delivery-status forward.
Both carry the conversation's id in the conversation-thread extension.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.fhir.builders import Actor, AgentKind, coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CS_ACT_REASON,
    CS_CHANNEL,
    CS_MESSAGE_STATUS_REASON,
    EXT_CHANNEL,
    EXT_DELIVERY_STATUS,
    EXT_MESSAGE_CHOICES,
    EXT_MESSAGE_TEMPLATE,
    EXT_THREAD,
    PROFILE_COMMUNICATION,
    PURPOSE_MARKETING,
    SID_PRM_AGENT,
    SID_STAFF_USER,
    SID_TWILIO_MESSAGE,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.ports.messaging import Choice, ChoiceList


class Direction(StrEnum):
    """Whether the patient or the clinic wrote it."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Priority(StrEnum):
    """Communication.priority: urgent messages are sent in quiet hours, routine ones wait."""

    ROUTINE = "routine"
    URGENT = "urgent"


# Delivery statuses in the order a message moves through them; a callback never moves one back.
DELIVERY_ORDER = ("queued", "sent", "delivered", "read")
FINAL_FAILURES = ("failed", "undelivered")
RECEIVED = "received"


@dataclass(frozen=True)
class TemplateUse:
    """The project template (and variables) an outbound message was rendered from."""

    name: str
    language: str
    variables: Mapping[str, str] = field(default_factory=dict)


def base_message(*, channel: str, thread_id: str, delivery: str, status: str) -> Resource:
    """What every message has: profile, channel (extension and medium), thread, delivery and status."""
    return {
        "resourceType": "Communication",
        "meta": meta_profile(PROFILE_COMMUNICATION),
        "extension": [
            extension(EXT_CHANNEL, valueCode=channel),
            extension(EXT_THREAD, valueString=thread_id),
            extension(EXT_DELIVERY_STATUS, valueCode=delivery),
        ],
        "status": status,
        "medium": [{"coding": [coding(CS_CHANNEL, channel)]}],
    }


def inbound_message(
    *,
    provider_id: str,
    channel: str,
    thread_id: str,
    patient_id: str | None,
    text: str | None,
    received: datetime,
    attachments: Sequence[str] = (),
) -> Resource:
    """A message a patient (or an unknown number) sent; `attachments` are DocumentReference references."""
    message = base_message(channel=channel, thread_id=thread_id, delivery=RECEIVED, status="completed")
    message["identifier"] = [{"system": SID_TWILIO_MESSAGE, "value": provider_id}]
    message["received"] = instant(received)
    if patient_id:
        message["subject"] = {"reference": f"Patient/{patient_id}"}
        message["sender"] = {"reference": f"Patient/{patient_id}"}
    payload: list[Resource] = [{"contentString": text}] if text else []
    payload += [{"contentReference": {"reference": ref}} for ref in attachments]
    if payload:
        message["payload"] = payload
    return message


def outbound_message(
    *,
    channel: str,
    thread_id: str,
    patient_id: str | None,
    text: str,
    sender: Actor,
    priority: Priority = Priority.ROUTINE,
    template: TemplateUse | None = None,
    about: Sequence[str] = (),
    based_on: Sequence[str] = (),
    choices: ChoiceList | None = None,
    marketing: bool = False,
) -> Resource:
    """A message the clinic will send, recorded before it is sent (status preparation); `based_on`: the
    requests it fulfils (a campaign run); `choices`: the options its text numbers, sent as a list where
    the channel has one; `marketing`: category HMARKT, which a marketing opt-out stops."""
    message = base_message(channel=channel, thread_id=thread_id, delivery="queued", status="preparation")
    message["priority"] = priority.value
    message["sender"] = sender.agent()["who"]
    message["payload"] = [{"contentString": text}]
    if patient_id:
        message["subject"] = {"reference": f"Patient/{patient_id}"}
        message["recipient"] = [{"reference": f"Patient/{patient_id}"}]
    if template is not None:
        message["extension"].append(template_extension(template))
    if choices is not None:
        message["extension"].append(choices_extension(choices))
    if based_on:
        message["basedOn"] = [{"reference": ref} for ref in based_on]
    if marketing:
        message["category"] = [{"coding": [coding(CS_ACT_REASON, PURPOSE_MARKETING)]}]
    if about:
        message["about"] = [{"reference": ref} for ref in about]
    return message


def template_extension(template: TemplateUse) -> Resource:
    """The message-template extension (variables as one JSON object: FHIR has no map type)."""
    parts = [
        {"url": "name", "valueString": template.name},
        {"url": "language", "valueCode": template.language},
    ]
    if template.variables:
        parts.append(
            {"url": "variables", "valueString": json.dumps(dict(template.variables), ensure_ascii=False)}
        )
    return {"url": EXT_MESSAGE_TEMPLATE, "extension": parts}


def template_of(message: Resource) -> TemplateUse | None:
    """The template an outbound message was rendered from, if any (None when unreadable)."""
    ext = next((e for e in message.get("extension", []) if e.get("url") == EXT_MESSAGE_TEMPLATE), None)
    if ext is None:
        return None
    parts = {p.get("url"): p for p in ext.get("extension", [])}
    name = parts.get("name", {}).get("valueString")
    language = parts.get("language", {}).get("valueCode")
    try:
        variables = json.loads(parts.get("variables", {}).get("valueString") or "{}")
    except ValueError:
        return None
    if not name or not language or not isinstance(variables, dict):
        return None
    return TemplateUse(name=name, language=language, variables={str(k): str(v) for k, v in variables.items()})


def choices_extension(choices: ChoiceList) -> Resource:
    """The message-choices extension (the options as one JSON array: a row is id, title, description)."""
    options = [{"id": c.id, "title": c.title, "description": c.description} for c in choices.choices]
    return {
        "url": EXT_MESSAGE_CHOICES,
        "extension": [
            {"url": "body", "valueString": choices.body},
            {"url": "button", "valueString": choices.button},
            {"url": "options", "valueString": json.dumps(options, ensure_ascii=False)},
        ],
    }


def choices_of(message: Resource) -> ChoiceList | None:
    """The options a message offered, if any (None when unreadable: the text alone is sent)."""
    ext = next((e for e in message.get("extension", []) if e.get("url") == EXT_MESSAGE_CHOICES), None)
    if ext is None:
        return None
    parts = {p.get("url"): p.get("valueString") for p in ext.get("extension", [])}
    try:
        options = json.loads(parts.get("options") or "[]")
    except ValueError:
        return None
    if not isinstance(options, list) or not parts.get("body") or not parts.get("button"):
        return None
    rows = tuple(
        Choice(id=str(o["id"]), title=str(o["title"]), description=str(o.get("description") or "") or None)
        for o in options
        if isinstance(o, dict) and o.get("id") and o.get("title")
    )
    return ChoiceList(body=str(parts["body"]), button=str(parts["button"]), choices=rows) if rows else None


def set_delivery_status(message: Resource, status: str) -> bool:
    """Move the delivery status forward only (a late `sent` after `delivered` is ignored; a failure is
    final); False if nothing changed."""
    current = extension_value(message, EXT_DELIVERY_STATUS)
    if current in (status, RECEIVED, *FINAL_FAILURES):
        return False
    ordered = status in DELIVERY_ORDER and current in DELIVERY_ORDER
    if ordered and DELIVERY_ORDER.index(status) <= DELIVERY_ORDER.index(current):
        return False
    others = [e for e in message.get("extension", []) if e.get("url") != EXT_DELIVERY_STATUS]
    message["extension"] = [*others, extension(EXT_DELIVERY_STATUS, valueCode=status)]
    return True


def set_status_reason(message: Resource, reason: str, *, provider_code: str | None = None) -> None:
    """Why it was not sent or not delivered (a code of ours, and the provider's error code if any)."""
    codings = [coding(CS_MESSAGE_STATUS_REASON, reason)]
    if provider_code:
        codings.append(coding(PROVIDER_ERRORS, provider_code))
    message["statusReason"] = {"coding": codings}


# The status reason of a marketing message to a patient who opted out of marketing (do not disturb).
MARKETING_OPT_OUT = "marketing-opt-out"
# Where Twilio's error codes are defined (not ours: a code system URI for their numbers).
PROVIDER_ERRORS = "https://www.twilio.com/docs/api/errors"


@dataclass(frozen=True)
class Message:
    """A message as the inbox shows it (tolerant of Communications written by others)."""

    id: str
    direction: Direction
    channel: str | None
    thread_id: str | None
    patient_id: str | None
    text: str | None
    attachments: tuple[str, ...]
    delivery_status: str | None
    status: str
    sent_at: datetime | None
    sender_kind: str
    sender_user: str | None
    provider_id: str | None
    template: TemplateUse | None
    reason: str | None
    provider_code: str | None
    choices: ChoiceList | None = None
    marketing: bool = False  # category HMARKT: a campaign's message, stopped by a marketing opt-out


def _sender(message: Resource, direction: Direction) -> tuple[str, str | None]:
    if direction is Direction.INBOUND:
        return "patient", None
    identifier = ((message.get("sender") or {}).get("identifier")) or {}
    if identifier.get("system") == SID_STAFF_USER:
        return AgentKind.STAFF.value, identifier.get("value")
    if identifier.get("system") == SID_PRM_AGENT and identifier.get("value"):
        return str(identifier["value"]), None
    return AgentKind.SYSTEM.value, None


def message_of(message: Resource) -> Message:
    """Read a Communication back as a message."""
    delivery = extension_value(message, EXT_DELIVERY_STATUS)
    direction = (
        Direction.INBOUND
        if delivery == RECEIVED or (message.get("received") and not message.get("sent"))
        else Direction.OUTBOUND
    )
    subject = (message.get("subject") or {}).get("reference", "")
    texts = [
        p["contentString"] for p in message.get("payload", []) if isinstance(p.get("contentString"), str)
    ]
    attachments = tuple(
        str(p["contentReference"]["reference"])
        for p in message.get("payload", [])
        if isinstance(p.get("contentReference"), dict) and p["contentReference"].get("reference")
    )
    reason = provider_code = None
    for c in (message.get("statusReason") or {}).get("coding", []):
        if c.get("system") == CS_MESSAGE_STATUS_REASON:
            reason = c.get("code")
        elif c.get("system") == PROVIDER_ERRORS:
            provider_code = c.get("code")
    kind, user = _sender(message, direction)
    when = message.get("received") if direction is Direction.INBOUND else message.get("sent")
    return Message(
        id=str(message.get("id", "")),
        direction=direction,
        channel=extension_value(message, EXT_CHANNEL),
        thread_id=extension_value(message, EXT_THREAD),
        patient_id=subject.removeprefix("Patient/") if subject.startswith("Patient/") else None,
        text="\n".join(texts) if texts else None,
        attachments=attachments,
        delivery_status=delivery,
        status=str(message.get("status", "unknown")),
        sent_at=parse_datetime(when),
        sender_kind=kind,
        sender_user=user,
        provider_id=next((str(i["value"]) for i in message.get("identifier", []) if i.get("value")), None),
        template=template_of(message),
        reason=reason,
        provider_code=provider_code,
        choices=choices_of(message),
        marketing=any(
            c.get("system") == CS_ACT_REASON and c.get("code") == PURPOSE_MARKETING
            for category in message.get("category") or []
            for c in category.get("coding") or []
        ),
    )
