"""API models of the inbox: threads, messages, staff replies and canned responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.inbox.resources import CannedResponse
from app.inbox.service import Thread
from app.inputs import USER_PATTERN, FhirId, InputModel, Instant
from app.messaging.resources import Message

# A tag: a short lower-case slug ("billing", "follow-up").
TAG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$"
Tag = Annotated[str, Field(pattern=TAG_PATTERN, description="A short slug: billing, follow-up")]
User = Annotated[str, Field(pattern=USER_PATTERN, description="A staff user, e.g. reception@clinic")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="en, hi, kn, hi-IN")]
MAX_TAGS = 10
MAX_TEXT = 4096


class ConversationOut(BaseModel):
    """A thread of the inbox."""

    id: str
    channel: str | None
    patient: str | None = Field(description="The patient's id, or null while the address is unknown")
    address: str | None = Field(description="The phone number (E.164) or email address")
    status: Literal["open", "closed"]
    assignee: str | None
    unread_count: int = Field(description="Inbound messages received after the thread's read-up-to time")
    last_message_at: datetime | None
    tags: list[str]
    read_up_to: datetime | None

    @classmethod
    def of(cls, thread: Thread) -> ConversationOut:
        """The API view of a thread."""
        c = thread.conversation
        return cls(
            id=c.id,
            channel=c.channel,
            patient=c.patient_id,
            address=c.address,
            status=c.status.value,
            assignee=c.assignee,
            unread_count=thread.unread_count,
            last_message_at=c.last_message_at,
            tags=list(c.tags),
            read_up_to=c.read_up_to,
        )


class SenderOut(BaseModel):
    """Who wrote a message."""

    kind: str = Field(description="patient, staff, whatsapp-bot, assistant, system ...")
    user: str | None = Field(description="The staff user, for kind staff")


class ChoiceOut(BaseModel):
    """An option a message offered (a row of a WhatsApp list); `id` is what a tapped row sends back."""

    id: str
    title: str
    description: str | None


class MessageOut(BaseModel):
    """One message of a thread."""

    id: str
    direction: Literal["inbound", "outbound"]
    channel: str | None
    text: str | None
    media: list[str] = Field(description="DocumentReference references")
    status: str | None = Field(
        description="Delivery status: received, queued, sent, delivered, read, failed ..."
    )
    sent_at: datetime | None = Field(description="Received (inbound) or sent (outbound); null while queued")
    sender: SenderOut
    template: str | None
    reason: str | None = Field(description="Why it was not sent or delivered (opted-out, ...)")
    choices: list[ChoiceOut] = Field(
        default_factory=list, description="The options the message offered, in order (the bot's lists)"
    )

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        """The API view of a message."""
        return cls(
            id=message.id,
            direction=message.direction.value,
            channel=message.channel,
            text=message.text,
            media=list(message.attachments),
            status=message.delivery_status,
            sent_at=message.sent_at,
            sender=SenderOut(kind=message.sender_kind, user=message.sender_user),
            template=message.template.name if message.template else None,
            reason=message.reason,
            choices=[
                ChoiceOut(id=c.id, title=c.title, description=c.description)
                for c in (message.choices.choices if message.choices else ())
            ],
        )


class ReplyIn(InputModel):
    """A staff reply: exactly one of `text`, `template` (with `variables`) or `canned_response`."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    template: str | None = Field(default=None, max_length=64, description="A template name")
    variables: dict[str, Annotated[str, Field(max_length=512)]] = Field(default_factory=dict, max_length=20)
    language: Language | None = Field(default=None, description="Default: the patient's preferred language")
    canned_response: FhirId | None = Field(default=None, description="A canned response id")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("text", "template", "canned_response") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, template, canned_response")
        if self.variables and self.template is None:
            raise ValueError("variables go with a template")
        return self


class AssigneeIn(InputModel):
    """Who takes the thread."""

    user: User


class TagsIn(InputModel):
    """The thread's tags (replacing the current ones)."""

    tags: list[Tag] = Field(max_length=MAX_TAGS)


class ReadIn(InputModel):
    """Mark read up to a time (default: now)."""

    at: Instant | None = None


class CannedResponseIn(InputModel):
    """A canned response: a title, its text per language (English required), tags and a shortcut."""

    title: str = Field(min_length=1, max_length=120)
    texts: dict[Language, Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]] = Field(
        min_length=1, max_length=20, description='By language: {"en": "...", "hi": "...", "kn": "..."}'
    )
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    shortcut: Tag | None = Field(default=None, description="Unique among canned responses, e.g. hours")

    @model_validator(mode="after")
    def _english(self) -> Self:
        if "en" not in self.texts:
            raise ValueError("texts: English ('en') is required (the fallback for every patient)")
        return self


class CannedResponseOut(BaseModel):
    """A stored canned response."""

    id: str
    title: str
    texts: dict[str, str]
    tags: list[str]
    shortcut: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, canned: CannedResponse) -> CannedResponseOut:
        """The API view of a canned response."""
        return cls(
            id=canned.id,
            title=canned.title,
            texts=dict(canned.texts),
            tags=list(canned.tags),
            shortcut=canned.shortcut,
            updated_at=canned.updated_at,
        )
