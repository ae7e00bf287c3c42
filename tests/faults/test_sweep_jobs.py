"""Sweep variants on the job queue (issue #9): two real `python -m engine run` workers on one
PostgreSQL take a sweep's variant jobs; each variant is written exactly once and equals the
variant run alone, also when a worker is killed with SIGKILL mid-variant; a cancel leaves only
whole variants and no waiting job. PostgreSQL only: on SQLite sweeps run in a local pool."""

import os
import signal
import subprocess
import threading

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from engine.control import sweeps
from engine.control.transitions import transition
from engine.fleet.jobs import STALLED_S, STOP_TIMEOUT_S
from engine.market import catalog
from engine.reads import sweeps as sweep_queries
from engine.reads.fleet import workers
from engine.store.db import session_scope
from engine.store.models import Event, PaperSession, Sweep, SweepVariant
from tests.conftest import spawn_workers, store_bars, wait_until
from tests.sweeps.test_runner import _whole

pytestmark = [pytest.mark.skipif(not os.environ.get("PAPERDESK_TEST_PG_URL"),
                               reason="the job queue needs PostgreSQL"),
              pytest.mark.timeout(900)]  # the ceilings below, on a saturated machine

BTC = ("BTC-USD", "1h")
CEILING_S = 180  # polls for a state end when it is reached; this only stops a hung test


def _kill(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)


def _sweep(db, fast: int, slow: int = 1) -> int:
    """`fast` × `slow` SMA crossovers over every hourly BTC bar (a few hundredths of a second
    each once a worker's processes have loaded the bars)."""
    first, last, _ = catalog.span(*BTC)
    return sweeps.create_sweep(db, {
        "strategy": "ma_crossover", "symbols": "BTC-USD", "timeframe": "1h",
        "from": first.isoformat(), "to": last.isoformat(),
        "grid": {"fast": f"2:{fast + 1}:1", "slow": f"60:{59 + slow}:1"}}).id


def _doc(db, sweep_id: int) -> dict:
    return sweep_queries.sweep_document(db, sweep_id)


def _jobs(db, sweep_id: int) -> dict[str, int]:
    """The sweep's job rows left in procrastinate's table, by status."""
    with db.connect() as c:
        return dict(c.execute(text(
            "SELECT status::text, count(*) FROM procrastinate_jobs "
            "WHERE (args->>'sweep_id')::int = :id GROUP BY status"), {"id": sweep_id}).all())


def _assert_each_variant_once_and_alone(db, sweep_id: int) -> int:
    """Every written variant is one completed session equal to the variant run alone, and
    the sweep's count is theirs; return how many there are."""
    with Session(db) as s:
        idxs = list(s.execute(select(SweepVariant.idx)
                              .where(SweepVariant.sweep_id == sweep_id)).scalars())
        sessions = list(s.execute(select(PaperSession.id)
                                  .where(PaperSession.sweep_id == sweep_id)).scalars())
    assert len(idxs) == len(set(idxs)) == len(sessions) == _doc(db, sweep_id).done
    for session_id in sessions:
        _whole(db, session_id)
    return len(idxs)


def test_two_workers_share_a_sweeps_variant_jobs(env, db, tmp_path):
    store_bars(db, BTC)
    procs = spawn_workers(env, db, tmp_path, 2)
    try:
        sweep_id = _sweep(db, 16)
        wait_until(lambda: _doc(db, sweep_id).status == "completed", CEILING_S, poll=0.2,
                   message="the sweep to complete")

        def reported():  # at their next heartbeat
            done = [w.jobs_done for w in workers(db) if w.alive]
            return len(done) == 2 and min(done) > 0 and sum(done) >= 16

        wait_until(reported, CEILING_S, message="both workers to report the jobs they ran")
        for p in procs:
            p.send_signal(signal.SIGTERM)
        # each stops cleanly, job worker too (a running job finishes first: STOP_TIMEOUT_S)
        assert [p.wait(STOP_TIMEOUT_S + 60) for p in procs] == [0, 0]
        wait_until(lambda: _jobs(db, sweep_id) == {}, CEILING_S,
                   message="the succeeded jobs deleted")
    finally:
        _kill(procs)
    assert _assert_each_variant_once_and_alone(db, sweep_id) == 16
    assert sorted(_doc(db, sweep_id).grid) == ["fast", "slow"]
    assert len(sweep_queries.variants(db, sweep_id)) == 16


