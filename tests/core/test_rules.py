"""The pure core's rules, each checked directly against an independent computation: fill
prices and eligibility, fees, account bookkeeping, indicators and statistics."""

import math
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.bars import BarData
from engine.core.fills import BUY, SELL, OrderTerms, Pricing, base_price, fee, slippage_bps, slipped
from engine.core.indicators import RSI, SMA, RollingMood
from engine.core.portfolio import Account, apply_fill, executable_qty
from engine.core.stats import max_drawdown_pct, profit_factor, sharpe

T0 = datetime(2024, 1, 1, tzinfo=UTC)
prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


def bar(offset: int, o: float, h: float, low: float, c: float, v: float = 1_000.0) -> BarData:
    return BarData(T0 + timedelta(hours=offset), o, h, low, c, v)


# ---------------------------------------------------------------- fills


def test_an_order_never_fills_on_its_decision_bar_or_before():
    order = OrderTerms(BUY, "market", T0 + timedelta(hours=1))
    assert base_price(order, bar(0, 10, 11, 9, 10)) is None
    assert base_price(order, bar(1, 10, 11, 9, 10)) is None
    assert base_price(order, bar(2, 12, 13, 11, 12)) == (12, True)


@pytest.mark.parametrize(("side", "o", "c", "worse"), [(BUY, 10, 12, 12), (BUY, 12, 10, 12),
                                                         (SELL, 10, 12, 10), (SELL, 12, 10, 10)])
def test_market_orders_fill_at_the_open_or_the_worse_of_open_and_close(side, o, c, worse):
    order = OrderTerms(side, "market", T0)
    assert base_price(order, bar(1, o, 13, 9, c)) == (o, True)
    assert base_price(order, bar(1, o, 13, 9, c), rule="worse") == (worse, True)


def test_limit_orders_fill_only_through_the_limit_at_it_or_better_and_never_slip():
    buy = OrderTerms(BUY, "limit", T0, limit_price=10)
    assert base_price(buy, bar(1, 11, 12, 10.5, 11)) is None  # never traded down to 10
    assert base_price(buy, bar(1, 11, 12, 9, 11)) == (10, False)
    assert base_price(buy, bar(1, 9.5, 12, 9, 11)) == (9.5, False)  # opened below: better
    sell = OrderTerms(SELL, "limit", T0, limit_price=10)
    assert base_price(sell, bar(1, 9, 9.5, 8, 9)) is None
    assert base_price(sell, bar(1, 9, 10.5, 8, 9)) == (10, False)
    assert base_price(sell, bar(1, 11, 12, 8, 9)) == (11, False)


def test_stop_orders_fill_through_the_stop_at_it_or_a_worse_open():
    stop = OrderTerms(SELL, "stop", T0, stop_price=10)
    assert base_price(stop, bar(1, 11, 12, 10.5, 11)) is None
    assert base_price(stop, bar(1, 11, 12, 9, 11)) == (10, True)
    assert base_price(stop, bar(1, 9, 12, 8, 11)) == (9, True)  # gapped through: the open


@given(prices, st.floats(min_value=0, max_value=1000))
def test_slippage_is_against_the_order(price, bps):
    assert slipped(price, BUY, bps) == pytest.approx(price * (1 + bps / 1e4))
    assert slipped(price, SELL, bps) == pytest.approx(price * (1 - bps / 1e4))
    assert slipped(price, BUY, bps) >= price >= slipped(price, SELL, bps)


def test_impact_grows_with_the_share_of_the_bar_and_fees_are_bps_of_notional():
    assert slippage_bps(2, 50, qty=10, volume=1_000) == pytest.approx(2.5)
    assert slippage_bps(2, 50, qty=1_000, volume=1_000) == pytest.approx(52)
    assert slippage_bps(2, 50, qty=10, volume=0) == 2  # no volume: no impact figure
    assert fee(25_000, 10) == pytest.approx(25)


# ---------------------------------------------------------------- portfolio


def test_buys_never_overdraw_and_sells_never_short():
    account = Account(cash=1_000.0)
    assert executable_qty(account, "X", 100, Pricing(10, BUY), fee_bps=10) == pytest.approx(
        1_000 / (10 * 1.001))
    assert executable_qty(account, "X", 5, Pricing(10, SELL), fee_bps=10) == 0.0


