"""The activity feed: every state change, command result, fill, alert and error."""

from sqlmodel import Session

from engine.store.db import bulk_insert
from engine.store.models import Event
from engine.store.types import utcnow


def record_event(db: Session, source: str, kind: str, message: str, severity: str = "info") -> None:
    """Add an event to the caller's unit of work (committed with it)."""
    db.add(Event(source=source, kind=kind, message=message[:2000], severity=severity))


def record_events(db: Session, events: list[tuple[str, str, str, str]]) -> None:
    """Add many (source, kind, message, severity) events in one executemany."""
    now = utcnow()
    bulk_insert(db, Event, [{"ts": now, "source": source, "kind": kind,
                             "message": message[:2000], "severity": severity}
                            for source, kind, message, severity in events])
