"""`python -m engine`: the scriptable face of engine.control and engine.queries.

Exit codes: 0 ok, 2 bad input, 3 not allowed in the current state, 4 not found,
5 timed out waiting for the engine. Errors are one line on stderr.
"""

import argparse
import importlib
import json
import math
import sys
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError

from engine.config import load_settings
from engine.db import default_engine, migrate, sqlite_path
from engine.errors import BadInput, NotFound, PaperDeskError
from engine.params import parse_assignments


class _OnUse:
    """A module imported when a command first uses it, so the CLI starts without pandas and
    the API it does not need."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


control = _OnUse("engine.control")
queries = _OnUse("engine.queries")
status = _OnUse("engine.status")  # what status, health, agent show and logs read: no pandas

AGENT_ACTIONS = ("show", "start", "stop", "reset-metrics", "config")
SESSION_ACTIONS = ("show", "trades", "create", "start", "pause", "resume", "stop",
                   "pause-all", "resume-all", "stop-all", "speed", "reconcile", "config")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if type(value).__name__ == "NaTType":  # pandas' missing time
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def emit_json(value: Any) -> None:
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame):
        value = value.to_dict("records")
    print(json.dumps(_clean(value), indent=2))


def _table(frame, columns: list[str]) -> None:
    if frame.empty:
        print("(none)")
        return
    print(frame[[c for c in columns if c in frame]].to_string(index=False))


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line, like every other error (exit 2)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog.removeprefix('python -m engine').strip() or 'usage'}: "
                     f"{message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m engine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the engine process (foreground)")
    sub.add_parser("notify-test", help="send a test message to PAPERDESK_NOTIFY_URLS")
    for name in ("status", "health", "agents"):
        sub.add_parser(name).add_argument("--json", action="store_true")
    system = sub.add_parser("system", help="the master switch")
    system.add_argument("action", choices=("start", "stop", "pause", "resume"))
    system.add_argument("--wait", type=_positive, metavar="SECONDS")

    agent = sub.add_parser("agent", help="show or control one agent")
    agent.add_argument("action", choices=AGENT_ACTIONS)
    agent.add_argument("id")
    agent.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    agent.add_argument("--json", action="store_true")
    agent.add_argument("--wait", type=_positive, metavar="SECONDS")

    sessions = sub.add_parser("sessions")
    sessions.add_argument("--json", action="store_true")
    sessions.add_argument("--all", action="store_true", help="include archived sessions")

    session = sub.add_parser("session", help="create, show or control sessions")
    session.add_argument("action", choices=SESSION_ACTIONS)
    session.add_argument("id", nargs="?")
    session.add_argument("values", nargs="*", metavar="VALUE",
                         help="speed: BARS_PER_S or max; config: KEY=VALUE ...")
    session.add_argument("--json", action="store_true")
    session.add_argument("--wait", type=_positive, metavar="SECONDS")
    session.add_argument("--name")
    session.add_argument("--symbols")
    session.add_argument("--strategy")
    session.add_argument("--cash", default="10000")
    session.add_argument("--timeframe", default="1h")
    session.add_argument("--param", action="append", default=[], metavar="K=V")
    session.add_argument("--fee-bps", default="10")
    session.add_argument("--slippage-bps", default="5")
    session.add_argument("--position-size", default="0.25")
    session.add_argument("--stop-loss-pct", default="0")
    session.add_argument("--take-profit-pct", default="0")
    session.add_argument("--restart-policy", default="resume")
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


def _after_queue(db, command_id: int, wait: float | None, done: str) -> None:
    if wait is None:
        print(f"queued as command {command_id}")
        return
    result = control.wait_for(db, command_id, wait)
    print(result.message or done)


def cmd_status(db, args) -> None:
    summary = status.system_summary(db)
    if args.json:
        emit_json(status.as_dict(summary))
        return
    engine = summary.engine
    state = (f"online ({engine.holder}, heartbeat {engine.age_s:.1f}s ago)" if engine.online
             else "offline — commands stay queued until it returns")
    print(f"system:   {summary.status}")
    print(f"engine:   {state}")
    print(f"agents:   {', '.join(f'{k} {v}' for k, v in summary.agents.items()) or 'none'}")
    print(f"sessions: {', '.join(f'{k} {v}' for k, v in summary.sessions.items()) or 'none'}")
    print(f"fills in the last hour: {summary.fills_last_hour}; pending orders: "
          f"{summary.pending_orders}; queued commands: {summary.pending_commands}")


def cmd_health(db, args) -> None:
    report = status.health(db)
    if args.json:
        emit_json(status.as_dict(report))
        return
    print(f"health: {report.score:.0f}%  ({report.formula})")
    print(f"engine online: {report.engine_online}; errors in the last hour: "
          f"{report.errors_last_hour}; agents running {report.agents_running}/"
          f"{report.agents_total}")


def cmd_agents(db, args) -> None:
    frame = queries.agents(db)
    if args.json:
        emit_json(frame)
    else:
        _table(frame, ["id", "status", "ticks", "items_processed", "errors", "last_tick_ms",
                       "last_active_at"])


def cmd_agent(db, args) -> None:
    if args.action == "show":
        info = status.agent(db, args.id)
        if args.json:
            emit_json(info)
        else:
            for key, value in info.items():
                print(f"{key}: {value}")
        return
    if args.action == "config":
        cid = control.update_agent_config(db, args.id, parse_assignments(args.assignments))
    elif args.action == "reset-metrics":
        cid = control.reset_agent_metrics(db, args.id)
    else:
        cid = control.agent_action(db, args.id, args.action)
    _after_queue(db, cid, args.wait, f"agent {args.id}: {args.action} applied")


def cmd_sessions(db, args) -> None:
    frame = queries.sessions(db, include_archived=args.all)
    if args.json:
        emit_json(frame)
    else:
        _table(frame, ["id", "name", "status", "strategy", "symbols", "timeframe", "equity",
                       "return_pct", "trade_count"])


def _create(db, args) -> None:
    missing = [f"--{n}" for n in ("name", "symbols", "strategy") if not getattr(args, n)]
    if missing:
        raise BadInput(f"session create needs {', '.join(missing)}")
    spec = {
        "name": args.name, "symbols": args.symbols, "strategy": args.strategy,
        "cash": args.cash, "timeframe": args.timeframe,
        "params": parse_assignments(args.param, "--param K=V"),
        "fee_bps": args.fee_bps, "slippage_bps": args.slippage_bps,
        "position_size": args.position_size, "stop_loss_pct": args.stop_loss_pct,
        "take_profit_pct": args.take_profit_pct, "restart_policy": args.restart_policy,
        "source": args.source, "from": args.window_from, "to": args.window_to,
        "speed": args.speed,
    }
    created = control.create_session(db, spec, start=args.start)
    if created.start_command is not None and args.wait:
        control.wait_for(db, created.start_command, args.wait)
        if args.speed.strip().lower() == "max":
            control.wait_for_session(db, created.id, args.wait, progress=_progress)
    if args.json:
        emit_json(queries.session_document(db, created.id))
    else:
        print(created.id)


def cmd_session(db, args) -> None:
    action = args.action
    if action == "create":
        _create(db, args)
        return
    if action.endswith("-all"):
        cid = control.bulk_session_action(db, action.replace("-", "_"))
        _after_queue(db, cid, args.wait, f"{action} applied")
        return
    if args.id is None:
        raise BadInput(f"session {action} needs a session ID")
    if action in ("speed", "config", "reconcile"):
        SESSION_EXTRAS[action](db, args)
    elif action == "show":
        doc = queries.session_document(db, args.id)
        if args.json:
            emit_json(doc)
        else:
            for key, value in doc.items():
                print(f"{key}: {value}")
    elif action == "trades":
        frame = queries.trades(db, args.id, limit=None)
        if args.json:
            emit_json(frame)
        else:
            _table(frame, ["time", "symbol", "side", "qty", "price", "fee", "order_id", "reason"])
    else:
        cid = control.session_action(db, args.id, action, close_positions=args.close_positions)
        _after_queue(db, cid, args.wait, f"session {args.id}: {action} applied")


def _progress(doc: dict) -> None:
    total = doc["bars_total"] or 0
    print(f"session {doc['id']}: {doc['status']}, bar {doc['bars_done']:,}/{total:,}",
          file=sys.stderr)


def _speed(db, args) -> None:
    if len(args.values) != 1:
        raise BadInput("session speed needs ID and BARS_PER_S or max")
    cid = control.set_session_speed(db, args.id, args.values[0], until=args.until,
                                    then=args.then)
    _after_queue(db, cid, args.wait, f"session {args.id}: speed {args.values[0]}")


def _config(db, args) -> None:
    changes = parse_assignments(args.values)
    cid = control.update_session_config(db, args.id, changes)
    _after_queue(db, cid, args.wait, f"session {args.id}: settings changed")


def _reconcile(db, args) -> None:
    from engine.reconcile import reconcile

    result = reconcile(db, args.id)
    if args.json:
        emit_json(queries.as_dict(result))
        return
    print(f"session {result.session_id}: {result.match_pct:.1f}% of fills match a fast-forward"
          f" of its window ({result.matched} matched; {result.expected} expected, "
          f"{result.actual} actual, {result.bars:,} bars; settings {result.settings})")
    for d in result.differences:
        print(f"{d['kind']:<9} {d['bar_ts']:%Y-%m-%d %H:%M} {d['symbol']} {d['side']}: "
              f"{d['cause']}")


SESSION_EXTRAS = {"speed": _speed, "config": _config, "reconcile": _reconcile}


def cmd_logs(db, args) -> None:
    result = status.log_tail(db, load_settings().logs_dir, args.id, lines=args.lines,
                              level=args.level, grep=args.grep)
    for line in result.lines:
        print(line)


def cmd_events(db, args) -> None:
    frame = queries.events(db, limit=args.limit,
                           severity=[args.severity] if args.severity else None,
                           source=args.source)
    if args.json:
        emit_json(frame)
    else:
        for row in frame.itertuples():
            print(f"{row.ts:%Y-%m-%d %H:%M:%S} {row.severity:<7} {row.source:<14} {row.message}")


def cmd_run(_db, _args) -> NoReturn:
    import logging
    import os

    from engine.runtime import EngineProcess

    code = EngineProcess(load_settings()).run()
    # Leave now: a tick still blocked on a network call (it has its own timeout) must not
    # hold the process after a stop. Everything is committed and the lease released.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_system(db, args) -> None:
    cid = control.system_action(db, args.action)
    _after_queue(db, cid, args.wait, f"system {args.action} applied")


COMMANDS = {
    "run": cmd_run, "status": cmd_status, "health": cmd_health, "system": cmd_system,
    "agents": cmd_agents, "agent": cmd_agent, "sessions": cmd_sessions, "session": cmd_session,
    "logs": cmd_logs, "events": cmd_events,
}


READ_ONLY = {"status", "health", "agents", "sessions", "logs", "events"}
READ_ONLY_SESSION = {"show", "trades", "reconcile"}


def _reads_only(args) -> bool:
    return args.command in READ_ONLY or (
        args.command == "session" and args.action in READ_ONLY_SESSION) or (
        args.command == "agent" and args.action == "show")


def notify_test() -> None:
    from engine.notify import send_test

    if not send_test(load_settings().notify_urls):
        raise PaperDeskError("the test message did not reach every notification URL")
    print("test message sent")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "notify-test":  # needs no database
            notify_test()
            return 0
        db = default_engine()
        path = sqlite_path(db)
        if path is not None and _reads_only(args) and not path.is_file():
            raise NotFound(f"no database at {path}: start PaperDesk first (python -m engine "
                           "run, or the app); a read never creates one")
        if args.command != "run":
            migrate(db)
        code = COMMANDS[args.command](db, args)
    except PaperDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"error: database unavailable ({type(exc).__name__}: {reason}); check "
              "DATABASE_URL", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code or 0
