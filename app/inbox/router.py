"""HTTP API of the staff inbox: conversations, their messages and replies, canned responses, and the
live event stream. Staff and admins use all of it (canned responses are shared team content that any
staff member may write)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.conversations.resources import ConversationStatus
from app.deps import AppSettings, Fhir, Now, Queue, State, services
from app.errors import error_responses
from app.inbox import canned, live, service
from app.inbox.schemas import (
    TAG_PATTERN,
    AssigneeIn,
    CannedResponseIn,
    CannedResponseOut,
    ConversationOut,
    MessageOut,
    ReadIn,
    ReplyIn,
    TagsIn,
)
from app.inbox.service import Reply, ThreadFilter
from app.inputs import USER_PATTERN, PathId, QueryId
from app.ports.events import EventBus
from app.security import StaffUser
from app.vocabulary import ContactChannel

router = APIRouter(prefix="/api/v1", tags=["inbox"])

MAX_PAGE_SIZE = 100


@router.get("/conversations", response_model=list[ConversationOut], responses=error_responses(401, 403, 422))
async def list_conversations(
    request: Request,
    response: Response,
    fhir: Fhir,
    settings: AppSettings,
    _: StaffUser,
    phone: str | None = Query(default=None, max_length=32, description="Any common format: 098441 11173"),
    patient: QueryId = None,
    status: ConversationStatus | None = Query(default=None),
    assigned: str | None = Query(
        default=None, pattern=USER_PATTERN, description="A staff user, or `none` for unassigned threads"
    ),
    channel: ContactChannel | None = Query(default=None),
    tag: str | None = Query(default=None, pattern=TAG_PATTERN),
    page: int = Query(default=1, ge=1, le=1000),
    count: int = Query(default=20, ge=1, le=MAX_PAGE_SIZE),
) -> list[ConversationOut]:
    """Threads, newest activity first; a `Link: <...>; rel="next"` header when another page follows."""
    where = ThreadFilter(
        phone=phone,
        patient_id=patient,
        status=status,
        assigned=assigned,
        channel=channel.value if channel else None,
        tag=tag,
    )
    threads, more = await service.list_threads(
        fhir, where=where, region=settings.default_phone_region, page=page, count=count
    )
    if more:
        response.headers["Link"] = f'<{request.url.include_query_params(page=page + 1)}>; rel="next"'
    return [ConversationOut.of(t) for t in threads]


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationOut,
    responses=error_responses(401, 403, 404, 422),
)
async def get_conversation(conversation_id: PathId, fhir: Fhir, _: StaffUser) -> ConversationOut:
    """One thread."""
    return ConversationOut.of(await service.get_thread(fhir, conversation_id))


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=list[MessageOut],
    responses=error_responses(401, 403, 404, 422),
)
async def list_messages(conversation_id: PathId, fhir: Fhir, _: StaffUser) -> list[MessageOut]:
    """The thread's messages, oldest first."""
    return [MessageOut.of(m) for m in await service.messages(fhir, conversation_id)]


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=202,
    response_model=MessageOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def send_reply(
    conversation_id: PathId,
    body: ReplyIn,
    fhir: Fhir,
    state: State,
    queue: Queue,
    now: Now,
    settings: AppSettings,
    principal: StaffUser,
) -> MessageOut:
    """Queue a staff reply (text, template + variables, or canned response) on the thread's channel;
    409 `opted_out` when the patient opted out of it, 409 `outside_session_window` for WhatsApp free
    text when the patient has not written for 24 hours (the error names the templates to use)."""
    message = await service.reply(
        fhir,
        state,
        queue,
        conversation_id=conversation_id,
        message=Reply(
            text=body.text,
            template=body.template,
            variables=body.variables,
            language=body.language,
            canned_response=body.canned_response,
        ),
        sender=principal.actor(),
        at=now,
        window_hours=settings.session_window_hours,
    )
    return MessageOut.of(message)


_CHANGE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.put(
    "/conversations/{conversation_id}/assignee", response_model=ConversationOut, responses=_CHANGE_ERRORS
)
async def assign(
    conversation_id: PathId, body: AssigneeIn, fhir: Fhir, principal: StaffUser
) -> ConversationOut:
    """Assign the thread to a staff user."""
    thread = await service.assign(
        fhir, conversation_id=conversation_id, user=body.user, actor=principal.actor()
    )
    return ConversationOut.of(thread)


@router.delete(
    "/conversations/{conversation_id}/assignee", response_model=ConversationOut, responses=_CHANGE_ERRORS
)
async def unassign(conversation_id: PathId, fhir: Fhir, principal: StaffUser) -> ConversationOut:
    """Leave the thread unassigned."""
    thread = await service.assign(fhir, conversation_id=conversation_id, user=None, actor=principal.actor())
    return ConversationOut.of(thread)


