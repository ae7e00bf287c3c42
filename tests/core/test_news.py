"""A `news` session's sentiment: the stored scores known at a bar's close, averaged over the
news window — a headline published after bar t never changes bar t's decision."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.news import NEWS, NEWS_WINDOW, NewsSeries
from engine.core.settings import TradeSettings
from engine.core.strategies import STRATEGIES, Blend, register
from engine.core.trader import replay
from tests.core.conftest import T0, hourly, shipped

HOUR = timedelta(hours=1)


def test_a_bar_sees_the_mean_of_the_scores_known_in_the_window_before_its_close():
    close = T0 + 30 * HOUR
    series = NewsSeries([close - NEWS_WINDOW, close - NEWS_WINDOW + HOUR, close - HOUR, close,
                         close + timedelta(seconds=1)], [0.9, 0.2, 0.4, 0.6, -1.0])
    assert series.at(close) == (0.2 + 0.4 + 0.6) / 3  # the window's start out, its end in
    assert series.at(close - NEWS_WINDOW - HOUR) is None
    assert series.at(close + NEWS_WINDOW + HOUR) is None
    assert len(series) == 5


def _blend(sentiment: str = NEWS) -> TradeSettings:
    params = Blend.validate({"w_trend": 0.2, "w_sentiment": 0.7, "w_volume": 0.1,
                             "entry": 0.2, "exit": -0.2})
    return TradeSettings("blend", params, ("BTC-USD",), "1h", 10_000.0, sentiment=sentiment)


def _decisions(out) -> list[tuple]:
    return [(o.decision_ts, o.side, o.lineage["sentiment"]) for o in out.orders]


def test_the_blend_strategy_trades_on_news():
    bars = hourly([100.0 + (i % 7) * 0.1 for i in range(200)])
    series = {"BTC-USD": ([b.ts for b in bars], bars)}
    mid = HOUR / 2  # published half-way through a bar: known at its close
    good = {"BTC-USD": NewsSeries([bars[60].ts + mid], [0.95])}
    bad = {"BTC-USD": NewsSeries([bars[60].ts + mid, bars[120].ts + mid], [0.95, -0.95])}
    start, end = bars[50].ts, bars[-1].ts
    quiet, _ = replay(_blend(), series, start, end, {})
    bought, _ = replay(_blend(), series, start, end, good)
    sold, _ = replay(_blend(), series, start, end, bad)
    assert quiet.orders == []  # a flat market: no trade without news
    assert [(o.side, o.decision_ts) for o in bought.orders] == [("buy", bars[60].ts)]
    assert bought.orders[0].lineage["sentiment_source"] == "news"
    assert [(o.side, o.decision_ts) for o in sold.orders] == [
        ("buy", bars[60].ts), ("sell", bars[120].ts)]
    none, _ = replay(_blend("none"), series, start, end, good)
    assert none.orders == []  # the session chose no sentiment: the news is not read


_FRAME, SERIES = shipped("BTC-USD", "1h")
TIMES = SERIES["BTC-USD"][0]


class SeenBlend(Blend):
    """The blend, noting the sentiment it saw on each bar."""

    name = "seen_blend"
    title = "Blend that notes its sentiment"

    def __init__(self, params):
        super().__init__(params)
        self.seen: list[tuple] = []

    def on_bar(self, ctx):
        self.seen.append((ctx.bar.ts, ctx.sentiment))
        return super().on_bar(ctx)


def _seen(trader) -> list[tuple]:
    return trader.runner.slots["BTC-USD"].strategy.seen


@pytest.fixture(scope="module", autouse=True)
def _seen_blend():
    before = dict(STRATEGIES)
    register(SeenBlend, replace=True)
    yield
    STRATEGIES.clear()
    STRATEGIES.update(before)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 399), st.integers(0, 3599),
                          st.floats(-1, 1, allow_nan=False)), max_size=40),
       st.integers(20, 380), st.integers(1, 7200), st.floats(-1, 1, allow_nan=False))
def test_a_headline_after_bar_t_never_changes_bar_t(scores, t, later_s, late_score):
    start, end = TIMES[-400], TIMES[-1]
    known = [TIMES[-400 + i] + timedelta(seconds=s) for i, s, _ in scores]
    values = [v for _, _, v in scores]
    bar_t = TIMES[-400 + t]
    close_t = bar_t + HOUR
    late = close_t + timedelta(seconds=later_s)  # published after bar t closed
    seen_blend = replace(_blend(), strategy=SeenBlend.name)
    before, without = replay(seen_blend, SERIES, start, end,
                             {"BTC-USD": NewsSeries(known, values)})
    after, with_late = replay(seen_blend, SERIES, start, end,
                              {"BTC-USD": NewsSeries([*known, late], [*values, late_score])})
    upto = [d for d in _decisions(before) if d[0] <= bar_t]
    assert [d for d in _decisions(after) if d[0] <= bar_t] == upto
    assert [s for s in _seen(with_late) if s[0] <= bar_t] == [
        s for s in _seen(without) if s[0] <= bar_t]
