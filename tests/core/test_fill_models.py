"""Fill models through the engine's real path: volume-capped partial fills, latency, impact,
the worse-of-open-and-close rule and cancellation — properties on random orders, and a whole
shipped file under each preset recomputed independently."""

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session, select

from engine.core.bars import BarData
from engine.core.fill_models import PRESETS, preset_values
from engine.market import catalog
from engine.market.bars import write_bars
from engine.reads import queries
from engine.reads.fill_compare import compare_fill_models
from engine.store.db import session_scope
from engine.store.models import Bar, EquitySnapshot, Fill, Order, PaperSession
from engine.trading.clock import run_to_end
from tests.broker.test_paper import working_orders
from tests.conftest import cli, replay_session, store_bars
from tests.core.conftest import bar_series

QUIET = {"fast": 199, "slow": 500}  # the strategy never signals: only the test's orders trade
T0 = datetime(2020, 1, 1, tzinfo=UTC)
DUST = 1e-12


@st.composite
def fill_model(draw):
    return {
        "fee_bps": draw(st.floats(0, 100)), "slippage_bps": draw(st.floats(0, 50)),
        "impact_bps": draw(st.sampled_from([0.0, 50.0, 400.0])),
        "volume_cap_pct": draw(st.sampled_from([None, 2.0, 10.0, 100.0])),
        "latency_bars": draw(st.integers(0, 3)),
        "fill_price": draw(st.sampled_from(["open", "worse"])),
        "cancel_after_bars": draw(st.sampled_from([None, 1, 3])),
    }


@st.composite
def order_list(draw, n_bars):
    return [{"decision": draw(st.integers(0, n_bars - 1)),
             "side": draw(st.sampled_from(["buy", "sell"])),
             "order_type": draw(st.sampled_from(["market", "market", "limit", "stop"])),
             "qty": draw(st.floats(0.01, 50)), "level": draw(st.floats(1, 1000))}
            for _ in range(draw(st.integers(1, 8)))]


def _run(db, bars, orders, cash, model) -> int:
    """A running session over `bars` with the test's orders working, fast-forwarded to the
    end by the engine's own clock."""
    with session_scope(db) as s:  # each example replaces the bars and sessions of the last
        for table in (Fill, Order, EquitySnapshot, Bar):
            s.execute(delete(table))
    write_bars(db, "BTC-USD", "1h", bars)
    with session_scope(db) as s:
        session = PaperSession(
            name="fills", strategy="ma_crossover", params=QUIET, symbols="BTC-USD",
            timeframe="1h", starting_cash=cash, cash=cash, equity=cash, marked_equity=cash,
            peak_equity=cash, status="running", window_from=bars[0].ts, window_to=bars[-1].ts,
            speed=None, bars_total=len(bars), **model)
        s.add(session)
        s.flush()
        s.add_all(working_orders(session.id, bars, orders))
        sid = session.id
    run_to_end(db, sid)
    return sid


def _expected_price(order: Order, bar: BarData, model: dict, qty: float) -> float:
    buy = order.side == "buy"
    if order.order_type == "limit":
        return min(bar.open, order.limit_price) if buy else max(bar.open, order.limit_price)
    if order.order_type == "stop":
        base = max(bar.open, order.stop_price) if buy else min(bar.open, order.stop_price)
    elif model["fill_price"] == "worse":
        base = max(bar.open, bar.close) if buy else min(bar.open, bar.close)
    else:
        base = bar.open
    bps = model["slippage_bps"] + (model["impact_bps"] * qty / bar.volume if bar.volume else 0)
    return base * (1 + bps / 1e4) if buy else base * max(0.0, 1 - bps / 1e4)  # never below 0


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), cash=st.floats(10, 1e5), model=fill_model())
def test_partial_fills_respect_cap_latency_impact_and_accounting(db, data, cash, model):
    bars = data.draw(bar_series(3, 20, 1, 1000, (0.0, 0.5, 5.0, 40.0, 1e6)))
    orders = data.draw(order_list(len(bars)))
    sid = _run(db, bars, orders, cash, model)
    index = {b.ts: i for i, b in enumerate(bars)}
    with Session(db) as s:
        session = s.get(PaperSession, sid)
        fills = s.exec(select(Fill).where(Fill.session_id == sid).order_by(Fill.id)).all()
        placed = {o.id: o for o in s.exec(select(Order).where(Order.session_id == sid))}

    assert session.status == "completed"
    assert session.cash >= 0
    by_order, per_bar = defaultdict(list), defaultdict(float)
    for fill in fills:
        order = placed[fill.order_id]
        bar = bars[index[fill.bar_ts]]
        by_order[order.id].append(fill)
        per_bar[fill.bar_ts] += fill.qty
        assert index[fill.bar_ts] >= index[order.decision_bar_ts] + 1 + model["latency_bars"]
        assert fill.fee == pytest.approx(model["fee_bps"] / 1e4 * fill.qty * fill.price,
                                         rel=1e-9)
        assert fill.price == pytest.approx(_expected_price(order, bar, model, fill.qty),
                                           rel=1e-9)
        assert fill.priced_by
        assert f"fee {model['fee_bps']:g} bps" in fill.priced_by
    if model["volume_cap_pct"] is not None:
        for ts, qty in per_bar.items():
            assert qty <= bars[index[ts]].volume * model["volume_cap_pct"] / 100 * (1 + 1e-9)
    for order in placed.values():
        done = sum(f.qty for f in by_order[order.id])
        assert done <= order.qty * (1 + 1e-9)
        assert order.filled_qty == pytest.approx(done, rel=1e-9, abs=1e-12)
        assert len({f.bar_ts for f in by_order[order.id]}) == len(by_order[order.id])
        if order.status == "partially_filled":
            assert 0 < done < order.qty
        if order.status == "pending":
            assert done == 0
        if order.status == "cancelled" and model["cancel_after_bars"] and done == 0:
            assert "unfilled after" in order.reason
    held = sum(f.qty if f.side == "buy" else -f.qty for f in fills)
    assert held >= -1e-9
    spent = sum(f.qty * f.price + f.fee for f in fills if f.side == "buy")
    received = sum(f.qty * f.price - f.fee for f in fills if f.side == "sell")
    assert session.cash == pytest.approx(cash - spent + received, rel=1e-9, abs=1e-6)
    assert session.equity == pytest.approx(session.cash + held * bars[-1].close, rel=1e-9,
                                           abs=1e-6)


