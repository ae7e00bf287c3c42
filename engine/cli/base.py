"""The argument parser of `python -m engine`, shared by its fast and full paths. It builds only
the sub-command the command line names, importing its module then (every parser costs argparse
a few locale look-ups); with no sub-command named (help, a usage error) it builds every one, so
help and errors read as they would with all of them built."""

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from engine.cli.args import wait_seconds
from engine.cli.lazy import OnUse
from engine.errors import single_line

cli_data = OnUse("engine.cli.data")
cli_news = OnUse("engine.cli.news")
cli_strategies = OnUse("engine.cli.strategies")
cli_sweep = OnUse("engine.cli.sweep")
session_args = OnUse("engine.cli.session_args")

DESCRIPTION = ("`python -m engine`: the scriptable face of engine.control (acting) and "
               "engine.reads (reading).")
AGENT_ACTIONS = ("show", "start", "stop", "reset-metrics", "config")


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line, like every other error (exit 2); argparse quotes some of
    the user's words as they are, so the line is made single (engine.errors.single_line)."""

    def error(self, message: str):
        where = self.prog.removeprefix("python -m engine").strip() or "usage"
        self.exit(2, f"error: {where}: {single_line(message)} (see --help)\n")


# Each adds the sub-command `name` to `sub`; `words` follow it on the command line.
def _run(sub, _name: str, _words: list[str]) -> None:
    sub.add_parser("run", help="run the engine process (foreground)")


def _notify_test(sub, _name: str, _words: list[str]) -> None:
    sub.add_parser("notify-test", help="send a test message to PAPERDESK_NOTIFY_URLS")


def _json_only(sub, name: str, _words: list[str]) -> None:
    sub.add_parser(name).add_argument("--json", action="store_true")


def _system(sub, _name: str, _words: list[str]) -> None:
    system = sub.add_parser("system", help="the master switch")
    system.add_argument("action", choices=("start", "stop", "pause", "resume"))
    system.add_argument("--wait", type=wait_seconds, metavar="SECONDS")


def _agent(sub, _name: str, _words: list[str]) -> None:
    agent = sub.add_parser("agent", help="show or control one agent")
    agent.add_argument("action", choices=AGENT_ACTIONS)
    agent.add_argument("id")
    agent.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    agent.add_argument("--json", action="store_true")
    agent.add_argument("--wait", type=wait_seconds, metavar="SECONDS")


def _sessions(sub, _name: str, _words: list[str]) -> None:
    sessions = sub.add_parser("sessions")
    sessions.add_argument("--json", action="store_true")
    sessions.add_argument("--all", action="store_true",
                          help="include archived sessions and sweep variants")


def _session(sub, _name: str, words: list[str]) -> None:
    session_args.add_parser(sub, words[0] if words else None)


def _sweep(sub, _name: str, _words: list[str]) -> None:
    cli_sweep.add_parser(sub)


def _strategies(sub, _name: str, _words: list[str]) -> None:
    cli_strategies.add_parser(sub)


def _news(sub, _name: str, _words: list[str]) -> None:
    cli_news.add_parser(sub)


def _data(sub, _name: str, _words: list[str]) -> None:
    cli_data.add_parser(sub)


def _logs(sub, _name: str, _words: list[str]) -> None:
    logs = sub.add_parser("logs", help="tail an agent's or session's log")
    logs.add_argument("id", metavar="AGENT_ID")
    logs.add_argument("--lines", type=int, default=100)
    logs.add_argument("--level")
    logs.add_argument("--grep")


def _events(sub, _name: str, _words: list[str]) -> None:
    events = sub.add_parser("events", help="the activity feed, newest first")
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("--severity", choices=("info", "warning", "error"))
    events.add_argument("--source")
    events.add_argument("--json", action="store_true")


SUB_COMMANDS: dict[str, Callable[[Any, str, list[str]], None]] = {
    "run": _run, "notify-test": _notify_test, "status": _json_only, "health": _json_only,
    "agents": _json_only, "system": _system, "agent": _agent, "sessions": _sessions,
    "session": _session, "sweep": _sweep, "strategies": _strategies, "news": _news,
    "data": _data, "logs": _logs, "events": _events,
}  # in the order --help lists them


def build_parser(words: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of `python -m engine WORDS`: only the sub-command their first word names, or
    every one (WORDS not given, or not starting with a sub-command)."""
    parser = _Parser(prog="python -m engine", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    named = words[0] if words and words[0] in SUB_COMMANDS else None
    for name, add in SUB_COMMANDS.items():
        if named in (None, name):
            add(sub, name, list(words[1:]) if named else [])
    return parser
