"""A replay session's results are a function of its data, settings and window only: property
tests that interrupt its clock every way a user or a crash can, then compare bar for bar with
an uninterrupted fast-forward of the same window."""

import random
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from engine.config import load_settings
from engine.control import actions as control
from engine.core.bars import BarData
from engine.core.fill_models import PRESETS
from engine.core.news import MOOD_WINDOW
from engine.core.trader import Outbox
from engine.fleet.commands import apply_pending
from engine.fleet.runtime import EngineProcess
from engine.market import catalog
from engine.market.bars import write_bars
from engine.news.scores import ScoredHeadline, store_scores
from engine.news.scoring import price_mood
from engine.reads.reconcile import reconcile
from engine.store.db import session_scope
from engine.store.models import EquitySnapshot, Event, Fill, Order, PaperSession
from engine.store.news import NewsScore
from engine.trading.clock import SessionBook
from engine.trading.store import Batch
from tests.conftest import ROOT, replay_session, store_bars

STRATEGIES = {
    "ma_crossover": st.fixed_dictionaries({"fast": st.integers(2, 8),
                                           "slow": st.integers(9, 30)}),
    "rsi_reversion": st.fixed_dictionaries({"period": st.integers(2, 20)}),
    "blend": st.fixed_dictionaries({"fast": st.integers(2, 8), "slow": st.integers(9, 30),
                                    "entry": st.sampled_from([0.05, 0.2]),
                                    "exit": st.sampled_from([-0.2, -0.05]),
                                    "w_sentiment": st.sampled_from([0.3, 0.8])}),
    # user strategies: examples/strategies/, loaded from PAPERDESK_HOME/strategies (guarded)
    "macd_crossover": st.fixed_dictionaries({"fast": st.integers(3, 8),
                                             "slow": st.integers(9, 20)}),
    "donchian_breakout": st.fixed_dictionaries({"entry": st.integers(3, 20),
                                                "exit": st.integers(3, 10)}),
}
DATASETS = [("BTC-USD", "1h"), ("ETH-USD", "1d"), ("AAPL", "1d")]
OPS = ["tick", "tick", "tick", "pause_resume", "speed", "fast_forward_until", "kill",
       "crash_mid_batch", "stage_hold"]


USER_STRATEGIES = ("donchian_breakout", "macd_crossover")


@st.composite
def scenarios(draw, among: tuple[str, ...] = tuple(sorted(STRATEGIES)),
              sentiment: str = "price-mood"):
    symbol, timeframe = draw(st.sampled_from(DATASETS))
    frame = catalog.load(symbol, timeframe)
    length = draw(st.integers(40, 300))
    start = draw(st.integers(0, len(frame) - length - 1))
    strategy = draw(st.sampled_from(among))
    spec = {
        "symbols": symbol, "timeframe": timeframe, "strategy": strategy,
        "params": draw(STRATEGIES[strategy]),
        "from": frame["ts"].iloc[start].isoformat(),
        "to": frame["ts"].iloc[start + length].isoformat(),
        "position_size": draw(st.sampled_from([0.3, 1.0])),
        "stop_loss_pct": draw(st.sampled_from([0, 3])),
        "take_profit_pct": draw(st.sampled_from([0, 8])),
        "speed": draw(st.sampled_from(["1", "3", "50"])),
        # the fill model: large accounts make the volume cap split orders over several bars
        "fill_model": draw(st.sampled_from(["custom", *PRESETS])),
        "cash": draw(st.sampled_from([10_000, 20_000_000])),
        "cancel_after_bars": draw(st.sampled_from([None, 2])),
        "sentiment": sentiment,
    }
    ops = draw(st.lists(st.sampled_from(OPS), min_size=3, max_size=25))
    return spec, ops, draw(st.integers(0, 2**16))


