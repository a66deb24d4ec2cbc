"""HTTP API of tickets: open, list, read, change, assign, comment, resolve, close, reopen (staff and admins)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, Response

from app.config import Settings
from app.deps import AppSettings, Fhir, Now
from app.errors import error_responses
from app.fhir.client import FhirClient
from app.inputs import USER_PATTERN, Instant, PathId, QueryId
from app.security import Principal, StaffUser
from app.tickets import service
from app.tickets.resources import Category, Priority, TicketStatus
from app.tickets.schemas import AssignIn, CommentIn, ResolveIn, TicketChangeIn, TicketIn, TicketOut
from app.tickets.service import TicketChanges, TicketFilter
from app.vocabulary import SourceChannel

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

MAX_PAGE_SIZE = 100
_CHANGE_ERRORS = error_responses(401, 403, 404, 409, 422, 503)


@router.post(
    "", status_code=201, response_model=TicketOut, responses=error_responses(401, 403, 404, 422, 503)
)
async def create_ticket(
    body: TicketIn, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Open a ticket; `due` comes from the SLA table by category and priority (docs/crm.md)."""
    task = await service.create_ticket(
        fhir,
        patient_id=body.patient,
        category=body.category.value,
        description=body.description,
        owner=body.owner,
        priority=body.priority.value,
        source=body.source.value,
        actors=[principal.actor()],
        now=now,
        sla=settings.ticket_sla_minutes,
    )
    return TicketOut.of(task, now=now)


@router.get("", response_model=list[TicketOut], responses=error_responses(401, 403, 422, 503))
async def list_tickets(
    request: Request,
    response: Response,
    fhir: Fhir,
    now: Now,
    _: StaffUser,
    patient: QueryId = None,
    status: TicketStatus | None = Query(default=None),
    category: Category | None = Query(default=None),
    priority: Priority | None = Query(default=None),
    owner: str | None = Query(
        default=None, pattern=USER_PATTERN, description="A staff user, or `none` for unassigned tickets"
    ),
    overdue: bool = Query(default=False, description="Only open tickets past their due time"),
    source: SourceChannel | None = Query(default=None),
    created_from: Instant | None = Query(default=None, description="Created at or after (ISO-8601)"),
    created_to: Instant | None = Query(default=None, description="Created before (ISO-8601)"),
    page: int = Query(default=1, ge=1, le=1000),
    count: int = Query(default=20, ge=1, le=MAX_PAGE_SIZE),
) -> list[TicketOut]:
    """Tickets with their comments, newest first; a `Link: <...>; rel="next"` header when more follow."""
    where = TicketFilter(
        patient_id=patient,
        status=status,
        category=category.value if category else None,
        priority=priority.value if priority else None,
        owner=owner,
        overdue=overdue,
        source=source.value if source else None,
        created_from=created_from,
        created_to=created_to,
    )
    tasks, more = await service.list_tickets(fhir, where=where, now=now, page=page, count=count)
    if more:
        response.headers["Link"] = f'<{request.url.include_query_params(page=page + 1)}>; rel="next"'
    return [TicketOut.of(t, now=now) for t in tasks]


@router.get("/{ticket_id}", response_model=TicketOut, responses=error_responses(401, 403, 404, 422, 503))
async def get_ticket(ticket_id: PathId, fhir: Fhir, now: Now, _: StaffUser) -> TicketOut:
    """One ticket with its comments."""
    return TicketOut.of(await service.get_ticket(fhir, ticket_id), now=now)


@router.patch("/{ticket_id}", response_model=TicketOut, responses=_CHANGE_ERRORS)
async def change_ticket(
    ticket_id: PathId, body: TicketChangeIn, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Change status (409 `invalid_transition` lists the allowed ones), priority, owner or description;
    `{"status": "resolved", "resolution": "..."}` resolves."""
    changes = TicketChanges(
        status=body.status,
        priority=body.priority.value if body.priority else None,
        owner=body.owner,
        description=body.description,
        resolution=body.resolution,
    )
    return await _change(fhir, ticket_id, changes, now=now, settings=settings, principal=principal)


@router.post("/{ticket_id}/assign", response_model=TicketOut, responses=_CHANGE_ERRORS)
async def assign(
    ticket_id: PathId, body: AssignIn, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Give the ticket to a staff user."""
    changes = TicketChanges(owner=body.owner)
    return await _change(fhir, ticket_id, changes, now=now, settings=settings, principal=principal)


@router.post("/{ticket_id}/unassign", response_model=TicketOut, responses=_CHANGE_ERRORS)
async def unassign(
    ticket_id: PathId, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Nobody owns the ticket any more."""
    changes = TicketChanges(unassign=True)
    return await _change(fhir, ticket_id, changes, now=now, settings=settings, principal=principal)


@router.post("/{ticket_id}/resolve", response_model=TicketOut, responses=_CHANGE_ERRORS)
async def resolve(
    ticket_id: PathId, body: ResolveIn, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Resolve with a resolution note."""
    changes = TicketChanges(status=TicketStatus.RESOLVED, resolution=body.resolution)
    return await _change(fhir, ticket_id, changes, now=now, settings=settings, principal=principal)


@router.post("/{ticket_id}/close", response_model=TicketOut, responses=_CHANGE_ERRORS)
async def close(
    ticket_id: PathId, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Close the ticket."""
    changes = TicketChanges(status=TicketStatus.CLOSED)
    return await _change(fhir, ticket_id, changes, now=now, settings=settings, principal=principal)


@router.post("/{ticket_id}/reopen", response_model=TicketOut, responses=_CHANGE_ERRORS)
async def reopen(
    ticket_id: PathId, fhir: Fhir, now: Now, settings: AppSettings, principal: StaffUser
) -> TicketOut:
    """Reopen a resolved or closed ticket; its SLA clock starts again."""
    changes = TicketChanges(status=TicketStatus.OPEN)
    return await _change(fhir, ticket_id, changes, now=now, settings=settings, principal=principal)


@router.post(
    "/{ticket_id}/comments",
    status_code=201,
    response_model=TicketOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def add_comment(
    ticket_id: PathId, body: CommentIn, fhir: Fhir, now: Now, principal: StaffUser
) -> TicketOut:
    """Comment on the ticket (author: the caller); answers the ticket with every comment, oldest first."""
    task = await service.add_comment(
        fhir, ticket_id=ticket_id, text=body.text, actor=principal.actor(), now=now
    )
    return TicketOut.of(task, now=now)


async def _change(
    fhir: FhirClient,
    ticket_id: str,
    changes: TicketChanges,
    *,
    now: datetime,
    settings: Settings,
    principal: Principal,
) -> TicketOut:
    """Apply one staff change and answer the ticket."""
    task = await service.change_ticket(
        fhir,
        ticket_id=ticket_id,
        changes=changes,
        actor=principal.actor(),
        now=now,
        sla=settings.ticket_sla_minutes,
    )
    return TicketOut.of(task, now=now)
