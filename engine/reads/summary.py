"""The reads the CLI's fast path shares with the dashboard, in plain SQL (no ORM, no pandas):
the system summary and a log tail. Called with an `Sql` (the CLI's own connection) or an
SQLAlchemy engine (the dashboard)."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.core.lifecycle import CommandStatus, OrderStatus, SystemStatus, allowed_actions
from engine.errors import NotFound
from engine.log_files import ENGINE_LOG, Tail, check_log_id, tail
from engine.params import MAX_ID
from engine.reads.fleet import LeaseInfo, lease_info
from engine.reads.words import agent_word, pipeline_hold, session_word
from engine.store.plainsql import Sql, reading


@dataclass(frozen=True)
class SystemSummary:
    status: str
    allowed: list[str]
    engine: LeaseInfo
    agents: dict[str, int]  # by the word each shows (engine.reads.words)
    sessions: dict[str, int]
    fills_last_hour: int  # of paper sessions (a sweep's variants are backtests)
    sweep_fills_last_hour: int
    pending_orders: int
    pending_commands: int


# Fills of the last hour: all of them, counted on the fills' time index alone (the last hour of
# a busy engine holds tens of thousands; joining each to its session cost more than the count),
# and those of sweeps' variants, sought per variant of the sweeps that ran within the hour (a
# variant's fills are written while its sweep runs); paper sessions' are the difference.
_RECENT_FILLS = "SELECT COUNT(*) FROM fill WHERE ts >= ?"
_RECENT_SWEEP_FILLS = ("SELECT COUNT(*) FROM fill WHERE ts >= ? AND session_id IN (SELECT id FROM "
                       "paper_session WHERE sweep_id IN (SELECT id FROM sweep WHERE "
                       "finished_at IS NULL OR finished_at >= ?))")


def _sessions(sql: Sql, hold: str | None) -> dict[str, int]:
    """The desk's sessions (not a sweep's variants) counted by the word each shows."""
    counts: Counter[str] = Counter()
    for state, waits, n in sql.rows(
            "SELECT status, wait_reason IS NOT NULL, COUNT(*) FROM paper_session WHERE "
            "archived = ? AND sweep_id IS NULL GROUP BY status, wait_reason IS NOT NULL",
            False):
        counts[session_word(state, "waits" if waits else None, hold).word] += n
    return dict(sorted(counts.items()))


def system_summary(source: Sql | Any) -> SystemSummary:
    """The system's status, the engine, and counts of agents, sessions, fills and queues."""
    with reading(source) as sql:
        status = sql.value("SELECT status FROM system_state WHERE id = 1") or SystemStatus.STOPPED
        since = sql.stored_time(datetime.now(UTC) - timedelta(hours=1))
        sweep_fills = sql.value(_RECENT_SWEEP_FILLS, since, since)
        paper_fills = sql.value(_RECENT_FILLS, since) - sweep_fills
        shown_agents = {kind: agent_word(state, errors, retry_at).word for kind, state, errors,
                        retry_at in sql.rows("SELECT kind, status, consecutive_errors, retry_at "
                                             "FROM agent")}
        return SystemSummary(
            status=str(status),
            allowed=allowed_actions("system", status),
            engine=lease_info(sql),
            agents=dict(sorted(Counter(shown_agents.values()).items())),
            sessions=_sessions(sql, pipeline_hold(shown_agents)),
            fills_last_hour=int(paper_fills),
            sweep_fills_last_hour=int(sweep_fills),
            pending_orders=sql.value("SELECT COUNT(*) FROM trade_order WHERE status = ?",
                                     OrderStatus.PENDING.value),
            pending_commands=sql.value("SELECT COUNT(*) FROM command WHERE status = ?",
                                       CommandStatus.PENDING.value),
        )


def log_tail(source: Sql | Any, logs_dir: Path, log_id: str, lines: int = 100,
             level: str | None = None, grep: str | None = None) -> Tail:
    """Tail a log whose id is an agent in the database, `session-N` of a session, or engine."""
    check_log_id(log_id)
    with reading(source) as sql:
        if log_id.startswith("session-"):
            number = int(log_id.removeprefix("session-"))
            known = number <= MAX_ID and sql.value("SELECT 1 FROM paper_session WHERE id = ?",
                                                   number)
        else:
            known = log_id == ENGINE_LOG or sql.value("SELECT 1 FROM agent WHERE id = ?", log_id)
    if not known:
        raise NotFound(f"no agent or session {log_id!r}")
    return tail(logs_dir, log_id, lines=lines, level=level, grep=grep)