class Harness:
    """The engine's own command handling and session book, with a simulated wall clock."""

    def __init__(self, db, env, sid):
        self.db, self.sid, self.now = db, sid, 0.0
        self.rt = EngineProcess(load_settings(env))
        self.book = SessionBook(db)
        self.book.sync(self.now)

    def command(self, queued) -> None:
        apply_pending(self.rt)
        control.wait_for(self.db, queued, 1)
        self.book.sync(self.now)

    def tick(self) -> None:
        self.now += 1.0
        self.book.tick(self.now)

    def status(self) -> str:
        with Session(self.db) as s:
            return s.get(PaperSession, self.sid).status

    def run(self, op: str, rng: random.Random) -> None:
        if self.status() == "completed":
            return
        if op == "tick":
            for _ in range(rng.randint(1, 5)):
                self.tick()
        elif op == "pause_resume":
            self.command(control.session_action(self.db, self.sid, "pause"))
            self.tick()  # bars would pass here; a paused clock trades none
            self.command(control.session_action(self.db, self.sid, "resume"))
        elif op == "speed":
            self.command(control.set_session_speed(self.db, self.sid,
                                                   rng.choice(["1", "2", "25", "400"])))
        elif op == "fast_forward_until":
            self._fast_forward_until(rng)
        elif op in ("kill", "crash_mid_batch"):
            if op == "crash_mid_batch" and self.sid in self.book.clocks:
                clock = self.book.clocks[self.sid]
                clock.advance(rng.randint(1, 30), Batch(self.sid, clock.trader, Outbox()).out)
            self.book = SessionBook(self.db)  # what a kill -9 leaves: the database only
            self.book.sync(self.now)
        elif op == "stage_hold":
            self.now += rng.randint(1, 30)  # a stopped agent: no ticks for a while
            self.book.release_holds(self.now)

    def _fast_forward_until(self, rng: random.Random) -> None:
        with Session(self.db) as s:
            row = s.get(PaperSession, self.sid)
            if row.last_bar_at is None:
                return
            span = row.window_to - row.last_bar_at
            until = row.last_bar_at + span * rng.random()
        self.command(control.set_session_speed(self.db, self.sid, "max", until=until,
                                               then=str(rng.choice([1, 5]))))
        self.book.fast_forward(float("inf"))

    def finish(self) -> None:
        status = self.status()
        if status == "paused":
            self.command(control.session_action(self.db, self.sid, "resume"))
        if status != "completed":
            self.command(control.set_session_speed(self.db, self.sid, "max"))
            self.book.fast_forward(float("inf"))


def history(db, sid: int) -> tuple[list, list]:
    with Session(db) as s:
        fills = [(f.bar_ts, f.symbol, f.side, f.qty, f.price, f.fee, f.realized_pnl)
                 for f in s.exec(select(Fill).where(Fill.session_id == sid).order_by(Fill.id))]
        snaps = [(e.ts, e.cash, e.equity) for e in s.exec(
            select(EquitySnapshot).where(EquitySnapshot.session_id == sid)
            .order_by(EquitySnapshot.ts))]
    return fills, snaps


def assert_equity_is_cash_plus_holdings(db, sid: int, symbol: str, timeframe: str) -> None:
    """Each snapshot == cash + qty × close, rebuilt from the fills up to that bar."""
    fills, snaps = history(db, sid)
    frame = catalog.load(symbol, timeframe)
    close = dict(zip((t.to_pydatetime() for t in frame["ts"]), frame["close"], strict=True))
    with Session(db) as s:
        cash = s.get(PaperSession, sid).starting_cash
    qty, pending = 0.0, list(fills)
    for ts, snap_cash, equity in snaps:
        while pending and pending[0][0] <= ts:
            _, _, side, q, price, fee, _ = pending.pop(0)
            qty += q if side == "buy" else -q
            cash += -q * price - fee if side == "buy" else q * price - fee
        assert snap_cash == pytest.approx(cash, rel=1e-9, abs=1e-6)
        assert equity == pytest.approx(cash + qty * close[ts], rel=1e-9, abs=1e-6)


