"""The engine process: one BlockingScheduler running the command loop, heartbeat and agents."""

import logging
import os
import signal
import sys
import threading
import time
from contextlib import nullcontext
from datetime import UTC

import psutil
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from engine.agents import AGENT_TYPES
from engine.agents.base import AgentContext, BaseAgent
from engine.config import Settings
from engine.control.notify import Notifier
from engine.control.transitions import transition
from engine.core.lifecycle import AgentStatus, SessionStatus, SystemStatus
from engine.errors import one_line
from engine.fleet.commands import apply_pending
from engine.fleet.lease import HEARTBEAT_S, Lease, downtime
from engine.fleet.workers import Worker, command_turn
from engine.log_files import ENGINE_LOG
from engine.logs import get_logger
from engine.registry import strategies
from engine.store.db import (
    checkpoint_apart,
    checkpoint_wal,
    get_engine,
    migrate,
    session_scope,
    sqlite_path,
)
from engine.store.events import record_event
from engine.store.models import Agent, PaperSession, SystemState
from engine.store.types import utcnow
from engine.sweeps.runner import SweepRunner
from engine.trading.clock import SessionBook

COMMAND_POLL_S = 0.05
WAL_CHECKPOINT_S = 0.2  # SQLite: how often the log is copied into the database, apart
OUTAGE_LOG_EVERY_S = 10.0
NOTIFY_S = 2.0  # how often new alerts are sent out
SHUTDOWN_WAIT_S = 1.0  # per agent still in a tick (a hung feed) when the engine stops


