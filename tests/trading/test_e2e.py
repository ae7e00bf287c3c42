"""The whole pipeline in a real engine process: a CLI-created session trades on its own clock,
waits visibly while a stage is stopped, survives kill -9, completes, and reconciles 100 %."""

import json
import signal

import pytest

from engine.market import catalog
from tests.conftest import cli, wait_until

WINDOW_FROM = catalog.load("BTC-USD", "1h")["ts"].iloc[-700].isoformat()


def _doc(env, sid: str) -> dict:
    out = cli(env, "session", "show", sid, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_session_created_from_the_cli_trades_waits_and_completes(engine_proc):
    env = engine_proc.env
    created = cli(env, "session", "create", "--name", "t", "--symbols", "BTC-USD",
                  "--strategy", "ma_crossover", "--from", WINDOW_FROM, "--speed", "20",
                  "--start", "--wait", "5")
    assert created.returncode == 0, created.stderr
    sid = created.stdout.strip()

    def fills():
        out = cli(env, "session", "trades", sid, "--json")
        return json.loads(out.stdout) if out.returncode == 0 else None

    trades = wait_until(fills, 60, poll=1, message="fills of the new session")
    first = trades[-1]
    assert first["side"] == "buy"
    assert first["lineage"]["rule"] == "fast MA crossed above slow MA"
    assert {"fast_ma", "slow_ma"} <= set(first["lineage"]["indicators"])
    log = cli(env, "logs", f"session-{sid}", "--lines", "10000").stdout.splitlines()
    assert any(" INFO     order #1: buy " in line for line in log)
    logged = [line.split(" fill: ", 1)[1] for line in log if " INFO     fill: " in line]
    events = json.loads(cli(env, "events", "--source", f"session-{sid}", "--json").stdout)
    assert logged
    assert logged[0] in {e["message"] for e in events if e["kind"] == "fill"}

    assert cli(env, "agent", "stop", "strategy", "--wait", "5").returncode == 0
    held = wait_until(lambda: (d := _doc(env, sid))["wait_reason"] and d, 10,
                      message="the session to say why it waits")
    assert held["wait_reason"] == "strategy agent stopped: decisions held"
    assert _doc(env, sid)["bars_done"] == wait_until(
        lambda: _doc(env, sid)["bars_done"] == held["bars_done"] and held["bars_done"], 5,
        message="a held clock to stay put")
    assert cli(env, "agent", "start", "strategy", "--wait", "5").returncode == 0
    assert cli(env, "session", "speed", sid, "max", "--wait", "5").returncode == 0
    done = wait_until(lambda: (d := _doc(env, sid))["status"] == "completed" and d, 30,
                      message="the session to complete its window")
    assert done["bars_done"] == done["bars_total"] == 700
    assert done["wait_reason"] is None
    last_close = catalog.load("BTC-USD", "1h")["close"].iloc[-1]
    held = sum(p["qty"] * last_close for p in done["positions"])
    assert done["equity"] == pytest.approx(done["cash"] + held, rel=1e-9)
    assert done["return_pct"] == pytest.approx((done["equity"] / 10_000 - 1) * 100)
    report = json.loads(cli(env, "session", "reconcile", sid, "--json").stdout)
    assert report["match_pct"] == 100.0, report["differences"][:3]
    assert report["expected"] == report["actual"] == done["trades"]


def test_kill_9_mid_replay_loses_and_repeats_nothing(engine_proc, engines):
    env = engine_proc.env
    sid = cli(env, "session", "create", "--name", "k", "--symbols", "BTC-USD", "--strategy",
              "rsi_reversion", "--from", WINDOW_FROM, "--speed", "60", "--start",
              "--wait", "5").stdout.strip()
    wait_until(lambda: _doc(env, sid)["bars_done"] >= 120, 30, message="a few bars traded")
    engine_proc.stop(signal.SIGKILL)
    before = _doc(env, sid)
    assert 0 < before["bars_done"] < 700
    engines("restarted")
    assert cli(env, "session", "speed", sid, "max", "--wait", "10").returncode == 0
    done = wait_until(lambda: (d := _doc(env, sid))["status"] == "completed" and d, 30,
                      message="the session to complete after the restart")
    assert done["bars_done"] == 700
    report = json.loads(cli(env, "session", "reconcile", sid, "--json").stdout)
    assert (report["match_pct"], report["differences"]) == (100.0, [])
