"""The stale-data watchdog: live sessions on a dataset whose feed stopped pause, saying why, and
resume by themselves when its bars return — never trading on bars that are not coming."""

from sqlalchemy import Engine, select

from engine.broker.paper import BOOK_LOCK
from engine.control.transitions import transition
from engine.core.lifecycle import SessionStatus
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import PaperSession

STALE = "data stale: "  # the wait reason of a session the watchdog paused


def _live_on(s, key: tuple[str, str], status: str) -> list[PaperSession]:
    symbol, timeframe = key
    rows = s.execute(select(PaperSession).where(
        PaperSession.source == "live", PaperSession.timeframe == timeframe,
        PaperSession.status == status)).scalars()
    return [row for row in rows if symbol in row.symbols.split(",")]


def pause_stale(db: Engine, key: tuple[str, str], why: str) -> list[int]:
    """Pause the running live sessions on `key`; return their ids."""
    with BOOK_LOCK, session_scope(db) as s:
        paused = _live_on(s, key, SessionStatus.RUNNING)
        for row in paused:
            transition(s, row, "pause", note=f"{STALE}{why}", severity="warning")
            row.wait_reason = f"{STALE}{why}"
            record_event(s, f"session-{row.id}", "alert_stale",
                         f"session {row.id} paused: {why}", "warning")
        return [row.id for row in paused]


def resume_fresh(db: Engine, key: tuple[str, str]) -> list[int]:
    """Resume the live sessions the watchdog paused on `key`; return their ids."""
    with BOOK_LOCK, session_scope(db) as s:
        resumed = [row for row in _live_on(s, key, SessionStatus.PAUSED)
                   if (row.wait_reason or "").startswith(STALE)]
        for row in resumed:
            transition(s, row, "resume", note=f"{key[0]} {key[1]} bars arrive again")
            row.wait_reason = None
            record_event(s, f"session-{row.id}", "alert_fresh",
                         f"session {row.id} resumed: {key[0]} {key[1]} bars arrive again")
        return [row.id for row in resumed]
