"""One engine at a time on SQLite: a lease row with a heartbeat, taken by compare-and-swap.
(On PostgreSQL every engine is a worker of a fleet instead: engine.workers.)"""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.db import session_scope
from engine.db_types import utcnow
from engine.errors import EngineLeaseHeld
from engine.fleet import process_gone, workers
from engine.models import EngineLease

HEARTBEAT_S = 1.0
STALE_AFTER_S = 6.0


@dataclass(frozen=True)
class LeaseInfo:
    holder: str | None
    heartbeat_at: datetime | None
    age_s: float | None
    online: bool
    started_at: datetime | None
    cpu_pct: float
    rss_mb: float


def _dead(row: EngineLease, now: datetime) -> bool:
    """A lease is free when released, stale, or held by a process gone from this host."""
    if row.released or (now - row.heartbeat_at).total_seconds() > STALE_AFTER_S:
        return True
    return process_gone(row.hostname, row.pid)


def _fleet_info(db: Engine) -> LeaseInfo:
    """The engine as a fleet of workers: online while one is alive; their holders, freshest
    heartbeat and summed CPU and memory."""
    fleet = workers(db)
    if not fleet:
        return LeaseInfo(None, None, None, False, None, 0.0, 0.0)
    live = [w for w in fleet if w.alive]
    shown = live or [max(fleet, key=lambda w: w.heartbeat_at)]
    freshest = max(shown, key=lambda w: w.heartbeat_at)
    return LeaseInfo(", ".join(w.holder for w in shown), freshest.heartbeat_at, freshest.age_s,
                     bool(live), min(w.started_at for w in shown),
                     sum(w.cpu_pct for w in live), sum(w.rss_mb for w in live))


def lease_info(db: Engine) -> LeaseInfo:
    if db.dialect.name == "postgresql":
        return _fleet_info(db)
    with Session(db) as s:
        row = s.get(EngineLease, 1)
    if row is None:
        return LeaseInfo(None, None, None, False, None, 0.0, 0.0)
    now = utcnow()
    age = (now - row.heartbeat_at).total_seconds()
    online = not _dead(row, now)  # a holder gone from this host is offline at once
    return LeaseInfo(row.holder, row.heartbeat_at, age, online, row.started_at, row.cpu_pct,
                     row.rss_mb)


class Lease:
    """The lease this process holds while it runs the engine."""

    def __init__(self, db: Engine):
        self.db = db
        self.token = uuid.uuid4().hex
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{self.hostname}:{self.pid}"

    def acquire(self) -> datetime | None:
        """Take the lease or raise EngineLeaseHeld; return the previous holder's last heartbeat."""
        now = utcnow()
        with session_scope(self.db) as s:
            row = s.get(EngineLease, 1)
            if row is None:
                s.add(EngineLease(token=self.token, holder=self.holder, hostname=self.hostname,
                                  pid=self.pid, started_at=now, heartbeat_at=now))
                try:
                    s.flush()
                except IntegrityError:
                    raise EngineLeaseHeld("another engine took the lease just now") from None
                return None
            if not _dead(row, now):
                age = (now - row.heartbeat_at).total_seconds()
                raise EngineLeaseHeld(
                    f"another engine holds the lease: {row.holder} (heartbeat {age:.1f}s ago)"
                )
            previous = row.heartbeat_at
            taken = s.execute(
                update(EngineLease)
                .where(EngineLease.id == 1, EngineLease.token == row.token)
                .values(token=self.token, holder=self.holder, hostname=self.hostname,
                        pid=self.pid, started_at=now, heartbeat_at=now, released=False)
            ).rowcount
            if taken != 1:
                raise EngineLeaseHeld("another engine took the lease just now")
            return previous

    def heartbeat(self, cpu_pct: float, rss_mb: float) -> bool:
        """Refresh the heartbeat; False means the lease was lost (stop at once)."""
        with session_scope(self.db) as s:
            return s.execute(
                update(EngineLease)
                .where(EngineLease.id == 1, EngineLease.token == self.token)
                .values(heartbeat_at=utcnow(), cpu_pct=cpu_pct, rss_mb=rss_mb)
            ).rowcount == 1

    def release(self) -> None:
        with session_scope(self.db) as s:
            s.execute(
                update(EngineLease)
                .where(EngineLease.id == 1, EngineLease.token == self.token)
                .values(released=True, heartbeat_at=utcnow())
            )


def downtime(previous: datetime | None) -> timedelta | None:
    return utcnow() - previous if previous else None
