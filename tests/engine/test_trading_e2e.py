"""The whole pipeline in a real engine process: a CLI-created session trades on its own."""

import json

import pytest
from sqlmodel import Session, select

from engine import control
from engine.models import Bar, PaperSession
from tests.conftest import cli, wait_until


def test_session_created_from_the_cli_trades_within_a_minute(engine_proc, db):
    env = engine_proc.env
    cid = control.update_agent_config(db, "market_data", {"interval_s": "0.25"})
    control.wait_for(db, cid, 5)
    created = cli(env, "session", "create", "--name", "t", "--symbols", "BTC-USD",
                  "--strategy", "ma_crossover", "--cash", "10000", "--start")
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

    control.wait_for(db, control.agent_action(db, "market_data", "stop"), 5)
    with Session(db) as s:
        newest = s.exec(select(Bar.ts).where(Bar.symbol == "BTC-USD", Bar.timeframe == "1h")
                        .order_by(Bar.ts.desc())).first()
        last_close = s.exec(select(Bar.close).where(Bar.ts == newest, Bar.symbol == "BTC-USD",
                                                    Bar.timeframe == "1h")).one()

    def settled():
        with Session(db) as s:
            return s.get(PaperSession, int(sid)).last_bar_at == newest

    wait_until(settled, 10, message="the execution agent to mark the last bar")
    doc = json.loads(cli(env, "session", "show", sid, "--json").stdout)
    assert doc["trades"] == len(fills())
    held = sum(p["qty"] * last_close for p in doc["positions"])
    assert doc["equity"] == pytest.approx(doc["cash"] + held, rel=1e-9)
    assert doc["return_pct"] == pytest.approx((doc["equity"] / 10_000 - 1) * 100)
