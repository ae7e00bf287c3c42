"""A user's strategy can only break its own sessions: one that raises on its 500th bar, one
that loops forever, one that returns garbage — each, in a real engine, puts only its own
session into `error` with the reason and its file:line, while a built-in session beside them
trades on and the engine stays up."""

import re
from pathlib import Path

from engine.control import actions as control
from engine.market import catalog
from engine.reads import queries
from tests.conftest import cli, store_bars, wait_until

HEAD = '''from engine.core.strategy_api import BUY, Decision, Strategy, declare


class {cls}(Strategy):
    name = "{name}"
    title = "{name}"
    params = declare()

    def __init__(self, params):
        super().__init__(params)
        self.seen = 0

    def on_bar(self, ctx):
        self.seen += 1
'''
BAD = {  # name -> (the faulty body's last lines, a pattern of what the session's error says)
    "raiser": ("        if self.seen == 500:\n            raise ZeroDivisionError('bar 500')\n"
               "        return None\n", r"ZeroDivisionError: bar 500 at raiser\.py:16$"),
    "looper": ("        while self.seen == 300:\n            pass\n        return None\n",
               r"ran past its time budget \(50 ms a bar, at least 1 s a call\) at "
               r"looper\.py:1[56]$"),  # the loop's line: its test or its body
    "garbage": ("        return 'buy' if self.seen == 200 else None\n",
                r"returned .buy. \(str\); expected a Decision or None "
                r".*on_bar at garbage\.py:13\)$"),
}


def _write(home: Path) -> None:
    folder = home / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (body, _) in BAD.items():
        (folder / f"{name}.py").write_text(HEAD.format(cls=name.title(), name=name) + body)


def _create(db, strategy: str, speed: str) -> int:
    start = catalog.load("BTC-USD", "1h")["ts"].iloc[-3000].isoformat()
    return control.create_session(db, {"name": strategy, "strategy": strategy,
                                       "symbols": "BTC-USD", "from": start, "speed": speed},
                                  start=True).id


def test_each_faulty_strategy_errors_only_its_own_session(env, db, engines):
    store_bars(db, ("BTC-USD", "1h"))
    _write(Path(env["PAPERDESK_HOME"]))
    engine = engines()
    good = _create(db, "ma_crossover", "50")
    bad = {name: _create(db, name, "max") for name in BAD}

    def failed():
        return all(queries.session_document(db, sid).status == "error" for sid in bad.values())

    wait_until(failed, 120, message="every faulty session to go to error")
    for name, sid in bad.items():
        doc = queries.session_document(db, sid)
        assert re.search(BAD[name][1], doc.error), doc.error
        assert f"strategy {name!r}" in doc.error
        assert "\n" not in doc.error

    before = queries.session_document(db, good).bars_done
    wait_until(lambda: queries.session_document(db, good).bars_done >= before + 20, 60,
               message="the built-in session to trade on beside them")
    assert queries.session_document(db, good).status == "running"
    assert engine.proc.poll() is None
    events = cli(env, "events", "--severity", "error", "--limit", "20").stdout
    for sid in bad.values():
        assert f"session {sid}" in events
    assert all(queries.session_document(db, sid).status == "error" for sid in bad.values())


def test_a_broken_file_is_an_error_event_and_reload_picks_up_a_fixed_one(env, db, engines):
    folder = Path(env["PAPERDESK_HOME"]) / "strategies"
    folder.mkdir(parents=True)
    (folder / "later.py").write_text("import nothing_by_this_name\n")
    engines()
    events = cli(env, "events", "--source", "strategy", "--limit", "20").stdout
    assert "strategy file later.py:1: ModuleNotFoundError: No module named " \
           "'nothing_by_this_name'" in events

    (folder / "later.py").write_text(HEAD.format(cls="Later", name="later")
                                     + "        return None\n")
    reloaded = cli(env, "strategies", "reload")
    assert reloaded.returncode == 0, reloaded.stderr
    assert "0 file(s) did not load" in reloaded.stdout
    store_bars(db, ("BTC-USD", "1h"))
    sid = _create(db, "later", "max")
    wait_until(lambda: queries.session_document(db, sid).status == "completed", 120,
               message="a session on the reloaded strategy to trade its window")
