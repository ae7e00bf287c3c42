"""A walk-forward rule traded as a session (engine.core.walk_rule): on the synthetic series
whose best parameter changes at known bars it chooses at each boundary what the sweep's
walk-forward chose for that fold, carries its position across choices, and its fills do not
depend on how the bars are split into calls or where the session was restored."""

import copy
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core import strategies
from engine.core.bars import frames
from engine.core.settings import TradeSettings, WalkRule
from engine.core.trader import Outbox, Trader, replay
from tests.sweeps.test_walk_forward_core import Slot, _run, _series, _settings

TRAIN = STEP = 200


@pytest.fixture(autouse=True)
def _slot_strategy(monkeypatch):
    monkeypatch.setitem(strategies.STRATEGIES, Slot.name, Slot)


def _rule_settings(objective: str = "total_return") -> TradeSettings:
    candidates = tuple(s.params for s in _settings())
    return replace(_settings()[0], walk_rule=WalkRule(candidates, TRAIN, STEP, objective, 8760.0))


def _choices(series: dict, objective: str) -> list[int]:
    """The candidate chosen at each boundary of a session from the first test bar on."""
    times = series["SYN"][0]
    trader, out, chosen = Trader(_rule_settings(objective)), Outbox(), []
    trader.prime(series, times[TRAIN])
    for ts, frame in frames(series, None, None, times[TRAIN]):
        boundary = trader.walk.due(trader.ledger.bars_done)
        trader.step(ts, frame, out)
        if boundary:
            chosen.append(trader.walk.chosen)
    return chosen


def test_the_rule_chooses_at_each_boundary_what_the_sweeps_fold_chose():
    series = _series()
    for objective in ("total_return", "sharpe", "calmar"):
        folds = _run(series, objective=objective)
        assert _choices(series, objective) == [r.chosen for r in folds] == [0, 0, 2, 2, 1]


def test_orders_name_the_parameters_chosen_when_they_were_decided():
    series = _series()
    times = series["SYN"][0]
    out, _ = replay(_rule_settings(), series, times[TRAIN], times[-1])
    by_bar = {o.decision_ts: o.lineage["params"]["slot"] for o in out.orders}
    # chosen at bars 200, 400 (slot 0), 600, 800 (slot 2) and 1000 (slot 1)
    assert {by_bar[ts] for ts in by_bar if ts < times[600]} == {0}
    assert {by_bar[ts] for ts in by_bar if times[600] <= ts < times[1000]} == {2}
    assert {by_bar[ts] for ts in by_bar if ts >= times[1000]} == {1}


def _restored(trader: Trader, series: dict, start, upto) -> Trader:
    """A fresh Trader with `trader`'s stored state, primed as the engine restores a session."""
    again = Trader(trader.settings, copy.deepcopy(trader.account),
                   copy.deepcopy(trader.ledger), copy.deepcopy(trader.working),
                   trader.next_seq, dict(trader.exits))
    again.prime(series, start, upto=upto)
    return again


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(1, 998), max_size=4, unique=True))
def test_a_rule_session_trades_alike_however_it_is_split_and_restored(cuts):
    series = _series()
    times = series["SYN"][0]
    start = times[TRAIN]
    whole, _ = replay(_rule_settings(), series, start, times[-1])
    trader, out = Trader(_rule_settings()), Outbox()
    trader.prime(series, start)
    for i, (ts, frame) in enumerate(frames(series, None, None, start)):
        if i in cuts:  # a restart before bar i: restored from what was stored
            trader = _restored(trader, series, start, times[TRAIN + i - 1])
        trader.step(ts, frame, out)
    assert out.fills == whole.fills
    assert out.snapshots == whole.snapshots


def test_the_work_a_user_strategys_budget_allows_counts_each_choice():
    trader = Trader(_rule_settings())
    per_choice = len(_settings()) * trader.walk.lookback
    assert trader.walk.choice_work == per_choice
    assert [trader.walk.choices_within(done, bars) for done, bars in
            [(0, 1), (1, 199), (1, 200), (200, 1), (199, 402)]] == [1, 0, 1, 1, 3]
    assert trader.work(20) == 20 + per_choice  # bar 0 chooses first
    assert Trader(_settings()[0]).work(20) == 20
