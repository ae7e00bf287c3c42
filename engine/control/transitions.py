"""The one place a status changes: check the table, set, log "from → to", record an event."""

import logging

from sqlmodel import Session

from engine.core.lifecycle import next_status
from engine.store.events import record_event
from engine.store.models import Agent, PaperSession, SystemState
from engine.store.types import utcnow

log = logging.getLogger("paperdesk.engine")


def describe(obj: SystemState | Agent | PaperSession) -> tuple[str, str, str]:
    """Return (table kind, label for messages, event source) for a stateful row."""
    if isinstance(obj, SystemState):
        return "system", "", "system"
    if isinstance(obj, Agent):
        return "agent", obj.id, obj.id
    return "session", f"{obj.id} ({obj.name})", f"session-{obj.id}"


def transition(
    db: Session,
    obj: SystemState | Agent | PaperSession,
    action: str,
    *,
    note: str = "",
    logger: logging.Logger | None = None,
    severity: str = "info",
) -> str:
    """Apply `action` to `obj` inside the caller's unit of work; raise NotAllowed if illegal."""
    kind, label, source = describe(obj)
    old = obj.status
    new = next_status(kind, old, action, label)
    obj.status = new
    now = utcnow()
    if isinstance(obj, SystemState):
        obj.changed_at = now
    elif isinstance(obj, Agent):
        obj.status_changed_at = now
    db.add(obj)
    message = f"{kind} {label}: {old} → {new}".replace("  ", " ")
    if note:
        message += f" ({note})"
    record_event(db, source=source, kind="state", message=message, severity=severity)
    (logger or log).log(logging.ERROR if severity == "error" else logging.INFO, message)
    return new
