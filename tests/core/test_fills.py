"""Money never goes below zero: under any fill model a buy costs at most the cash there is (at
the price its own size makes) and a sell sells at most what is held, at a price of at least
zero; a buy cut by cash spends that cash; a booking that would overdraw raises."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.bars import BarData
from engine.core.fills import BUY, SELL, Pricing, affordable_qty, buy_cost
from engine.core.portfolio import Account, BookingError, Holding, apply_fill
from engine.core.settings import TradeSettings
from engine.core.trader import Outbox, Trader, WorkingOrder
from tests.core.conftest import bar_series

T0 = datetime(2020, 1, 1, tzinfo=UTC)
QUIET = {"fast": 199, "slow": 500}  # the strategy never signals: only the test's orders trade
SYMBOL = "BTC-USD"


@st.composite
def fill_models(draw) -> dict:
    """Every fill setting within the bounds a session spec accepts (session_spec.FILL_FIELDS)."""
    return {"fee_bps": draw(st.sampled_from([0.0, 10.0, 60.0, 1000.0])),
            "slippage_bps": draw(st.sampled_from([0.0, 2.0, 10.0, 1000.0])),
            "impact_bps": draw(st.sampled_from([0.0, 50.0, 400.0, 10_000.0])),
            "volume_cap_pct": draw(st.sampled_from([None, 2.0, 10.0, 100.0])),
            "latency_bars": draw(st.integers(0, 2)),
            "fill_price": draw(st.sampled_from(["open", "worse"])),
            "cancel_after_bars": draw(st.sampled_from([None, 1, 3]))}


@st.composite
def working_orders(draw) -> list[WorkingOrder]:
    orders = []
    for seq in range(1, draw(st.integers(1, 6)) + 1):
        kind = draw(st.sampled_from(["market", "market", "limit", "stop"]))
        level = draw(st.floats(0.01, 1e5))
        orders.append(WorkingOrder(
            seq=seq, symbol=SYMBOL, side=draw(st.sampled_from([BUY, SELL])),
            qty=draw(st.floats(1e-6, 1e7)), decision_ts=T0, order_type=kind,
            limit_price=level if kind == "limit" else None,
            stop_price=level if kind == "stop" else None))
    return orders


def _trader(model: dict, cash: float, held: float, orders: list[WorkingOrder]) -> Trader:
    trade = TradeSettings("ma_crossover", QUIET, (SYMBOL,), "1h", cash, **model)
    account = Account(cash=cash, holdings={SYMBOL: Holding(held, 100.0)} if held else {})
    return Trader(trade, account=account, working=orders, next_seq=len(orders) + 1)


@settings(max_examples=300, deadline=None)
@given(model=fill_models(),
       bars=bar_series(2, 12, 0.01, 1e5, (0.0, 0.001, 0.5, 40.0, 1e6), first=1),
       orders=working_orders(),
       cash=st.floats(0, 1e9), held=st.sampled_from([0.0, 1e-3, 5.0, 1e6]))
def test_cash_and_positions_never_go_below_zero_after_any_fill(model, bars, orders, cash, held):
    trader = _trader(model, cash, held, orders)
    out = Outbox()
    for bar in bars:
        seen = len(out.fills)
        trader.step(bar.ts, [(SYMBOL, bar)], out)
        account = trader.account
        assert account.cash >= 0
        assert all(h.qty >= 0 for h in account.holdings.values())
        for fill in out.fills[seen:]:
            assert fill.price >= 0
            assert fill.qty > 0


@settings(max_examples=500, deadline=None)
@given(base=st.floats(0.01, 1e6), fixed=st.floats(0, 1000), impact=st.floats(0, 10_000),
       volume=st.one_of(st.just(0.0), st.floats(1e-6, 1e6)), fee_bps=st.floats(0, 1000),
       cash=st.floats(0, 1e12))
def test_the_affordable_buy_is_the_largest_the_cash_pays_for_at_its_own_price(
        base, fixed, impact, volume, fee_bps, cash):
    pricing = Pricing(base, BUY, fixed, impact, volume)
    qty = affordable_qty(cash, pricing, fee_bps)
    assert buy_cost(qty, pricing.price(qty), fee_bps) <= cash
    more = qty * (1 + 1e-9) + 1e-300
    assert buy_cost(more, pricing.price(more), fee_bps) > cash or cash == 0


def test_a_buy_cut_by_cash_spends_the_cash_at_the_price_its_size_makes():
    model = {"fee_bps": 10.0, "slippage_bps": 2.0, "impact_bps": 400.0, "volume_cap_pct": None,
             "latency_bars": 0, "fill_price": "open", "cancel_after_bars": None}
    trader = _trader(model, 10_000.0, 0.0,
                     [WorkingOrder(seq=1, symbol=SYMBOL, side=BUY, qty=1e6, decision_ts=T0)])
    out = Outbox()
    bar = BarData(T0 + timedelta(hours=1), 100.0, 101.0, 99.0, 100.0, 10.0)
    trader.step(bar.ts, [(SYMBOL, bar)], out)
    (fill,) = out.fills
    # q × 100 × (1 + (2 + 400 q / 10) / 10⁴) × 1.001 = 10 000: q ≈ 79.4, not the 99.7 the
    # unimpacted price would suggest, nor a smaller cut that leaves cash unspent
    assert fill.price == pytest.approx(100 * (1 + (2 + 400 * fill.qty / 10) / 1e4))
    assert trader.account.cash == pytest.approx(0, abs=1e-6)
    assert fill.qty * fill.price + fill.fee == pytest.approx(10_000, rel=1e-12)


def test_a_sell_far_beyond_the_bars_volume_fills_at_no_less_than_zero():
    model = {"fee_bps": 10.0, "slippage_bps": 0.0, "impact_bps": 10_000.0,
             "volume_cap_pct": None, "latency_bars": 0, "fill_price": "open",
             "cancel_after_bars": None}
    trader = _trader(model, 0.0, 50.0,
                     [WorkingOrder(seq=1, symbol=SYMBOL, side=SELL, qty=50.0, decision_ts=T0)])
    out = Outbox()
    bar = BarData(T0 + timedelta(hours=1), 100.0, 101.0, 99.0, 100.0, 10.0)
    trader.step(bar.ts, [(SYMBOL, bar)], out)
    (fill,) = out.fills  # 500 % of the bar: 50 000 bps of impact, capped at the whole price
    assert (fill.qty, fill.price, fill.fee) == (50.0, 0.0, 0.0)
    assert trader.account.cash == 0.0


@pytest.mark.parametrize(("side", "qty", "price", "fee_bps"), [
    (BUY, 10.0, 100.0, 10.0),  # costs 1 001 of the 1 000 there is
    (SELL, 6.0, 100.0, 0.0),  # 6 of the 5 held
    (SELL, 5.0, -1.0, 0.0),  # a negative price
])
def test_a_fill_the_account_cannot_take_raises_and_books_nothing(side, qty, price, fee_bps):
    account = Account(cash=1_000.0, holdings={"X": Holding(5.0, 90.0)})
    with pytest.raises(BookingError):
        apply_fill(account, "X", side=side, qty=qty, price=price, fee_bps=fee_bps)
    assert account == Account(cash=1_000.0, holdings={"X": Holding(5.0, 90.0)})