class EngineProcess:
    """Holds the lease (SQLite) or joins the workers (PostgreSQL), restores persisted state,
    and schedules every job."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = get_engine(settings.database_url)
        self.lease = Lease(self.db)
        self.fleet: Worker | None = None  # run() joins the workers on PostgreSQL ...
        self.jobs = None  # ... and the job queue (engine.fleet.jobs.JobWorker)
        self.holder = self.lease.holder
        self.log = get_logger(settings.logs_dir, ENGINE_LOG, pin=True)
        self.agents: dict[str, BaseAgent] = {}
        self.book = SessionBook(self.db, self.log)
        self.sweeps = SweepRunner(self.db, self.log)
        self.control_lock = threading.Lock()  # applying commands vs following other workers
        self.process = psutil.Process(os.getpid())
        self.stop_requested = False
        self.stop_signal = ""
        self.db_file = sqlite_path(self.db)
        self.db_inode: int | None = None
        self.vanished = False
        self.outage = ("", 0.0)  # the last database fault logged, and when
        self.notifier: Notifier | None = None
        parent = os.environ.get("PAPERDESK_PARENT_PID", "")
        # Started by the dashboard: stop when that process is gone.
        self.parent_pid = int(parent) if parent.isdigit() else None
        self.scheduler = BlockingScheduler(
            executors={
                "default": ThreadPoolExecutor(max_workers=4),  # commands and heartbeat
                # Agents tick one at a time, in pipeline order when due together: they never
                # contend for SQLite's single writer (contention costs more than it overlaps).
                # Network calls in live mode carry timeouts so a dead feed cannot stall them.
                "pipeline": ThreadPoolExecutor(max_workers=1),
            },
            # Ticks that overlap are skipped (max_instances=1) and late ones merged (coalesce);
            # a tick late by under 2 s still runs.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 2},
            timezone=UTC,
        )
        for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
            logging.getLogger(name).setLevel(logging.ERROR)

    # ------------------------------------------------------------ start-up and recovery

    def run(self) -> int:
        """Take the lease (or join the workers), restore state, then block until SIGTERM/SIGINT,
        a lost lease or a vanished database; return the process exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        migrate(self.db)
        if self.db_file is not None:
            checkpoint_apart(self.db)
        self.db_inode = self._inode()
        if self.settings.notify_urls:
            self.notifier = Notifier(self.db, self.settings.notify_urls, self.log)
        previous = None
        if self.db.dialect.name == "postgresql":
            from engine.fleet.jobs import JobWorker  # on use: procrastinate takes 0.4 s to import

            self.fleet = Worker(self.db)
            self.book.worker = self.fleet.id
            self.jobs = self.sweeps.jobs = JobWorker(self.db, self.holder, self.log)
            self.log.info("engine %s joins the workers on PostgreSQL", self.holder)
        else:
            previous = self.lease.acquire()
            self.log.info("engine %s took the lease", self.holder)
        try:
            with self.fleet.starting() if self.fleet is not None else nullcontext():
                self.recover(previous)
                if self.jobs is not None:
                    self.jobs.start()
                self._schedule()
            if not self.stop_requested:
                self.scheduler.start()
        finally:
            self._shut_down()
        return 1 if self.vanished else 0

    def _inode(self) -> int | None:
        try:
            return self.db_file.stat().st_ino if self.db_file else None
        except FileNotFoundError:
            return None

    def _ensure_rows(self, s: Session) -> SystemState:
        state = s.get(SystemState, 1)
        initial = self.settings.initial_state
        if state is None:
            state = SystemState(status=initial)
            s.add(state)
            record_event(s, "system", "first_start", f"first start: system {initial}")
        agent_status = AgentStatus.RUNNING if initial == "running" else AgentStatus.STOPPED
        for kind, cls in AGENT_TYPES.items():
            if s.get(Agent, kind) is None:
                s.add(Agent(id=kind, name=cls.title, kind=kind, status=agent_status))
                record_event(s, kind, "registered", f"agent {kind} registered")
        return state

    def recover(self, previous_heartbeat) -> None:
        """Restore every agent and session to its persisted state (start-up = recovery). A
        worker joining live workers restores its agents only: the sessions run already."""
        with session_scope(self.db) as s:
            joined = False
            if self.fleet is not None:
                joined, previous_heartbeat = self.fleet.join(s)
            state = self._ensure_rows(s)
            gap = downtime(previous_heartbeat)
            if gap is not None:
                record_event(s, "system", "downtime",
                             f"engine was offline for {gap.total_seconds():.1f}s "
                             f"(since {previous_heartbeat:%Y-%m-%d %H:%M:%S} UTC)", "warning")
            record_event(s, "system", "engine_start", f"engine started ({self.holder})"
                         + ("; joined the running workers" if joined else ""))
            restored = "joined" if joined else self._restore_sessions(s)
            rows = list(s.execute(select(Agent)).scalars())
            system_status = state.status
        self.log.info("restored sessions: %s", restored)
        for row in rows:
            if row.kind not in AGENT_TYPES:
                continue
            logger = get_logger(self.settings.logs_dir, row.id, pin=True)
            ctx = AgentContext(self.db, self.settings, logger, book=self.book, stages=self,
                               worker=self.book.worker)
            self.agents[row.id] = AGENT_TYPES[row.kind](row, ctx)
        self.reload_strategies("at engine start")
        for row in rows:
            if row.id in self.agents and system_status != SystemStatus.STOPPED:
                self.agents[row.id].restore(row.status)

    def reload_strategies(self, by: str) -> str:
        """Load the operator's strategy files (through the strategy agent, which reports)."""
        agent = self.agents.get("strategy")
        if agent is None:
            found = strategies.scan(pin=True)
            return f"strategies loaded {by}: {len(found.sources)}"
        return agent.reload(by)

    def _restore_sessions(self, s: Session) -> dict[str, int]:
        counts = {"running": 0, "paused": 0}
        sessions = s.execute(select(PaperSession).where(
            PaperSession.status.in_((SessionStatus.RUNNING, SessionStatus.PAUSED)))).scalars()
        for session in sessions:
            if session.status == SessionStatus.RUNNING and session.restart_policy == "paused":
                logger = get_logger(self.settings.logs_dir, f"session-{session.id}")
                transition(s, session, "pause", note="restart policy: stay paused",
                           logger=logger)
            counts[session.status] += 1
        record_event(s, "system", "restored",
                     f"restored {counts['running']} running and {counts['paused']} paused "
                     "session(s)")
        return counts

    # ------------------------------------------------------------ jobs

    def _schedule(self) -> None:
        self.scheduler.add_job(self._apply_commands, "interval", seconds=COMMAND_POLL_S,
                               id="commands", next_run_time=utcnow())
        self.scheduler.add_job(self._heartbeat, "interval", seconds=HEARTBEAT_S,
                               id="heartbeat", next_run_time=utcnow())
        if self.notifier is not None:  # its own thread: a slow service delays nothing else
            self.scheduler.add_executor(ThreadPoolExecutor(max_workers=1), "notify")
            self.scheduler.add_job(self._tolerating_outage, "interval", seconds=NOTIFY_S,
                                   args=("notifications", self.notifier.run_once),
                                   id="notify", executor="notify", next_run_time=utcnow())
        if self.db_file is not None:  # its own thread: the pipeline's commits never wait
            self.scheduler.add_executor(ThreadPoolExecutor(max_workers=1), "wal")
            self.scheduler.add_job(self._tolerating_outage, "interval", seconds=WAL_CHECKPOINT_S,
                                   args=("checkpoint", checkpoint_wal, self.db), id="wal",
                                   executor="wal", next_run_time=utcnow())
        # Sweeps fast-forward their variants in a process pool, from their own thread: never
        # in the per-bar path.
        self.scheduler.add_executor(ThreadPoolExecutor(max_workers=1), "sweeps")
        self.scheduler.add_job(self._tolerating_outage, "interval", seconds=1,
                               args=("sweeps", self.sweeps.tick), id="sweeps",
                               executor="sweeps", next_run_time=utcnow())
        for agent in self.agents.values():
            executor = "pipeline"
            if agent.spec.own_thread:  # a hung feed then delays no other agent
                executor = f"agent:{agent.id}"
                self.scheduler.add_executor(ThreadPoolExecutor(max_workers=1), executor)
            job = self.scheduler.add_job(agent.tick, "interval", seconds=agent.interval_s,
                                         id=f"agent:{agent.id}", executor=executor,
                                         next_run_time=utcnow())
            if agent.status in (AgentStatus.STOPPED, AgentStatus.STOPPING):
                job.pause()

    def _apply_commands(self) -> None:
        if self.stop_requested:
            self.scheduler.shutdown(wait=False)
            return
        self._tolerating_outage("commands", self._apply_pending)

    def _apply_pending(self) -> None:
        """Apply queued commands; on PostgreSQL only the worker whose turn it is (each command
        once, in order), the others follow the state it leaves (_follow_agents)."""
        with self.control_lock:
            if self.fleet is None:
                apply_pending(self)
                return
            with command_turn(self.db) as mine:
                if mine:
                    apply_pending(self)

    def _follow_agents(self) -> None:
        """Start, stop and reconfigure this worker's agents as their shared rows say."""
        with self.control_lock:
            with Session(self.db) as s:
                rows = list(s.execute(select(Agent)).scalars())
            for row in rows:
                agent = self.agents.get(row.id)
                if agent is None:
                    continue
                interval = agent.interval_s
                job = f"agent:{agent.id}"
                if agent.follow(row):
                    if agent.status == AgentStatus.STOPPED:
                        self.scheduler.pause_job(job)
                    else:
                        self.scheduler.resume_job(job)
                if agent.interval_s != interval:
                    self.scheduler.reschedule_job(job, trigger="interval",
                                                  seconds=agent.interval_s)

    def _tolerating_outage(self, job: str, fn, *args) -> None:
        """Run a job; while the database is unavailable say so on one line now and then (not
        a traceback a tick), and say when it is back."""
        try:
            fn(*args)
        except SQLAlchemyError as exc:
            reason = one_line(exc)
            now = time.monotonic()
            if reason != self.outage[0] or now - self.outage[1] > OUTAGE_LOG_EVERY_S:
                self.log.warning("%s: database unavailable (%s); retrying", job, reason)
                self.outage = (reason, now)
            return
        if self.outage[0] and job == "heartbeat":
            self.log.warning("database available again")
            self.outage = ("", 0.0)

    def _heartbeat(self) -> None:
        self._tolerating_outage("heartbeat", self._beat)

    def _beat(self) -> None:
        if self.db_file is not None and self._inode() != self.db_inode:
            self.vanished = True
            self.stop_requested = True
            message = (f"the database file {self.db_file} vanished or was replaced; stopping "
                       "(nothing more is written; restore the file or start afresh)")
            self.log.error(message)
            sys.stderr.write(f"error: {message}\n")
            return
        if self.parent_pid and os.getppid() != self.parent_pid:
            self.log.info("parent process %s is gone; stopping", self.parent_pid)
            self.stop_requested = True
            return
        cpu = self.process.cpu_percent(interval=None)
        rss = self.process.memory_info().rss / 2**20
        if self.fleet is None:
            alive = self.lease.heartbeat(cpu, rss)
        else:
            alive = self.fleet.beat(cpu, rss, self._tick_p95_ms(), self.jobs.counts())
            self._follow_agents()
        if not alive:
            self.log.error("lost the engine lease; stopping")
            self.scheduler.shutdown(wait=False)

    def _tick_p95_ms(self) -> float | None:
        """The sum of this process's agents' tick p95s (None before they have ticked)."""
        p95s = [p for a in self.agents.values() if (p := a.tick_p95_ms()) is not None]
        return round(sum(p95s), 2) if p95s else None

    # ------------------------------------------------------------ agent control

    @property
    def logs_dir(self):
        return self.settings.logs_dir

    def running(self, kind: str) -> bool:
        """Whether the agent of type `kind` is running (the agents' `Stages` facade)."""
        agent = self.agents.get(kind)
        return agent is not None and agent.status == AgentStatus.RUNNING

    def start_agent(self, agent_id: str, by: str = "") -> None:
        self.agents[agent_id].start(note=by)
        self.scheduler.resume_job(f"agent:{agent_id}")

    def stop_agent(self, agent_id: str, by: str = "") -> None:
        self.scheduler.pause_job(f"agent:{agent_id}")
        self.agents[agent_id].stop(note=by)

    def configure_agent(self, agent_id: str, changes: dict, by: str = "") -> None:
        agent = self.agents[agent_id]
        with agent.lock:
            agent.on_config(changes)
            if agent.status == AgentStatus.ERROR:  # the new settings may be the fix: try now
                agent.retry_at = utcnow()
            with session_scope(self.db) as s:
                row = s.get(Agent, agent_id)
                row.config = {**row.config, **changes}
                if agent.status == AgentStatus.ERROR:
                    row.retry_at = agent.retry_at
                summary = ", ".join(f"{k}={v}" for k, v in changes.items())
                record_event(s, agent_id, "config",
                             f"agent {agent_id} config: {summary} {by}".strip())
        if "interval_s" in changes:
            self.scheduler.reschedule_job(f"agent:{agent_id}", trigger="interval",
                                          seconds=agent.interval_s)

    # ------------------------------------------------------------ shutdown

    def _on_signal(self, signum, _frame) -> None:
        """Only set a flag: the handler runs on the main thread, which may hold the executor's
        (non-reentrant) lock mid-submit, so shutting down from here could deadlock. The
        command job, every 50 ms on a worker thread, does the shutdown."""
        self.stop_requested = True
        self.stop_signal = signal.Signals(signum).name

    def _shut_down(self) -> None:
        """Stop ticking, let in-flight ticks finish, keep persisted statuses, free the lease."""
        if self.stop_signal:
            self.log.info("received %s; stopping", self.stop_signal)
        self.sweeps.stop()
        if self.jobs is not None:
            self.jobs.stop()
        for agent in self.agents.values():
            if not agent.lock.acquire(timeout=SHUTDOWN_WAIT_S):
                self.log.warning("agent %s is still in a tick; not waiting for it", agent.id)
                continue
            try:
                if agent.status == AgentStatus.RUNNING:
                    agent.on_stop()
            finally:
                agent.lock.release()
        if self.vanished:
            return
        with session_scope(self.db) as s:
            record_event(s, "system", "engine_stop", f"engine stopped ({self.holder})")
        if self.fleet is None:
            self.lease.release()
        else:
            self.fleet.leave()
        self.log.info("engine stopped")
