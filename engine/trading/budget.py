"""The time a user's strategy may take: BAR_BUDGET_S a bar, never less than FLOOR_S a call.

A strategy's code runs in the engine's thread, so one that loops forever would hold every
session. While a session with a user strategy trades (or primes), a watchdog thread holds its
deadline; past it, the watchdog raises `OverBudget` inside that thread (CPython's
PyThreadState_SetAsyncExc, delivered between two bytecodes of the loop), and the session — only
it — goes to `error` naming the file and line where its code was. Code stuck inside one C call
(a `time.sleep` of an hour) is interrupted when that call returns.
"""

import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from engine.core.strategies import STRATEGIES
from engine.errors import StrategyError, single_line
from engine.registry.strategies import MODULE_PREFIX

BAR_BUDGET_S = 0.05  # a bar's share: 50 ms of strategy code per bar
FLOOR_S = 1.0  # every guarded call may take this long, however few its bars
CHECK_EVERY_S = 0.05


class OverBudget(BaseException):
    """Raised inside a strategy that ran past its time budget (a BaseException, so a
    strategy's own `except Exception` cannot swallow it)."""


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc else None)


class _Watchdog:
    """One daemon thread watching every guarded call's deadline."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deadlines: dict[int, float] = {}  # thread id -> monotonic deadline
        self.fired: set[int] = set()
        self.thread: threading.Thread | None = None

    def watch(self, thread_id: int, deadline: float) -> None:
        with self.lock:
            if thread_id in self.fired:  # left over from a block an exception cut short
                self.fired.discard(thread_id)
                _raise_in(thread_id, None)
            self.deadlines[thread_id] = deadline
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="strategy-budget",
                                               daemon=True)
                self.thread.start()

    def release(self, thread_id: int) -> bool:
        """Stop watching; True if the deadline passed (its exception is then cancelled if it
        has not been delivered yet)."""
        with self.lock:
            self.deadlines.pop(thread_id, None)
            fired = thread_id in self.fired
            self.fired.discard(thread_id)
            if fired:
                _raise_in(thread_id, None)
            return fired

    def _run(self) -> None:
        while True:
            time.sleep(CHECK_EVERY_S)
            now = time.monotonic()
            with self.lock:
                for thread_id, deadline in self.deadlines.items():
                    if now > deadline and thread_id not in self.fired:
                        self.fired.add(thread_id)
                        _raise_in(thread_id, OverBudget)


_watchdog = _Watchdog()


def allowance(bars: int) -> float:
    """Seconds a call over `bars` bars may take."""
    return max(FLOOR_S, bars * BAR_BUDGET_S)


@contextmanager
def limited(seconds: float) -> Iterator[None]:
    """Run the block with a deadline `seconds` away: past it, OverBudget is raised in it."""
    thread_id = threading.get_ident()
    _watchdog.watch(thread_id, time.monotonic() + seconds)
    try:
        yield
    except OverBudget:  # delivered inside the block: its traceback names the strategy's line
        _watchdog.release(thread_id)
        raise
    except BaseException:
        _watchdog.release(thread_id)
        raise
    if _watchdog.release(thread_id):  # the deadline passed as the block was ending
        raise OverBudget


def user_code(strategy: str) -> bool:
    """True when strategy `strategy` comes from the operator's folder."""
    cls = STRATEGIES.get(strategy)
    return cls is not None and cls.__module__.startswith(MODULE_PREFIX)


GUARD_CHUNK = 20  # bars a user's strategy trades per deadline (its floor covers them)


def in_budget_chunks(advance: Callable[[int, Any], int], max_bars: int, out: Any,
                     work: Callable[[int], int] = int) -> int:
    """`advance(bars, out)` up to `max_bars` bars, GUARD_CHUNK at a time, each within the
    time budget of the `work(bars)` bars of strategy code it runs; return the bars traded."""
    done = 0
    while done < max_bars:
        want = min(GUARD_CHUNK, max_bars - done)
        with limited(allowance(work(want))):
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