def test_a_round_trip_books_cost_basis_fees_and_realized_pnl():
    account = Account(cash=10_000.0)
    paid, realized = apply_fill(account, "X", side=BUY, qty=10, price=100.0, fee_bps=10)
    assert (paid, realized) == (pytest.approx(1.0), 0.0)
    assert account.cash == pytest.approx(10_000 - 1_000 - 1)
    assert account.holdings["X"].avg_price == pytest.approx(100.1)  # the buy fee is in the cost
    paid, realized = apply_fill(account, "X", side=SELL, qty=10, price=110.0, fee_bps=10)
    assert paid == pytest.approx(1.1)
    assert realized == pytest.approx((110 - 100.1) * 10 - 1.1)
    assert account.cash == pytest.approx(10_000 - 1_001 + 1_100 - 1.1)
    assert account.holdings["X"].qty == 0
    assert (account.wins, account.losses, account.loss_streak) == (1, 0, 0)
    apply_fill(account, "X", side=BUY, qty=1, price=100.0, fee_bps=0)
    apply_fill(account, "X", side=SELL, qty=1, price=90.0, fee_bps=0)
    assert (account.wins, account.losses, account.loss_streak) == (1, 1, 1)
    assert account.equity({"X": 1.0}) == pytest.approx(account.cash)


# ---------------------------------------------------------------- indicators


@given(st.lists(prices, min_size=1, max_size=60), st.integers(min_value=1, max_value=20))
def test_sma_is_the_mean_of_the_last_period_values(values, period):
    sma = SMA(period)
    for i, v in enumerate(values):
        got = sma.update(v)
        if i + 1 < period:
            assert got is None
        else:
            assert got == pytest.approx(statistics.fmean(values[i + 1 - period:i + 1]),
                                        rel=1e-9)


def _wilder_rsi(closes: list[float], period: int) -> float:
    """RSI by the textbook: a simple mean of the first `period` changes, then Wilder's
    smoothing."""
    changes = [b - a for a, b in zip(closes, closes[1:], strict=False)]
    gain = sum(max(c, 0) for c in changes[:period]) / period
    loss = sum(max(-c, 0) for c in changes[:period]) / period
    for c in changes[period:]:
        gain = (gain * (period - 1) + max(c, 0)) / period
        loss = (loss * (period - 1) + max(-c, 0)) / period
    return 100.0 if loss == 0 else 100 - 100 / (1 + gain / loss)


@given(st.lists(prices, min_size=16, max_size=80))
def test_rsi_is_wilders(closes):
    rsi = RSI(14)
    for close in closes:
        value = rsi.update(close)
    assert value == pytest.approx(_wilder_rsi(closes, 14), rel=1e-9, abs=1e-9)
    assert 0 <= value <= 100


def test_the_price_mood_follows_the_trend_and_stays_inside_minus_one_one():
    up, down = RollingMood(24), RollingMood(24)
    for i in range(40):
        rising = 100 * 1.01 ** i * (1 + 0.002 * (-1) ** i)
        up.update(rising)
        down.update(10_000 / rising)
    assert 0 < up.value < 1
    assert -1 < down.value < 0


# ---------------------------------------------------------------- statistics


@given(st.lists(st.floats(min_value=-0.2, max_value=0.2), min_size=3, max_size=50))
def test_sharpe_from_running_sums_equals_the_direct_one(returns):
    got = sharpe(len(returns), sum(returns), sum(r * r for r in returns), 252)
    spread = statistics.stdev(returns)
    if spread < 1e-8:
        return  # a flat series has no Sharpe ratio (and its running variance is noise)
    assert got == pytest.approx(statistics.fmean(returns) / spread * math.sqrt(252), rel=1e-6)


def test_profit_factor_and_drawdown():
    assert profit_factor(30, 10) == 3
    assert profit_factor(5, 0) == math.inf
    assert profit_factor(0, 0) is None
    assert max_drawdown_pct([100, 120, 90, 130, 65]) == pytest.approx(50)
    assert max_drawdown_pct([100, 101, 102]) == 0
