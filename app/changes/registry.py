"""Handlers per resource type: capabilities register `async def handler(change, *, context)`; one failing
handler does not stop the others, and the job retries (so every handler is idempotent)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog

from app.changes.model import Change, check_type
from app.fhir.client import FhirClient
from app.ports.events import EventBus
from app.ports.jobs import JobQueue
from app.ports.state import StateStore

log = structlog.get_logger(__name__)

# Modules whose import registers handlers (capabilities add theirs here, e.g. "app.scheduling.changes").
HANDLER_MODULES: tuple[str, ...] = (
    "app.messaging.inbound",
    "app.messaging.notifications",
    "app.messaging.reminders",
    "app.inbox.events",
    "app.opportunities.events",
    "app.journeys.events",
    "app.bot.flows.handoff",
    "app.integrations.slots",
    "app.outreach.offers",
    "app.analytics.changes",
)


@dataclass(frozen=True)
class ChangeContext:
    """What a handler may use; it becomes the Services object once `build_services()` exists."""

    fhir: FhirClient
    queue: JobQueue
    state: StateStore
    now: datetime
    events: EventBus
    # The clinic's time zone where a Location carries none (settings.default_timezone).
    default_timezone: str = "UTC"
    # The tickets' SLA overrides (settings.ticket_sla_minutes), for handlers that open tickets.
    ticket_sla: Mapping[str, int] = field(default_factory=dict)


class Handler(Protocol):
    """Reacts to one change; must be idempotent (the same change can arrive again)."""

    __name__: str

    async def __call__(self, change: Change, *, context: ChangeContext) -> None:
        """React to `change`."""
        ...


@dataclass(frozen=True)
class DispatchReport:
    """Which handlers (by name) succeeded and which raised."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class HandlersFailed(Exception):
    """Some handlers raised; the job fails so that rq retries it (all handlers run again)."""


class HandlerRegistry:
    """Resource type -> handlers, in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def register(self, resource_type: str, handler: Handler) -> None:
        """Add `handler` for `resource_type` (registering the same one twice keeps one)."""
        handlers = self._handlers.setdefault(check_type(resource_type), [])
        if handler not in handlers:
            handlers.append(handler)

    def unregister(self, resource_type: str, handler: Handler) -> None:
        """Remove `handler` (absent is fine)."""
        handlers = self._handlers.get(resource_type, [])
        if handler in handlers:
            handlers.remove(handler)
        if not handlers:
            self._handlers.pop(resource_type, None)

    def on(self, resource_type: str) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""

        def decorator(handler: Handler) -> Handler:
            self.register(resource_type, handler)
            return handler

        return decorator

    def types(self) -> frozenset[str]:
        """Every type with at least one handler."""
        return frozenset(self._handlers)

    def handlers_for(self, resource_type: str) -> list[Handler]:
        """The handlers of a type, in registration order."""
        return list(self._handlers.get(resource_type, []))

    async def dispatch(self, change: Change, *, context: ChangeContext) -> DispatchReport:
        """Call every handler of the change's type; a failure is logged (type only) and reported."""
        report = DispatchReport()
        for handler in self.handlers_for(change.resource_type):
            name = getattr(handler, "__qualname__", handler.__name__)
            try:
                await handler(change, context=context)
            except Exception as exc:  # one handler's bug must not starve the others
                log.warning(
                    "changes.handler.failed",
                    change=change.reference,
                    handler=name,
                    error_type=type(exc).__name__,
                )
                report.failed.append(name)
            else:
                report.succeeded.append(name)
        return report


# The process-wide registry the API and the workers use.
registry = HandlerRegistry()
on = registry.on


def load_handlers(modules: Iterable[str] = HANDLER_MODULES) -> None:
    """Import the capability modules that register handlers (idempotent)."""
    for module in modules:
        importlib.import_module(module)


def watched_types(handlers: HandlerRegistry, extra: Iterable[str]) -> list[str]:
    """The types the feed follows: those with handlers plus the configured ones, sorted."""
    return sorted(handlers.types() | {check_type(t) for t in extra})