def store_news(db) -> None:
    """Dated headline scores for every dataset, one a bar, published at a random minute of it
    (seeded): runs of bullish and bearish news, so that a news session trades on them."""
    rng = random.Random(17)
    items = []
    for symbol, timeframe in DATASETS:
        step = catalog.TIMEFRAMES[timeframe]
        for i, ts in enumerate(catalog.load(symbol, timeframe)["ts"]):
            at = ts.to_pydatetime() + timedelta(seconds=rng.randrange(step))
            score = (0.8 if (i // 30) % 2 else -0.8) + rng.uniform(-0.2, 0.2)
            items.append(ScoredHeadline(symbol, at, True, score, f"{symbol} {at} {score}",
                                        "import"))
    with session_scope(db) as s:
        store_scores(s, items)


@pytest.fixture
def stored(db, env):
    store_bars(db, *DATASETS)
    store_news(db)
    folder = Path(env["PAPERDESK_HOME"]) / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    for example in (ROOT / "examples" / "strategies").glob("*.py"):
        shutil.copy(example, folder)
    return db


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_interrupted_replay_equals_fast_forward_bar_for_bar(stored, env, scenario):
    check_interrupted_replay(stored, env, scenario)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scenario=scenarios(USER_STRATEGIES))
def test_a_user_strategy_session_interrupted_equals_its_fast_forward(stored, env, scenario):
    check_interrupted_replay(stored, env, scenario)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scenario=scenarios(("blend", "macd_crossover"), sentiment="news"))
def test_a_news_session_interrupted_equals_its_fast_forward(stored, env, scenario):
    check_interrupted_replay(stored, env, scenario)


def check_interrupted_replay(stored, env, scenario) -> None:
    """Run the scenario's interruptions, then compare bar for bar with a fast-forward."""
    spec, ops, seed = scenario
    db, rng = stored, random.Random(seed)
    reference = replay_session(db, {**spec, "speed": "max"})
    sid = replay_session(db, spec, to_end=False)
    harness = Harness(db, env, sid)
    for op in ops:
        harness.run(op, rng)
    harness.finish()
    with Session(db) as s:
        row = s.get(PaperSession, sid)
        assert row.status == "completed"
        assert row.bars_done == row.bars_total
    assert history(db, sid) == history(db, reference)
    assert_equity_is_cash_plus_holdings(db, sid, spec["symbols"], spec["timeframe"])
    result = reconcile(db, sid)
    assert result.match_pct == 100.0
    assert result.differences == []


def test_a_session_completes_at_the_end_of_its_window_with_an_event(stored):
    frame = catalog.load("AAPL", "1d")
    sid = replay_session(stored, {"symbols": "AAPL", "timeframe": "1d", "strategy": "blend",
                                  "from": frame["ts"].iloc[-120].isoformat()})
    with Session(stored) as s:
        row = s.get(PaperSession, sid)
        events = s.exec(select(Event.message).where(Event.source == f"session-{sid}")).all()
    assert row.status == "completed"
    assert row.last_bar_at == frame["ts"].iloc[-1].to_pydatetime()
    assert (row.bars_done, row.bars_total) == (120, 120)
    assert any("running → completed" in m and "window ended" in m for m in events)
    with pytest.raises(Exception, match="it is completed"):
        control.session_action(stored, sid, "pause")


