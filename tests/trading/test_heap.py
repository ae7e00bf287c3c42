"""Loaded sessions leave the cycle collector's sight (engine.gc_pause.freeze_long_lived), and
reference counting still frees them when their clocks go."""

import gc
import weakref

import pytest

from engine.market import catalog
from engine.trading.clock import REFREEZE_S, SessionBook
from tests.conftest import replay_session, store_bars


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_loaded_sessions_are_frozen_and_freed_when_dropped(db, unfrozen):
    store_bars(db, ("BTC-USD", "1h"))
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(db, {"symbols": "BTC-USD", "timeframe": "1h",
                              "from": frame["ts"].iloc[-300].isoformat()}, to_end=False)
    book = SessionBook(db)
    assert book.sync(0.0) == 1
    assert book.collected_at == 0.0
    trader = book.clocks[sid].trader
    assert not any(o is trader for o in gc.get_objects())  # frozen: no collection walks it
    gone = weakref.ref(trader.ledger)
    del trader
    book.clocks.clear()
    assert gone() is None
    assert book.sync(REFREEZE_S / 2) == 1
    assert book.collected_at == 0.0  # a freeze within REFREEZE_S collects nothing first
