"""Several engine workers on one PostgreSQL (issue #9): three real `python -m engine run`
processes share 300 running replay sessions; one is killed with SIGKILL and the others take its
sessions over, bar-exact. PostgreSQL only: on SQLite one engine holds the lease."""

import os
import re
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from engine.control import actions as control
from engine.fleet.lease import HEARTBEAT_S
from engine.market import catalog
from engine.reads.fleet import WORKER_STALE_S, status_lines, workers
from engine.reads.reconcile import reconcile
from engine.store.leases import EngineWorker, SessionLease
from engine.store.models import EquitySnapshot, Event, PaperSession
from tests.conftest import cli, spawn_workers, store_bars, wait_until

pytestmark = [pytest.mark.skipif(not os.environ.get("PAPERDESK_TEST_PG_URL"),
                               reason="several workers need PostgreSQL"),
              pytest.mark.timeout(900)]  # the ceilings below, on a saturated machine

SESSIONS = 300
SPEED = "4"  # bars per second: a 2,000-bar window outlasts the test
CEILING_S = 180  # polls for a state end when it is reached; this only stops a hung test
CLAIM_SLACK_S = 1.0  # a survivor's beat that claims: its queries, on a busy machine


def _create_sessions(db) -> list[int]:
    """Staggered 2,000-bar windows over the hourly BTC bars, fast crossovers (many fills)."""
    first = catalog.span("BTC-USD", "1h")[0]
    ids = []
    for i in range(SESSIONS):
        start = first + timedelta(hours=40 * i)
        ids.append(control.create_session(db, {
            "name": f"w{i}", "symbols": "BTC-USD", "timeframe": "1h", "strategy": "ma_crossover",
            "params": {"fast": 2 + i % 4, "slow": 6 + i % 7}, "speed": SPEED,
            "from": start.isoformat(), "to": (start + timedelta(hours=2000)).isoformat()},
            start=True).id)
    return ids


