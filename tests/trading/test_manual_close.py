"""Close position: an operator's close is recorded with the bar it follows, and the core sells
every holding at market on the next bar through the session's fill model, as a manual order
naming who asked. Replays (Reconcile, a restarted engine) apply it at the same bar, so the
session's results stay a function of data, settings, window and interventions."""

import json
import random
import signal

import pytest
from sqlmodel import Session, select

from engine.control import actions as control
from engine.core.records import Intervention
from engine.core.trader import replay
from engine.errors import NotAllowed
from engine.market import catalog
from engine.market.series import BarCache
from engine.reads.reconcile import initial_settings, reconcile
from engine.store.models import Event, Fill, Order, PaperSession, Position
from tests.conftest import cli, replay_session, run_main, store_bars, wait_until
from tests.trading.test_clock import Harness, assert_equity_is_cash_plus_holdings, history

FRAME = catalog.load("BTC-USD", "1h")
SPEC = {"symbols": "BTC-USD", "timeframe": "1h", "position_size": 1, "fee_bps": 10,
        "slippage_bps": 5, "fill_model": "custom", "from": FRAME["ts"].iloc[-600].isoformat(),
        "speed": "1"}


@pytest.fixture
def stored(db):
    store_bars(db, ("BTC-USD", "1h"))
    return db


def _held(db, sid: int) -> float:
    with Session(db) as s:
        position = s.get(Position, (sid, "BTC-USD"))
        return position.qty if position is not None else 0.0


def _tick_until_held(harness: Harness) -> None:
    while not _held(harness.db, harness.sid):
        harness.tick()


def _manual(db, sid: int) -> list[Order]:
    with Session(db) as s:
        return list(s.exec(select(Order).where(Order.session_id == sid,
                                               Order.origin == "manual")))


def test_a_close_sells_the_whole_position_at_the_next_open_as_a_manual_order(stored, env):
    sid = replay_session(stored, SPEC, to_end=False)
    harness = Harness(stored, env, sid)
    _tick_until_held(harness)
    with Session(stored) as s:
        after = s.get(PaperSession, sid).last_bar_at
    qty = _held(stored, sid)
    outcome = control.close_position(stored, sid, by="alice")
    harness.command(outcome)
    with Session(stored) as s:
        message = s.exec(select(Event.message).where(Event.kind == "intervention")).one()
    assert f"close position by alice after bar {after:%Y-%m-%d %H:%M}" in message
    harness.tick()
    (order,) = _manual(stored, sid)
    with Session(stored) as s:
        (fill,) = s.exec(select(Fill).where(Fill.order_id == order.id)).all()
    bar = FRAME.set_index("ts").loc[FRAME["ts"][FRAME["ts"] > after].iloc[0]]
    price = bar["open"] * (1 - 5 / 10_000)
    assert (order.side, order.qty, order.status, order.reason, order.requested_by) == (
        "sell", qty, "filled", "manual close", "alice")
    assert order.decision_bar_ts == after
    assert fill.bar_ts == bar.name.to_pydatetime()
    assert fill.price == pytest.approx(price, rel=1e-12)
    assert fill.fee == pytest.approx(qty * price * 10 / 10_000, rel=1e-12)
    harness.finish()
    result = reconcile(stored, sid)
    assert (result.match_pct, result.differences) == (100.0, [])
    assert [(m.seq, m.by, m.decision_bar) for m in result.interventions] == [
        (order.seq, "alice", after)]
    assert "1 manual close(s) replayed" in result.settings


def test_a_manual_close_replays_identically_across_restarts(stored, env):
    """kill -9 (a new book from the database only) right after the close is recorded and again
    after it filled: the session equals an uninterrupted replay with the same intervention."""
    sid = replay_session(stored, SPEC, to_end=False)
    harness = Harness(stored, env, sid)
    _tick_until_held(harness)
    harness.command(control.close_position(stored, sid, by="bob"))
    for _ in range(2):
        harness.run("kill", random.Random(0))
        harness.tick()
    harness.finish()
    (order,) = _manual(stored, sid)
    assert order.status == "filled"
    with Session(stored) as s:
        row = s.get(PaperSession, sid)
    settings = initial_settings(row)
    series = BarCache(stored).session_series(settings.symbols, "1h")
    out, _ = replay(settings, series, row.window_from, row.window_to, None,
                    [Intervention.of(i) for i in row.interventions])
    fills, snapshots = history(stored, sid)
    assert [(f.bar_ts, f.symbol, f.side, f.qty, f.price, f.fee, f.realized_pnl)
            for f in out.fills] == fills
    assert out.snapshots == snapshots
    assert_equity_is_cash_plus_holdings(stored, sid, "BTC-USD", "1h")
    assert reconcile(stored, sid).match_pct == 100.0


