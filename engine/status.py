"""Reads that need no pandas: the system summary, health, one agent, a log tail. The CLI's
`status`, `health`, `agent show` and `logs` start fast because they import only this;
`engine.queries` offers them to the dashboard too."""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.db_types import utcnow
from engine.errors import BadInput, NotFound
from engine.lease import LeaseInfo, lease_info
from engine.lifecycle import AgentStatus, CommandStatus, OrderStatus, allowed_actions
from engine.logs import Tail, check_log_id, tail
from engine.models import (
    Agent,
    Bar,
    Command,
    Event,
    Fill,
    LoginFailure,
    Order,
    PaperSession,
    SystemState,
)

ENGINE_LOG = "engine"
DEGRADED = "degraded"  # running, but its last ticks failed
MAX_ID = 2**63 - 1  # the largest id a BIGINT holds
HEALTH_FORMULA = (
    "health % = 40 × engine heartbeat fresh (≤ 6 s) + 30 × share of agents running with no "
    "failing ticks + 20 × max(0, 1 − errors in the last hour ÷ 10) + 10 × market data ticked "
    "without error in the last 10 s; errors = error events + failed agent ticks"
)

@dataclass(frozen=True)
class SystemSummary:
    status: str
    allowed: list[str]
    engine: LeaseInfo
    agents: dict[str, int]
    sessions: dict[str, int]
    fills_last_hour: int
    pending_orders: int
    pending_commands: int


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


def _counts(s: Session, column, *where) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    for clause in where:
        query = query.where(clause)
    return {key: n for key, n in s.execute(query)}


def system_summary(db: Engine) -> SystemSummary:
    since = utcnow() - timedelta(hours=1)
    with Session(db) as s:
        state = s.get(SystemState, 1)
        status = state.status if state else "stopped"
        return SystemSummary(
            status=status,
            allowed=allowed_actions("system", status),
            engine=lease_info(db),
            agents=_counts(s, Agent.status),
            sessions=_counts(s, PaperSession.status, PaperSession.archived.is_(False)),
            fills_last_hour=s.execute(select(func.count()).select_from(Fill)
                                      .where(Fill.ts >= since)).scalar_one(),
            pending_orders=s.execute(select(func.count()).select_from(Order).where(
                Order.status == OrderStatus.PENDING)).scalar_one(),
            pending_commands=s.execute(select(func.count()).select_from(Command).where(
                Command.status == CommandStatus.PENDING)).scalar_one(),
        )


def health(db: Engine) -> Health:
    engine = lease_info(db)
    now = utcnow()
    with Session(db) as s:
        agents = list(s.execute(select(Agent)).scalars())
        errors = s.execute(select(func.count()).select_from(Event).where(
            Event.severity == "error", Event.ts >= now - timedelta(hours=1))).scalar_one()
        latest = s.execute(select(Bar.symbol, Bar.timeframe, func.max(Bar.ts))
                           .group_by(Bar.symbol, Bar.timeframe)).all()
    errors += sum((a.summary or {}).get("errors_last_hour") or 0 for a in agents)
    running = sum(condition(a) == AgentStatus.RUNNING for a in agents)
    market = next((a for a in agents if a.kind == "market_data"), None)
    market_active = bool(
        market and condition(market) == AgentStatus.RUNNING and market.last_active_at
        and (now - market.last_active_at).total_seconds() <= 10
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


def condition(row: Agent) -> str:
    """The status a user should see: a running agent whose recent ticks fail is degraded."""
    if row.status == AgentStatus.RUNNING and row.consecutive_errors:
        return DEGRADED
    return row.status


def agent_dict(row: Agent) -> dict:
    return {
        "id": row.id, "name": row.name, "kind": row.kind, "status": row.status,
        "condition": condition(row), "consecutive_errors": row.consecutive_errors,
        "status_changed_at": row.status_changed_at, "last_active_at": row.last_active_at,
        "ticks": row.ticks, "items_processed": row.items_processed, "errors": row.errors,
        "last_tick_ms": round(row.last_tick_ms, 2), "last_error": row.last_error,
        "retry_at": row.retry_at, "config": row.config, "summary": row.summary,
        "allowed": allowed_actions("agent", row.status),
    }


def agent(db: Engine, agent_id: str) -> dict:
    with Session(db) as s:
        row = s.get(Agent, agent_id) if isinstance(agent_id, str) else None
    if row is None:
        raise NotFound(f"no agent {agent_id!r}")
    return agent_dict(row)


def log_tail(db: Engine, logs_dir: Path, log_id: str, lines: int = 100,
             level: str | None = None, grep: str | None = None) -> Tail:
    """Tail a log whose id is an agent in the database, `session-N` of a session, or engine."""
    check_log_id(log_id)
    with Session(db) as s:
        if log_id.startswith("session-"):
            known = s.get(PaperSession, int(log_id.removeprefix("session-"))) is not None
        else:
            known = log_id == ENGINE_LOG or s.get(Agent, log_id) is not None
    if not known:
        raise NotFound(f"no agent or session {log_id!r}")
    return tail(logs_dir, log_id, lines=lines, level=level, grep=grep)


def as_dict(obj) -> dict:
    return asdict(obj)


def session_key(session_id) -> int:
    """A session id as the database can look it up: a whole number in range."""
    try:
        key = int(str(session_id).strip())
    except (TypeError, ValueError):
        raise BadInput(f"session id must be a whole number (got {session_id!r})") from None
    if not 1 <= key <= MAX_ID:
        raise NotFound(f"no session {key}")
    return key


def login_failures(db: Engine, client: str, within_s: float) -> list[datetime]:
    """When `client` gave a wrong shared password in the last `within_s` seconds, oldest
    first."""
    since = utcnow() - timedelta(seconds=within_s)
    with Session(db) as s:
        return list(s.execute(select(LoginFailure.ts).where(
            LoginFailure.client == client[:200], LoginFailure.ts >= since)
            .order_by(LoginFailure.ts)).scalars())