class LeaseWatch(threading.Thread):
    """Poll the lease table until stopped: a session has one row (one owner) by its key; an
    owner changes only with a new epoch (a claim, which fences the old owner), epochs never go
    back, and every owner is a registered worker."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.stop, self.polls, self.problems = db, threading.Event(), 0, []
        self.seen: dict[int, tuple[str | None, int]] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            with Session(self.db) as s:
                rows = s.execute(select(SessionLease.session_id, SessionLease.worker_id,
                                        SessionLease.epoch)).all()
                known = set(s.execute(select(EngineWorker.id)).scalars())
            if len({sid for sid, _, _ in rows}) != len(rows):
                self.problems.append("a session has two lease rows")
            for sid, owner, epoch in rows:
                was_owner, was_epoch = self.seen.get(sid, (None, 0))
                if epoch < was_epoch or (owner not in (None, was_owner) and epoch == was_epoch):
                    self.problems.append(f"session {sid}: {was_owner}@{was_epoch} -> "
                                         f"{owner}@{epoch}")
                if owner is not None and owner not in known:
                    self.problems.append(f"session {sid}: owner {owner} is no worker")
                self.seen[sid] = (owner, epoch)
            self.polls += 1
            self.stop.wait(0.05)


def _owners(db) -> dict[int, str | None]:
    with Session(db) as s:
        return dict(s.execute(select(SessionLease.session_id, SessionLease.worker_id)).all())


def _bars_done(db, ids) -> dict[int, int]:
    with Session(db) as s:
        return dict(s.execute(select(PaperSession.id, PaperSession.bars_done)
                              .where(PaperSession.id.in_(ids))).all())


class BeatGaps:
    """The longest gap between two heartbeats of each worker seen while polling: how slowly
    the workers beat on this machine now (a saturated one beats late)."""

    def __init__(self, db):
        self.db, self.last, self.longest = db, {}, 0.0

    def sample(self) -> None:
        with Session(self.db) as s:
            beats = dict(s.execute(select(EngineWorker.id, EngineWorker.heartbeat_at)).all())
        for worker, at in beats.items():
            before = self.last.get(worker)
            if before is not None and at > before:
                self.longest = max(self.longest, (at - before).total_seconds())
            self.last[worker] = at


def _kill_and_watch_takeover(db, victim, ids) -> tuple[set[int], dict[int, int], float, float]:
    """Kill `victim` with SIGKILL; return its sessions, their bars then, the seconds until the
    other workers owned every one of them, and the longest gap between two heartbeats of a
    worker meanwhile (how late a beat comes on this machine now)."""
    worker_id = next(w.id for w in workers(db) if w.holder.endswith(f":{victim.pid}"))
    gaps = BeatGaps(db)
    gaps.sample()
    victim.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.wait(10)
    taken = {sid for sid, owner in _owners(db).items() if owner == worker_id}
    before = _bars_done(db, taken)
    live = {w.id for w in workers(db) if w.alive}

    def taken_over():
        gaps.sample()
        owners = _owners(db)
        return all(owners[sid] in live for sid in taken)

    wait_until(taken_over, CEILING_S, message="the other workers to own its sessions")
    return taken, before, time.monotonic() - killed_at, gaps.longest


def test_three_workers_share_sessions_and_take_over_a_killed_one_bar_exact(env, db, tmp_path):
    store_bars(db, ("BTC-USD", "1h"))
    ids = _create_sessions(db)
    procs = spawn_workers(env, db, tmp_path, 3)
    watch = LeaseWatch(db)
    watch.start()
    try:
        def balanced_and_trading():
            fleet = [w for w in workers(db) if w.alive]
            owners = _owners(db)
            return (sorted(w.sessions_owned for w in fleet) == [100, 100, 100]
                    and all(owners.get(sid) for sid in ids)
                    and min(_bars_done(db, ids).values()) >= 10)

        wait_until(balanced_and_trading, CEILING_S, poll=0.5,
                   message="300 sessions owned 100 per worker and trading")
        mark = _last_event_id(db)
        taken, before, elapsed, beat = _kill_and_watch_takeover(db, procs[0], ids)
        assert len(taken) == 100
        # The victim's heartbeat goes stale, then a survivor's next beat claims its sessions.
        bound = WORKER_STALE_S + beat + CLAIM_SLACK_S
        assert elapsed < bound, f"takeover took {elapsed:.1f}s (at most {bound:.1f}s here)"
        wait_until(lambda: all(n >= before[sid] + 8 for sid, n in _bars_done(db, taken).items()),
                   CEILING_S, poll=0.5, message="the taken-over sessions to trade on")
        survivors = sorted(w.sessions_owned for w in workers(db) if w.alive)
        assert survivors == [150, 150]
        shown = cli(env, "status").stdout  # the CLI accounts for every worker
        assert "workers:  2 alive of 3" in shown
        assert "300 sessions owned, 0 waiting" in shown

        # A system pause is applied once and reaches every worker: each gives back its leases.
        control.wait_for(db, control.system_action(db, "pause", by="test"), CEILING_S)
        wait_until(lambda: [w.sessions_owned for w in workers(db) if w.alive] == [0, 0],
                   CEILING_S, message="every worker to drop its paused sessions")
        frozen = _bars_done(db, ids)
        assert all(owner is None for owner in _owners(db).values())  # nobody can commit now
    finally:
        watch.stop.set()
        watch.join(5)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(10)

    assert watch.problems == []
    assert watch.polls > 100
    _assert_bar_exact(db, ids, frozen)
    _assert_downtime_and_alert(db, mark, taken, procs[0].pid, bound + max(HEARTBEAT_S, beat))


def _assert_bar_exact(db, ids: list[int], frozen: dict[int, int]) -> None:
    """Every session's fills equal a fast-forward of its window up to its clock (no fill lost
    or repeated), and it has one equity snapshot per bar traded (no bar lost or repeated)."""
    with Session(db) as s:
        snapshots = dict(s.execute(select(EquitySnapshot.session_id, func.count())
                                   .group_by(EquitySnapshot.session_id)).all())
        statuses = set(s.execute(select(PaperSession.status)
                                 .where(PaperSession.id.in_(ids))).scalars())
    assert statuses == {"paused"}
    assert {sid: snapshots.get(sid, 0) for sid in ids} == frozen
    fills = 0
    for sid in ids:
        result = reconcile(db, sid)
        assert result.differences == [], (sid, result.differences[:3])
        assert result.actual == result.expected == result.matched
        fills += result.actual
    assert fills > len(ids)


def _last_event_id(db) -> int:
    with Session(db) as s:
        return s.execute(select(func.max(Event.id))).scalar_one() or 0


def _assert_downtime_and_alert(db, mark: int, taken: set[int], pid: int, bound: float) -> None:
    """After the kill (events after `mark`) each of the killed worker's sessions was taken over
    once, after a downtime from its last heartbeat to the claim of at least WORKER_STALE_S and
    less than `bound` (the takeover's and one beat of the victim), with one offline alert. A
    takeover from a worker that had not died is one whose beats came too late on a starved
    machine: it was reported offline first, as the design says."""
    with Session(db) as s:
        counted = s.execute(select(func.sum(SessionLease.takeovers))).scalar_one()
        takeovers = s.execute(select(Event.id, Event.source, Event.message).where(
            Event.kind == "takeover")).all()
        alerts = s.execute(select(Event).where(Event.kind == "alert_worker_offline")).all()
    assert counted == len(takeovers)
    victims = [(source, message) for at, source, message in takeovers
               if at > mark and f":{pid} after " in message]
    assert sorted(source for source, _ in victims) == sorted(f"session-{i}" for i in taken)
    for _, message in victims:
        gap = float(re.search(r" after ([0-9.]+)s;", message).group(1))
        assert WORKER_STALE_S - 1 < gap < bound, message
    offline = [alert.message for (alert,) in alerts]
    assert all((alert.severity, alert.source) == ("warning", "engine") for (alert,) in alerts)
    assert sum(f":{pid} went offline" in alert.message for (alert,) in alerts
               if alert.id > mark) == 1
    for _, _, message in takeovers:
        late = re.search(r" from worker (\S+) after ", message).group(1)
        assert any(f"worker {late} went offline" in alert for alert in offline), message
    lines = status_lines(db)
    assert lines[0].startswith("workers:  0 alive of 3")  # all stopped by now
    assert sum(f":{pid} " in line for line in lines) == 1
