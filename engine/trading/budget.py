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
from collections.abc import Iterator
from contextlib import contextmanager

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
