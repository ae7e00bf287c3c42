"""`session ACTION --help`: each action lists its own options, each with help; --wait 0 does
not wait; `session show` prints figures as the dashboard does."""

import argparse
import re

import pytest

from engine.cli.base import build_parser
from engine.cli.session_args import ACTIONS
from tests.conftest import replay_session, run_main, store_bars


def _options(action: str) -> list[argparse.Action]:
    session = next(a for a in build_parser()._subparsers._group_actions
                   if "session" in a.choices).choices["session"]
    sub = next(a for a in session._subparsers._group_actions).choices[action]
    return [a for a in sub._actions if a.option_strings and a.dest != "help"]


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_option_of_every_action_has_help(action):
    for option in _options(action):
        assert option.help, f"session {action} {option.option_strings[0]}"


def test_create_help_is_its_own_with_bounds(env):
    done = run_main("session", "create", "--help")
    assert done.returncode == 0
    assert "usage: python -m engine session create" in done.stdout
    assert "--close-positions" not in done.stdout
    assert re.search(r"--cash AMOUNT\s+starting cash in quote currency; 1 to\s+1,000,000,000",
                     done.stdout)
    stop = run_main("session", "stop", "--help").stdout
    assert "--close-positions" in stop
    assert "--cash" not in stop


def test_wait_zero_queues_without_waiting(env, db):
    sid = run_main("session", "create", "--name", "w0", "--symbols", "BTC-USD",
                   "--strategy", "ma_crossover", "--wait", "0").stdout.strip()
    done = run_main("session", "start", sid, "--wait", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("queued as command")


def test_session_show_prints_money_and_percent_as_the_dashboard(env, db):
    store_bars(db, ("BTC-USD", "1d"))
    sid = replay_session(db, {"name": "shown", "symbols": "BTC-USD", "timeframe": "1d",
                              "from": "2019-01-01", "to": "2019-12-31"}, status="completed")
    lines = dict(line.split(": ", 1) for line in
                 run_main("session", "show", str(sid)).stdout.splitlines())
    assert re.fullmatch(r"-?\$[\d,]+\.\d\d", lines["cash"])
    assert lines["starting_cash"] == "$10,000.00"
    assert re.search(r"return_pct [+-]\d+\.\d\d%", lines["metrics"])
