"""`python -m engine news import PATH` and `news list [--json]`: headline files scored and stored
for `news` sessions (engine.news.importer), and what is stored (engine.reads.news).

`add_parser` imports nothing but the standard library (the CLI's fast path stays light);
`news import` runs on the ORM path, importing what it needs when called; `news list` on plain
SQL (engine.cli.reads)."""

import importlib
from pathlib import Path

from engine.cli.output import emit_json
from engine.errors import BadInput, single_line

TIME = "%Y-%m-%d %H:%M"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "news", help="import a CSV of dated headlines (headline,symbol,time) or list them",
        description="import: score every headline and store them all, or none (the first bad "
                    "row is named, exit 2); the same file again stores nothing. list: the "
                    "imported files with their provenance, and the scores stored by source.")
    parser.add_argument("action", choices=("import", "list"))
    parser.add_argument("path", nargs="?", metavar="PATH", help="import: the CSV file")
    parser.add_argument("--json", action="store_true")


def cmd_news(db, args) -> None:
    """`news import` (`news list` is one of engine.cli.reads' commands)."""
    if not args.path:
        raise BadInput("news import needs PATH (a CSV file: headline,symbol,time)")
    result = importlib.import_module("engine.news.importer").import_news(db, Path(args.path))
    if args.json:
        emit_json(result)
    elif result.already:
        print(f"{single_line(result.file_name)} (sha256 {result.sha256[:12]}) was imported "
              f"before as import {result.import_id}: nothing stored")
    else:
        print(f"imported {single_line(result.file_name)} (sha256 {result.sha256[:12]}): "
              f"{result.rows} headline scores stored as import {result.import_id}")


def list_news(sql, args) -> None:
    """`news list` on `sql` (engine.store.plainsql.Sql)."""
    if args.path:
        raise BadInput("news list takes no PATH")
    found = importlib.import_module("engine.reads.news").news_store(sql)
    if args.json:
        emit_json(found)
        return
    for f in found.imports:
        print(f"{f.id}  {single_line(f.file_name)}  sha256 {f.sha256[:12]}  {f.rows} rows  "
              f"{f.symbols}  {f.first_at:{TIME}} → {f.last_at:{TIME}}  "
              f"by {single_line(f.imported_by)} at {f.imported_at:{TIME}}")
    if not found.imports:
        print("(no imported headline files)")
    stored = ", ".join(f"{n} {source}" for source, n in found.scores.items()) or "none"
    print(f"scores stored: {stored}")
