"""The CLI's session-clock commands: window, speed, settings and reconcile, with the usual exit
codes and one-line errors that name the field."""

import json

from sqlmodel import Session, func, select

from engine.market import catalog
from engine.store.models import Command, PaperSession
from tests.conftest import cli, replay_session, store_bars

CREATE = ["session", "create", "--name", "w", "--symbols", "ETH-USD", "--strategy",
          "rsi_reversion", "--timeframe", "1d"]


def _rows(db) -> tuple[int, int]:
    with Session(db) as s:
        return (s.exec(select(func.count()).select_from(PaperSession)).one(),
                s.exec(select(func.count()).select_from(Command)).one())


def test_create_takes_a_window_and_a_speed_and_refuses_bad_ones_by_name(env, db):
    made = cli(env, *CREATE, "--from", "2019-01-01", "--to", "2019-06-30", "--speed", "max",
               "--json")
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    assert (doc["window_from"], doc["window_to"]) == ("2019-01-01T00:00:00+00:00",
                                                      "2019-06-30T00:00:00+00:00")
    ts = catalog.load("ETH-USD", "1d")["ts"]
    inside = ((ts >= "2019-01-01") & (ts <= "2019-06-30")).sum()
    assert (doc["speed"], doc["bars_total"], doc["bars_done"]) == ("max", inside, 0)
    default = json.loads(cli(env, *CREATE, "--json").stdout)
    assert default["window_from"] == ts.iloc[max(0, len(ts) - 1000)].isoformat()
    assert default["window_to"] == ts.iloc[-1].isoformat()
    assert default["speed"] == 1.0
    before = _rows(db)
    for args, field in ((["--from", "2010-01-01"], "from: ETH-USD 1d data starts 2017-11-09"),
                        (["--to", "2031-01-01"], "to: ETH-USD 1d data ends 2020-01-17"),
                        (["--from", "2019-13-01"], "from must be an ISO date"),
                        (["--from", "2019-05-01", "--to", "2019-05-01"],
                         "from/to: the window 2019-05-01 – 2019-05-01 holds 1 bar; it needs at "
                         "least 2"),
                        (["--from", "2019-06-01", "--to", "2018-01-01"],
                         "from: 2019-06-01 is after to: 2018-01-01; choose from before it"),
                        (["--speed", "-3"], "speed must be above 0"),
                        (["--source", "live", "--from", "2019-01-01"], "from/to: a live session"),
                        (["--source", "paper"], "source must be one of replay, live")):
        result = cli(env, *CREATE, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(f"error: {field}"), result.stderr
        assert result.stderr.count("\n") == 1
    mixed = cli(env, *CREATE[:5], "BTC-USD,AAPL", *CREATE[6:])
    assert mixed.returncode == 2
    assert mixed.stderr.startswith("error: symbols: BTC-USD, AAPL have no 1d bars in common")
    assert _rows(db) == before


def test_speed_config_and_reconcile_from_the_cli(env, db):
    store_bars(db, ("ETH-USD", "1d"))
    sid = str(replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d",
                                  "strategy": "rsi_reversion"}, to_end=False))
    assert cli(env, "session", "speed", sid, "25").stdout.startswith("queued as command")
    assert cli(env, "session", "speed", sid, "max", "--until", "2019-12-01", "--then",
               "2").returncode == 0
    assert cli(env, "session", "config", sid, "period=9", "stop_loss_pct=4").returncode == 0
    with Session(db) as s:
        payloads = [(c.action, c.payload) for c in s.exec(select(Command).order_by(Command.id))]
    assert payloads == [
        ("speed", {"speed": 25.0}),
        ("speed", {"speed": None, "until": "2019-12-01T00:00:00+00:00", "then": 2.0}),
        ("configure", {"stop_loss_pct": 4.0, "params": {"period": 9, "oversold": 30.0,
                                                        "overbought": 70.0}}),
    ]
    for args, code, message in (
        (["speed", sid], 2, "error: session speed needs ID and BARS_PER_S or max"),
        (["speed", sid, "warp"], 2, "error: speed must be bars per second"),
        (["speed", "999", "5"], 4, "error: no session 999"),
        (["speed", "1180591620717411303424", "5"], 4, "error: no session"),
        (["config", sid, "period"], 2, "error: KEY=VALUE expected, got 'period'"),
        (["config", sid, "period=1"], 2, "error: param period must be at least 2"),
        (["reconcile", "abc"], 2, "error: session id must be a whole number"),
    ):
        result = cli(env, "session", *args)
        assert (result.returncode, result.stderr.startswith(message)) == (code, True), (
            args, result.stderr)
    done = str(replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d"}))
    report = json.loads(cli(env, "session", "reconcile", done, "--json").stdout)
    assert report["match_pct"] == 100.0
    assert report["expected"] == report["actual"] > 0
    text = cli(env, "session", "reconcile", done)
    assert text.stdout.startswith(f"session {done}: 100.0% of fills match a fast-forward")
    refused = cli(env, "session", "speed", done, "5")
    assert (refused.returncode, refused.stderr.strip()) == (
        3, f"error: cannot change the speed of session {done}: it is completed")
