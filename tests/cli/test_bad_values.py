"""Issue 20's bad values through the real CLI: each is refused with exit 2 and one line on stderr
that names the field (or honoured, D6), with no traceback and no row written; a symbol never
becomes a file path; text that reaches the activity feed or a log stays one line."""

import os
import time

import pandas as pd
import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

from engine.log_files import tail
from engine.logs import get_logger
from engine.market import catalog
from engine.registry.agents import SPECS
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import Agent, Command, Event, PaperSession, Sweep, SystemState
from engine.trading.clock import SessionBook
from tests.conftest import cli, run_main, store_bars

FORGED = "2030-01-01 00:00:00 error   system         FORGED entry"
OVERFLOW = "9999-12-31T23:59:59-23:59"  # valid ISO, but its UTC is past year 9999
CREATE = ("session", "create", "--name", "d", "--symbols", "BTC-USD", "--strategy",
          "ma_crossover")
SWEEP = ("sweep", "create", "--strategy", "ma_crossover", "--symbols", "BTC-USD")


def _rows(db) -> tuple[int, ...]:
    with Session(db) as s:
        return tuple(s.exec(select(func.count()).select_from(m)).one()
                     for m in (PaperSession, Sweep, Command, Event))


def _refused(db, args, field: str):
    before = _rows(db)
    result = run_main(*args)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert field in result.stderr, result.stderr
    assert _rows(db) == before
    return result


@pytest.fixture
def agents(db):
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        for kind, spec in SPECS.items():
            s.add(Agent(id=kind, name=spec.title, kind=kind, status="running"))


def test_d1_a_config_value_with_a_line_break_is_refused_and_the_feed_stays_one_line(db, agents):
    _refused(db, ["agent", "config", "sentiment", f"rss_feeds=https://x.invalid/r?\n{FORGED}"],
             "config rss_feeds must be one line")
    for value in ("a\rb", "tab\there", "nul\x00", "esc\x1b[31m", "sep\u2028x", "bidi\u202ex"):
        _refused(db, ["agent", "config", "market_data", f"exchange={value}"],
                 "config exchange must be one line")
    with session_scope(db) as s:  # whatever reaches an event is stored as one line
        record_event(s, "system", "note", f"first\n{FORGED}\r\x00\u2028end")
    shown = run_main("events", "--limit", "5")
    assert shown.returncode == 0
    assert not any(line.startswith("2030-01-01") for line in shown.stdout.splitlines())
    assert sum("FORGED" in line for line in shown.stdout.splitlines()) == 1


@pytest.mark.parametrize("args", [
    [*CREATE, "--from", OVERFLOW], [*CREATE, "--to", OVERFLOW],
    [*CREATE, "--from", "0001-01-01T00:00:00+23:59"],
    [*CREATE, "--speed", "max", "--until", OVERFLOW],
    [*SWEEP, "--param", "fast=3:5:1", "--split", OVERFLOW],
    [*SWEEP, "--param", "fast=3:5:1", "--from", OVERFLOW],
], ids=["from", "to", "from-year-0", "until", "split", "sweep-from"])
def test_d2_a_date_past_the_calendar_is_bad_input_naming_its_field(db, args):
    field = args[args.index(next(a for a in args if a in ("--from", "--to", "--until",
                                                          "--split")))].lstrip("-")
    _refused(db, args, f"{field} must be a date between years 1 and 9999")


def test_d2_a_speed_change_until_past_the_calendar_is_refused(db):
    sid = run_main(*CREATE).stdout.strip()
    _refused(db, ["session", "speed", sid, "max", "--until", OVERFLOW], "until must be a date")


@pytest.mark.parametrize(("symbols", "timeframe", "field"), [
    ("XYZ", "1h", "symbols: no data for 'XYZ'"),
    ("../../SOMEDIR/NAME", "1h", "symbols: no data for '../../SOMEDIR/NAME'"),
    ("../data/BTC-USD", "1h", "symbols: no data"),
    ("/etc/passwd", "1h", "symbols: no data"),
    ("BTC-USD", "5m", "timeframe must be one of 1h, 1d"),
    ("BTC-USD", "../1h", "timeframe must be one of"),
    ("AAPL", "1h", "symbols: no data for 'AAPL'"),
])
def test_d3_sweep_create_checks_symbol_and_timeframe_before_any_file(db, monkeypatch, symbols,
                                                                     timeframe, field):
    read = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda path, *a, **k: read.append(path) or real(
        path, *a, **k))
    catalog._shipped_frame.cache_clear()
    catalog._shipped_span.cache_clear()
    _refused(db, [*SWEEP[:4], "--symbols", symbols, "--timeframe", timeframe, "--param",
                  "fast=3:5:1"], field)
    assert read == []


@pytest.mark.parametrize("symbol", ["../../SOMEDIR/NAME", "../data/BTC-USD", "/etc/passwd",
                                    "BTC-USD/../BTC-USD", "btc-usd", "", "BTC-USD\x00"])
