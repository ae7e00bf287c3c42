"""The dashboard's reads that need no pandas: health, one agent, alerts, the diagram's flow,
login failures. Health and the agent card are built by engine.reads.builders, which the CLI's
plain-SQL reads (engine.reads.plain) share."""

from collections import Counter
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, func, select
from sqlmodel import Session

from engine.core.lifecycle import SessionStatus
from engine.core.news import NEWS
from engine.errors import BadInput, NotFound, shown
from engine.params import agent_key, client_key, whole
from engine.reads import builders
from engine.reads.builders import HEALTH_FORMULA as HEALTH_FORMULA  # the overview page's
from engine.reads.builders import Health
from engine.reads.fleet import lease_info
from engine.reads.plain import newest_bars
from engine.reads.records import AgentCard
from engine.store.models import (
    ALERT_EVENTS,
    Agent,
    AlertAck,
    Event,
    Fill,
    LoginFailure,
    Order,
    PaperSession,
)
from engine.store.plainsql import AlchemySql
from engine.store.types import utcnow

FLOW_WINDOW_S = 60  # the diagram's throughput: what moved in the last minute (wall time)
RECENT_ROWS = 5000  # orders are counted among the newest rows only (bounded cost)
MAX_WITHIN_S = 366 * 86400  # how far back login failures are looked up


@dataclass(frozen=True)
class AlertGroup:
    """The unacknowledged alerts of one (source, kind): how many, when, and the latest."""

    source: str
    kind: str
    count: int
    first_ts: datetime
    last_ts: datetime
    last_event_id: int  # acknowledging the group hides its events up to this id
    severity: str  # of the latest event
    message: str  # of the latest event


@dataclass(frozen=True)
class FlowCounts:
    """What moved through the pipeline in the last FLOW_WINDOW_S seconds of wall time."""

    bars_done: int  # bar times traded by every session so far (a counter: sample it for a rate)
    news_bars: int  # of those, bar times of `news` sessions: each read its stored scores
    news_sessions: int  # running or paused sessions that read stored news (0: none uses it)
    orders: int  # orders decided (Order.created_at)
    fills: dict[int, int]  # fills by session (Fill.ts)


def health(db: Engine) -> Health:
    engine = lease_info(db)
    now = utcnow()
    with Session(db) as s:
        agents = [a.model_dump() for a in s.execute(select(Agent)).scalars()]
        errors = s.execute(select(func.count()).select_from(Event).where(
            Event.severity == "error", Event.ts >= now - timedelta(hours=1))).scalar_one()
        latest = newest_bars(AlchemySql(s.connection()))
    return builders.health(engine, agents, errors, latest, now)


def session_hold(s: Session) -> str | None:
    """Why every running session waits, when a stage of the pipeline it needs is not running
    (engine.reads.builders.hold), or None."""
    return builders.hold(a.model_dump() for a in s.execute(select(Agent)).scalars())


def agent(db: Engine, agent_id: str) -> AgentCard:
    with Session(db) as s:
        row = s.get(Agent, agent_key(agent_id))
        if row is None:
            raise NotFound(f"no agent {agent_id!r}")
        return builders.agent_card(row.model_dump())


def as_dict(obj) -> dict:
    if not is_dataclass(obj) or isinstance(obj, type):
        raise BadInput(f"as_dict takes a record such as Health (got {type(obj).__name__})")
    return asdict(obj)


def login_failures(db: Engine, client: str, within_s: float) -> list[datetime]:
    """When `client` gave a wrong shared password in the last `within_s` seconds, oldest
    first."""
    client = client_key(client)
    if isinstance(within_s, bool) or not isinstance(within_s, int | float) \
            or not 0 <= within_s <= MAX_WITHIN_S:
        raise BadInput(f"within_s must be 0 to {MAX_WITHIN_S} seconds (got {shown(within_s)})")
    since = utcnow() - timedelta(seconds=within_s)
    with Session(db) as s:
        return list(s.execute(select(LoginFailure.ts).where(
            LoginFailure.client == client, LoginFailure.ts >= since)
            .order_by(LoginFailure.ts)).scalars())


def alert_groups(db: Engine, limit: int = 20) -> list[AlertGroup]:
    """Warning and error events not yet acknowledged, grouped by (source, kind), the group with
    the newest event first; a group's events up to its latest acknowledgement are left out."""
    limit = whole(limit, "limit", 1, 1000)
    acked = (select(AlertAck.source, AlertAck.kind,
                    func.max(AlertAck.upto_event_id).label("upto"))
             .group_by(AlertAck.source, AlertAck.kind).subquery())
    last_id = func.max(Event.id)
    # ALERT_EVENTS, as the partial index states it: the scan reads only the alert events, in
    # (source, kind) order, and never the table (`severity IN` with parameters walked them all)
    query = (select(Event.source, Event.kind, func.count(), func.min(Event.ts),
                    func.max(Event.ts), last_id)
             .outerjoin(acked, and_(acked.c.source == Event.source, acked.c.kind == Event.kind))
             .where(ALERT_EVENTS, Event.id > func.coalesce(acked.c.upto, 0))
             .group_by(Event.source, Event.kind).order_by(last_id.desc()).limit(limit))
    with Session(db) as s:
        groups = s.execute(query).all()
        latest = {row.id: row for row in s.execute(
            select(Event.id, Event.severity, Event.message)
            .where(Event.id.in_([g[5] for g in groups])))}
    return [AlertGroup(source, kind, count, first, last, last_event, latest[last_event].severity,
                       latest[last_event].message)
            for source, kind, count, first, last, last_event in groups]


def _recent(s: Session, row_id, stamp, since: datetime) -> int:
    """Rows stamped at or after `since`, among the newest RECENT_ROWS by `row_id`."""
    newest = select(stamp.label("stamp")).order_by(row_id.desc()).limit(RECENT_ROWS).subquery()
    return s.execute(select(func.count()).select_from(newest)
                     .where(newest.c.stamp >= since)).scalar_one()


def flow_counts(db: Engine) -> FlowCounts:
    """The diagram's throughput, from rows the engine stamps when it writes them."""
    since = utcnow() - timedelta(seconds=FLOW_WINDOW_S)
    news = PaperSession.sentiment == NEWS
    live = PaperSession.status.in_((SessionStatus.RUNNING, SessionStatus.PAUSED))
    with Session(db) as s:
        bars, news_bars, news_sessions = s.execute(select(
            func.coalesce(func.sum(PaperSession.bars_done), 0),
            func.coalesce(func.sum(case((news, PaperSession.bars_done), else_=0)), 0),
            func.coalesce(func.sum(case((and_(news, live), 1), else_=0)), 0))).one()
        # counted here, not by GROUP BY session_id: SQLite would then scan every fill in
        # session order (its session index) instead of seeking the recent ones by time
        fills = dict(Counter(s.execute(select(Fill.session_id).where(Fill.ts >= since))
                             .scalars()))
        return FlowCounts(int(bars), int(news_bars), int(news_sessions),
                          _recent(s, Order.id, Order.created_at, since), fills)
