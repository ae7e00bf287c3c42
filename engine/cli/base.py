"""The argument parser of `python -m engine`, shared by its fast and full paths."""

import argparse

from engine.cli import data as cli_data
from engine.cli import news as cli_news
from engine.cli import strategies as cli_strategies
from engine.cli import sweep as cli_sweep
from engine.cli.args import wait_seconds
from engine.errors import single_line

DESCRIPTION = ("`python -m engine`: the scriptable face of engine.control (acting) and "
               "engine.reads (reading).")
AGENT_ACTIONS = ("show", "start", "stop", "reset-metrics", "config")
SESSION_ACTIONS = ("show", "trades", "create", "start", "pause", "resume", "stop",
                   "pause-all", "resume-all", "stop-all", "speed", "reconcile", "fill-models",
                   "config", "robustness", "report", "export")


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

    session = sub.add_parser("session", help="create, show or control sessions")
    session.add_argument("action", choices=SESSION_ACTIONS)
    session.add_argument("id", nargs="?")
    session.add_argument("values", nargs="*", metavar="VALUE",
                         help="speed: BARS_PER_S or max; config: KEY=VALUE ...")
    session.add_argument("--json", action="store_true")
    session.add_argument("--wait", type=wait_seconds, metavar="SECONDS")
    session.add_argument("--name")
    session.add_argument("--symbols")
    session.add_argument("--strategy")
    session.add_argument("--cash")
    session.add_argument("--timeframe")
    session.add_argument("--param", action="append", default=[], metavar="K=V")
    session.add_argument("--fill-model",
                         help="frictionless, realistic (default) or pessimistic; the options "
                              "below override its values")
    session.add_argument("--fee-bps")
    session.add_argument("--slippage-bps")
    session.add_argument("--impact-bps", help="extra slippage in bps at 100%% of bar volume")
    session.add_argument("--volume-cap-pct", help="at most this %% of a bar's volume fills per "
                                                  "bar; 0 = no cap")
    session.add_argument("--latency-bars", help="bars between decision and first fill")
    session.add_argument("--fill-price", help="market orders fill at the open or the worse of "
                                              "open and close: open|worse")
    session.add_argument("--cancel-after-bars", help="cancel what is unfilled after N bars; 0 = "
                                                     "never")
    session.add_argument("--position-size")
    session.add_argument("--stop-loss-pct")
    session.add_argument("--take-profit-pct")
    session.add_argument("--restart-policy")
    session.add_argument("--sentiment", help="the strategy's sentiment input: news (stored "
                                             "headline scores), price-mood (default) or none")
    session.add_argument("--source", default="replay", help="replay (default) or live")
    session.add_argument("--from", dest="window_from", metavar="DATE",
                         help="replay: first bar (default: the latest 1000 bars)")
    session.add_argument("--to", dest="window_to", metavar="DATE",
                         help="replay: last bar (default: the end of the data)")
    session.add_argument("--speed", default="1", help="bars per second, or max")
    session.add_argument("--until", metavar="DATE", help="speed max: stop at this bar, then …")
    session.add_argument("--then", metavar="BARS_PER_S", help="… play at this speed")
    session.add_argument("--start", action="store_true", help="start it right away")
    session.add_argument("--close-positions", action="store_true", help="stop: sell holdings")
    session.add_argument("--n", metavar="PATHS", help="robustness: Monte-Carlo paths (1000)")
    session.add_argument("--seed", help="robustness: the bootstrap's seed (0)")
    session.add_argument("--out", metavar="PATH", help="report: the HTML file; export: a folder")
    session.add_argument("--format", dest="export_format", help="export: csv or parquet")

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
