"""One engine at a time on SQLite: a lease row with a heartbeat, taken by compare-and-swap.
(On PostgreSQL every engine is a worker of a fleet instead: engine.fleet.workers.)"""

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError

from engine.errors import EngineLeaseHeld
from engine.reads.fleet import holder_dead
from engine.store.db import session_scope
from engine.store.models import EngineLease
from engine.store.types import utcnow

HEARTBEAT_S = 1.0


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
            if not holder_dead(row.released, row.heartbeat_at, row.hostname, row.pid, now):
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
