"""The operator's strategy files: found, listed with their source hash, broken ones named by
file and line while the others load, recorded on the sessions that use them."""

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from engine.control import actions as control
from engine.control import sweeps
from engine.core.strategy_api import SmaLine
from engine.errors import BadInput, StrategyError
from engine.reads.reconcile import reconcile
from engine.reads.strategies import chart_of
from engine.registry import strategies
from engine.store.db import session_scope
from engine.store.models import PaperSession, Sweep
from engine.sweeps.runner import run_sweep
from tests.conftest import ROOT, cli, replay_session, store_bars

EXAMPLES = ROOT / "examples" / "strategies"

EVERY_TENTH = '''
from engine.core.strategy_api import BUY, SELL, Decision, Param, Strategy, declare


class EveryN(Strategy):
    name = "every_n"
    title = "Buy and sell in turn every n bars"
    params = declare(Param("n", int, {n}, "bars between decisions", 2, 100))

    def __init__(self, params):
        super().__init__(params)
        self.seen = 0

    def on_bar(self, ctx):
        self.seen += 1
        if self.seen % self.p["n"]:
            return None
        return Decision(SELL if ctx.position_qty else BUY, "every n bars")
'''


def _folder(env) -> Path:
    folder = Path(env["PAPERDESK_HOME"]) / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def folder(env) -> Path:
    return _folder(env)


def test_cli_lists_good_files_and_names_each_broken_one_by_file_and_line(env, folder):
    for example in EXAMPLES.glob("*.py"):
        shutil.copy(example, folder)
    (folder / "raises.py").write_text("import math\n\nraise RuntimeError('no luck')\n")
    (folder / "syntax.py").write_text("x = 1\ndef f(:\n    pass\n")
    (folder / "contract.py").write_text(
        "from engine.core.strategy_api import Strategy\n\n\nclass Bad(Strategy):\n"
        "    name = 'Bad Name'\n    title = 'bad'\n")
    (folder / "clash.py").write_text(EVERY_TENTH.format(n=10).replace('"every_n"',
                                                                      '"ma_crossover"'))

    listed = cli(env, "strategies")
    assert listed.returncode == 2
    problems = listed.stderr.strip().splitlines()
    assert sorted(problems) == sorted([
        "error: clash.py: strategy name 'ma_crossover' is already taken (built-in)",
        "error: contract.py: StrategyError: strategy Bad "
        f"({folder / 'contract.py'}): name must be lower-case letters, digits and _, "
        "starting with a letter (got 'Bad Name')",
        "error: raises.py:3: RuntimeError: no luck",
        "error: syntax.py:2: SyntaxError: invalid syntax",
    ])
    for name in ("ma_crossover", "bollinger_reversion", "donchian_breakout", "macd_crossover"):
        assert any(line.startswith(f"{name}  ") for line in listed.stdout.splitlines())

    document = json.loads(cli(env, "strategies", "--json").stdout)
    by_name = {s["name"]: s for s in document["strategies"]}
    macd = by_name["macd_crossover"]
    assert macd["file"] == "macd.py"
    assert macd["sha256"] == hashlib.sha256((folder / "macd.py").read_bytes()).hexdigest()
    assert [p["name"] for p in macd["params"]] == ["fast", "slow", "signal"]
    assert by_name["ma_crossover"]["file"] == "built-in"
    assert len(document["problems"]) == 4


def test_a_session_records_its_source_and_never_starts_on_a_broken_strategy(env, db, folder):
    store_bars(db, ("BTC-USD", "1h"))
    (folder / "every.py").write_text(EVERY_TENTH.format(n=10))
    sid = control.create_session(db, {"name": "mine", "strategy": "every_n",
                                      "symbols": "BTC-USD", "params": {"n": 7}}).id
    with session_scope(db) as s:
        row = s.get(PaperSession, sid)
        assert row.strategy_source == hashlib.sha256(
            (folder / "every.py").read_bytes()).hexdigest()
        assert row.params == {"n": 7}

    (folder / "every.py").write_text(EVERY_TENTH.format(n=10) + "\nraise ValueError('oops')\n")
    with pytest.raises(BadInput, match=r"strategy must be one of .* — not loaded: "
                                       r"every\.py:\d+: ValueError: oops"):
        control.create_session(db, {"name": "again", "strategy": "every_n",
                                    "symbols": "BTC-USD"})