def test_reconcile_names_a_mid_run_settings_change(stored, env):
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(stored, {"symbols": "BTC-USD", "timeframe": "1h",
                                  "from": frame["ts"].iloc[-1500].isoformat(), "speed": "100"},
                         to_end=False)
    harness = Harness(stored, env, sid)
    for _ in range(4):
        harness.tick()
    with Session(stored) as s:
        changed_after = s.get(PaperSession, sid).last_bar_at
    harness.command(control.update_session_config(stored, sid, {"fast": "4", "slow": "12"}))
    harness.finish()
    result = reconcile(stored, sid)
    assert result.match_pct < 100
    assert result.differences
    assert all(d.bar_ts > changed_after for d in result.differences)
    assert all(d.cause.startswith(f"settings changed after bar {changed_after:%Y-%m-%d %H:%M}")
               and "fast 10 → 4" in d.cause for d in result.differences)
    untouched = replay_session(stored, {"symbols": "BTC-USD", "timeframe": "1h",
                                        "from": frame["ts"].iloc[-1500].isoformat()})
    assert reconcile(stored, untouched).match_pct == 100.0


def test_bad_speed_and_config_changes_are_refused_by_name(stored):
    sid = replay_session(stored, {"symbols": "ETH-USD", "timeframe": "1d"}, to_end=False)
    for call, match in (
        (lambda: control.set_session_speed(stored, sid, "fast"), "^speed must be"),
        (lambda: control.set_session_speed(stored, sid, "0"), "^speed must be above 0"),
        (lambda: control.set_session_speed(stored, sid, "10", until="2019-01-01"), "^until"),
        (lambda: control.set_session_speed(stored, sid, "max", until="1999-01-01"),
         "^until must lie in"),
        (lambda: control.update_session_config(stored, sid, {"colour": "red"}),
         "^unknown setting 'colour'"),
        (lambda: control.update_session_config(stored, sid, {"fast": "50"}),
         "^param fast must be below param slow"),
        (lambda: control.update_session_config(stored, sid, {"fee_bps": "-1"}), "^fee_bps"),
    ):
        with pytest.raises(Exception, match=match):
            call()


def test_sentiment_a_session_sees_at_bar_t_is_known_at_t(stored):
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(stored, {"symbols": "BTC-USD", "timeframe": "1h", "strategy": "blend",
                                  "params": {"entry": "0.05", "exit": "-0.05"},
                                  "from": frame["ts"].iloc[-600].isoformat()})
    index = {ts.to_pydatetime(): i for i, ts in enumerate(frame["ts"])}
    closes = list(frame["close"])
    with Session(stored) as s:
        orders = s.exec(select(Order).where(Order.session_id == sid)).all()
    assert len(orders) >= 5
    for order in orders:
        t = index[order.decision_bar_ts]
        assert order.lineage["sentiment_source"] == "price-mood"
        assert order.lineage["sentiment"] == pytest.approx(
            price_mood(closes[t - MOOD_WINDOW + 1:t + 1]), abs=1e-9)


def test_a_news_session_sees_the_mean_score_known_in_the_day_before_each_close(stored):
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(stored, {"symbols": "BTC-USD", "timeframe": "1h", "strategy": "blend",
                                  "params": {"entry": "0.05", "exit": "-0.05"},
                                  "sentiment": "news",
                                  "from": frame["ts"].iloc[-600].isoformat()})
    with Session(stored) as s:
        orders = s.exec(select(Order).where(Order.session_id == sid)).all()
        news = [(n.known_at, n.score) for n in s.exec(
            select(NewsScore).where(NewsScore.symbol == "BTC-USD"))]
    assert len(orders) >= 5
    for order in orders:
        close = order.decision_bar_ts + timedelta(hours=1)
        known = [v for at, v in news if close - timedelta(hours=24) < at <= close]
        assert order.lineage["sentiment_source"] == "news"
        assert order.lineage["sentiment"] == pytest.approx(sum(known) / len(known), abs=1e-12)


