"""The base every agent shares: lifecycle, metrics, errors and retry with backoff.

An agent type subclasses `BaseAgent`, sets `spec` to its entry in `engine.agent_specs.SPECS`
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

from engine.agent_specs import AgentSpec
from engine.config import Settings
from engine.db import session_scope
from engine.db_types import utcnow
from engine.errors import TransientError
from engine.events import record_event
from engine.lifecycle import AgentStatus
from engine.models import Agent
from engine.params import Param
from engine.trading.clock import SessionBook
from engine.transitions import transition

MAX_BACKOFF_S = 60.0
TICK_WINDOW = 200  # recent tick durations kept for the p95 shown in the dashboard


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
        with session_scope(self.db) as s:
            row = s.get(Agent, self.id)
            self.status = transition(s, row, action, note=note, logger=self.log, severity=severity)
            if action == "fail":
                row.last_error, row.retry_at = note, self.retry_at
                row.errors = self.metrics["errors"]
                row.consecutive_errors = self.consecutive_errors

    def start(self) -> None:
        """stopped|error → starting → running (on_start failing puts the agent in error)."""
        with self.lock:
            self._set_status("start")
            self._run_on_start("started")

    def _run_on_start(self, then: str | None) -> None:
        try:
            self.on_start()
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

    def stop(self) -> None:
        """running|starting → stopping → stopped; error → stopped."""
        with self.lock:
            if self.status == AgentStatus.ERROR:
                self._set_status("stop")
                return
            self._set_status("stop")
            try:
                self.on_stop()
            finally:
                self._set_status("stopped")

    def tick(self) -> None:
        """Scheduler job: run one tick if running, or retry after an error when it is due."""
        with self.lock:
            if self.status == AgentStatus.ERROR and self.retry_at and utcnow() >= self.retry_at:
                self.start()
                return
            if self.status != AgentStatus.RUNNING:
                return
            started = time.perf_counter()
            try:
                items = self.on_tick()
            except TransientError as exc:
                self.metrics["errors"] += 1
                self.log.warning("transient error, retrying next tick: %s", exc)
                items = 0
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

    def _fail(self, exc: Exception) -> None:
        self.metrics["errors"] += 1
        self.consecutive_errors += 1
        backoff = min(MAX_BACKOFF_S, 2.0 ** (self.consecutive_errors - 1))
        self.retry_at = utcnow() + timedelta(seconds=backoff)
        self.log.exception("agent failed; retry in %.0fs", backoff)
        self._set_status(
            "fail", note=f"{type(exc).__name__}: {exc}; retry in {backoff:.0f}s", severity="error"
        )

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
                    summary={**self.summary(), "tick_p95_ms": self.tick_p95_ms()},
                )
            )

    def reset_metrics(self) -> None:
        with self.lock:
            self.metrics = {"ticks": 0, "items_processed": 0, "errors": 0, "last_tick_ms": 0.0}
            self.consecutive_errors = 0
            with session_scope(self.db) as s:
                s.exec(
                    update(Agent)
                    .where(Agent.id == self.id)
                    .values(**self.metrics, consecutive_errors=0, metrics_reset_at=utcnow())
                )