def test_a_paused_session_closes_on_the_first_bar_after_it_resumes(stored, env):
    sid = replay_session(stored, SPEC, to_end=False)
    harness = Harness(stored, env, sid)
    _tick_until_held(harness)
    harness.command(control.session_action(stored, sid, "pause"))
    harness.command(control.close_position(stored, sid, by="carol"))
    harness.tick()
    assert _held(stored, sid) > 0
    assert _manual(stored, sid) == []
    harness.command(control.session_action(stored, sid, "resume"))
    harness.tick()
    (order,) = _manual(stored, sid)
    assert (order.status, order.requested_by) == ("filled", "carol")


def test_a_close_is_refused_without_a_position_or_a_running_session(stored, env):
    created = control.create_session(stored, {"name": "idle", "strategy": "ma_crossover",
                                              **SPEC}).id
    with pytest.raises(NotAllowed, match="it is created; only a running or paused session"):
        control.close_position(stored, created)
    sid = replay_session(stored, SPEC, to_end=False)
    with pytest.raises(NotAllowed, match=f"^session {sid} .* holds no position: nothing to "):
        control.close_position(stored, sid)
    harness = Harness(stored, env, sid)
    _tick_until_held(harness)
    control.close_position(stored, sid, by="dave")
    with pytest.raises(NotAllowed, match="already queued"):
        control.close_position(stored, sid)
    harness.command(control.session_action(stored, sid, "stop"))
    with pytest.raises(NotAllowed, match="it is stopped"):
        control.close_position(stored, sid)
    assert _manual(stored, sid) == []


def _doc(env, sid: str) -> dict:
    out = cli(env, "session", "show", sid, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_close_position_from_the_cli_survives_kill_9_and_reconciles(db, engine_proc, engines):
    env = engine_proc.env
    sid = cli(env, "session", "create", "--name", "c", "--symbols", "BTC-USD", "--strategy",
              "ma_crossover", "--from", SPEC["from"], "--speed", "5", "--start",
              "--wait", "5").stdout.strip()
    wait_until(lambda: _held(db, int(sid)), 120, message="a position to close")
    control.wait_for(db, control.session_action(db, sid, "pause"), 5)
    held = _held(db, int(sid))
    assert held > 0  # paused while holding: it closes on the first bar after resume
    done = cli(env, "session", "close-position", sid, "--wait", "10")
    assert done.returncode == 0, done.stderr
    assert cli(env, "session", "resume", sid, "--wait", "5").returncode == 0
    assert f"session {sid}: close position by cli after bar" in done.stdout

    def manual_fill():
        trades = json.loads(cli(env, "session", "trades", sid, "--json").stdout)
        return [t for t in trades if t["reason"] == "manual close"]

    (fill,) = wait_until(manual_fill, 30, message="the manual close to fill")
    assert (fill["side"], fill["qty"], fill["lineage"]["by"]) == ("sell", held, "cli")
    engine_proc.stop(signal.SIGKILL)
    engines("restarted")
    assert cli(env, "session", "speed", sid, "max", "--wait", "10").returncode == 0
    wait_until(lambda: _doc(env, sid)["status"] == "completed", 60,
               message="the session to complete after the restart")
    report = json.loads(cli(env, "session", "reconcile", sid, "--json").stdout)
    assert (report["match_pct"], report["differences"]) == (100.0, [])
    assert [(m["side"], m["by"], m["status"]) for m in report["interventions"]] == [
        ("sell", "cli", "filled")]
    text = cli(env, "session", "close-position", sid)
    assert (text.returncode, text.stderr.count("\n")) == (3, 1)
    assert "it is completed" in text.stderr


def test_close_position_has_its_own_help(env):
    done = run_main("session", "close-position", "--help")
    assert done.returncode == 0
    assert "usage: python -m engine session close-position" in done.stdout
    assert "--wait SECONDS" in done.stdout
    assert "next bar" in done.stdout