@router.post(
    "/conversations/{conversation_id}/close", response_model=ConversationOut, responses=_CHANGE_ERRORS
)
async def close(conversation_id: PathId, fhir: Fhir, principal: StaffUser) -> ConversationOut:
    """Close the thread (a new inbound message reopens it)."""
    thread = await service.set_status(
        fhir, conversation_id=conversation_id, status=ConversationStatus.CLOSED, actor=principal.actor()
    )
    return ConversationOut.of(thread)


@router.post(
    "/conversations/{conversation_id}/reopen", response_model=ConversationOut, responses=_CHANGE_ERRORS
)
async def reopen(conversation_id: PathId, fhir: Fhir, principal: StaffUser) -> ConversationOut:
    """Reopen the thread."""
    thread = await service.set_status(
        fhir, conversation_id=conversation_id, status=ConversationStatus.OPEN, actor=principal.actor()
    )
    return ConversationOut.of(thread)


@router.put("/conversations/{conversation_id}/tags", response_model=ConversationOut, responses=_CHANGE_ERRORS)
async def set_tags(
    conversation_id: PathId, body: TagsIn, fhir: Fhir, principal: StaffUser
) -> ConversationOut:
    """Replace the thread's tags."""
    thread = await service.set_tags(
        fhir, conversation_id=conversation_id, tags=body.tags, actor=principal.actor()
    )
    return ConversationOut.of(thread)


@router.post(
    "/conversations/{conversation_id}/read", response_model=ConversationOut, responses=_CHANGE_ERRORS
)
async def mark_read(
    conversation_id: PathId, fhir: Fhir, now: Now, principal: StaffUser, body: ReadIn | None = None
) -> ConversationOut:
    """Mark inbound messages read up to `at` (default now): the thread's unread_count drops."""
    thread = await service.mark_read(
        fhir,
        conversation_id=conversation_id,
        up_to=body.at if body else None,
        now=now,
        actor=principal.actor(),
    )
    return ConversationOut.of(thread)


@router.get(
    "/canned-responses", response_model=list[CannedResponseOut], responses=error_responses(401, 403, 422)
)
async def list_canned(
    fhir: Fhir, _: StaffUser, tag: str | None = Query(default=None, pattern=TAG_PATTERN)
) -> list[CannedResponseOut]:
    """Every canned response, by title."""
    return [CannedResponseOut.of(c) for c in await canned.list_canned(fhir, tag=tag)]


@router.post(
    "/canned-responses",
    status_code=201,
    response_model=CannedResponseOut,
    responses=error_responses(401, 403, 409, 422, 503),
)
async def create_canned(
    body: CannedResponseIn, fhir: Fhir, state: State, now: Now, principal: StaffUser
) -> CannedResponseOut:
    """Store a canned response; 409 `shortcut_taken` when another one has the shortcut."""
    stored = await canned.create_canned(
        fhir,
        state,
        title=body.title,
        texts=body.texts,
        tags=body.tags,
        shortcut=body.shortcut,
        actor=principal.actor(),
        at=now,
    )
    return CannedResponseOut.of(stored)


@router.get(
    "/canned-responses/{canned_id}",
    response_model=CannedResponseOut,
    responses=error_responses(401, 403, 404, 422),
)
async def get_canned(canned_id: PathId, fhir: Fhir, _: StaffUser) -> CannedResponseOut:
    """One canned response."""
    return CannedResponseOut.of(await canned.get_canned(fhir, canned_id))


@router.put(
    "/canned-responses/{canned_id}",
    response_model=CannedResponseOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def replace_canned(
    canned_id: PathId, body: CannedResponseIn, fhir: Fhir, state: State, now: Now, principal: StaffUser
) -> CannedResponseOut:
    """Replace a canned response."""
    stored = await canned.replace_canned(
        fhir,
        state,
        canned_id=canned_id,
        title=body.title,
        texts=body.texts,
        tags=body.tags,
        shortcut=body.shortcut,
        actor=principal.actor(),
        at=now,
    )
    return CannedResponseOut.of(stored)


@router.delete(
    "/canned-responses/{canned_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422)
)
async def delete_canned(canned_id: PathId, fhir: Fhir, principal: StaffUser) -> Response:
    """Delete a canned response (kept in FHIR as retired, for its history)."""
    await canned.delete_canned(fhir, canned_id=canned_id, actor=principal.actor())
    return Response(status_code=204)


def _bus(request: Request) -> EventBus:
    return services(request).events


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"},
        **error_responses(401, 403),
    },
)
async def events(request: Request, _: StaffUser) -> StreamingResponse:
    """Live events (server-sent): `message.created`, `message.status`, `conversation.updated`, ids only;
    a comment line every 15 s keeps the connection open."""
    return StreamingResponse(
        live.stream(_bus(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
