"""The argument parser of `python -m engine`, shared by its fast and full paths."""

import argparse

from engine.cli import data as cli_data
from engine.cli import news as cli_news
from engine.cli import session_args
from engine.cli import strategies as cli_strategies
from engine.cli import sweep as cli_sweep
from engine.cli.args import wait_seconds
from engine.errors import single_line

DESCRIPTION = ("`python -m engine`: the scriptable face of engine.control (acting) and "
               "engine.reads (reading).")
AGENT_ACTIONS = ("show", "start", "stop", "reset-metrics", "config")
SESSION_ACTIONS = tuple(session_args.ACTIONS)


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line, like every other error (exit 2); argparse quotes some of
    the user's words as they are, so the line is made single (engine.errors.single_line)."""

    def error(self, message: str):
        where = self.prog.removeprefix("python -m engine").strip() or "usage"
        self.exit(2, f"error: {where}: {single_line(message)} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m engine", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the engine process (foreground)")
    sub.add_parser("notify-test", help="send a test message to PAPERDESK_NOTIFY_URLS")
    for name in ("status", "health", "agents"):
        sub.add_parser(name).add_argument("--json", action="store_true")
    system = sub.add_parser("system", help="the master switch")
    system.add_argument("action", choices=("start", "stop", "pause", "resume"))
    system.add_argument("--wait", type=wait_seconds, metavar="SECONDS")

    agent = sub.add_parser("agent", help="show or control one agent")
    agent.add_argument("action", choices=AGENT_ACTIONS)
    agent.add_argument("id")
    agent.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    agent.add_argument("--json", action="store_true")
    agent.add_argument("--wait", type=wait_seconds, metavar="SECONDS")

    sessions = sub.add_parser("sessions")
    sessions.add_argument("--json", action="store_true")
    sessions.add_argument("--all", action="store_true",
                          help="include archived sessions and sweep variants")

    session_args.add_parser(sub)

    cli_sweep.add_parser(sub)
    cli_strategies.add_parser(sub)
    cli_news.add_parser(sub)
    cli_data.add_parser(sub)

    logs = sub.add_parser("logs", help="tail an agent's or session's log")
    logs.add_argument("id", metavar="AGENT_ID")
    logs.add_argument("--lines", type=int, default=100)
    logs.add_argument("--level")
    logs.add_argument("--grep")

    events = sub.add_parser("events", help="the activity feed, newest first")
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("--severity", choices=("info", "warning", "error"))
    events.add_argument("--source")
    events.add_argument("--json", action="store_true")
    return parser
