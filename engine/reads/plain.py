"""The CLI's reads in plain SQL (engine.store.plainsql), importing neither the ORM nor pandas:
sessions, one session, its fills, agents, one agent, health, events. Each returns the record
engine.reads.builders builds for the dashboard's ORM reads too, from the same column values;
every read is bounded in SQL. Called with an `Sql` (the CLI's own connection) or an
SQLAlchemy engine."""

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.core.lifecycle import WORKING_ORDER
from engine.errors import BadInput, NotFound, shown
from engine.log_files import SEVERITIES
from engine.params import MAX_ID, agent_key, optional_text, session_key, whole
from engine.reads import builders
from engine.reads.builders import MAX_EVENTS, MAX_ROWS, SESSION_COLUMNS, Health
from engine.store.plainsql import Sql, loaded, loaded_time, reading

if TYPE_CHECKING:  # the record classes load when a builder makes one
    from engine.reads.records import AgentCard, SessionDocument

# how each table's columns are stored (engine.store.models), to load them as the ORM does
SESSION_TIMES = ("created_at", "started_at", "stopped_at", "last_bar_at", "window_from",
                 "window_to", "ff_until")
SESSION_JSONS = ("params", "walk_rule", "first_price", "last_price", "config_history")
SESSION_FLAGS = ("archived", "paused_by_system")
AGENT_TIMES = ("status_changed_at", "last_active_at", "retry_at", "metrics_reset_at")
AGENT_JSONS = ("config", "state", "summary")


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def sessions(source: Sql | Any, include_archived: bool = False, include_sweeps: bool = False,
             limit: int = 2000) -> list[dict[str, Any]]:
    """Latest sessions first (builders.session_line); a sweep's variants only with
    `include_sweeps`, archived ones only with `include_archived`."""
    limit = whole(limit, "limit", 1, MAX_ROWS)
    where = [*(["archived = ?"] if not include_archived else []),
             *(["sweep_id IS NULL"] if not include_sweeps else [])]
    query = (f"SELECT {', '.join(SESSION_COLUMNS)} FROM paper_session"
             + (f" WHERE {' AND '.join(where)}" if where else "")
             + " ORDER BY id DESC LIMIT ?")
    with reading(source) as sql:
        rows = sql.records(query, *([False] if not include_archived else []), limit)
        hold = builders.hold(_agents(sql))
    return [builders.session_line(loaded(r, times=("started_at", "created_at"),
                                         flags=("archived",)), hold) for r in rows]


def _session(sql: Sql, session_id: Any) -> dict[str, Any]:
    key = session_key(session_id)
    found = sql.records("SELECT * FROM paper_session WHERE id = ?", key)
    if not found:
        raise NotFound(f"no session {key}")
    return loaded(found[0], times=SESSION_TIMES, jsons=SESSION_JSONS, flags=SESSION_FLAGS)


def session_document(source: Sql | Any, session_id: Any) -> "SessionDocument":
    """The session document (engine.reads.queries.session_document's, read in plain SQL)."""
    with reading(source) as sql:
        row = _session(sql, session_id)
        pending = sql.value(f"SELECT COUNT(*) FROM trade_order WHERE session_id = ? AND status "
                            f"IN ({_marks(len(WORKING_ORDER))})", row["id"],
                            *(str(s) for s in WORKING_ORDER))
        held = sql.rows("SELECT symbol, qty, avg_price, last_price FROM position WHERE "
                        "session_id = ? AND qty > 0 ORDER BY symbol", row["id"])
        hold = builders.hold(_agents(sql))
    return builders.session_document(row, pending, held, hold)


