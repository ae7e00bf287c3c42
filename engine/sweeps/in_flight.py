"""Tasks handed to a process pool a few at a time, so memory is bounded by design: at most
`limit` tasks are submitted and not yet taken back by the caller. A sweep's variant result holds
its whole outbox (a few MB); submitted all at once, finished results would pile up behind the
single writer (a 600-variant sweep peaked near 2 GB)."""

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from itertools import islice
from typing import Any

IN_FLIGHT = 2  # variants submitted and not yet written, per pool process


class InFlight:
    """Submit `tasks` through `submit`, keeping at most `limit` of them in flight: a task is in
    flight from its submission until `finished` has returned its result and is called again
    (the caller writes the results in between)."""

    def __init__(self, submit: Callable[[Any], Future], tasks: Iterable, limit: int):
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.submit, self.tasks, self.limit = submit, iter(tasks), limit
        self.pending: set[Future] = set()
        self.exhausted = False  # every task submitted
        self._refill()

    def __bool__(self) -> bool:
        """Whether a task is still running or waiting to be submitted."""
        return bool(self.pending) or not self.exhausted

    def _refill(self) -> None:
        room = self.limit - len(self.pending)
        batch = list(islice(self.tasks, room))
        self.exhausted = len(batch) < room
        self.pending.update(self.submit(task) for task in batch)

    def finished(self, timeout: float) -> list:
        """The results of the tasks that finished within `timeout` seconds (none if none did),
        after submitting new tasks in place of those the caller took back last time."""
        self._refill()
        done, self.pending = wait(self.pending, timeout=timeout, return_when=FIRST_COMPLETED)
        return [future.result() for future in done]
