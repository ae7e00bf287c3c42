"""The engine as the dashboard and `python -m engine status` see it: the lease of the one
SQLite engine and the workers of a PostgreSQL fleet — in plain SQL
(engine.store.plainsql), so the CLI's fast path reads through this same module with no ORM
or pandas, and the dashboard calls it with its SQLAlchemy engine.

On PostgreSQL any number of `python -m engine run` processes share the running sessions
(engine.fleet.workers); on SQLite there is one engine (engine.fleet.lease) and no worker rows.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.core.lifecycle import (
    SessionStatus,
)
from engine.store.plainsql import Sql, loaded_time, reading

STALE_AFTER_S = 6.0  # an engine whose heartbeat is older is offline
WORKER_STALE_S = 3.0  # a worker silent this long is dead: the others take its sessions
SHOWN_FOR_S = 3600.0  # a stopped or dead worker stays listed this long


@dataclass(frozen=True)
class LeaseInfo:
    holder: str | None
    heartbeat_at: datetime | None
    age_s: float | None
    online: bool
    started_at: datetime | None
    cpu_pct: float
    rss_mb: float


NO_ENGINE = LeaseInfo(None, None, None, False, None, 0.0, 0.0)


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
    import socket  # on use: only a live lease or worker is looked up

    if hostname != socket.gethostname():
        return False
    import psutil  # on use: only a holder on this host is checked for its process

    return not psutil.pid_exists(pid)


def holder_dead(released: bool, heartbeat_at: datetime, hostname: str, pid: int,
                now: datetime, stale_after_s: float = STALE_AFTER_S) -> bool:
    """A lease or worker is dead when released, stale, or gone from this host."""
    if released or (now - heartbeat_at).total_seconds() > stale_after_s:
        return True
    return process_gone(hostname, pid)


def worker_state(released: bool, heartbeat_at: datetime, hostname: str, pid: int,
                 now: datetime) -> str:
    if released:
        return "stopped"
    dead = holder_dead(False, heartbeat_at, hostname, pid, now, WORKER_STALE_S)
    return "offline" if dead else "alive"


def _now() -> datetime:
    return datetime.now(UTC)


def _worker(row: tuple, now: datetime) -> WorkerInfo:
    (wid, hostname, pid, started_at, heartbeat_at, released, sessions, datasets, p95, cpu,
     rss, running, done) = row
    heartbeat_at = loaded_time(heartbeat_at)
    state = worker_state(bool(released), heartbeat_at, hostname, pid, now)
    alive = state == "alive"
    return WorkerInfo(
        id=wid, holder=f"{hostname}:{pid}", started_at=loaded_time(started_at),
        heartbeat_at=heartbeat_at, age_s=(now - heartbeat_at).total_seconds(), alive=alive,
        sessions_owned=sessions if alive else 0, datasets_owned=datasets if alive else 0,
        tick_p95_ms=p95, cpu_pct=cpu, rss_mb=rss, state=state,
        jobs_running=running if alive else 0, jobs_done=done)


def workers(source: Sql | Any) -> list[WorkerInfo]:
    """Every worker alive now or seen in the last hour, oldest first."""
    now = _now()
    with reading(source) as sql:
        rows = sql.rows(
            "SELECT id, hostname, pid, started_at, heartbeat_at, released, sessions_owned, "
            "datasets_owned, tick_p95_ms, cpu_pct, rss_mb, jobs_running, jobs_done "
            "FROM engine_worker WHERE heartbeat_at >= ? ORDER BY started_at",
            sql.stored_time(now - timedelta(seconds=SHOWN_FOR_S)))
    return [_worker(row, now) for row in rows]


def _fleet_info(fleet: list[WorkerInfo]) -> LeaseInfo:
    """The engine as a fleet of workers: online while one is alive; their holders, freshest
    heartbeat and summed CPU and memory."""
    if not fleet:
        return NO_ENGINE
    live = [w for w in fleet if w.alive]
    shown = live or [max(fleet, key=lambda w: w.heartbeat_at)]
    freshest = max(shown, key=lambda w: w.heartbeat_at)
    return LeaseInfo(", ".join(w.holder for w in shown), freshest.heartbeat_at, freshest.age_s,
                     bool(live), min(w.started_at for w in shown),
                     sum(w.cpu_pct for w in live), sum(w.rss_mb for w in live))


def _single_info(sql: Sql) -> LeaseInfo:
    found = sql.rows("SELECT holder, heartbeat_at, started_at, released, hostname, pid, "
                     "cpu_pct, rss_mb FROM engine_lease WHERE id = 1")
    if not found:
        return NO_ENGINE
    holder, heartbeat_at, started_at, released, hostname, pid, cpu_pct, rss_mb = found[0]
    heartbeat_at, now = loaded_time(heartbeat_at), _now()
    online = not holder_dead(bool(released), heartbeat_at, hostname, pid, now)
    return LeaseInfo(holder, heartbeat_at, (now - heartbeat_at).total_seconds(), online,
                     loaded_time(started_at), cpu_pct, rss_mb)


def lease_info(source: Sql | Any) -> LeaseInfo:
    """The engine: the SQLite lease, or on PostgreSQL the fleet of workers."""
    with reading(source) as sql:
        return _single_info(sql) if sql.sqlite else _fleet_info(workers(sql))


def unowned_running(source: Sql | Any, live: list[str]) -> int:
    """Running sessions no live worker owns (waiting to be claimed)."""
    owned = ("l.worker_id IN (" + ", ".join("?" * len(live)) + ")") if live else "1 = 0"
    with reading(source) as sql:
        return sql.value(
            "SELECT COUNT(*) FROM paper_session s LEFT JOIN session_lease l "
            f"ON l.session_id = s.id WHERE s.status = ? AND NOT ({owned} AND "
            "l.worker_id IS NOT NULL)", SessionStatus.RUNNING.value, *live)


def status_lines(source: Sql | Any) -> list[str]:
    """The worker lines of `python -m engine status` (none on SQLite: one engine, no workers)."""
    fleet = workers(source)
    if not fleet:
        return []
    live = [w for w in fleet if w.alive]
    waiting = unowned_running(source, [w.id for w in live])
    lines = [f"workers:  {len(live)} alive of {len(fleet)} seen in the last hour; "
             f"{sum(w.sessions_owned for w in live)} sessions owned, {waiting} waiting for one; "
             f"{sum(w.jobs_running for w in live)} jobs running"]
    for w in fleet:
        p95 = "-" if w.tick_p95_ms is None else f"{w.tick_p95_ms:.1f} ms"
        lines.append(f"  {w.holder:<28} {w.state:<8} heartbeat {w.age_s:5.1f}s ago  "
                     f"sessions {w.sessions_owned:>5}  datasets {w.datasets_owned:>3}  "
                     f"jobs {w.jobs_running:>2} running {w.jobs_done:>5} done  tick p95 {p95}")
    return lines
