"""The read API's records built from column values by name, one builder each: the ORM reads
(engine.reads.queries, engine.reads.status) pass a model's `model_dump()`, the plain-SQL reads
(engine.reads.plain) a row loaded by engine.store.plainsql.loaded; both get the same record.
Imports neither the ORM nor pandas; what one builder alone needs (the record classes, the
catalog, the statistics, the agent kinds) it imports when it runs, so the CLI's `sessions`
loads none of them."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.core.lifecycle import AgentStatus, allowed_actions
from engine.reads.words import agent_word, pipeline_hold, session_word

if TYPE_CHECKING:
    from engine.reads.fleet import LeaseInfo
    from engine.reads.records import AgentCard, PositionLine, SessionDocument

MAX_ROWS = 100_000  # the most rows one read returns
MAX_EVENTS = 5000  # the most events one read returns
SESSION_COLUMNS = ("id", "name", "symbols", "strategy", "timeframe", "status", "started_at",
                   "created_at", "starting_cash", "cash", "equity", "trade_count", "archived",
                   "realized_pnl", "max_drawdown_pct", "error", "bars_done", "bars_total",
                   "wait_reason")
SESSION_LINE = (*SESSION_COLUMNS, "condition", "why", "return_pct", "pnl",
                "unrealized_pnl")  # a sessions row
TRADE_COLUMNS = ("time", "bar_time", "symbol", "side", "qty", "price", "fee", "realized_pnl",
                 "order_id", "reason", "lineage", "priced_by")
EVENT_COLUMNS = ("id", "ts", "severity", "source", "kind", "message")
HEALTH_FORMULA = (
    "health % = 40 × engine heartbeat fresh (≤ 6 s) + 30 × share of agents running with no "
    "failing ticks + 20 × max(0, 1 − errors in the last hour ÷ 10) + 10 × market data ticked "
    "without error in the last 10 s; errors = error events + failed agent ticks"
)


@dataclass(frozen=True)
class Health:
    score: float
    formula: str
    engine_online: bool
    heartbeat_age_s: float | None
    engine_cpu_pct: float
    engine_rss_mb: float
    errors_last_hour: int
    agents_running: int
    agents_total: int
    data: list[dict] = field(default_factory=list)


def pnl_figures(equity, starting_cash, realized_pnl) -> tuple:
    """(return %, P&L, unrealized P&L) of a session from its equity, starting cash and
    realized P&L, in quote currency: of one session's values or of columns of them alike."""
    pnl = equity - starting_cash
    # equity − starting cash = realized + unrealized exactly: a buy's fee sits in its average
    # price, a sell's in its realized P&L.
    return (equity / starting_cash - 1) * 100, pnl, pnl - realized_pnl


def session_line(row: Mapping[str, Any], hold: str | None = None) -> dict[str, Any]:
    """A row of the sessions list: SESSION_COLUMNS, the word it shows and why (`hold`: why
    every running session waits, engine.reads.builders.hold), and the P&L derived from them."""
    line = {c: row[c] for c in SESSION_COLUMNS}
    shown = session_word(row["status"], row["wait_reason"], hold)
    return_pct, pnl, unrealized = pnl_figures(row["equity"], row["starting_cash"],
                                              row["realized_pnl"])
    return {**line, "condition": shown.word, "why": shown.why, "return_pct": return_pct,
            "pnl": pnl, "unrealized_pnl": unrealized}


def position_lines(marks: Mapping[str, float] | None,
                   held: Iterable[tuple[str, float, float, float]]) -> "list[PositionLine]":
    """Open positions (symbol, qty, avg_price, stored last price) valued at `marks`, the
    session's closes at its current bar (its clock)."""
    from engine.reads.records import PositionLine

    marks = marks or {}
    return [PositionLine(symbol, qty, avg, marks.get(symbol, last), qty * marks.get(symbol, last))
            for symbol, qty, avg, last in held]


