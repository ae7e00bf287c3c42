"""The base every agent shares: lifecycle, metrics, errors and retry with backoff.

An agent type subclasses `BaseAgent`, sets `spec` to its entry in `engine.registry.agents.SPECS`
(which gives it `kind`, `title`, `description`, `inputs` and `config`), and implements
`on_start`, `on_tick` (returns how many items it processed) and `on_stop`.
"""

import logging
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Protocol

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError

from engine.config import Settings
from engine.control.transitions import transition
from engine.core.lifecycle import AgentStatus
from engine.errors import TransientError, one_line
from engine.params import Param
from engine.registry.agents import AgentSpec
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import Agent
from engine.store.types import utcnow
from engine.trading.clock import SessionBook

MAX_BACKOFF_S = 60.0
DB_RETRY_MAX_S = 5.0  # the database unreachable or full: try again at most this far apart
TRANSIENT_LIMIT = 5  # transient errors in a row before the agent goes to error
TICK_WINDOW = 200  # recent tick durations kept for the p95 shown in the dashboard
ZERO_METRICS = {"ticks": 0, "items_processed": 0, "errors": 0, "last_tick_ms": 0.0}


class Stages(Protocol):
    """What an agent may ask of the engine about the pipeline (a small facade, not the
    engine process itself)."""

    def running(self, kind: str) -> bool:
        """Whether the agent of type `kind` is running."""
        ...


@dataclass
class AgentContext:
    db: Engine
    settings: Settings
    logger: logging.Logger
    book: SessionBook | None = None  # the running sessions (strategy and execution share it)
    stages: Stages | None = None
    worker: str | None = None  # this engine's worker id on PostgreSQL (engine.fleet.workers)


