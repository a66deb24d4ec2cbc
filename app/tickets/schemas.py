"""API models of tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.fhir.client import Resource
from app.inputs import USER_PATTERN, FhirId, InputModel
from app.tickets.resources import Category, Comment, Priority, TicketStatus, ticket_of
from app.vocabulary import SourceChannel

User = Annotated[str, Field(pattern=USER_PATTERN, description="A staff user, e.g. reception@clinic")]
Text = Annotated[str, Field(min_length=1, max_length=4096)]


class TicketIn(InputModel):
    """A new ticket: due from the SLA table (category and priority) unless given."""

    patient: FhirId | None = Field(default=None, description="The patient's id, if the ticket is about one")
    category: Category
    priority: Priority = Priority.ROUTINE
    description: Text
    owner: User | None = None
    source: SourceChannel = Field(default=SourceChannel.DASHBOARD, description="Where the request came from")


class TicketChangeIn(InputModel):
    """A change of a ticket; fields left out stay as they are. `resolution` is required to resolve."""

    not_null = frozenset({"status", "priority", "description"})

    status: TicketStatus | None = None
    priority: Priority | None = None
    owner: User | None = Field(default=None, description="Assign to this staff user (null: leave as is)")
    description: Text | None = None
    resolution: Text | None = Field(default=None, description="The resolution note (with status resolved)")


class AssignIn(InputModel):
    """Who works on the ticket."""

    owner: User


class ResolveIn(InputModel):
    """How the ticket was resolved."""

    resolution: Text


class CommentIn(InputModel):
    """A staff comment."""

    text: Text


class CommentOut(BaseModel):
    """A comment: who wrote it, when."""

    author: str | None
    time: datetime | None
    text: str

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        """The API view of a comment."""
        return cls(author=comment.author, time=comment.time, text=comment.text)


class TicketSummary(BaseModel):
    """A ticket in a list of a patient's tickets."""

    id: str
    category: str | None
    priority: str
    status: TicketStatus
    due: datetime | None
    overdue: bool

    @classmethod
    def of(cls, task: Resource, *, now: datetime) -> TicketSummary:
        """The short view of a prm-ticket Task."""
        t = ticket_of(task)
        return cls(
            id=t.id,
            category=t.category,
            priority=t.priority,
            status=t.status,
            due=t.due,
            overdue=t.overdue(now),
        )


class TicketOut(TicketSummary):
    """A ticket with its comments, oldest first."""

    patient: str | None
    description: str | None
    owner: str | None
    created: datetime | None
    source: str | None
    resolution: str | None
    escalated: bool = Field(description="Escalated for missing its current due time")
    comments: list[CommentOut]

    @classmethod
    def of(cls, task: Resource, *, now: datetime) -> TicketOut:
        """The API view of a prm-ticket Task."""
        t = ticket_of(task)
        return cls(
            id=t.id,
            patient=t.patient,
            category=t.category,
            priority=t.priority,
            status=t.status,
            description=t.description,
            owner=t.owner,
            due=t.due,
            overdue=t.overdue(now),
            created=t.created,
            source=t.source,
            resolution=t.resolution,
            escalated=t.escalated,
            comments=[CommentOut.of(c) for c in t.comments],
        )
