"""The risk rules a decision feeds: its size (above dust, at most all of the equity) and a
position's own stop-loss and take-profit, directly and through Trader.step."""

from types import SimpleNamespace

import pytest

from engine.core.bars import BarData
from engine.core.portfolio import DUST, Account, Holding
from engine.core.risk import Exits, decide, entry_fraction
from engine.core.settings import TradeSettings
from engine.core.strategy_api import BUY, MAX_SIZE, SELL, Decision, Strategy
from engine.core.trader import Outbox, Trader
from tests.core.conftest import T0, hourly

QUIET = {"fast": 199, "slow": 500}  # an MA crossover that never signals on these short series


def settings(strategy: str = "ma_crossover", symbols=("BTC-USD",), **risk) -> TradeSettings:
    params = QUIET if strategy == "ma_crossover" else {}
    return TradeSettings(strategy, params, symbols, "1h", 1000.0, fee_bps=0, slippage_bps=0,
                         **risk)


def bar(close: float) -> BarData:
    return BarData(T0, close, close, close, close, 1.0)


def test_a_buy_spends_the_decisions_size_kept_above_dust_and_at_most_all():
    s = settings(position_size=0.25)
    assert entry_fraction(s, Decision(BUY, "x")) == 0.25
    assert entry_fraction(s, Decision(BUY, "x", size=0.6)) == 0.6
    # a decision made around the API's own checks still spends at most all, at least dust
    assert entry_fraction(s, SimpleNamespace(size=3.0)) == MAX_SIZE == 1.0
    assert entry_fraction(s, SimpleNamespace(size=1e-30)) == DUST


@pytest.mark.parametrize(("symbols", "size", "cash", "spent"), [
    (("BTC-USD",), None, 1000.0, 250.0),  # the session's position size, 0.25
    (("BTC-USD",), 0.5, 1000.0, 500.0),
    (("BTC-USD", "ETH-USD"), 0.5, 1000.0, 250.0),  # split across the symbols, as position_size
    (("BTC-USD",), 1.0, 300.0, 300.0),  # at most the cash there is
])
def test_an_entry_is_sized_at_the_close_from_equity_symbols_and_cash(symbols, size, cash, spent):
    s = settings(symbols=symbols, position_size=0.25)
    order = decide(s, bar(50.0), Decision(BUY, "in", size=size), None, equity=1000.0, cash=cash)
    assert order == (BUY, spent / 50.0, "in")


@pytest.mark.parametrize(("session", "exits", "close", "rule"), [
    ({"stop_loss_pct": 5}, None, 95.1, None),
    ({"stop_loss_pct": 5}, None, 95.0, "stop-loss 5% below entry"),
    ({"stop_loss_pct": 5}, Exits(2.0, None), 98.0, "stop-loss 2% below entry"),
    ({"stop_loss_pct": 5}, Exits(0.0, None), 50.0, None),  # 0 turns the session's off
    ({"stop_loss_pct": 5}, Exits(None, 3.0), 95.0, "stop-loss 5% below entry"),
    ({"take_profit_pct": 10}, Exits(), 110.01, "take-profit 10% above entry"),
    ({"take_profit_pct": 10}, Exits(None, 3.0), 103.0, "take-profit 3% above entry"),
    ({"take_profit_pct": 10}, Exits(None, 0.0), 500.0, None),
    ({}, Exits(1.5, 1.5), 98.5, "stop-loss 1.5% below entry"),
])
def test_a_positions_own_exits_replace_the_sessions(session, exits, close, rule):
    held = Holding(qty=2.0, avg_price=100.0)
    order = decide(settings(**session), bar(close), None, held, equity=1000.0, cash=800.0,
                   exits=exits)
    assert order == (None if rule is None else (SELL, 2.0, rule))


def test_an_exit_comes_before_a_sell_decision_and_a_buy_while_held_is_ignored():
    held = Holding(qty=2.0, avg_price=100.0)
    s = settings(stop_loss_pct=5)
    assert decide(s, bar(90.0), Decision(SELL, "mine"), held, equity=1.0, cash=1.0)[2] == \
        "stop-loss 5% below entry"
    assert decide(s, bar(99.0), Decision(SELL, "mine"), held, equity=1.0, cash=1.0) == \
        (SELL, 2.0, "mine")
    assert decide(s, bar(99.0), Decision(BUY, "more"), held, equity=1.0, cash=1.0) is None


# ------------------------------------------------------------------ through the Trader


class Scripted(Strategy):
    """Returns script[n] on its n-th bar (from 0)."""

    name = "scripted"
    title = "Scripted"
    warmup_bars = 0
    script: dict[int, Decision] = {}

    def __init__(self, params):
        super().__init__(params)
        self.n = -1

    def on_bar(self, ctx):
        self.n += 1
        return self.script.get(self.n)


def scripted(script: dict[int, Decision]) -> type[Strategy]:
    return type("Script", (Scripted,), {"script": script})


def run(trader: Trader, closes: list[float]) -> Outbox:
    out = Outbox()
    for b in hourly(closes):
        trader.step(b.ts, [("BTC-USD", b)], out)
    return out


def orders(out: Outbox) -> list[tuple[int, str, float, str]]:
    return [(int((o.decision_ts - T0).total_seconds() // 3600), o.side, o.qty, o.reason)
            for o in out.orders]


def test_a_decision_sizes_its_entry_and_sets_the_positions_stop(registered):
    registered(scripted({0: Decision(BUY, "enter", size=0.5, stop_loss_pct=2)}))
    trader = Trader(settings("scripted", position_size=0.25, stop_loss_pct=10))
    out = run(trader, [100, 100, 99, 98.5, 97.9, 97, 96])
    assert orders(out) == [(0, BUY, 5.0, "enter"), (4, SELL, 5.0, "stop-loss 2% below entry")]
    assert [f.price for f in out.fills] == [100.0, 97.0]
    lineage = out.orders[0].lineage
    assert (lineage["size"], lineage["stop_loss_pct"]) == (0.5, 2.0)
    assert "take_profit_pct" not in lineage
    assert "size" not in out.orders[1].lineage


def test_the_next_entry_without_exits_trades_with_the_sessions_again(registered):
    registered(scripted({0: Decision(BUY, "first", stop_loss_pct=2), 3: Decision(SELL, "out"),
                         5: Decision(BUY, "second")}))
    trader = Trader(settings("scripted", position_size=0.5, stop_loss_pct=5))
    out = run(trader, [100, 100, 100, 100, 100, 100, 100, 97, 96, 94.9, 94])
    assert orders(out) == [(0, BUY, 5.0, "first"), (3, SELL, 5.0, "out"),
                           (5, BUY, 5.0, "second"), (9, SELL, 5.0, "stop-loss 5% below entry")]
    assert trader.exits == {}


def test_a_zero_take_profit_on_the_decision_turns_the_sessions_off(registered):
    registered(scripted({0: Decision(BUY, "hold on", take_profit_pct=0)}))
    out = run(Trader(settings("scripted", take_profit_pct=5)), [100, 100, 110, 120, 130])
    assert orders(out) == [(0, BUY, 2.5, "hold on")]


def test_a_restored_trader_keeps_its_positions_exits():
    def restored(exits):
        account = Account(cash=500.0, holdings={"BTC-USD": Holding(5.0, 100.0)})
        return Trader(settings(stop_loss_pct=10), account=account, exits=exits)

    out = run(restored({"BTC-USD": Exits(2.0, None)}), [99, 97.5])
    assert orders(out) == [(1, SELL, 5.0, "stop-loss 2% below entry")]
    assert run(restored(None), [99, 97.5]).orders == []