class BaseAgent:
    spec: ClassVar[AgentSpec]
    kind: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ()
    config: ClassVar[dict[str, Param]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.kind, cls.title, cls.description = spec.kind, spec.title, spec.description
            cls.inputs, cls.config = spec.inputs, spec.config

    def __init__(self, row: Agent, ctx: AgentContext):
        self.id = row.id
        self.ctx = ctx
        self.db = ctx.db
        self.log = ctx.logger
        self.cfg = {name: p.default for name, p in self.config.items()} | row.config
        self.state = dict(row.state)
        self.status = AgentStatus.STOPPED
        self.metrics = {"ticks": row.ticks, "items_processed": row.items_processed,
                        "errors": row.errors, "last_tick_ms": row.last_tick_ms}
        self.consecutive_errors = row.consecutive_errors
        self.retry_at = None
        self.recent_ms: deque[float] = deque(maxlen=TICK_WINDOW)
        self.lock = threading.RLock()
        self.db_failures = 0
        self.db_wait_until: float | None = None
        self.failed_ticks: deque[float] = deque(maxlen=10_000)  # wall times of failed ticks
        self.tick_error: str | None = None  # the last transient error, shown while degraded
        self.reset_at = row.metrics_reset_at

    # ------------------------------------------------------------ for subclasses

    def on_start(self) -> None:
        """Prepare to tick (load state, warm caches)."""

    def on_tick(self) -> int:
        """Do one unit of work; return the number of items processed."""
        raise NotImplementedError

    def on_stop(self) -> None:
        """Release what on_start took."""

    def on_config(self, changes: dict[str, Any]) -> None:
        """Take validated config changes (override to rebuild what depends on them)."""
        self.cfg.update(changes)

    def summary(self) -> dict[str, Any]:
        """Key figures for the dashboard, stored with the metrics after each tick."""
        return {}

    def event(self, kind: str, message: str, severity: str = "info") -> None:
        """Record an event from this agent in its own short transaction, and log it."""
        with session_scope(self.db) as s:
            record_event(s, self.id, kind, message, severity)
        self.log.log(logging.getLevelName(severity.upper()), message)

    # ------------------------------------------------------------ lifecycle (owned here)

    @property
    def interval_s(self) -> float:
        return float(self.cfg["interval_s"])

    def _set_status(self, action: str, note: str = "", severity: str = "info") -> None:
        """Change the status in the database first; memory follows only once it committed, so
        the two never disagree (a failed write leaves both as they were)."""
        with session_scope(self.db) as s:
            row = s.get(Agent, self.id)
            new = transition(s, row, action, note=note, logger=self.log, severity=severity)
            if action == "fail":
                row.last_error, row.retry_at = note, self.retry_at
                row.errors = self.metrics["errors"]
                row.consecutive_errors = self.consecutive_errors
        self.status = AgentStatus(new)

    def start(self, note: str = "") -> None:
        """stopped|error → starting → running (on_start failing puts the agent in error)."""
        with self.lock:
            self._set_status("start", note=note)
            self._run_on_start("started")

    def _run_on_start(self, then: str | None) -> None:
        try:
            self.on_start()
        except SQLAlchemyError:
            raise  # the database, not the agent: the tick waits for it
        except Exception as exc:  # any failure in a subclass is the agent's error state
            self._fail(exc)
            return
        if then:
            self._set_status(then)

    def restore(self, status: str) -> None:
        """Bring the agent back to its persisted `status` after an engine (re)start."""
        with self.lock:
            self.status = AgentStatus(status)
            if status == AgentStatus.STOPPING:
                self._set_status("stopped", note="restored after restart")
            elif status == AgentStatus.STARTING:
                self._run_on_start("started")
            elif status == AgentStatus.RUNNING:
                self._run_on_start(None)
                if self.status == AgentStatus.RUNNING:
                    self.event("restored", f"agent {self.id} restored: running")
            elif status == AgentStatus.ERROR:
                self.retry_at = utcnow()

    def follow(self, row: Agent) -> bool:
        """Take what another worker applied to this agent's shared row (PostgreSQL workers):
        a start or stop, config changes, a metrics reset. Nothing is written (the row already
        says so); return whether the agent started or stopped here. An agent in a tick (a
        hung feed) is left alone until the next call."""
        changes = {k: v for k, v in row.config.items() if self.cfg.get(k) != v}
        start = row.status in (AgentStatus.RUNNING, AgentStatus.STARTING) and self.status in (
            AgentStatus.STOPPED, AgentStatus.STOPPING)
        stop = row.status in (AgentStatus.STOPPED, AgentStatus.STOPPING) and self.status in (
            AgentStatus.RUNNING, AgentStatus.ERROR)
        reset = row.metrics_reset_at != self.reset_at
        if not (changes or start or stop or reset) or not self.lock.acquire(blocking=False):
            return False
        try:
            if changes:
                self.on_config(changes)
            if reset:
                self.metrics, self.reset_at = dict(ZERO_METRICS), row.metrics_reset_at
            if start:
                self.status = AgentStatus.RUNNING
                self._run_on_start(None)
            elif stop:
                if self.status == AgentStatus.RUNNING:
                    self.on_stop()
                self.status = AgentStatus.STOPPED
            return start or stop
        finally:
            self.lock.release()

    def stop(self, note: str = "") -> None:
        """running|starting → stopping → stopped; error → stopped."""
        with self.lock:
            if self.status == AgentStatus.ERROR:
                self._set_status("stop", note=note)
                return
            self._set_status("stop", note=note)
            try:
                self.on_stop()
            finally:
                self._set_status("stopped")

    def tick(self) -> None:
        """Scheduler job: run one tick if running, or retry after an error when it is due.
        While the database cannot be written the agent waits (up to DB_RETRY_MAX_S between
        tries) and says so on one line; it trades again by itself once the database is back."""
        with self.lock:
            if self.db_wait_until is not None and time.monotonic() < self.db_wait_until:
                return
            try:
                self._tick()
            except SQLAlchemyError as exc:
                self._database_unavailable(exc)
                return
            if self.db_failures:
                self.log.warning("database writable again after %d failed tries",
                                 self.db_failures)
                self.db_failures, self.db_wait_until = 0, None

    def _tick(self) -> None:
        if self.status == AgentStatus.ERROR and self.retry_at and utcnow() >= self.retry_at:
            self.start()
            return
        if self.status == AgentStatus.STARTING:  # a start the database interrupted
            self._run_on_start("started")
            return
        if self.status == AgentStatus.STOPPING:  # a stop the database interrupted
            self._set_status("stopped", note="finished after a database fault")
            return
        if self.status != AgentStatus.RUNNING:
            return
        started = time.perf_counter()
        try:
            items = self.on_tick()
        except TransientError as exc:
            self.metrics["errors"] += 1
            self.consecutive_errors += 1
            self.failed_ticks.append(time.time())
            self.tick_error = one_line(exc).removeprefix(f"{type(exc).__name__}: ")[:500]
            if self.consecutive_errors >= TRANSIENT_LIMIT:
                self._fail(exc)
                return
            self.log.warning("transient error (%d in a row), retrying next tick: %s",
                             self.consecutive_errors, exc)
            items = 0
        except SQLAlchemyError:
            raise
        except Exception as exc:  # the agent boundary: other agents keep running
            self._fail(exc)
            return
        else:
            self.consecutive_errors = 0
        self.metrics["ticks"] += 1
        self.metrics["items_processed"] += items
        self.metrics["last_tick_ms"] = (time.perf_counter() - started) * 1000
        self.recent_ms.append(self.metrics["last_tick_ms"])
        self.flush_metrics()

    def _database_unavailable(self, exc: SQLAlchemyError) -> None:
        self.db_failures += 1
        wait = min(DB_RETRY_MAX_S, 0.5 * 2 ** (self.db_failures - 1))
        self.db_wait_until = time.monotonic() + wait
        self.log.warning("database unavailable (%s); trying again in %.1fs", one_line(exc), wait)

    def _fail(self, exc: Exception) -> None:
        self.failed_ticks.append(time.time())
        self.metrics["errors"] += 1
        self.consecutive_errors += 1
        backoff = min(MAX_BACKOFF_S, 2.0 ** (self.consecutive_errors - 1))
        self.retry_at = utcnow() + timedelta(seconds=backoff)
        self.log.exception("agent failed; retry in %.0fs", backoff)
        self._set_status("fail", note=f"{one_line(exc)}; retry in {backoff:.0f}s",
                         severity="error")

    def errors_last_hour(self) -> int:
        """Failed ticks in the last hour (a transient failure records no event per tick)."""
        since = time.time() - 3600
        while self.failed_ticks and self.failed_ticks[0] < since:
            self.failed_ticks.popleft()
        return len(self.failed_ticks)

    def tick_p95_ms(self) -> float | None:
        """95th percentile of the recent tick durations in milliseconds."""
        if len(self.recent_ms) < 2:
            return None
        return round(statistics.quantiles(self.recent_ms, n=20)[-1], 2)

    def flush_metrics(self) -> None:
        with session_scope(self.db) as s:
            s.exec(
                update(Agent)
                .where(Agent.id == self.id)
                .values(
                    **self.metrics,
                    consecutive_errors=self.consecutive_errors,
                    last_active_at=utcnow(),
                    state=self.state,
                    summary={**self.summary(), "tick_p95_ms": self.tick_p95_ms(),
                             "errors_last_hour": self.errors_last_hour()},
                    # a tick that succeeded ends an error's retries: shown running again
                    **({"last_error": self.tick_error} if self.consecutive_errors
                       else {"retry_at": None}),
                )
            )

    def reset_metrics(self) -> None:
        with self.lock:
            self.metrics = dict(ZERO_METRICS)
            self.consecutive_errors = 0
            self.reset_at = utcnow()
            with session_scope(self.db) as s:
                s.exec(
                    update(Agent)
                    .where(Agent.id == self.id)
                    .values(**self.metrics, consecutive_errors=0, metrics_reset_at=self.reset_at)
                )
