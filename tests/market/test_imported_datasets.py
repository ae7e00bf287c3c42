"""An imported dataset works everywhere a shipped one does (issue 17 part 2): a session on a
copy of a shipped file under a new symbol trades bar for bar as the shipped one, reconciles
100 %, compares fill models and sweeps alike; its asset class drives fees and the calendar; a
replaced file is read again by a long-lived bar cache."""

from sqlmodel import Session, select

from engine.control import sweeps
from engine.control.datasets import import_upload
from engine.market import catalog
from engine.market.series import BarCache
from engine.reads import sweeps as sweep_queries
from engine.reads.fill_compare import compare_fill_models
from engine.reads.performance import curves
from engine.reads.queries import bars
from engine.reads.reconcile import reconcile
from engine.store.models import Fill, PaperSession
from engine.sweeps.runner import run_sweep
from tests.conftest import replay_session, store_bars


def _copy(db, shipped: str, timeframe: str, symbol: str, asset_class: str, rows=slice(None)):
    frame = catalog.load(shipped, timeframe).iloc[rows]
    data = frame.to_csv(index=False).encode()
    return import_upload(db, data, f"{symbol}.csv", symbol, timeframe, asset_class, True, "me")


def _fills(db, sid: int) -> list[tuple]:
    with Session(db) as s:
        return [(f.bar_ts, f.side, f.qty, f.price, f.fee) for f in s.exec(
            select(Fill).where(Fill.session_id == sid).order_by(Fill.id))]


def test_an_imported_copy_trades_as_the_shipped_dataset_and_reconciles(db):
    store_bars(db, ("ETH-USD", "1d"))
    _copy(db, "ETH-USD", "1d", "MYETH", "crypto")
    assert ("MYETH", "1d") in catalog.datasets()
    assert catalog.span("MYETH", "1d") == catalog.span("ETH-USD", "1d")
    start = catalog.load("ETH-USD", "1d")["ts"].iloc[-400].isoformat()
    spec = {"timeframe": "1d", "from": start, "speed": "max",
            "params": {"fast": 5, "slow": 20}}
    shipped = replay_session(db, {**spec, "symbols": "ETH-USD"})
    mine = replay_session(db, {**spec, "symbols": "MYETH"})
    assert len(_fills(db, mine)) > 4
    assert _fills(db, mine) == _fills(db, shipped)
    assert reconcile(db, mine).match_pct == 100.0
    runs = {r.model: r.fills for r in compare_fill_models(db, mine)}
    assert runs == {r.model: r.fills for r in compare_fill_models(db, shipped)}
    mine_curve, shipped_curve = curves(db, mine), curves(db, shipped)
    assert mine_curve[0]["buy_hold"].tolist() == shipped_curve[0]["buy_hold"].tolist()
    assert mine_curve[2] == shipped_curve[2]  # the same calendar: the Sharpe's year
    chart = bars(db, "MYETH", "1d")
    assert chart["close"].tolist() == bars(db, "ETH-USD", "1d")["close"].tolist()


def test_the_asset_class_drives_fee_defaults_and_the_calendar(db):
    store_bars(db, ("AAPL", "1d"))
    _copy(db, "AAPL", "1d", "MYSTOCK", "stock")
    _copy(db, "AAPL", "1d", "MYCOIN", "crypto")
    assert catalog.asset_class("MYSTOCK", "1d") == catalog.asset_class("AAPL", "1d") == "stock"
    start = catalog.load("AAPL", "1d")["ts"].iloc[-300].isoformat()
    spec = {"timeframe": "1d", "from": start, "speed": "max", "strategy": "blend"}
    ids = {s: replay_session(db, {**spec, "symbols": s}) for s in ("AAPL", "MYSTOCK", "MYCOIN")}
    with Session(db) as s:
        fees = {sym: s.get(PaperSession, sid).fee_bps for sym, sid in ids.items()}
    assert fees == {"AAPL": 0.0, "MYSTOCK": 0.0, "MYCOIN": 10.0}
    assert _fills(db, ids["MYSTOCK"]) == _fills(db, ids["AAPL"])
    # a stock's weekend is no gap; crypto's calendar calls every weekend one
    stock = _copy(db, "AAPL", "1d", "GAPS", "stock")
    coin = _copy(db, "AAPL", "1d", "GAPS2", "crypto")
    assert len(stock.gaps) < 10 < len(coin.gaps)


def test_a_bar_cache_reads_a_replaced_import_again(db):
    _copy(db, "ETH-USD", "1d", "MINE", "crypto", slice(0, 100))
    cache = BarCache(db)
    assert len(cache.session_series(("MINE",), "1d")["MINE"][1]) == 100
    _copy(db, "ETH-USD", "1d", "MINE", "crypto", slice(0, 150))
    assert len(cache.session_series(("MINE",), "1d")["MINE"][1]) == 150


def test_a_sweep_on_an_imported_dataset_ranks_as_on_the_shipped_one(db):
    store_bars(db, ("ETH-USD", "1d"))
    _copy(db, "ETH-USD", "1d", "MYETH", "crypto")
    returns = {}
    for symbol in ("ETH-USD", "MYETH"):
        sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": symbol,
                                       "timeframe": "1d", "from": "2018-06-01",
                                       "to": "2019-12-01", "grid": {"fast": "5,10"}}).id
        assert run_sweep(db, sid, workers=1) == "completed"
        returns[symbol] = sweep_queries.variants(db, sid)["return_pct"].tolist()
    assert returns["MYETH"] == returns["ETH-USD"]
    assert len(returns["MYETH"]) == 2
