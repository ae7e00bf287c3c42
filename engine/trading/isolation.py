"""A user's strategy can only break its own sessions.

What a strategy raises, returns outside the API, or spends past its time budget
(engine.trading.budget) while a session trades or primes becomes one line naming the strategy's
file and line; that session goes to `error` with it, its clock is dropped, and the others trade
on. Built-in strategies run unguarded (no watchdog on the hot path).
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from engine.broker.paper import BOOK_LOCK
from engine.control.transitions import transition
from engine.core.lifecycle import SessionStatus
from engine.core.strategies import STRATEGIES
from engine.errors import PaperDeskError, StrategyError, single_line
from engine.registry.strategies import MODULE_PREFIX
from engine.store.db import session_scope
from engine.store.models import PaperSession
from engine.trading.budget import BAR_BUDGET_S, FLOOR_S, OverBudget, allowance, limited

FAULTS = (PaperDeskError, OverBudget)  # what a session's own strategy may cause


def user_code(strategy: str) -> bool:
    """True when strategy `strategy` comes from the operator's folder."""
    cls = STRATEGIES.get(strategy)
    return cls is not None and cls.__module__.startswith(MODULE_PREFIX)


GUARD_CHUNK = 20  # bars a user's strategy trades per deadline (its floor covers them)


def in_budget_chunks(advance: Callable[[int, Any], int], max_bars: int, out: Any) -> int:
    """`advance(bars, out)` up to `max_bars` bars, GUARD_CHUNK at a time, each within its
    time budget; return the bars traded."""
    done = 0
    while done < max_bars:
        want = min(GUARD_CHUNK, max_bars - done)
        with limited(allowance(want)):
            moved = advance(want, out)
        done += moved
        if moved < want:
            break
    return done


def run_limited(guarded: bool, bars: int, call: Callable[..., Any], *args: Any,
                **kwargs: Any) -> Any:
    """`call(*args, **kwargs)`, within the time budget of `bars` bars when `guarded`."""
    if not guarded:
        return call(*args, **kwargs)
    with limited(allowance(bars)):
        return call(*args, **kwargs)


def reason(exc: BaseException, strategy: str, source: str | None) -> str:
    """The one line a failed session shows."""
    if isinstance(exc, OverBudget):
        over = StrategyError.from_exception(
            exc, source, f"strategy {strategy!r}: ran past its time budget "
                         f"({BAR_BUDGET_S * 1000:.0f} ms a bar, at least {FLOOR_S:g} s a call): ")
        return single_line(over).replace(": OverBudget", "", 1)
    return single_line(exc)


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