def test_a_capped_order_fills_in_parts_and_the_rest_is_cancelled_after_n_bars(db):
    bars = [BarData(T0 + timedelta(hours=i), 100, 101, 99, 100, 10.0) for i in range(8)]
    orders = [{"decision": 0, "side": "buy", "order_type": "market", "qty": 5, "level": 0}]
    model = {"fee_bps": 10.0, "slippage_bps": 0.0, "impact_bps": 100.0, "volume_cap_pct": 20.0,
             "latency_bars": 1, "fill_price": "open", "cancel_after_bars": 2}
    sid = _run(db, bars, orders, 1e6, model)
    with Session(db) as s:
        fills = s.exec(select(Fill).where(Fill.session_id == sid).order_by(Fill.id)).all()
        (order,) = s.exec(select(Order).where(Order.session_id == sid)).all()
    # decided on bar 0, one bar of latency: eligible from bar 2; 2 units a bar (20 % of 10)
    assert [(f.bar_ts, f.qty) for f in fills] == [(bars[2].ts, 2.0), (bars[3].ts, 2.0)]
    assert fills[0].price == pytest.approx(100 * (1 + 100 * 0.2 / 1e4))  # 20 bps of impact
    assert order.status == "cancelled"
    assert order.filled_qty == pytest.approx(4.0)
    assert order.reason == "1 unfilled after 2 bars"


def _fill(t: int, order: dict, book: dict, model: dict, bars: pd.DataFrame) -> bool:
    """Fill what bar t allows of `order` into `book` (cash, qty, basis, fills); True when the
    order is done."""
    o, c, v = bars["open"][t], bars["close"][t], bars["volume"][t]
    buy = order["side"] == "buy"
    base = (max(o, c) if buy else min(o, c)) if model["fill_price"] == "worse" else o
    want = order["qty"] - order["filled"]
    if model["volume_cap_pct"] is not None:
        want = min(want, v * model["volume_cap_pct"] / 100)
    if want <= DUST:
        return False

    def priced(q: float) -> float:
        bps = model["slippage_bps"] + model["impact_bps"] * q / v
        return base * (1 + bps / 1e4) if buy else base * max(0.0, 1 - bps / 1e4)

    fee_rate = model["fee_bps"] / 1e4

    def cost(q: float) -> float:
        return q * priced(q) * (1 + fee_rate)

    got = want if buy else min(want, book["qty"])
    if buy and cost(want) > book["cash"]:  # the most the cash pays for at its own price
        low, high = 0.0, want
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (mid, high) if cost(mid) <= book["cash"] else (low, mid)
        got = low
    price = priced(got)
    fee = got * price * fee_rate
    book["fills"].append((t, order["side"], got, price, fee))
    if buy:
        book["cash"] -= got * price + fee
        book["basis"] = (book["qty"] * book["basis"] + got * price + fee) / (book["qty"] + got)
        book["qty"] += got
    else:
        book["cash"] += got * price - fee
        book["qty"] = 0.0 if book["qty"] - got <= DUST else book["qty"] - got
    order["filled"] += got
    cut = got < want - max(DUST, want * 1e-9)
    return cut or order["qty"] - order["filled"] <= order["qty"] * 1e-9


