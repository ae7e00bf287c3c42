"""The desk across sessions (engine.reads.desk): exposure per symbol and daily P&L of the
running and paused sessions, checked against figures recomputed here from each session's
stored fills and the bars' closes — not from the positions, accounts or snapshots the reads
use."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from engine.reads import desk
from engine.store.db import session_scope
from engine.store.models import Bar, Fill, PaperSession, Sweep
from tests.conftest import replay_session, store_bars

HOLDS_BTC = {"symbols": "BTC-USD", "timeframe": "1h", "from": "2019-01-01", "to": "2019-03-03",
             "params": {"fast": 5, "slow": 20}}
HOLDS_BTC_TOO = {**HOLDS_BTC, "to": "2019-02-20", "params": {"fast": 8, "slow": 30}}
HOLDS_AAPL = {"symbols": "AAPL", "timeframe": "1d", "from": "2010-01-01", "to": "2011-02-01",
              "params": {"fast": 5, "slow": 20}}  # a stock: no bars at weekends


def _session(db, spec: dict, status: str, **fields) -> int:
    sid = replay_session(db, spec, status="completed")
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == sid)
                  .values(status=status, **fields))
    return sid


@pytest.fixture
def desk_sessions(db) -> dict[str, int]:
    """Three desk sessions (two paused or running on BTC, one on AAPL), and three that hold
    BTC but are not the desk's: stopped, archived, a sweep's variant."""
    store_bars(db, ("BTC-USD", "1h"), ("AAPL", "1d"))
    with session_scope(db) as s:
        sweep = Sweep(name="grid", total=1)
        s.add(sweep)
        s.flush()
        sweep_id = sweep.id
    return {"paused btc": _session(db, HOLDS_BTC, "paused"),
            "running btc": _session(db, HOLDS_BTC_TOO, "running"),
            "running aapl": _session(db, HOLDS_AAPL, "running"),
            "stopped": _session(db, HOLDS_BTC_TOO, "stopped"),
            "archived": _session(db, HOLDS_BTC_TOO, "paused", archived=True),
            "variant": _session(db, HOLDS_BTC_TOO, "running", sweep_id=sweep_id)}


def _row(db, sid: int) -> PaperSession:
    with session_scope(db) as s:
        row = s.get(PaperSession, sid)
        s.expunge(row)
        return row


def _closes(db, row: PaperSession) -> dict[datetime, float]:
    """The session's bars' closes by bar time, from its window's start to its clock."""
    with session_scope(db) as s:
        return dict(s.execute(select(Bar.ts, Bar.close).where(
            Bar.symbol == row.symbols, Bar.timeframe == row.timeframe,
            Bar.ts >= row.window_from, Bar.ts <= row.last_bar_at)).all())


def _book(db, row: PaperSession, upto: datetime) -> tuple[float, float, float]:
    """(cash, quantity held, cost of what is held) after the fills on bars up to `upto`, by
    average cost: a buy adds its price and fee to the cost, a sell takes its share of it."""
    with session_scope(db) as s:
        fills = s.execute(select(Fill.side, Fill.qty, Fill.price, Fill.fee)
                          .where(Fill.session_id == row.id, Fill.bar_ts <= upto)
                          .order_by(Fill.id)).all()
    cash, qty, cost = row.starting_cash, 0.0, 0.0
    for side, q, price, fee in fills:
        if side == "buy":
            cash, qty, cost = cash - q * price - fee, qty + q, cost + q * price + fee
        else:
            cash, qty, cost = cash + q * price - fee, qty - q, cost * (1 - q / qty)
    return cash, qty, cost


