"""The activity feed: every state change, command result, fill, alert and error. Every text
is stored as one literal line (engine.errors.single_line): a name, a config value or a driver
message cannot add a forged line to the feed."""

from sqlmodel import Session

from engine.errors import single_line
from engine.store.db import bulk_insert
from engine.store.models import Event
from engine.store.types import utcnow

MAX_MESSAGE = 2000  # characters of an event's message
EventRow = tuple[str, str, str, str]  # (source, kind, message, severity)


def _line(text: str) -> str:
    return single_line(text)[:MAX_MESSAGE]


def record_event(db: Session, source: str, kind: str, message: str, severity: str = "info") -> None:
    """Add an event to the caller's unit of work (committed with it)."""
    db.add(Event(source=_line(source), kind=_line(kind), message=_line(message),
                 severity=severity))


def record_events(db: Session, events: list[EventRow]) -> None:
    """Add many (source, kind, message, severity) events in one executemany."""
    now = utcnow()
    bulk_insert(db, Event, [{"ts": now, "source": _line(source), "kind": _line(kind),
                             "message": _line(message), "severity": severity}
                            for source, kind, message, severity in events])
