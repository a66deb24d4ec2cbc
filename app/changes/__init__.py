"""The change feed: react to FHIR changes whoever wrote them (rest-hook receiver, `_history` sweep,
handler registry). See docs/change-feed.md."""

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, HandlerRegistry, on, registry

__all__ = ["Change", "ChangeContext", "ChangeKind", "HandlerRegistry", "on", "registry"]