def test_a_worker_killed_mid_variant_loses_nothing(env, db, tmp_path):
    store_bars(db, BTC)
    procs = spawn_workers(env, db, tmp_path, 2)
    victim = procs[0]
    try:
        sweep_id = _sweep(db, 24, 2)

        def victim_busy():
            busy = any(w.jobs_running > 0 for w in workers(db)
                       if w.alive and w.holder.endswith(f":{victim.pid}"))
            return busy and _doc(db, sweep_id).done <= 24

        wait_until(victim_busy, CEILING_S, poll=0.1, message="the victim running variant jobs")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        wait_until(lambda: _doc(db, sweep_id).status == "completed", STALLED_S + CEILING_S,
                   poll=0.2, message="the sweep to complete on the other worker")

        def retried():
            with Session(db) as s:
                return s.execute(select(Event).where(Event.kind == "jobs_retried",
                                                     Event.source == f"sweep-{sweep_id}"))\
                    .scalars().all()

        events = wait_until(retried, STALLED_S + CEILING_S, message="the dead worker's jobs "
                            "queued again")
        wait_until(lambda: _jobs(db, sweep_id) == {}, CEILING_S,
                   message="every job of the sweep to end")
    finally:
        _kill(procs)
    assert _assert_each_variant_once_and_alone(db, sweep_id) == 48
    assert all(e.severity == "warning" for e in events)


def test_a_cancel_does_not_wait_for_the_variant_writes_in_flight(db):
    """A variant's write share-locks the sweep row through its inserts' foreign keys from its
    first insert to its commit; back to back, they left a cancel waiting until the sweep had
    ended (then it was refused: "it is completed")."""
    store_bars(db, BTC)
    sweep_id = _sweep(db, 4)
    with session_scope(db) as s:
        transition(s, s.get(Sweep, sweep_id), "start")
    writing = db.connect()
    writing.begin()
    writing.execute(text("SELECT 1 FROM sweep WHERE id = :id FOR KEY SHARE"), {"id": sweep_id})
    cancel = threading.Thread(target=sweeps.cancel_sweep, args=(db, sweep_id))
    try:
        cancel.start()
        # Held behind the write, it would wait until the write ended: never, in this test.
        wait_until(lambda: not cancel.is_alive(), 60, message="the cancel to be taken")
    finally:
        writing.close()
        cancel.join(10)
    doc = _doc(db, sweep_id)
    assert (doc.status, doc.cancel_requested) == ("running", True)


def test_cancel_on_the_job_queue_leaves_whole_variants_and_no_waiting_job(env, db, tmp_path):
    store_bars(db, BTC)
    procs = spawn_workers(env, db, tmp_path, 1)
    try:
        sweep_id = _sweep(db, 40, 10)  # seconds of work: the cancel lands mid-sweep
        wait_until(lambda: _doc(db, sweep_id).done >= 2, CEILING_S, poll=0.1,
                   message="two variants written")
        sweeps.cancel_sweep(db, sweep_id)
        wait_until(lambda: _doc(db, sweep_id).status == "cancelled", CEILING_S, poll=0.1,
                   message="the sweep to be cancelled")
        kept = _doc(db, sweep_id).done
        assert "todo" not in _jobs(db, sweep_id)
        wait_until(lambda: _jobs(db, sweep_id) == {}, CEILING_S,
                   message="the variants running at the cancel to end")
    finally:
        _kill(procs)
    doc = _doc(db, sweep_id)
    assert 2 <= doc.done == kept < doc.total == 400  # nothing written after the cancel
    assert _assert_each_variant_once_and_alone(db, sweep_id) == kept
    with Session(db) as s:
        assert s.execute(select(func.count()).select_from(Event).where(
            Event.source == f"sweep-{sweep_id}", Event.kind == "state",
            Event.message.contains("running → cancelled"))).scalar_one() == 1
