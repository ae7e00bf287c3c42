"""Several engine workers on one PostgreSQL: each running session, and each dataset, is owned by
one worker through a lease row claimed with `SELECT … FOR UPDATE SKIP LOCKED`.

A lease lives as long as its owner's heartbeat (the worker's row, renewed every second): a
worker silent for WORKER_STALE_S is dead, and the others claim its leases at their next beat.
Every claim bumps the lease's epoch, the fencing token each commit of a session's bars checks
in its own transaction (engine.trading.clock): a worker that lost a lease can never commit for
it, and the new owner continues from the last committed bar. A worker claims up to a fair share,
ceil(work / live workers), and gives back what is well above it, so a joining worker gets work.
"""

import math
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, literal, or_, select, text, true, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.core.lifecycle import SessionStatus
from engine.market import catalog
from engine.reads.fleet import SHOWN_FOR_S, WORKER_STALE_S, worker_state
from engine.store.db import session_scope, upsert_insert
from engine.store.events import record_event, record_events
from engine.store.models import DatasetLease, EngineWorker, LeaseBase, PaperSession, SessionLease
from engine.store.types import utcnow

START_LOCK = 0x5045  # advisory lock keys (engine.store.db takes 0x5044 while migrating)
COMMANDS_LOCK = 0x5046
SLACK = 0.1  # leases are given back only beyond the fair share plus this fraction of it
STARTING_BEAT_S = 1.0  # the heartbeat while a worker starts (before its scheduler beats)


@dataclass(frozen=True)
class Work:
    """A kind of leased work: its lease table, key columns, and which leases need an owner."""

    model: type[LeaseBase]
    keys: tuple
    wanted: Callable[[], ColumnElement]


def _running_sessions() -> ColumnElement:
    return SessionLease.session_id.in_(
        select(PaperSession.id).where(PaperSession.status == SessionStatus.RUNNING))


SESSIONS = Work(SessionLease, (SessionLease.session_id,), _running_sessions)
DATASETS = Work(DatasetLease, (DatasetLease.symbol, DatasetLease.timeframe), true)


@contextmanager
def command_turn(db: Engine) -> Iterator[bool]:
    """Whether this worker applies the queued commands now: one worker at a time, so each
    command is applied once and in order (a session-level advisory lock, which the server
    frees if the worker dies)."""
    with db.connect() as c:
        mine = bool(c.execute(text("SELECT pg_try_advisory_lock(:k)"),
                              {"k": COMMANDS_LOCK}).scalar())
        try:
            yield mine
        finally:
            if mine:
                c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": COMMANDS_LOCK})
            c.commit()


def _live(now: datetime):
    return select(EngineWorker.id).where(
        EngineWorker.released.is_(False),
        EngineWorker.heartbeat_at >= now - timedelta(seconds=WORKER_STALE_S))


