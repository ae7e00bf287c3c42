"""Fuzz every sub-command of `python -m engine` (issue 20): hypothesis builds command lines from
what a user could mean and from hostile values (tests/fuzz/values.py) and runs the real CLI —
in this process through engine.cli.main.main for speed, and a handful through a real
subprocess. Whatever it is given, the CLI

- exits 0, 2, 3, 4 or 5 (ok, bad input, not allowed, not found, timed out waiting);
- prints no traceback, and an error as one line on stderr (the only other lines stderr may
  hold are the progress lines of a --wait: "session 3: running, bar 10/20");
- writes no row when it refuses (exit 2, 3 or 4).

Examples per command: 100 by default (1,200 in all, 6 more through a subprocess);
PAPERDESK_FUZZ_EXAMPLES=N runs N per command. Hypothesis keeps its example database in
.hypothesis/examples (gitignored): a failure is replayed first on the next run, and its report
prints the @reproduce_failure line.
Run on SQLite, and on PostgreSQL with PAPERDESK_TEST_PG_URL set.
"""

import os
import re
from unittest import mock

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from engine.cli import full as cli_full
from engine.cli.base import AGENT_ACTIONS
from engine.cli.session_args import ACTIONS as SESSION_ACTIONS
from engine.cli.sweep import COMMANDS as SWEEP_ACTIONS
from tests.conftest import cli, run_main
from tests.fuzz import values as v
from tests.fuzz.conftest import fuzz_settings, row_counts

EXIT_CODES = {0, 2, 3, 4, 5}
REFUSED = {2, 3, 4}
PROGRESS = re.compile(r"^(session|sweep) \d+: \w+, ")


IDS = ("1", "2", "3", "4", "5", "999", "0")
FLAG = None  # an option that takes no value
# Odds that hypothesis keeps (it leans to an integer's 0 and a sample's first element).
MOSTLY = st.sampled_from((True, True, True, False))
SELDOM = st.sampled_from((False,) * 9 + (True,))

# Each command: the words a user could mean for its positionals (a positional after the first
# may be left out) and for its options (FLAG: no value); a strategy where a tuple would not do.
GRAMMAR: dict[str, tuple[list, dict]] = {
    "notify-test": ([], {}),
    "status": ([], {"--json": FLAG}),
    "health": ([], {"--json": FLAG}),
    "agents": ([], {"--json": FLAG}),
    "system": ([("start", "stop", "pause", "resume")], {"--wait": v.waits()}),
    "agent": ([AGENT_ACTIONS, v.AGENT_IDS, v.assignment(), v.assignment()],
              {"--json": FLAG, "--wait": v.waits()}),
    "sessions": ([], {"--json": FLAG, "--all": FLAG}),
    "session": ([tuple(SESSION_ACTIONS), IDS, (*v.SPEEDS, "fast=5", "fee_bps=20", "slow=40"),
                 ("fast=4", "position_size=0.5")], {
        "--json": FLAG, "--wait": v.waits(), "--name": ("n", "a session"),
        "--symbols": v.SYMBOLS, "--strategy": v.STRATEGY_NAMES, "--cash": ("10000", "1e9", "1e12"),
        "--timeframe": ("1d", "1h", "5m"), "--param": ("fast=5", "slow=20", "period=14"),
        "--fill-model": ("realistic", "frictionless", "x"), "--fee-bps": ("10", "1000"),
        "--slippage-bps": ("5",), "--impact-bps": ("0", "10000"),
        "--volume-cap-pct": ("0", "100"), "--latency-bars": ("0", "100"),
        "--fill-price": ("open", "worse"), "--cancel-after-bars": ("0", "5"),
        "--position-size": ("0.25", "1"), "--stop-loss-pct": ("0", "5"),
        "--take-profit-pct": ("0", "10"), "--restart-policy": ("resume", "paused"),
        "--source": ("replay", "live"), "--from": v.dates(), "--to": v.dates(),
        "--speed": v.SPEEDS, "--until": v.dates(), "--then": v.SPEEDS, "--start": FLAG,
        "--close-positions": FLAG, "--limit": ("5", "0", "100001"), "--offset": ("0", "3", "-1")}),
    "sweep": ([tuple(SWEEP_ACTIONS), IDS], {
        "--json": FLAG, "--wait": v.waits(), "--name": ("s",),
        "--strategy": v.STRATEGY_NAMES, "--symbols": v.SYMBOLS,
        "--timeframe": ("1d", "1h", "5m"), "--cash": ("10000",), "--position-size": ("0.25",),
        "--param": ("fast=3:9:2", "slow=20,30", "fee_bps=0:20:10", "fill_model=realistic,x",
                    "period=10:14:2", "fee_bps=0:1000:1e-320"),
        "--fill-model": ("realistic", "x"), "--from": v.dates(), "--to": v.dates(),
        "--split": v.dates(), "--all": FLAG, "--top": ("5", "-1", "0"),
        "--source": ("replay", "live"), "--speed": v.SPEEDS}),
    "logs": ([(*v.AGENT_IDS, "session-1", "session-x", "../engine")], {
        "--lines": ("5", "0", "10001", "-1"), "--level": ("info", "ERROR", "LOUD"),
        "--grep": ("line", "")}),
    "events": ([], {"--limit": ("5", "0", "5001", "-1"),
                    "--severity": ("info", "warning", "error", "fatal"),
                    "--source": ("system", "session-1"), "--json": FLAG}),
    "run": ([], {}),  # only ever with a word it refuses: never runs an engine here
}
# What a command line of these commands usually carries (all of it, when the example is calm).
USUAL = {"session": ("--name", "--symbols", "--strategy", "--timeframe"),
         "sweep": ("--strategy", "--symbols", "--param", "--timeframe")}


