"""`python -m engine strategies [--json]`: the strategies a session may name, read from the
files with no database (`strategies reload`, which queues a command, is engine.cli.full's)."""

import sys

from engine.cli.args import wait_seconds
from engine.cli.output import emit_json
from engine.errors import single_line

RELOAD_WAIT_S = 10.0


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "strategies", help="list the strategies (built-in and PAPERDESK_HOME/strategies/*.py), "
                           "or reload the files in the running engine",
        description="list: every strategy with its parameters, file and source hash; a file "
                    "that does not load is one line naming file, line and cause (exit 2). "
                    "reload: the engine loads the files again (sessions loaded after that run "
                    "the new code; running ones keep theirs until restarted).")
    parser.add_argument("action", nargs="?", choices=("list", "reload"), default="list")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--wait", type=wait_seconds, metavar="SECONDS",
                        help=f"reload: wait for the engine (default {RELOAD_WAIT_S:g})")


def list_strategies(args) -> int:
    """The listing, read from this process's scan of the folder (no database needed)."""
    from engine.reads.strategies import param_text, strategy_list

    found = strategy_list()
    if args.json:
        emit_json(found)
    else:
        for s in found.strategies:
            origin = "built-in" if s.sha256 is None else f"{s.file} sha256 {s.sha256[:12]}"
            print(f"{s.name}  {single_line(s.title)}  ({origin})")
            for p in s.params:
                print(f"    {single_line(param_text(p))}  {single_line(p.help)}")
        print(f"folder: {found.folder}")
    for problem in found.problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2 if found.problems else 0
