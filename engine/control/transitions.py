"""The one place a status changes: check the table, set, log "from → to", record an event."""

import logging

from sqlmodel import Session

from engine.core.lifecycle import TERMINAL_SWEEP, SweepStatus, next_status
from engine.store.events import record_event
from engine.store.models import Agent, PaperSession, Sweep, SystemState
from engine.store.types import utcnow

log = logging.getLogger("paperdesk.engine")


Stateful = SystemState | Agent | PaperSession | Sweep


def describe(obj: Stateful) -> tuple[str, str, str]:
    """Return (table kind, label for messages, event source) for a stateful row."""
    if isinstance(obj, SystemState):
        return "system", "", "system"
    if isinstance(obj, Agent):
        return "agent", obj.id, obj.id
    if isinstance(obj, Sweep):
        return "sweep", f"{obj.id} ({obj.name})", f"sweep-{obj.id}"
    return "session", f"{obj.id} ({obj.name})", f"session-{obj.id}"


def _stamp(obj: Stateful, new: str) -> None:
    """Set the times a change of status carries on its row."""
    now = utcnow()
    if isinstance(obj, SystemState):
        obj.changed_at = now
    elif isinstance(obj, Agent):
        obj.status_changed_at = now
    elif isinstance(obj, Sweep) and new in TERMINAL_SWEEP:
        obj.finished_at, obj.runner = now, None
    elif isinstance(obj, Sweep) and new == SweepStatus.RUNNING:
        obj.started_at = now


def transition(
    db: Session,
    obj: Stateful,
    action: str,
    *,
    note: str = "",
    logger: logging.Logger | None = None,
    severity: str | None = None,
) -> str:
    """Apply `action` to `obj` inside the caller's unit of work; raise NotAllowed if illegal.
    The event is an error when the new status is `error`, otherwise info (unless `severity`
    says otherwise)."""
    kind, label, source = describe(obj)
    old = obj.status
    new = next_status(kind, old, action, label)
    obj.status = new
    _stamp(obj, new)
    severity = severity or ("error" if new == "error" else "info")
    db.add(obj)
    message = f"{kind} {label}: {old} → {new}".replace("  ", " ")
    if note:
        message += f" ({note})"
    record_event(db, source=source, kind="state", message=message, severity=severity)
    (logger or log).log(logging.ERROR if severity == "error" else logging.INFO, message)
    return new