def _value(draw, good, calm: bool) -> str:
    """A word for a slot: one of its good words when calm, else sometimes hostile."""
    if not isinstance(good, tuple):  # a strategy of its own
        return draw(good)
    if calm or draw(MOSTLY):  # three in four slots stay meaningful
        return draw(st.sampled_from(good))
    return draw(st.one_of(v.HOSTILE, v.numbers_as_text()))


@st.composite
def command_line(draw, command: str) -> list[str]:
    """A command line: calm examples change one slot at most to something hostile (so the
    checks behind the first are reached); the others mix hostile words in anywhere."""
    positionals, options = GRAMMAR[command]
    calm = draw(st.booleans())
    argv = [command]
    for i, good in enumerate(positionals):
        if i and not draw(st.booleans()):
            break
        argv.append(_value(draw, good, calm))
    usual = USUAL.get(command, ()) if calm else ()
    chosen = draw(st.lists(st.sampled_from(sorted(options)), unique=True,
                           max_size=min(6, len(options)))) if options else []
    for name in [*usual, *(c for c in chosen if c not in usual)]:
        if options[name] is FLAG:
            argv.append(name)
        elif draw(st.booleans()):
            argv.append(f"{name}={_value(draw, options[name], calm)}")
        else:
            argv += [name, _value(draw, options[name], calm)]
    if calm and len(argv) > 1 and not draw(MOSTLY):  # one slot made hostile
        argv[draw(st.sampled_from(range(1, len(argv))))] = draw(v.HOSTILE)
    if command in ("run", "notify-test") or draw(SELDOM):  # a stray word at the end
        argv.append(draw(v.HOSTILE.filter(_not_a_separator)))
    return argv


def _not_a_separator(word: str) -> bool:
    """`run --` is a valid command line: it would run an engine."""
    return word.strip() != "--" and not word.startswith("--h") and word not in ("-h",)


def check_outcome(argv, result, before, after) -> None:
    assert result.returncode in EXIT_CODES, (argv, result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    errors = [line for line in lines if not PROGRESS.match(line)]
    assert len(errors) <= 1, (argv, result.stderr)
    if result.returncode:
        assert errors, (argv, result.stderr)
        assert errors[0].startswith("error: "), (argv, result.stderr)
        assert lines[-1] == errors[0], (argv, result.stderr)  # the error comes last
    if result.returncode in REFUSED:
        assert after == before, (argv, result.stderr, before, after)


def _never_run(*_args) -> None:
    raise AssertionError("the fuzzer built a command line that runs an engine")


@pytest.mark.parametrize("command", sorted(GRAMMAR))
@fuzz_settings(100)
@given(data=st.data())
def test_every_command_exits_with_a_known_code_one_error_line_and_no_row_when_refused(
        world, command, data):
    _, db, _ = world
    argv = data.draw(command_line(command), label="argv")
    before = row_counts(db)
    with mock.patch.dict(cli_full.COMMANDS, run=_never_run):
        result = run_main(*argv)
    event(f"exit {result.returncode}")
    check_outcome(argv, result, before, row_counts(db))


def _encodable(word: str) -> bool:
    """A word a real command line can carry: no NUL; surrogates only as undecodable bytes."""
    if "\x00" in word:
        return False
    try:
        os.fsencode(word)
    except UnicodeError:
        return False
    return True


@fuzz_settings(6)
@given(command=st.sampled_from(sorted(set(GRAMMAR) - {"run"})), data=st.data())
def test_a_real_subprocess_prints_no_traceback_either(world, command, data):
    """A handful through a real interpreter: what a shell sees, encoding of the output
    included (a lone surrogate from undecodable bytes must not break printing)."""
    env, db, _ = world
    argv = data.draw(command_line(command).filter(lambda a: all(_encodable(w) for w in a)))
    before = row_counts(db)
    result = cli(env, *argv, timeout=120)
    event(f"exit {result.returncode}")
    check_outcome(argv, result, before, row_counts(db))


def test_undecodable_bytes_on_the_command_line_are_one_line(world):
    env, db, ids = world
    for argv in (["agent", "show", "\udcff"], ["logs", "\udcff"],
                 ["events", "--source", "x\udcffy"], ["session", "create", "--name", "\udcff",
                                                     "--symbols", "ETH-USD", "--strategy",
                                                     "ma_crossover", "--timeframe", "1d"]):
        before = row_counts(db)
        result = cli(env, *argv)
        check_outcome(argv, result, before, row_counts(db))
        assert result.returncode in REFUSED
