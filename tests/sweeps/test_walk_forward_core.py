"""Walk-forward on a synthetic series whose best parameter changes at known bars: the chosen
parameter per fold is the known one, no fold trains on a bar it tests (a changed future leaves
every earlier choice alone), and the stitched curve is the fold runs end to end."""

from datetime import UTC, datetime, timedelta

import pytest

from engine.analytics.walkforward import parse_walk_forward
from engine.core import strategies
from engine.core.bars import BarData
from engine.core.settings import TradeSettings
from engine.core.strategy_api import BUY, SELL, Decision, Strategy, declare
from engine.core.trader import replay
from engine.params import Param
from engine.sweeps.walk import bar_times, fold_windows, walk_forward

START = datetime(2020, 1, 6, tzinfo=UTC)  # a Monday, 00:00
REGIMES = ((0, 400, 0), (400, 800, 2), (800, 1200, 1))  # bars [a, b) rise in hour slot r
SLOTS = 4


class Slot(Strategy):
    """Hold one bar in four: buy on the bar before hour slot `slot`, sell on it."""

    name = "slot_test"
    title = "Slot (test)"
    params = declare(Param("slot", int, 0, "hour slot to hold", 0, SLOTS - 1))
    warmup_bars = 0

    def on_bar(self, ctx):
        slot = ctx.bar.ts.hour % SLOTS
        if (slot + 1) % SLOTS == self.p["slot"]:
            return Decision(BUY, "next bar is the slot")
        if slot == self.p["slot"]:
            return Decision(SELL, "slot over")
        return None


def _regime(i: int) -> int:
    return next(r for a, b, r in REGIMES if a <= i < b)


def _series(n: int = 1200, flip_after: int | None = None) -> dict:
    """Bar i gains 1 % from open to close in its regime's slot and loses 0.3 % otherwise; with
    `flip_after`, every bar after it loses instead (a different future)."""
    times, bars, price = [], [], 100.0
    for i in range(n):
        ts = START + timedelta(hours=i)
        up = i % SLOTS == _regime(i) and (flip_after is None or i <= flip_after)
        close = price * (1.01 if up else 0.997)
        bars.append(BarData(ts, price, max(price, close), min(price, close), close, 1e9))
        times.append(ts)
        price = close
    return {"SYN": (times, bars)}


@pytest.fixture(autouse=True)
def _slot_strategy(monkeypatch):
    monkeypatch.setitem(strategies.STRATEGIES, Slot.name, Slot)


def _settings() -> list[TradeSettings]:
    return [TradeSettings(strategy=Slot.name, params={"slot": s}, symbols=("SYN",),
                          timeframe="1h", starting_cash=10_000.0, fee_bps=0.0,
                          slippage_bps=0.0, position_size=1.0) for s in range(SLOTS)]


def _run(series: dict, text: str = "train=200,test=200", objective: str = "total_return"):
    times = series["SYN"][0]
    return walk_forward(series, _settings(), times[0], times[-1], parse_walk_forward(text),
                        objective, 8760.0)


@pytest.mark.parametrize("objective", ["total_return", "sharpe", "calmar"])
def test_each_fold_chooses_the_slot_of_its_train_bars(objective):
    runs = _run(_series(), objective=objective)
    assert [r.window.fold.train_start for r in runs] == [0, 200, 400, 600, 800]
    assert [r.chosen for r in runs] == [_regime(r.window.fold.train_start) for r in runs]
    assert [r.chosen for r in runs] == [0, 0, 2, 2, 1]


def test_folds_do_not_overlap_and_no_test_bar_is_seen_in_training():
    series = _series()
    times = series["SYN"][0]
    windows = fold_windows(bar_times(series, times[0], times[-1]),
                           parse_walk_forward("train=300,test=150,step=200"))
    for w in windows:
        assert w.train_to < w.test_from
        assert times.index(w.test_from) == times.index(w.train_to) + 1
    tested = [(w.test_from, w.test_to) for w in windows]
    assert all(a[1] < b[0] for a, b in zip(tested, tested[1:], strict=False))
    base = _run(series)
    for fold in range(len(base)):  # another future after this fold's training ...
        cut = base[fold].window.fold.train_end - 1
        changed = _run(_series(flip_after=cut))
        # ... leaves its choice and every earlier one as they were
        assert [r.chosen for r in changed[:fold + 1]] == [r.chosen for r in base[:fold + 1]]
        assert [r.in_sample for r in changed[:fold + 1]] == [
            r.in_sample for r in base[:fold + 1]]


def test_the_stitched_curve_is_the_fold_runs_end_to_end():
    series = _series()
    runs = _run(series)
    cash = 10_000.0
    for run in runs:
        alone, trader = replay(_settings()[run.chosen].changed({"starting_cash": cash}),
                               series, run.window.test_from, run.window.test_to)
        assert run.out.snapshots == alone.snapshots
        assert run.out.fills == alone.fills
        assert run.settings.starting_cash == cash
        assert [ts for ts, _, _ in run.out.snapshots][0] == run.window.test_from
        cash = trader.ledger.marked_equity
    stitched = [ts for run in runs for ts, _, _ in run.out.snapshots]
    assert stitched == series["SYN"][0][200:]
    assert runs[-1].trader.ledger.marked_equity == cash > 10_000 * 1.01 ** 100
