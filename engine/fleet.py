"""The engine workers as the dashboard and `python -m engine status` see them (no pandas).

On PostgreSQL any number of `python -m engine run` processes share the running sessions
(engine.workers); on SQLite there is one engine (engine.lease) and no worker rows.
"""

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import psutil
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.db_types import utcnow
from engine.lifecycle import SessionStatus
from engine.models import EngineWorker, PaperSession, SessionLease

WORKER_STALE_S = 3.0  # a worker silent this long is dead: the others take its sessions
SHOWN_FOR_S = 3600.0  # a stopped or dead worker stays listed this long


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    holder: str  # hostname:pid
    started_at: datetime
    heartbeat_at: datetime
    age_s: float  # seconds since its last heartbeat
    alive: bool
    sessions_owned: int
    datasets_owned: int
    tick_p95_ms: float | None  # the sum of its agents' tick p95s
    cpu_pct: float
    rss_mb: float
    state: str  # alive, stopped (cleanly) or offline
    jobs_running: int  # job-queue jobs (sweep variants) it runs now
    jobs_done: int  # ... and has finished since it started


def process_gone(hostname: str, pid: int) -> bool:
    """Whether a process that said it runs on this host has ended (seen at once, before its
    heartbeat goes stale)."""
    return hostname == socket.gethostname() and not psutil.pid_exists(pid)


def worker_state(row: EngineWorker, now: datetime) -> str:
    if row.released:
        return "stopped"
    stale = (now - row.heartbeat_at).total_seconds() > WORKER_STALE_S
    return "offline" if stale or process_gone(row.hostname, row.pid) else "alive"


def workers(db: Engine) -> list[WorkerInfo]:
    """Every worker alive now or seen in the last hour, oldest first."""
    now = utcnow()
    with Session(db) as s:
        rows = list(s.execute(select(EngineWorker).where(
            EngineWorker.heartbeat_at >= now - timedelta(seconds=SHOWN_FOR_S))
            .order_by(EngineWorker.started_at)).scalars())
    result = []
    for r in rows:
        state = worker_state(r, now)
        result.append(WorkerInfo(
            id=r.id, holder=f"{r.hostname}:{r.pid}", started_at=r.started_at,
            heartbeat_at=r.heartbeat_at, age_s=(now - r.heartbeat_at).total_seconds(),
            alive=state == "alive", sessions_owned=r.sessions_owned if state == "alive" else 0,
            datasets_owned=r.datasets_owned if state == "alive" else 0,
            tick_p95_ms=r.tick_p95_ms, cpu_pct=r.cpu_pct, rss_mb=r.rss_mb, state=state,
            jobs_running=r.jobs_running if state == "alive" else 0, jobs_done=r.jobs_done))
    return result


def unowned_running(db: Engine, live: list[str]) -> int:
    """Running sessions no live worker owns (waiting to be claimed)."""
    with Session(db) as s:
        return s.execute(select(func.count()).select_from(PaperSession).outerjoin(
            SessionLease, SessionLease.session_id == PaperSession.id).where(
            PaperSession.status == SessionStatus.RUNNING,
            SessionLease.worker_id.is_(None) | SessionLease.worker_id.not_in(live))).scalar_one()


def status_lines(db: Engine) -> list[str]:
    """The worker lines of `python -m engine status` (none on SQLite: one engine, no workers)."""
    fleet = workers(db)
    if not fleet:
        return []
    live = [w for w in fleet if w.alive]
    waiting = unowned_running(db, [w.id for w in live])
    lines = [f"workers:  {len(live)} alive of {len(fleet)} seen in the last hour; "
             f"{sum(w.sessions_owned for w in live)} sessions owned, {waiting} waiting for one; "
             f"{sum(w.jobs_running for w in live)} jobs running"]
    for w in fleet:
        p95 = "-" if w.tick_p95_ms is None else f"{w.tick_p95_ms:.1f} ms"
        lines.append(f"  {w.holder:<28} {w.state:<8} heartbeat {w.age_s:5.1f}s ago  "
                     f"sessions {w.sessions_owned:>5}  datasets {w.datasets_owned:>3}  "
                     f"jobs {w.jobs_running:>2} running {w.jobs_done:>5} done  tick p95 {p95}")
    return lines
