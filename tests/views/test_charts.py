import pandas as pd
import pytest

from engine.core.strategy_api import SmaLine
from engine.reads.strategies import chart_of
from tests.views.conftest import run_page
from ui import charts


@pytest.fixture
def bars() -> pd.DataFrame:
    ts = pd.date_range("2024-01-01", periods=40, freq="h", tz="UTC")
    close = pd.Series(range(100, 140), dtype=float)
    return pd.DataFrame({"ts": ts, "open": close - 0.5, "high": close + 2, "low": close - 2,
                         "close": close, "volume": 1000.0})


def _trades(bars: pd.DataFrame) -> pd.DataFrame:
    before = bars["ts"].iloc[0] - pd.Timedelta(hours=5)  # a fill on a bar not drawn
    rows = [(bars["ts"].iloc[10], "BTC-USD", "buy", 110.2), (bars["ts"].iloc[20], "BTC-USD",
            "sell", 120.1), (before, "BTC-USD", "buy", 99.0),
            (bars["ts"].iloc[12], "ETH-USD", "buy", 5.0)]
    return pd.DataFrame([{"bar_time": t, "symbol": s, "side": side, "price": p, "qty": 1.0,
                          "reason": "why"} for t, s, side, p in rows])


def test_moving_averages_of_the_bars_shown(bars):
    lines = charts.indicator_lines(bars, chart_of("ma_crossover"), {"fast": 3, "slow": 8})
    assert list(lines) == ["SMA 3", "SMA 8"]
    assert lines["SMA 3"].iloc[2] == pytest.approx((100 + 101 + 102) / 3)
    assert lines["SMA 8"].iloc[:7].isna().all()
    assert charts.indicator_lines(bars, chart_of("rsi_reversion"), {"period": 14}) == {}


def test_a_strategy_charts_the_lines_it_declares_whatever_its_name():
    chart = (SmaLine("window"), SmaLine("missing"))  # e.g. examples/strategies/bollinger.py
    bars = pd.DataFrame({"close": [1.0, 2.0, 3.0, 4.0]})
    lines = charts.indicator_lines(bars, chart, {"window": 2})
    assert list(lines) == ["SMA 2"]
    assert list(lines["SMA 2"].iloc[1:]) == [1.5, 2.5, 3.5]
    assert chart_of("no_such_strategy") == ()


def test_chart_tab_draws_candles_volume_and_the_strategy_lines(filled, db):
    at = run_page("sessions", session_selected=filled["running"], detail_tab="Chart")
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    for name in ('"SMA 3"', '"SMA 8"', '"volume"', "price (USD)", '"range_days"'):
        assert name in chart.proto.spec


def _wilder_rsi(close: pd.Series, period: int) -> pd.Series:
    """Wilder's RSI written out independently of the core: a simple mean of the first
    `period` gains and losses, then smoothing by (period − 1) / period."""
    change = close.diff()
    gain, loss = change.clip(lower=0), (-change).clip(lower=0)
    out = pd.Series(float("nan"), index=close.index)
    avg_gain, avg_loss = gain.iloc[1:period + 1].mean(), loss.iloc[1:period + 1].mean()
    for i in range(period, len(close)):
        if i > period:
            avg_gain = (avg_gain * (period - 1) + gain.iloc[i]) / period
            avg_loss = (avg_loss * (period - 1) + loss.iloc[i]) / period
        out.iloc[i] = 100.0 if avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss)
    return out


@pytest.fixture
def wavy(bars) -> pd.DataFrame:
    close = pd.Series([100 + (i % 7) * 1.5 - (i % 3) for i in range(len(bars))], dtype=float)
    return bars.assign(close=close, open=close - 0.5, high=close + 2, low=close - 2)


def test_rsi_pane_is_wilders_rsi_with_the_sessions_levels(wavy):
    pane = charts.rsi_pane(wavy, chart_of("rsi_reversion"),
                           {"period": 5, "oversold": 25.0, "overbought": 75.0})
    expected = _wilder_rsi(wavy["close"], 5)
    assert pane.values.iloc[:5].isna().all()  # warming up over its first period
    assert list(pane.values.iloc[5:].round(9)) == list(expected.iloc[5:].round(9))
    assert (pane.title, pane.oversold, pane.overbought) == ("RSI 5", 25.0, 75.0)
    assert charts.rsi_pane(wavy, chart_of("ma_crossover"), {"fast": 3, "slow": 8}) is None


def test_candles_spec_holds_no_data_and_has_an_rsi_pane_under_the_candles(wavy):
    pane = charts.rsi_pane(wavy, chart_of("rsi_reversion"), {"period": 14})
    spec = charts.candles_spec("BTC-USD", "1h", [], pane)
    assert spec == charts.candles_spec("BTC-USD", "1h", [], charts.rsi_pane(
        wavy.iloc[:20], chart_of("rsi_reversion"), {"period": 14}))  # the same whatever the bars
    price, volume, rsi = spec["layer"]
    bottom = max(price["layer"][0]["encoding"]["y"]["scale"]["range"])
    rsi_line, low, high = rsi["layer"]
    assert min(rsi_line["encoding"]["y"]["scale"]["range"]) > bottom  # drawn under the candles
    assert rsi_line["encoding"]["y"]["scale"]["domain"] == [0, 100]
    assert (low["encoding"]["y"]["datum"], high["encoding"]["y"]["datum"]) == (30.0, 70.0)
    assert len(charts.candles_spec("BTC-USD", "1h", ["SMA 3"], None)["layer"]) == 2


def test_candles_data_marks_buys_under_and_sells_over_drawn_bars_only(bars):
    data = charts.candles_data(bars, _trades(bars), "BTC-USD", {}, None)
    buys, sells = data[data["buy_y"].notna()], data[data["sell_y"].notna()]
    assert list(buys.index) == [10]  # the fill before the drawn bars and ETH's are left out
    assert list(sells.index) == [20]
    assert buys["buy_y"].iloc[0] < bars["low"].iloc[10]
    assert sells["sell_y"].iloc[0] > bars["high"].iloc[20]
    assert buys["buy_price"].iloc[0] == pytest.approx(110.2)