def trades(source: Sql | Any, session_id: Any, limit: int = 500,
           offset: int = 0) -> list[dict[str, Any]]:
    """A page of a session's fills, newest first, with the order's lineage (why it
    happened) and, for a manual order, who placed it (`by`): `limit` fills after skipping the
    newest `offset`."""
    limit, offset = whole(limit, "limit", 1, MAX_ROWS), whole(offset, "offset", 0, MAX_ID)
    with reading(source) as sql:
        key = _session(sql, session_id)["id"]
        rows = sql.records(
            'SELECT fill.ts AS "time", fill.bar_ts AS bar_time, fill.symbol, fill.side, '
            "fill.qty, fill.price, fill.fee, fill.realized_pnl, fill.order_id, "
            "trade_order.reason, trade_order.lineage, fill.priced_by, "
            'trade_order.requested_by AS "by" FROM fill JOIN '
            "trade_order ON trade_order.id = fill.order_id WHERE fill.session_id = ? "
            "ORDER BY fill.id DESC LIMIT ? OFFSET ?", key, limit, offset)
    return [loaded(r, times=("time", "bar_time"), jsons=("lineage",)) for r in rows]


def _agents(sql: Sql) -> list[dict[str, Any]]:
    return [loaded(r, times=AGENT_TIMES, jsons=AGENT_JSONS)
            for r in sql.records("SELECT * FROM agent")]


def agents(source: Sql | Any) -> "list[AgentCard]":
    """Every agent's card in pipeline order."""
    with reading(source) as sql:
        return builders.agent_cards(_agents(sql))


def agent(source: Sql | Any, agent_id: str) -> "AgentCard":
    with reading(source) as sql:
        found = sql.records("SELECT * FROM agent WHERE id = ?", agent_key(agent_id))
    if not found:
        raise NotFound(f"no agent {agent_id!r}")
    return builders.agent_card(loaded(found[0], times=AGENT_TIMES, jsons=AGENT_JSONS))


def health(source: Sql | Any) -> Health:
    from engine.reads.fleet import lease_info

    now = datetime.now(UTC)
    with reading(source) as sql:
        engine = lease_info(sql)
        rows = _agents(sql)
        errors = sql.value("SELECT COUNT(*) FROM event WHERE severity = ? AND ts >= ?",
                           "error", sql.stored_time(now - timedelta(hours=1)))
        latest = newest_bars(sql)
    return builders.health(engine, rows, errors, latest, now)


NEWEST_BAR = ("SELECT symbol, timeframe, (SELECT MAX(b.ts) FROM bar AS b WHERE b.symbol ="
              " bar.symbol AND b.timeframe = bar.timeframe) FROM bar{after}"
              " ORDER BY symbol, timeframe LIMIT 1")  # a dataset and its newest bar
AFTER = " WHERE (symbol, timeframe, ts) > (?, ?, ?)"  # past a dataset's newest bar


def newest_bars(sql: Sql) -> list[tuple[str, str, datetime]]:
    """Each dataset's newest bar (symbol, timeframe, time), datasets in key order. Walked one
    dataset a statement, each two seeks on the bar key, the next from past the last one's
    newest bar (a seek past (symbol, timeframe) alone steps over that dataset's every bar):
    grouping the bar table read every bar ever stored (7-8 ms at 35,000 bars, more with each
    one); the walk takes 0.1 ms."""
    found, row = [], sql.rows(NEWEST_BAR.format(after=""))
    while row:
        symbol, timeframe, ts = row[0]
        found.append((symbol, timeframe, loaded_time(ts)))
        row = sql.rows(NEWEST_BAR.format(after=AFTER), symbol, timeframe, ts)
    return found


def events(source: Sql | Any, limit: int = 100, severity: str | None = None,
           source_id: str | None = None) -> list[dict[str, Any]]:
    """The activity feed, newest first; filters run in SQL on indexed columns."""
    limit = whole(limit, "limit", 1, MAX_EVENTS)
    if severity is not None and severity not in SEVERITIES:
        raise BadInput(f"severity must be one of {', '.join(SEVERITIES)} (got "
                       f"{shown(severity)})")
    source_id = optional_text(source_id, "source", 64)
    where = [*(["severity = ?"] if severity else []), *(["source = ?"] if source_id else [])]
    query = ("SELECT id, ts, severity, source, kind, message FROM event"
             + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC LIMIT ?")
    params = [p for p in (severity, source_id) if p]
    with reading(source) as sql:
        return [loaded(r, times=("ts",)) for r in sql.records(query, *params, limit)]