class Worker:
    """This engine process as one worker of the fleet."""

    def __init__(self, db: Engine):
        self.db = db
        self.id = uuid.uuid4().hex
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{self.hostname}:{self.pid}"

    def join(self, s: Session) -> tuple[bool, datetime | None]:
        """Register inside the caller's start-up transaction (workers start one at a time);
        return whether another worker is alive and, when none is, the fleet's last heartbeat
        (None on the very first start)."""
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": START_LOCK})
        now = utcnow()
        rows = list(s.execute(select(EngineWorker)).scalars())
        alive = any(worker_state(r.released, r.heartbeat_at, r.hostname, r.pid, now) == "alive"
                    for r in rows)
        s.add(EngineWorker(id=self.id, hostname=self.hostname, pid=self.pid, started_at=now,
                           heartbeat_at=now))
        s.execute(upsert_insert(s, DatasetLease).on_conflict_do_nothing(),
                  [{"symbol": sym, "timeframe": tf, "epoch": 0}
                   for sym, tf in catalog.shipped_datasets()])
        return alive, None if alive else max((r.heartbeat_at for r in rows), default=None)

    @contextmanager
    def starting(self) -> Iterator[None]:
        """Keep this worker's heartbeat fresh while it starts: restoring its agents on a busy
        host can outlast WORKER_STALE_S, and the others would report it offline. The
        scheduler's beat takes over once the block ends."""
        done = threading.Event()

        def touch() -> None:
            while not done.wait(STARTING_BEAT_S):
                try:
                    with session_scope(self.db) as s:
                        s.execute(update(EngineWorker).where(
                            EngineWorker.id == self.id, EngineWorker.released.is_(False))
                            .values(heartbeat_at=utcnow()))
                except SQLAlchemyError:
                    continue  # an outage: the scheduler's beat reports it

        thread = threading.Thread(target=touch, name="starting-beat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def beat(self, cpu_pct: float, rss_mb: float, tick_p95_ms: float | None,
             jobs: tuple[int, int]) -> bool:
        """Renew the heartbeat (and with it every lease held), record the job-queue jobs
        running and done here, raise the alert for workers gone silent, and claim or give
        back leases toward a fair share. False: this worker's row is gone (silent for an
        hour) and it must stop."""
        now = utcnow()
        with session_scope(self.db) as s:
            me = s.get(EngineWorker, self.id)
            if me is None or me.released:
                return False
            if me.offline_reported:
                gap = (now - me.heartbeat_at).total_seconds()
                record_event(s, "engine", "worker_back", f"worker {self.holder} is back after "
                             f"{gap:.1f}s without a heartbeat")
                me.offline_reported = False
            me.heartbeat_at, me.cpu_pct, me.rss_mb, me.tick_p95_ms = (now, cpu_pct, rss_mb,
                                                                      tick_p95_ms)
            me.jobs_running, me.jobs_done = jobs
            self._report_offline(s, now)
            s.execute(delete(EngineWorker).where(
                EngineWorker.heartbeat_at < now - timedelta(seconds=SHOWN_FOR_S)))
        with session_scope(self.db) as s:
            s.execute(upsert_insert(s, SessionLease).from_select(
                ["session_id", "epoch", "takeovers", "downtime_s"],
                select(PaperSession.id, literal(0), literal(0), literal(0.0)).where(
                    PaperSession.status == SessionStatus.RUNNING,
                    PaperSession.id.not_in(select(SessionLease.session_id))))
                .on_conflict_do_nothing())
            sessions = self._balance(s, SESSIONS, now)
        with session_scope(self.db) as s:
            datasets = self._balance(s, DATASETS, now)
            s.execute(update(EngineWorker).where(EngineWorker.id == self.id)
                      .values(sessions_owned=sessions, datasets_owned=datasets))
        return True

    def leave(self) -> None:
        """Give every lease back (the others claim them at once) and say so."""
        with session_scope(self.db) as s:
            freed = s.execute(update(SessionLease).where(SessionLease.worker_id == self.id)
                              .values(worker_id=None)).rowcount
            s.execute(update(DatasetLease).where(DatasetLease.worker_id == self.id)
                      .values(worker_id=None))
            s.execute(update(EngineWorker).where(EngineWorker.id == self.id).values(
                released=True, heartbeat_at=utcnow(), sessions_owned=0, datasets_owned=0))
            record_event(s, "engine", "worker_stop",
                         f"worker {self.holder} stopped; {freed} session lease(s) given back")

    # ------------------------------------------------------------ leases

    def _report_offline(self, s: Session, now: datetime) -> None:
        """One alert per worker gone silent (the UPDATE makes it once across workers)."""
        gone = s.execute(
            update(EngineWorker).where(
                EngineWorker.released.is_(False), EngineWorker.offline_reported.is_(False),
                EngineWorker.heartbeat_at < now - timedelta(seconds=WORKER_STALE_S))
            .values(offline_reported=True)
            .returning(EngineWorker.hostname, EngineWorker.pid, EngineWorker.heartbeat_at)
            .execution_options(synchronize_session=False)).all()
        record_events(s, [(
            "engine", "alert_worker_offline",
            f"worker {host}:{pid} went offline: no heartbeat for "
            f"{(now - beat).total_seconds():.1f}s; the other workers take over its sessions",
            "warning") for host, pid, beat in gone])

    def _balance(self, s: Session, work: Work, now: datetime) -> int:
        """Give back leases no longer wanted, claim up to the fair share or give back what is
        above it; return how many this worker holds."""
        model, wanted, live = work.model, work.wanted(), _live(now)
        live_count = s.execute(select(func.count()).select_from(live.subquery())).scalar_one()
        total = s.execute(select(func.count()).select_from(model).where(wanted)).scalar_one()
        share = math.ceil(total / max(1, live_count))
        self._free(s, work, ~wanted & or_(model.worker_id == self.id,
                                          model.worker_id.not_in(live)))
        mine = s.execute(select(func.count()).select_from(model).where(
            wanted, model.worker_id == self.id)).scalar_one()
        if mine < share:
            mine += self._claim(s, work, wanted, share - mine, live, now)
        elif mine > share + max(1, int(share * SLACK)):
            mine -= self._free(s, work, wanted & (model.worker_id == self.id), mine - share)
        return mine

    def _free(self, s: Session, work: Work, where, limit: int | None = None) -> int:
        """Give back the leases `where` selects (the highest keys first when limited); one
        a commit of this worker holds is skipped and given back next time."""
        query = select(work.model).where(where).with_for_update(skip_locked=True,
                                                                of=work.model)
        if limit is not None:
            query = query.order_by(*(k.desc() for k in work.keys)).limit(limit)
        rows = list(s.execute(query).scalars())
        for row in rows:
            row.worker_id = None
        return len(rows)

    def _claim(self, s: Session, work: Work, wanted, n: int, live, now: datetime) -> int:
        """Claim up to `n` leases that have no live owner, bumping each one's epoch."""
        model = work.model
        rows = list(s.execute(select(model).where(
            wanted, or_(model.worker_id.is_(None), model.worker_id.not_in(live)))
            .order_by(*work.keys).limit(n).with_for_update(skip_locked=True, of=model))
            .scalars())
        dead = {row.worker_id for row in rows if row.worker_id}
        if dead and model is SessionLease:
            self._taken_over(s, [r for r in rows if r.worker_id], dead, now)
        for row in rows:
            row.worker_id, row.epoch, row.claimed_at = self.id, row.epoch + 1, now
        return len(rows)

    def _taken_over(self, s: Session, rows: list[SessionLease], dead: set[str],
                    now: datetime) -> None:
        """Record each session's downtime: since its dead owner's last heartbeat."""
        owners = {wid: (f"{host}:{pid}", beat) for wid, host, pid, beat in s.execute(
            select(EngineWorker.id, EngineWorker.hostname, EngineWorker.pid,
                   EngineWorker.heartbeat_at).where(EngineWorker.id.in_(dead)))}
        events = []
        for row in rows:
            holder, beat = owners.get(row.worker_id, ("(gone)", row.claimed_at or now))
            gap = (now - beat).total_seconds()
            row.takeovers += 1
            row.downtime_s += gap
            events.append((f"session-{row.session_id}", "takeover",
                           f"session {row.session_id}: taken over by worker {self.holder} from "
                           f"worker {holder} after {gap:.1f}s; it continues from its last "
                           "committed bar", "info"))
        record_events(s, events)
