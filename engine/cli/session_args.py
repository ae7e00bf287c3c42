"""`python -m engine session ACTION …`: one sub-command per action, each with only its own
options and a help line for every one (`session create --help`)."""

import argparse
from collections.abc import Callable

from engine.cli.args import WAIT_S, wait_seconds
from engine.params import bound_text

BOUNDED = "bounded by the engine"  # the help of an option whose Param describes it on --help
TRADES_PAGE = 500  # fills `session trades` prints unless --limit says otherwise


class _Help(argparse.HelpFormatter):
    """Writes a bounded option's help from the engine's Param when --help prints (the
    session fields import the ORM, which the CLI's fast path never loads)."""

    def _expand_help(self, action: argparse.Action) -> str:
        if action.help != BOUNDED:
            return super()._expand_help(action)
        from engine.control.session_spec import FILL_FIELDS, SESSION_FIELDS

        param = SESSION_FIELDS[action.dest]
        default = ("the fill model's" if action.dest in FILL_FIELDS
                   else bound_text(param.default))
        return (f"{param.help}; {bound_text(param.low)} to {bound_text(param.high)} "
                f"(default {default})")


def _id(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", nargs="?", help="the session's id (python -m engine sessions)")


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON document")


def _wait(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", type=wait_seconds, metavar="SECONDS",
                   help=f"wait up to SECONDS (0 to {WAIT_S:,}) for the engine to apply it; "
                        "0 or none: do not wait, print the queued command")


def _field(p: argparse.ArgumentParser, flag: str, field: str, metavar: str = "N") -> None:
    """An option bounded by the engine's Param: its help says the bounds (_Help)."""
    p.add_argument(flag, dest=field, metavar=metavar, help=BOUNDED)


def _create(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="the session's name, 1 to 100 characters (required)")
    p.add_argument("--symbols", help="comma-separated symbols with data, e.g. BTC-USD or "
                                     "AAPL,MSFT (required)")
    p.add_argument("--strategy", help="a built-in strategy or one of PAPERDESK_HOME/strategies "
                                      "(python -m engine strategies) (required)")
    p.add_argument("--timeframe", help="bar size: 1h or 1d (default 1h)")
    p.add_argument("--param", action="append", default=[], metavar="K=V",
                   help="a strategy parameter, e.g. --param fast=5 (repeat for each)")
    _field(p, "--cash", "cash", "AMOUNT")
    _field(p, "--position-size", "position_size", "FRACTION")
    _field(p, "--stop-loss-pct", "stop_loss_pct", "PCT")
    _field(p, "--take-profit-pct", "take_profit_pct", "PCT")
    p.add_argument("--restart-policy", help="after an engine restart: resume (default) or "
                                            "paused")
    p.add_argument("--sentiment", help="the strategy's sentiment input: news (stored headline "
                                       "scores), price-mood (default) or none")
    p.add_argument("--fill-model", help="frictionless, realistic (default) or pessimistic; "
                                        "the options below override its values")
    for flag, field in (("--fee-bps", "fee_bps"), ("--slippage-bps", "slippage_bps"),
                        ("--impact-bps", "impact_bps"), ("--volume-cap-pct", "volume_cap_pct"),
                        ("--latency-bars", "latency_bars"),
                        ("--cancel-after-bars", "cancel_after_bars")):
        _field(p, flag, field)
    p.add_argument("--fill-price", help="market orders fill at the open or the worse of open "
                                        "and close: open|worse")
    p.add_argument("--source", default="replay", help="replay (default) or live")
    p.add_argument("--from", dest="window_from", metavar="DATE",
                   help="replay: first bar (default: the latest 1000 bars)")
    p.add_argument("--to", dest="window_to", metavar="DATE",
                   help="replay: last bar (default: the end of the data)")
    p.add_argument("--speed", default="1", help="bars per second, or max (default 1)")
    _until(p)
    p.add_argument("--start", action="store_true", help="start it right away")
    _wait(p)
    _json(p)


def _until(p: argparse.ArgumentParser) -> None:
    p.add_argument("--until", metavar="DATE", help="speed max: fast-forward to this bar, then …")
    p.add_argument("--then", metavar="BARS_PER_S", help="… play at this speed")


def _speed(p: argparse.ArgumentParser) -> None:
    _id(p)
    p.add_argument("values", nargs="*", metavar="BARS_PER_S", help="bars per second, or max")
    _until(p)
    _wait(p)


def _config(p: argparse.ArgumentParser) -> None:
    _id(p)
    p.add_argument("values", nargs="*", metavar="KEY=VALUE",
                   help="settings to change, e.g. fast=5 fee_bps=20")
    _wait(p)


def _stop(p: argparse.ArgumentParser) -> None:
    _id(p)
    p.add_argument("--close-positions", action="store_true",
                   help="sell every holding at the session's last close")
    _wait(p)


def _control(p: argparse.ArgumentParser) -> None:
    _id(p)
    _wait(p)


def _read(p: argparse.ArgumentParser) -> None:
    _id(p)
    _json(p)


def _trades(p: argparse.ArgumentParser) -> None:
    _read(p)
    p.add_argument("--limit", default=TRADES_PAGE, metavar="N",
                   help=f"at most N fills, newest first (default {TRADES_PAGE})")
    p.add_argument("--offset", default=0, metavar="N",
                   help="skip the newest N fills: the next page is --offset LIMIT (default 0)")


def _robustness(p: argparse.ArgumentParser) -> None:
    _read(p)
    p.add_argument("--n", metavar="PATHS", help="Monte-Carlo paths (default 1000)")
    p.add_argument("--seed", help="the bootstrap's seed (default 0)")


def _report(p: argparse.ArgumentParser) -> None:
    _id(p)
    p.add_argument("--out", metavar="PATH", help="the HTML file to write")


def _export(p: argparse.ArgumentParser) -> None:
    _id(p)
    p.add_argument("--out", metavar="PATH", help="the folder to write into")
    p.add_argument("--format", dest="export_format", help="csv (default) or parquet")


ACTIONS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "show": ("a session's state, money, positions and metrics", _read),
    "trades": ("a session's fills with the reason for each, a page at a time", _trades),
    "create": ("create a session (replay or live)", _create),
    "start": ("start trading a session", _control),
    "pause": ("pause a session (no new orders)", _control),
    "resume": ("resume a paused session from its current bar", _control),
    "stop": ("stop a session for good (open orders are cancelled)", _stop),
    "close-position": ("sell every holding of a running or paused session at market on its "
                       "next bar (a manual order; its working orders are cancelled)", _control),
    "pause-all": ("pause every running session", _control),
    "resume-all": ("resume every paused session", _control),
    "stop-all": ("stop every session for good", _control),
    "speed": ("change a replay session's speed", _speed),
    "reconcile": ("fast-forward a session's window again and compare it fill by fill", _read),
    "fill-models": ("a session's window under each fill model", _read),
    "config": ("change a running session's settings", _config),
    "robustness": ("Monte-Carlo and parameter robustness of a session", _robustness),
    "report": ("write a session's HTML report", _report),
    "export": ("export a session's fills, orders and equity", _export),
}
DEFAULTS = {"id": None, "values": [], "json": False, "wait": None, "until": None,
            "then": None, "close_positions": False}  # what the shared dispatch reads


def add_parser(sub, named: str | None = None) -> None:
    """`session ACTION`: a sub-command per action; only `named`'s when it is one (the command
    line's), every one otherwise (help, a usage error)."""
    session = sub.add_parser("session", help="create, show or control sessions")
    actions = session.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, (about, arguments) in ACTIONS.items():
        if named in ACTIONS and action != named:
            continue
        p = actions.add_parser(action, help=about, description=about, formatter_class=_Help)
        p.set_defaults(**DEFAULTS)  # first: the options added next keep these defaults
        arguments(p)
