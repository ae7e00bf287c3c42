"""The CLI's read commands on plain SQL (engine.reads.plain), which start as fast as `status`:
health, agents, agent show, sessions, session show, session trades, events (and news list and
data list: engine.cli.news, engine.cli.data). Each prints the record the dashboard's ORM reads build
(engine.reads.builders), as text or one JSON document."""

from dataclasses import asdict

from engine.cli.lazy import OnUse
from engine.cli.output import emit_json, show_record, table
from engine.errors import single_line
from engine.store.plainsql import Sql

plain = OnUse("engine.reads.plain")  # status and the control commands never load it
cli_data = OnUse("engine.cli.data")  # data list
cli_news = OnUse("engine.cli.news")  # news list
AGENT_TABLE = ("id", "status", "ticks", "items_processed", "errors", "last_tick_ms",
               "last_active_at")
SESSION_TABLE = ("id", "name", "status", "strategy", "symbols", "timeframe", "equity",
                 "return_pct", "trade_count", "why")
TRADE_TABLE = ("time", "symbol", "side", "qty", "price", "fee", "order_id", "reason", "by")


def _rows(rows: list[dict], columns: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        emit_json(rows)
    else:
        print(table(rows, columns))


def _worded(rows: list[dict]) -> list[dict]:
    """Rows whose status column shows the word every surface shows (engine.reads.words)."""
    return [{**row, "status": row["condition"]} for row in rows]


def cmd_health(sql: Sql, args) -> None:
    report = plain.health(sql)
    if args.json:
        emit_json(report)
        return
    print(f"health: {report.score:.0f}%  ({report.formula})")
    print(f"engine online: {report.engine_online}; errors in the last hour: "
          f"{report.errors_last_hour}; agents running {report.agents_running}/"
          f"{report.agents_total}")


def cmd_agents(sql: Sql, args) -> None:
    cards = [asdict(card) for card in plain.agents(sql)]
    _rows(cards if args.json else _worded(cards), AGENT_TABLE, args.json)


def cmd_agent_show(sql: Sql, args) -> None:
    show_record(plain.agent(sql, args.id), args.json)


def cmd_sessions(sql: Sql, args) -> None:
    lines = plain.sessions(sql, include_archived=args.all, include_sweeps=args.all)
    _rows(lines if args.json else _worded(lines), SESSION_TABLE, args.json)


def cmd_session_show(sql: Sql, args) -> None:
    show_record(plain.session_document(sql, args.id), args.json)


def cmd_session_trades(sql: Sql, args) -> None:
    _rows(plain.trades(sql, args.id, limit=args.limit, offset=args.offset), TRADE_TABLE,
          args.json)


def cmd_events(sql: Sql, args) -> None:
    rows = plain.events(sql, limit=args.limit, severity=args.severity, source_id=args.source)
    if args.json:
        emit_json(rows)
        return
    for row in rows:  # one line each, whatever a message holds
        print(f"{row['ts']:%Y-%m-%d %H:%M:%S} {row['severity']:<7} "
              f"{single_line(row['source']):<14} {single_line(row['message'])}")


def cmd_news_list(sql: Sql, args) -> None:
    cli_news.list_news(sql, args)


def cmd_data_list(sql: Sql, args) -> None:
    cli_data.list_data(sql, args)


COMMANDS = {("health", None): cmd_health, ("agents", None): cmd_agents,
            ("agent", "show"): cmd_agent_show, ("sessions", None): cmd_sessions,
            ("session", "show"): cmd_session_show, ("session", "trades"): cmd_session_trades,
            ("events", None): cmd_events, ("news", "list"): cmd_news_list,
            ("data", "list"): cmd_data_list}


def command(args):
    """The read command `args` names, or None."""
    return COMMANDS.get((args.command, getattr(args, "action", None)))