def test_fast_forward_to_a_date_then_play_stops_there(stored, env):
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(stored, {"symbols": "BTC-USD", "timeframe": "1h",
                                  "from": frame["ts"].iloc[-1000].isoformat()}, to_end=False)
    harness = Harness(stored, env, sid)
    until = frame["ts"].iloc[-600].to_pydatetime()
    harness.command(control.set_session_speed(stored, sid, "max", until=until, then="2"))
    harness.book.fast_forward(float("inf"))
    with Session(stored) as s:
        row = s.get(PaperSession, sid)
        events = s.exec(select(Event.message).where(Event.kind == "speed")).all()
    assert (row.status, row.last_bar_at, row.bars_done) == ("running", until, 401)
    assert (row.speed, row.ff_until, row.ff_then) == (2.0, None, None)
    assert any("fast-forwarded to" in m and "now 2 bars/s" in m for m in events)


def test_a_live_session_waits_visibly_then_trades_bars_as_they_arrive(stored, env):
    created = control.create_session(stored, {"name": "live", "symbols": "BTC-USD",
                                              "strategy": "ma_crossover", "source": "live"},
                                     start=True)
    harness = Harness(stored, env, 0)
    harness.command(created)
    with Session(stored) as s:
        row = s.exec(select(PaperSession).where(PaperSession.source == "live")).one()
    harness.sid = row.id
    assert (row.status, row.window_to, row.bars_total) == ("running", None, None)
    harness.tick()
    with Session(stored) as s:
        waiting = s.get(PaperSession, row.id)
    assert waiting.bars_done == 0
    assert waiting.wait_reason.startswith("waiting for BTC-USD bars after")
    first = row.window_from.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    write_bars(stored, "BTC-USD", "1h", [BarData(first + timedelta(hours=i), 100.0 + i,
                                                  101.0 + i, 99.0 + i, 100.5 + i, 5.0)
                                          for i in range(3)])
    harness.tick()
    with Session(stored) as s:
        traded = s.get(PaperSession, row.id)
    assert (traded.bars_done, traded.last_bar_at, traded.wait_reason) == (
        3, first + timedelta(hours=2), None)
    assert traded.last_price == {"BTC-USD": 102.5}


def test_a_live_news_session_reads_headlines_stored_while_it_runs(stored, env):
    created = control.create_session(stored, {"name": "live news", "symbols": "BTC-USD",
                                              "strategy": "blend", "source": "live",
                                              "sentiment": "news"}, start=True)
    harness = Harness(stored, env, 0)
    harness.command(created)
    (clock,) = harness.book.clocks.values()
    first = clock.start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with session_scope(stored) as s:
        store_scores(s, [ScoredHeadline("BTC-USD", first + timedelta(minutes=5), True, 0.5,
                                        "Bitcoin rallies", "rss")])
    write_bars(stored, "BTC-USD", "1h", [BarData(first, 100.0, 101.0, 99.0, 100.5, 5.0)])
    harness.tick()  # the new score reaches the running session, not only a reloaded one
    bar = clock.series["BTC-USD"][1][-1]
    assert bar.ts == first
    assert clock.trader.runner.sentiment("BTC-USD", bar)[:2] == (0.5, "news")


def test_a_session_started_before_its_bars_are_stored_waits_then_trades_them_warmed_up(db):
    """On PostgreSQL the market data agent stores the shipped bars in the background: a session
    started first must wait for them, then trade exactly as a fast-forward of its window."""
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(db, {"symbols": "BTC-USD", "timeframe": "1h",
                              "from": frame["ts"].iloc[-700].isoformat()}, to_end=False)
    book = SessionBook(db)
    assert book.sync(0.0) == 0
    with Session(db) as s:
        assert s.get(PaperSession, sid).wait_reason == (
            "waiting for BTC-USD 1h bars to be stored (market data agent)")
    store_bars(db, ("BTC-USD", "1h"))
    book.tick(0.0)  # the execution stage reads the newly stored bars
    assert book.sync(0.0) == 1
    book.fast_forward(float("inf"), only=sid)
    with Session(db) as s:
        assert s.get(PaperSession, sid).status == "completed"
    result = reconcile(db, sid)
    assert result.expected > 0
    assert (result.match_pct, result.differences) == (100.0, [])
