import pandas as pd
import pytest

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


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_fills_sit_under_buys_and_over_sells_on_drawn_bars_only(bars):
    fig = charts.candles_figure(bars, _trades(bars), "BTC-USD")
    buy, sell = _trace(fig, "buy"), _trace(fig, "sell")
    assert len(buy.x) == 1  # the fill before the drawn bars and the other symbol's are left out
    assert len(sell.x) == 1
    assert buy.y[0] < bars["low"].iloc[10]
    assert sell.y[0] > bars["high"].iloc[20]


def test_volume_under_the_candles_with_units_and_range_buttons(bars):
    fig = charts.candles_figure(bars, _trades(bars).iloc[0:0], "BTC-USD", currency="USD")
    volume = _trace(fig, "volume")
    assert volume.type == "bar"
    assert volume.yaxis == "y2"
    assert fig.layout.yaxis.title.text == "price (USD)"
    assert fig.layout.yaxis2.title.text == "volume (BTC)"
    assert fig.layout.xaxis2.title.text == charts.MARKET_TIME
    labels = [b.label for b in fig.layout.xaxis.rangeselector.buttons]
    assert labels[-1] == "all"
    assert "1w" in labels


def test_moving_averages_of_the_bars_shown(bars):
    lines = charts.indicator_lines(bars, "ma_crossover", {"fast": 3, "slow": 8})
    assert list(lines) == ["SMA 3", "SMA 8"]
    assert lines["SMA 3"].iloc[2] == pytest.approx((100 + 101 + 102) / 3)
    assert lines["SMA 8"].iloc[:7].isna().all()
    assert charts.indicator_lines(bars, "rsi_reversion", {"period": 14}) == {}
    fig = charts.candles_figure(bars, _trades(bars), "BTC-USD", lines)
    assert list(_trace(fig, "SMA 8").y[7:]) == list(lines["SMA 8"].iloc[7:])


def test_chart_tab_draws_candles_volume_and_the_strategy_lines(filled, db):
    at = run_page("sessions", session_selected=filled["running"], detail_tab="Chart")
    assert not at.exception
    (chart,) = at.get("plotly_chart")
    for name in ('"SMA 3"', '"SMA 8"', '"volume"', "price (USD)", '"rangeselector"'):
        assert name in chart.proto.spec