def test_reconcile_names_a_strategy_file_edited_after_the_session_started(env, db, folder):
    store_bars(db, ("BTC-USD", "1h"))
    (folder / "every.py").write_text(EVERY_TENTH.format(n=10))
    sid = replay_session(db, {"strategy": "every_n", "symbols": "BTC-USD"})
    assert reconcile(db, sid).match_pct == 100.0

    (folder / "every.py").write_text(EVERY_TENTH.format(n=10).replace(
        "self.seen % self.p[\"n\"]", "(self.seen + 3) % self.p[\"n\"]"))
    edited = reconcile(db, sid)
    assert edited.match_pct < 100.0
    assert edited.differences
    assert {d.cause for d in edited.differences} == {
        "strategy code changed since the session started (its file's sha256 is no longer the "
        "one it was created with)"}


def test_a_scan_replaces_what_the_last_one_registered(env, folder):
    (folder / "every.py").write_text(EVERY_TENTH.format(n=10))
    assert "every_n" in strategies.scan(folder).sources
    (folder / "every.py").unlink()
    assert "every_n" not in strategies.current().sources
    with pytest.raises(BadInput, match="strategy must be one of"):
        strategies.lookup("every_n")


def test_a_user_strategys_chart_is_what_its_file_declares(env, folder):
    shutil.copy(EXAMPLES / "bollinger.py", folder)
    assert "bollinger_reversion" in strategies.scan(folder).sources
    assert chart_of("bollinger_reversion") == (SmaLine("window"),)  # the middle band
    assert chart_of("donchian_breakout") == ()  # not in the folder: nothing to draw


FAULTY = {  # what the variant's strategy does on its 300th bar, and what the sweep says
    "raise": ("raise KeyError('missing')", r"KeyError: 'missing' at sweepy\.py:(\d+)$"),
    "loop": ("while True:\n                pass",
             r"ran past its time budget .* at sweepy\.py:(\d+)$"),
}


@pytest.mark.parametrize("fault", FAULTY)
def test_a_sweep_variant_whose_strategy_fails_fails_the_sweep_once(env, db, folder, fault):
    store_bars(db, ("BTC-USD", "1h"))
    body, message = FAULTY[fault]
    text = EVERY_TENTH.format(n=10).replace(
        "        self.seen += 1\n",
        f"        self.seen += 1\n        if self.seen == 300 and self.p['n'] == 4:\n"
        f"            {body}\n").replace('"every_n"', '"sweepy"')
    (folder / "sweepy.py").write_text(text)
    faulty = {part.strip() for part in body.splitlines()}
    fault_lines = {i for i, line in enumerate(text.splitlines(), 1) if line.strip() in faulty}
    sweep = sweeps.create_sweep(db, {"strategy": "sweepy", "symbols": "BTC-USD",
                                     "from": "2019-01-01", "to": "2019-03-01",
                                     "grid": {"n": "3,4,5"}}).id
    with pytest.raises(StrategyError):
        run_sweep(db, sweep, workers=1)
    with session_scope(db) as s:
        row = s.get(Sweep, sweep)
        assert row.status == "error"
        found = re.search(message, row.error)
        assert found, row.error
        assert int(found.group(1)) in fault_lines
        assert "\n" not in row.error


def test_the_readme_strategy_loads_and_trades(env, db, folder):
    readme = (ROOT / "README.md").read_text()
    code = readme.split("# var/strategies/breakout.py\n", 1)[1].split("```", 1)[0]
    (folder / "breakout.py").write_text(code)
    assert not strategies.current().problems
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"strategy": "breakout", "symbols": "BTC-USD",
                              "params": {"window": 30}})
    result = reconcile(db, sid)
    assert result.actual > 10
    assert result.match_pct == 100.0