def simulate(frame: pd.DataFrame, model: dict, cash: float, size: float) -> tuple[list, list]:
    """The MA-crossover session under a fill model, recomputed bar by bar from the documented
    rules: fills (bar, side, qty, price, fee) and the equity at each close."""
    diff = frame["close"].rolling(10).mean() - frame["close"].rolling(30).mean()
    book = {"cash": cash, "qty": 0.0, "basis": 0.0, "fills": []}
    order, equity = None, []
    for t in range(len(frame)):
        if order is not None and t > order["t"]:
            order["age"] += 1
            if order["age"] > model["latency_bars"] and _fill(t, order, book, model, frame):
                order = None
        marked = book["cash"] + book["qty"] * frame["close"][t]
        equity.append(marked)
        if order is not None or t == 0 or pd.isna(diff[t - 1]) or pd.isna(diff[t]):
            continue
        up, down = diff[t - 1] <= 0 < diff[t], diff[t - 1] >= 0 > diff[t]
        if up and book["qty"] <= 0:
            budget = min(marked * size, book["cash"])
            order = {"t": t, "side": "buy", "qty": budget / frame["close"][t], "filled": 0.0,
                     "age": 0}
        elif down and book["qty"] > 0:
            order = {"t": t, "side": "sell", "qty": book["qty"], "filled": 0.0, "age": 0}
    return book["fills"], equity


@pytest.mark.parametrize("preset", PRESETS)
def test_a_whole_file_under_each_preset_matches_an_independent_recomputation(db, preset):
    frame = catalog.load("ETH-USD", "1d")
    store_bars(db, ("ETH-USD", "1d"))
    cash, size = 2_000_000.0, 0.5
    sid = replay_session(db, {
        "name": preset, "symbols": "ETH-USD", "strategy": "ma_crossover", "timeframe": "1d",
        "params": {"fast": 10, "slow": 30}, "cash": cash, "position_size": size,
        "fill_model": preset, "from": frame["ts"].iloc[0].isoformat(), "speed": "max"})
    model = preset_values(preset, ["crypto"])
    want_fills, want_equity = simulate(frame, model, cash, size)
    index = {ts.to_pydatetime(): i for i, ts in enumerate(frame["ts"])}
    with Session(db) as s:
        got = [(index[f.bar_ts], f.side, f.qty, f.price, f.fee) for f in s.exec(
            select(Fill).where(Fill.session_id == sid).order_by(Fill.id))]
        equity = [e.equity for e in s.exec(select(EquitySnapshot).where(
            EquitySnapshot.session_id == sid).order_by(EquitySnapshot.ts))]
        orders = s.exec(select(Order).where(Order.session_id == sid)).all()
    assert len(got) == len(want_fills) >= 10
    for have, want in zip(got, want_fills, strict=True):
        assert have[:2] == want[:2]
        assert have[2:] == pytest.approx(want[2:], rel=1e-9)
    assert equity == pytest.approx(want_equity, rel=1e-9)
    metrics = queries.session_document(db, sid).metrics
    assert metrics["return_pct"] == pytest.approx((want_equity[-1] / cash - 1) * 100, rel=1e-9)
    if preset != "frictionless":  # a capped preset splits this account's orders into parts
        assert len(got) > len(orders)


def test_rerun_under_each_preset_matches_the_session_under_its_own(db):
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"name": "compare", "symbols": "BTC-USD", "timeframe": "1h",
                              "strategy": "ma_crossover", "cash": 5_000_000.0,
                              "fill_model": "realistic", "speed": "max"})
    runs = {r.model: r for r in compare_fill_models(db, sid)}
    assert list(runs) == list(PRESETS)
    doc = queries.session_document(db, sid)
    metrics = doc.metrics
    own = runs["realistic"]
    assert own.return_pct == pytest.approx(metrics["return_pct"], rel=1e-9)
    assert own.fills == metrics["trades"]
    assert own.partial_orders > 0  # this account is larger than a tenth of an hour's volume
    assert runs["frictionless"].fees == 0
    assert runs["frictionless"].partial_orders == 0
    assert runs["pessimistic"].fees > 0
    for run in runs.values():
        assert run.description.startswith(f"{run.model}: ")
        assert run.curve[-1][1] == pytest.approx(
            doc.starting_cash * (1 + run.return_pct / 100), rel=1e-9)


def test_cli_creates_with_a_preset_and_overrides_lists_partial_fills_and_compares(env, db):
    store_bars(db, ("BTC-USD", "1h"))
    create = ["session", "create", "--name", "cli fills", "--symbols", "BTC-USD", "--strategy",
              "ma_crossover", "--cash", "20000000", "--speed", "max"]
    bad = cli(env, *create, "--fill-model", "cheap")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: fill_model must be one of frictionless, realistic, pessimistic, custom "
        "(got 'cheap')"]
    made = cli(env, *create, "--fill-model", "pessimistic", "--latency-bars", "2", "--json")
    doc = json.loads(made.stdout)
    assert (doc["fill_model"], doc["latency_bars"], doc["fee_bps"], doc["volume_cap_pct"]) == (
        "pessimistic", 2, 60.0, 2.0)
    with session_scope(db) as s:
        s.get(PaperSession, doc["id"]).status = "running"
    run_to_end(db, doc["id"])
    trades = json.loads(cli(env, "session", "trades", str(doc["id"]), "--json").stdout)
    parts = Counter(t["order_id"] for t in trades)
    assert max(parts.values()) > 1  # an order listed once per partial fill
    assert all(t["priced_by"].startswith("pessimistic: worse") for t in trades)
    compared = cli(env, "session", "fill-models", str(doc["id"])).stdout.splitlines()
    assert [line.split()[0] for line in compared[::2]] == list(PRESETS)