def test_symbols_never_become_paths(symbol):
    with pytest.raises(Exception, match="symbols: no 1h data") as raised:
        catalog.load(symbol, "1h")
    assert type(raised.value).__name__ == "BadInput"
    assert catalog.shipped_file("BTC-USD", "1h").parent == catalog.DATA_DIR


@pytest.mark.parametrize("symbols", ["../../SOMEDIR/NAME", "../x", "/etc/passwd", "BTC-USD/.."])
def test_session_create_refuses_a_path_as_a_symbol(db, symbols):
    _refused(db, [*CREATE[:4], "--symbols", symbols, "--strategy", "ma_crossover"],
             "symbols: no data")


@pytest.mark.parametrize(("param", "field"), [
    ("fee_bps=0:1000:1e-320", "param fee_bps: more than 500 values"),
    ("fee_bps=0:1000:5e-324", "param fee_bps: more than 500 values"),
    ("fee_bps=0:1000:inf", "param fee_bps: step must be a finite number"),
    ("fee_bps=0:1e400:1", "param fee_bps: fee_bps must be a finite number"),
    ("fast=2:200:0", "param fast: step must be above 0"),
    ("slippage_bps=0:1:nan", "param slippage_bps: step must be above 0"),
])
def test_d4_a_range_with_a_tiny_or_infinite_step_is_bad_input(db, param, field):
    _refused(db, [*SWEEP, "--param", param], field)


@pytest.mark.parametrize("args", [["status"], ["sessions"], ["health"], ["run"],
                                  ["session", "pause", "1"]])
def test_d5_a_database_url_with_a_bad_port_is_one_line_naming_it(env, args):
    for url in ("postgresql://u@h:abc/db", "postgresql://u:secret@h:99999/db"):
        result = cli({**env, "DATABASE_URL": url}, *args, timeout=60)
        assert result.returncode == 2, result.stderr
        assert result.stderr == ("error: DATABASE_URL: the port after the host must be a "
                                 "number from 1 to 65535\n")
        assert "secret" not in result.stderr


def test_d6_until_and_then_at_create_are_honoured_or_refused_by_name(db):
    _refused(db, [*CREATE, "--speed", "max", "--until", "2019-09-10", "--then", "0"],
             "then must be above 0")
    _refused(db, [*CREATE, "--speed", "5", "--until", "2019-09-10"],
             "until: only a max-speed fast-forward")
    _refused(db, [*CREATE, "--then", "5"], "then goes with until")
    _refused(db, [*CREATE, "--speed", "max", "--until", "2001-01-01"], "until must lie in")
    _refused(db, [*CREATE, "--source", "live", "--until", "2019-09-10"], "until/then: a live")
    made = run_main(*CREATE, "--speed", "max", "--until", "2019-09-10", "--then", "5", "--json")
    assert made.returncode == 0, made.stderr
    assert '"ff_until": "2019-09-10T00:00:00+00:00"' in made.stdout
    assert '"ff_then": 5.0' in made.stdout
    assert '"speed": "max"' in made.stdout


def test_d6_a_session_created_to_fast_forward_to_a_date_plays_on_from_there(db):
    store_bars(db, ("BTC-USD", "1h"))
    sid = int(run_main(*CREATE, "--speed", "max", "--until", "2019-09-10", "--then",
                       "5").stdout)
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(status="running"))
    book = SessionBook(db)
    book.load(sid)
    book.fast_forward(time.monotonic() + 60, only=sid)
    with Session(db) as s:
        row = s.get(PaperSession, sid)
    assert (row.speed, row.ff_until, row.status) == (5.0, None, "running")
    assert row.last_bar_at.isoformat() == "2019-09-10T00:00:00+00:00"


def test_d6_wait_0_means_do_not_wait(db, agents):
    sid = run_main(*CREATE).stdout.strip()
    for args in (["session", "start", sid, "--wait", "0"], ["system", "pause", "--wait", "0"],
                 ["agent", "stop", "strategy", "--wait", "0"]):
        result = run_main(*args)
        assert (result.returncode, result.stderr) == (0, ""), args
        assert result.stdout.startswith("queued as command ")
    made = run_main(*SWEEP, "--param", "fast=3:5:1", "--wait", "0")
    assert (made.returncode, made.stderr) == (0, "")
    for wait in ("-1", "3601", "nan", "inf", "x"):
        result = run_main("system", "resume", "--wait", wait)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
    assert run_main(*SWEEP, "--param", "fast=3:5:1", "--wait", "86401").returncode == 2


def test_a_usage_error_quoting_a_line_break_stays_one_line(db):
    result = run_main("status", "junk\nerror: FORGED")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "junk\\nerror: FORGED" in result.stderr


@pytest.mark.skipif(bool(os.environ.get("PAPERDESK_TEST_PG_URL")), reason="reads a log file")
def test_a_log_line_with_control_characters_stays_one_line(logs_dir):
    get_logger(logs_dir, "engine", pin=True).warning("x\n%s\x1b[2J\u2028\x00", FORGED)
    assert tail(logs_dir, "engine", lines=5).lines[-1].endswith(
        f"x\\n{FORGED}\\x1b[2J\\u2028\\x00")
