"""The request dependencies a webhook adapter may use (adapters import ingress, never app.deps):
the settings, the state store and job queue it de-duplicates and enqueues on, and the clock."""

from __future__ import annotations

from app.deps import AppSettings, Now, Queue, State

__all__ = ["AppSettings", "Now", "Queue", "State"]
