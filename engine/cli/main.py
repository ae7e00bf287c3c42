"""`python -m engine`: the scriptable face of engine.control.actions and engine.reads.queries.

Exit codes: 0 ok, 2 bad input, 3 not allowed in the current state, 4 not found,
5 timed out waiting for the engine. Errors are one line on stderr.

`status`, `logs`, the read commands (engine.cli.reads) and the control commands run on plain SQL
(engine.cli.fast) and start without importing the ORM or pandas; the other commands load them
(engine.cli.full).
"""

import os
import sys

from engine.cli import fast as cli_fast
from engine.cli.base import build_parser
from engine.config import load_settings
from engine.errors import BadInput, NotFound, PaperDeskError, one_line, single_line
from engine.store.plainsql import driver_errors, sqlite_file

READ_ONLY = {"status", "health", "agents", "sessions", "logs", "events"}
READ_ONLY_SESSION = {"show", "trades", "reconcile", "fill-models", "robustness", "report",
                     "export"}


def _reads_only(args) -> bool:
    return args.command in READ_ONLY or (
        args.command == "session" and args.action in READ_ONLY_SESSION) or (
        args.command == "agent" and args.action == "show") or (
        args.command in ("news", "data") and args.action == "list")


def _check(args, url: str) -> None:
    """Refuse before touching a database: a session command without its ID, a read of a
    database file that does not exist (a read never creates one)."""
    if (args.command == "session" and args.id is None and args.action != "create"
            and not args.action.endswith("-all")):
        raise BadInput(f"session {args.action} needs a session ID")
    path = sqlite_file(url)
    if path is not None and _reads_only(args) and not path.is_file():
        raise NotFound(f"no database at {path}: start PaperDesk first (python -m engine "
                       "run, or the app); a read never creates one")


def notify_test() -> None:
    from engine.control.notify import send_test

    if not send_test(load_settings().notify_urls):
        raise PaperDeskError("the test message did not reach every notification URL")
    print("test message sent")


def _dispatch(args) -> int | None:
    if args.command == "notify-test":  # needs no database
        notify_test()
        return None
    if args.command == "strategies" and args.action == "list":  # the files, no database
        from engine.cli.strategies import list_strategies

        return list_strategies(args)
    settings = load_settings()
    _check(args, settings.database_url)
    if cli_fast.handles(args, settings.database_url):
        return cli_fast.run(settings, args)
    from engine.cli import full as cli_full  # on use: the ORM and pandas

    return cli_full.run(settings, args)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(words).parse_args(words)
    try:
        code = _dispatch(args)
    except PaperDeskError as exc:
        print(f"error: {single_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except driver_errors() as exc:
        print(f"error: database unavailable ({one_line(exc)}); check "
              "DATABASE_URL", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left early (`… | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code or 0
