import json
import math
from datetime import UTC, datetime, timedelta

import ccxt
import pandas as pd
import pytest
from sqlmodel import Session, func, select

from engine.agents.market_data import MarketDataAgent
from engine.core.bars import BarData
from engine.errors import TransientError
from engine.market import catalog
from engine.market.live import CcxtFeed, LiveSource, YFinanceFeed
from engine.store.models import Bar, Event, PaperSession
from tests.conftest import ROOT, make_agent

FIXTURES = ROOT / "tests" / "fixtures"


def _agent(db, env, config, state=None) -> MarketDataAgent:
    return make_agent(db, env, MarketDataAgent, config, state)


def _bars(db, symbol, timeframe) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(Bar).where(
            Bar.symbol == symbol, Bar.timeframe == timeframe)).one()


def test_replay_stores_every_shipped_bar_once(db, env):
    agent = _agent(db, env, {})
    written = agent.on_tick()
    expected = {key: catalog.span(*key)[2] for key in catalog.datasets()}
    assert written == sum(expected.values())
    for (symbol, timeframe), count in expected.items():
        assert _bars(db, symbol, timeframe) == count
    assert agent.on_tick() == 0
    restarted = _agent(db, env, {})
    assert restarted.on_tick() == 0
    assert restarted.summary()["datasets_loaded"] == len(expected)
    first = catalog.load("ETH-USD", "1d").iloc[0]
    with Session(db) as s:
        stored = s.exec(select(Bar).where(Bar.symbol == "ETH-USD", Bar.timeframe == "1d")
                        .order_by(Bar.ts)).first()
    assert (stored.open, stored.close) == (first["open"], first["close"])


def test_bad_bars_are_warned_about_and_never_stored(db, env):
    agent = _agent(db, env, {})
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    bars = [
        BarData(t0, 10, 11, 9, 10, 1),
        BarData(t0 + timedelta(hours=1), math.nan, 11, 9, 10, 1),
        BarData(t0 + timedelta(hours=2), 10, 11, -9, 10, 1),
        BarData(t0 + timedelta(hours=6), 10, 11, 9, 10, 1),
    ]
    usable = agent._usable(("BTC-USD", "1h"), bars)
    assert [b.ts for b in usable] == [bars[0].ts, bars[3].ts]
    with Session(db) as s:
        kinds = [e.kind for e in s.exec(select(Event).where(Event.severity == "warning"))]
    assert kinds.count("bad_data") == 2
    assert kinds.count("gap") == 1


def _coinbase():
    exchange = ccxt.coinbase()
    exchange.set_markets([{"id": "BTC-USD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD",
                           "baseId": "BTC", "quoteId": "USD", "type": "spot", "spot": True,
                           "active": True, "precision": {}, "limits": {}}])
    recorded = json.loads((FIXTURES / "coinbase_candles_BTC-USD_1h.json").read_text())
    requests = []

    def fetch(url, method="GET", headers=None, body=None):
        requests.append(url)
        return recorded

    exchange.fetch = fetch
    return exchange, recorded, requests


def _recorded_history(symbol, interval, period):
    frame = pd.read_csv(FIXTURES / f"yfinance_{symbol}_1d.csv", parse_dates=["ts"])
    frame = frame.set_index(frame["ts"].dt.tz_convert("America/New_York"))
    return frame.rename(columns=str.title)[["Open", "High", "Low", "Close", "Volume"]]


def test_ccxt_feed_returns_only_closed_bars_from_the_recorded_response():
    exchange, recorded, requests = _coinbase()
    newest = max(int(c["start"]) for c in recorded["candles"])
    now = datetime.fromtimestamp(newest + 1800, tz=UTC)  # the newest bar is still open
    bars = CcxtFeed(exchange).closed_bars("BTC-USD", "1h", now)
    assert len(bars) == len(recorded["candles"]) - 1
    assert bars == sorted(bars, key=lambda b: b.ts)
    assert "products/BTC-USD/candles" in requests[0]
    expected = catalog.load("BTC-USD", "1h").iloc[-6:-1]
    assert [b.close for b in bars] == pytest.approx(list(expected["close"]))


def test_ccxt_network_errors_are_transient():
    exchange, _, _ = _coinbase()

    def down(*_args, **_kw):
        raise ccxt.NetworkError("connection refused")

    exchange.fetch = down
    with pytest.raises(TransientError):
        CcxtFeed(exchange).closed_bars("BTC-USD", "1h", datetime.now(UTC))


def test_yfinance_feed_converts_to_utc_bars():
    feed = YFinanceFeed(history=_recorded_history)
    bars = feed.closed_bars("AAPL", "1d", datetime(2014, 1, 1, tzinfo=UTC))
    expected = catalog.load("AAPL", "1d").tail(5)
    assert [b.ts for b in bars] == [t.to_pydatetime() for t in expected["ts"]]
    assert [b.close for b in bars] == pytest.approx(list(expected["close"]))


def test_live_source_routes_stocks_to_yfinance_and_crypto_to_ccxt(db, env):
    exchange, recorded, _ = _coinbase()
    source = LiveSource(CcxtFeed(exchange), YFinanceFeed(history=_recorded_history),
                        [("BTC-USD", "1h"), ("AAPL", "1d")])
    newest = max(int(c["start"]) for c in recorded["candles"])
    out = source.fetch(now=datetime.fromtimestamp(newest + 7200, tz=UTC))
    assert len(out[("BTC-USD", "1h")]) == 6
    assert len(out[("AAPL", "1d")]) == 5


class RecordedFeed:
    """The network edge: the live source replaced by bars handed in by the test."""

    def __init__(self):
        self.bars: list[BarData] = []

    def fetch(self):
        return {("BTC-USD", "1h"): self.bars}


def test_stale_live_data_pauses_its_sessions_and_fresh_bars_resume_them(db, env):
    from tests.conftest import replay_session

    sid = replay_session(db, {"symbols": "BTC-USD", "source": "live"}, to_end=False)
    other = replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d", "source": "live"},
                           to_end=False)
    agent = _agent(db, env, {"source": "live", "stale_after_bars": 1})
    agent.live = feed = RecordedFeed()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def bar(ts):
        return BarData(ts, 100.0, 101.0, 99.0, 100.5, 3.0)

    feed.bars = [bar(hour - timedelta(hours=h)) for h in (5, 4, 3)]
    agent.on_tick()
    with Session(db) as s:
        paused = s.get(PaperSession, sid)
        assert s.get(PaperSession, other).status == "paused"  # its feed sends nothing at all
    assert paused.status == "paused"
    assert paused.wait_reason == (f"data stale: BTC-USD 1h: no new bar since "
                                  f"{hour - timedelta(hours=3):%Y-%m-%d %H:%M}")
    agent.on_tick()  # still stale: nothing changes twice
    feed.bars = [bar(hour - timedelta(hours=1))]
    agent.on_tick()
    with Session(db) as s:
        resumed = s.get(PaperSession, sid)
        kinds = [e.kind for e in s.exec(select(Event).where(Event.source == f"session-{sid}"))]
        assert s.get(PaperSession, other).status == "paused"
    assert (resumed.status, resumed.wait_reason) == ("running", None)
    assert (kinds.count("alert_stale"), kinds.count("alert_fresh")) == (1, 1)