def test_exposure_sums_the_open_positions_of_running_and_paused_sessions(db, desk_sessions):
    desk_ids = [desk_sessions[k] for k in ("paused btc", "running btc", "running aapl")]
    want, equity = {}, 0.0
    for sid in desk_ids:
        row = _row(db, sid)
        cash, qty, cost = _book(db, row, row.last_bar_at)
        mark = _closes(db, row)[row.last_bar_at]
        equity += cash + qty * mark
        assert qty > 0  # each holds its symbol at the end of its window
        got = want.setdefault(row.symbols, {"qty": 0.0, "value": 0.0, "pnl": 0.0, "n": 0})
        got["qty"] += qty
        got["value"] += qty * mark
        got["pnl"] += qty * mark - cost
        got["n"] += 1

    exposure = desk.exposure(db)

    assert exposure.sessions == 3
    assert exposure.equity == pytest.approx(equity, rel=1e-9)
    rows = exposure.symbols.set_index("symbol")
    assert sorted(rows.index) == ["AAPL", "BTC-USD"]
    assert list(exposure.symbols["market_value"]) == sorted(rows["market_value"], reverse=True)
    for symbol, expected in want.items():
        assert rows.loc[symbol, "qty"] == pytest.approx(expected["qty"], rel=1e-9)
        assert rows.loc[symbol, "market_value"] == pytest.approx(expected["value"], rel=1e-9)
        assert rows.loc[symbol, "unrealized_pnl"] == pytest.approx(expected["pnl"], rel=1e-6)
        assert rows.loc[symbol, "equity_pct"] == pytest.approx(
            expected["value"] / equity * 100, rel=1e-9)
        assert rows.loc[symbol, "sessions"] == expected["n"]


def _daily(db, row: PaperSession, days: int) -> list[tuple[datetime, float]]:
    """(day, P&L) over the days with a bar among the session's last `days`, recomputed as
    the equity at each day's last bar (cash + holding × close) minus the previous one's."""
    closes = _closes(db, row)

    def equity_at(ts: datetime) -> float:
        cash, qty, _ = _book(db, row, ts)
        return cash + qty * closes[ts]

    today = datetime(row.last_bar_at.year, row.last_bar_at.month, row.last_bar_at.day, tzinfo=UTC)
    out = []
    for k in range(days - 1, -1, -1):
        start = today - timedelta(days=k)
        that_day = [ts for ts in closes if start <= ts < start + timedelta(days=1)]
        if not that_day:
            continue
        before = [ts for ts in closes if ts < start]
        previous = equity_at(max(before)) if before else row.starting_cash
        out.append((start, equity_at(max(that_day)) - previous))
    return out


def test_daily_pnl_is_each_days_equity_change_on_the_sessions_clock(db, desk_sessions):
    frame = desk.daily_pnl(db, days=14)

    desk_ids = {desk_sessions[k] for k in ("paused btc", "running btc", "running aapl")}
    assert set(frame["session_id"]) == desk_ids
    for sid in desk_ids:
        row = _row(db, sid)
        got = frame[frame["session_id"] == sid]
        want = _daily(db, row, 14)
        assert [d for d, _ in want] == list(got["day"])
        assert list(got["pnl"]) == pytest.approx([p for _, p in want], rel=1e-9, abs=1e-6)
        assert set(got["session"]) == {f"#{sid} replay"}
    weekdays = frame[frame["session_id"] == desk_sessions["running aapl"]]["day"]
    assert len(weekdays) == 10  # 14 days to Tuesday 2011-02-01: four weekend days had no bar
    assert {d.weekday() for d in weekdays} <= {0, 1, 2, 3, 4}


def test_daily_pnl_reads_only_the_latest_sessions(db, desk_sessions):
    frame = desk.daily_pnl(db, sessions=1, days=3)
    newest = desk_sessions["running aapl"]
    assert set(frame["session_id"]) == {newest}
    # Sunday 2011-01-30, Monday and Tuesday: the Sunday had no bar
    assert list(frame["day"]) == [d for d, _ in _daily(db, _row(db, newest), 3)]
    assert len(frame) == 2


def test_daily_pnl_binds_one_statement_built_once(db, desk_sessions):
    """Every session's day ends, in every read, run the same statement object with new bound
    values: building its subqueries for each session cost a desk view ~2 ms a session."""
    ends = []

    def seen(conn, clause, *args) -> None:
        if "equity_snapshot" in str(clause) and "max" in str(clause):
            ends.append(clause)

    event.listen(db, "before_execute", seen)
    try:
        first, again = desk.daily_pnl(db, days=14), desk.daily_pnl(db, days=14)
    finally:
        event.remove(db, "before_execute", seen)
    assert len(ends) == 6  # three desk sessions, twice
    assert len({id(clause) for clause in ends}) == 1
    assert first.equals(again)
    assert set(first["session_id"]) == {desk_sessions[k] for k in ("paused btc", "running btc",
                                                                     "running aapl")}
