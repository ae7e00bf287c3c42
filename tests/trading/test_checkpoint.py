"""A running session's quiet bars (marked, nothing ordered or filled) wait in memory for its
checkpoint, every CHECKPOINT_TICKS ticks; a bar that orders, fills or completes is written on its
tick. The row and its equity snapshots are always written together, so what a reader sees is a
consistent earlier state, and what a crash between checkpoints loses is traded again exactly
(test_clock's property tests kill the book between checkpoints; test_e2e kills a real engine)."""

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from engine.market import catalog
from engine.store.models import EquitySnapshot, Order, PaperSession
from engine.trading.clock import CHECKPOINT_GROUP, CHECKPOINT_TICKS
from tests.conftest import replay_session, store_bars
from tests.trading.test_clock import Harness

FRAME = catalog.load("BTC-USD", "1h")


@pytest.fixture
def stored(db):
    store_bars(db, ("BTC-USD", "1h"))
    return db


def _written(db, sid: int) -> tuple[int, int, int]:
    """The session's bars done, equity snapshots and orders as the database holds them."""
    with Session(db) as s:
        bars = s.get(PaperSession, sid).bars_done
        snapshots = s.exec(select(func.count()).select_from(EquitySnapshot)
                           .where(EquitySnapshot.session_id == sid)).one()
        orders = s.exec(select(func.count()).select_from(Order)
                        .where(Order.session_id == sid)).one()
    return bars, snapshots, orders


def test_quiet_bars_wait_for_the_checkpoint_and_orders_are_written_on_their_tick(stored, env):
    sid = replay_session(stored, {"symbols": "BTC-USD", "timeframe": "1h",
                                  "strategy": "ma_crossover", "params": {"fast": 3, "slow": 9},
                                  "from": FRAME["ts"].iloc[-300].isoformat(), "speed": "1"},
                         to_end=False)
    harness = Harness(stored, env, sid)
    trader = harness.book.clocks[sid].trader
    seen = set()
    for _ in range(150):
        decided = trader.next_seq
        harness.tick()
        bars, snapshots, orders = _written(stored, sid)
        assert snapshots == bars  # the row and its snapshots commit together
        assert orders == trader.next_seq - 1  # every order decided is written on its tick
        memory = trader.ledger.bars_done
        due = (sid // CHECKPOINT_GROUP + harness.book.ticks) % CHECKPOINT_TICKS == 0
        if due or trader.next_seq != decided:
            assert bars == memory
            seen.add("checkpoint" if due else "order")
        else:
            assert memory - CHECKPOINT_TICKS < bars <= memory
            seen.add("held" if bars < memory else "written")
    assert {"checkpoint", "order", "held"} <= seen


def test_a_session_killed_between_checkpoints_trades_its_held_bars_again_exactly(stored, env):
    spec = {"symbols": "BTC-USD", "timeframe": "1h", "strategy": "ma_crossover",
            "params": {"fast": 3, "slow": 9}, "from": FRAME["ts"].iloc[-120].isoformat()}
    reference = replay_session(stored, {**spec, "speed": "max"})
    sid = replay_session(stored, {**spec, "speed": "1"}, to_end=False)
    harness = Harness(stored, env, sid)
    killed = 0
    while harness.status() == "running":
        harness.tick()
        clock = harness.book.clocks.get(sid)
        if clock is not None and clock.held is not None and killed < 5:
            harness.run("kill", None)  # what a kill -9 leaves: the database only
            killed += 1
    assert killed == 5
    with Session(stored) as s:
        ours, theirs = s.get(PaperSession, sid), s.get(PaperSession, reference)
        assert (ours.bars_done, ours.marked_equity) == (theirs.bars_done, theirs.marked_equity)
        snaps = [s.exec(select(EquitySnapshot.ts, EquitySnapshot.equity)
                        .where(EquitySnapshot.session_id == i)
                        .order_by(EquitySnapshot.ts)).all() for i in (sid, reference)]
    assert snaps[0] == snaps[1]
    assert len(snaps[0]) == 120
