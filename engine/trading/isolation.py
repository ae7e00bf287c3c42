"""A user's strategy can only break its own sessions.

What a strategy raises, returns outside the API, or spends past its time budget
(engine.trading.budget) while a session trades or primes becomes one line naming the strategy's
file and line; that session goes to `error` with it, its clock is dropped, and the others trade
on. Built-in strategies run unguarded (no watchdog on the hot path).
"""

from sqlalchemy import Engine

from engine.broker.paper import BOOK_LOCK
from engine.control.transitions import transition
from engine.core.lifecycle import SessionStatus
from engine.errors import PaperDeskError
from engine.store.db import session_scope
from engine.store.models import PaperSession
from engine.trading.budget import OverBudget

FAULTS = (PaperDeskError, OverBudget)  # what a session's own strategy may cause


def fail_sessions(db: Engine, failures: dict[int, str], logger=None) -> None:
    """Put each running session of `failures` into `error`, saying why."""
    if not failures:
        return
    with BOOK_LOCK, session_scope(db) as s:
        for sid, why in failures.items():
            row = s.get(PaperSession, sid)
            if row is not None and row.status == SessionStatus.RUNNING:
                transition(s, row, "fail", note=why, logger=logger)
                row.error, row.wait_reason = why[:2000], None