def session_document(row: Mapping[str, Any], pending: int,
                     held: Iterable[tuple[str, float, float, float]],
                     hold: str | None = None) -> "SessionDocument":
    """The session document from the session's columns, its working orders, its open
    positions (position_lines) and why every running session waits (`hold`)."""
    from engine.core.fill_models import FILL_FIELDS
    from engine.core.settings import FAST_FORWARD
    from engine.core.stats import session_stats
    from engine.market import catalog
    from engine.reads.records import SessionDocument

    shown = session_word(row["status"], row["wait_reason"], hold)
    lines = position_lines(row["last_price"], held)
    unrealized = float(sum(p.unrealized_pnl for p in lines))
    symbols = row["symbols"].split(",")
    stats = session_stats(dict(row), unrealized, catalog.asset_class(symbols[0], row["timeframe"]))
    same = ("id", "name", "status", "strategy", "timeframe", "params", "walk_rule",
            "starting_cash", "cash", "equity", "fill_model", *FILL_FIELDS, "position_size",
            "stop_loss_pct", "take_profit_pct", "restart_policy", "sentiment", "archived",
            "error", "created_at", "started_at", "stopped_at", "last_bar_at", "source",
            "window_from", "window_to", "ff_until", "ff_then", "bars_done", "bars_total",
            "sweep_id")
    return SessionDocument(
        **{f: row[f] for f in same}, condition=shown.word,
        wait_reason=shown.why or row["wait_reason"], symbols=symbols,
        return_pct=stats["return_pct"],
        trades=row["trade_count"], pending_orders=pending,
        speed=FAST_FORWARD if row["speed"] is None else row["speed"],
        progress_pct=(row["bars_done"] / row["bars_total"] * 100) if row["bars_total"] else None,
        config_history=row["config_history"] or [],
        allowed=allowed_actions("session", row["status"]), positions=lines, metrics=stats)


def condition(row: Mapping[str, Any]) -> str:
    """The word a user sees for an agent (engine.reads.words.agent_word): a running agent whose
    recent ticks fail is degraded; one retrying after an error is in error until a tick
    succeeds."""
    return agent_word(row["status"], row["consecutive_errors"], row["retry_at"]).word


def hold(agents: Iterable[Mapping[str, Any]]) -> str | None:
    """Why every running session waits, when a stage of the pipeline it needs is not running
    (engine.reads.words.pipeline_hold), from the agents' columns; or None."""
    return pipeline_hold({a["kind"]: condition(a) for a in agents})


def agent_card(row: Mapping[str, Any]) -> "AgentCard":
    from engine.reads.records import AgentCard

    return AgentCard(
        id=row["id"], name=row["name"], kind=row["kind"], status=row["status"],
        condition=condition(row), consecutive_errors=row["consecutive_errors"],
        status_changed_at=row["status_changed_at"], last_active_at=row["last_active_at"],
        ticks=row["ticks"], items_processed=row["items_processed"], errors=row["errors"],
        last_tick_ms=round(row["last_tick_ms"], 2), last_error=row["last_error"],
        retry_at=row["retry_at"], config=row["config"], summary=row["summary"] or {},
        allowed=allowed_actions("agent", row["status"]))


def agent_cards(rows: Iterable[Mapping[str, Any]]) -> "list[AgentCard]":
    """Every agent's card in pipeline order."""
    from engine.registry.agents import SPECS

    order = {kind: i for i, kind in enumerate(SPECS)}
    return [agent_card(r) for r in sorted(rows, key=lambda r: order.get(r["kind"], len(order)))]


def health(engine: "LeaseInfo", agents: list[Mapping[str, Any]], error_events: int,
           latest: Iterable[tuple[str, str, datetime]], now: datetime) -> Health:
    """Health from the engine's lease, the agents' columns, the error events of the last hour
    and each dataset's last bar (symbol, timeframe, time)."""
    errors = error_events + sum((a["summary"] or {}).get("errors_last_hour") or 0
                                for a in agents)
    running = sum(condition(a) == AgentStatus.RUNNING for a in agents)
    market = next((a for a in agents if a["kind"] == "market_data"), None)
    market_active = bool(
        market and condition(market) == AgentStatus.RUNNING and market["last_active_at"]
        and (now - market["last_active_at"]).total_seconds() <= 10
    )
    score = (
        40 * engine.online
        + 30 * (running / len(agents) if agents else 0)
        + 20 * max(0.0, 1 - errors / 10)
        + 10 * market_active
    )
    return Health(
        score=round(score, 1), formula=HEALTH_FORMULA, engine_online=engine.online,
        heartbeat_age_s=engine.age_s, engine_cpu_pct=engine.cpu_pct,
        engine_rss_mb=engine.rss_mb, errors_last_hour=errors, agents_running=running,
        agents_total=len(agents),
        data=[{"symbol": sym, "timeframe": tf, "last_bar": ts} for sym, tf, ts in latest],
    )
