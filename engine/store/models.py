"""SQLModel tables: everything the engine and the dashboard share lives here."""

from datetime import datetime

from sqlalchemy import JSON, Index, String, text
from sqlmodel import Field, SQLModel

from engine.core.lifecycle import (
    AgentStatus,
    CommandStatus,
    OrderStatus,
    SessionStatus,
    SystemStatus,
)
from engine.core.records import STRATEGY
from engine.core.settings import DEFAULT_TIMEFRAME, TradeSettings
from engine.store.types import UTCDateTime, utcnow

# The events the alert groups read (engine.reads.status), in the words of a partial index:
# a query must repeat them literally for either database to use it.
ALERT_EVENTS = text("severity IN ('warning', 'error')")


def time_field(**kw) -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _status(default: str, **kw) -> str:
    return Field(default=default, sa_type=String(16), **kw)


class SystemState(SQLModel, table=True):
    __tablename__ = "system_state"
    id: int = Field(default=1, primary_key=True)
    status: str = _status(SystemStatus.STOPPED)
    changed_at: datetime = time_field()


class EngineLease(SQLModel, table=True):
    """The single row an engine must hold to run; its heartbeat says it is alive."""

    __tablename__ = "engine_lease"
    id: int = Field(default=1, primary_key=True)
    token: str = Field(sa_type=String(64))
    holder: str = Field(sa_type=String(200), description="hostname:pid of the engine")
    hostname: str = Field(sa_type=String(200))
    pid: int
    started_at: datetime = time_field()
    heartbeat_at: datetime = time_field()
    released: bool = False
    cpu_pct: float = 0.0
    rss_mb: float = 0.0


class AgentBase(SQLModel):
    id: str = Field(primary_key=True, sa_type=String(64))
    name: str = Field(sa_type=String(100))
    kind: str = Field(sa_type=String(32), description="registered agent type")
    config: dict = Field(default_factory=dict, sa_type=JSON)


class Agent(AgentBase, table=True):
    __tablename__ = "agent"
    status: str = _status(AgentStatus.STOPPED)
    status_changed_at: datetime = time_field()
    state: dict = Field(default_factory=dict, sa_type=JSON, description="runtime cursor")
    ticks: int = 0
    items_processed: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    last_tick_ms: float = 0.0
    last_active_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: dict = Field(default_factory=dict, sa_type=JSON, description="key figures for UI")
    metrics_reset_at: datetime = time_field()


class PaperSessionBase(SQLModel):
    name: str = Field(sa_type=String(100))
    strategy: str = Field(sa_type=String(32))
    symbols: str = Field(sa_type=String(200), description="comma-separated symbols")
    timeframe: str = Field(default=DEFAULT_TIMEFRAME, sa_type=String(8))
    params: dict = Field(default_factory=dict, sa_type=JSON)
    strategy_source: str | None = Field(default=None, sa_type=String(64),
                                        description="sha256 of a user strategy's file")
    walk_rule: dict | None = Field(default=None, sa_type=JSON(none_as_null=True),
                                   description="a graduated walk-forward's rule (WalkRule)")
    starting_cash: float = Field(description="in quote currency")
    fee_bps: float = TradeSettings.fee_bps
    slippage_bps: float = TradeSettings.slippage_bps
    position_size: float = Field(default=TradeSettings.position_size,
                                 description="fraction of equity per entry")
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    restart_policy: str = Field(default="resume", sa_type=String(16))
    source: str = Field(default="replay", sa_type=String(8), description="replay or live")
    window_from: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                         description="first traded bar (market time)")
    window_to: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                       description="last bar of a replay window")
    speed: float | None = Field(default=None, description="bars per second; None = max")
    fill_model: str = Field(default="custom", sa_type=String(16),
                            description="the preset the fill settings came from, or custom")
    volume_cap_pct: float | None = Field(default=None,
                                         description="at most this % of a bar's volume fills")
    latency_bars: int = Field(default=0, description="bars between decision and eligibility")
    impact_bps: float = Field(default=0.0, description="extra bps at 100 % of bar volume")
    fill_price: str = Field(default="open", sa_type=String(8),
                            description="market orders fill at the open, or the worse of "
                                        "open and close")
    cancel_after_bars: int | None = Field(default=None,
                                          description="cancel what is unfilled after N bars")
    sentiment: str = Field(default=TradeSettings.sentiment, sa_type=String(16),
                           description="the strategy's sentiment input: news, price-mood, none")


class PaperSession(PaperSessionBase, table=True):
    __tablename__ = "paper_session"
    __table_args__ = (Index("ix_paper_session_status_archived", "status", "archived"),)
    id: int | None = Field(default=None, primary_key=True)
    status: str = _status(SessionStatus.CREATED)
    paused_by_system: bool = False
    archived: bool = False
    error: str | None = None
    cash: float = Field(description="in quote currency")
    equity: float = Field(description="cash + holdings at the last close, after every fill")
    marked_equity: float = Field(description="equity at the last bar snapshot (for returns)")
    peak_equity: float
    max_drawdown_pct: float = 0.0
    realized_pnl: float = 0.0
    fees_paid: float = 0.0
    trade_count: int = 0
    wins: int = 0
    losses: int = 0
    gross_profit: float = 0.0
    gross_loss: float = 0.0
    loss_streak: int = 0
    ret_n: int = Field(default=0, description="bar returns seen, for Sharpe")
    ret_sum: float = 0.0
    ret_sumsq: float = 0.0
    first_price: dict = Field(default_factory=dict, sa_type=JSON, description="buy-and-hold base")
    last_price: dict = Field(default_factory=dict, sa_type=JSON, description="close at the cursor")
    bars_done: int = Field(default=0, description="bar times traded so far")
    bars_total: int | None = Field(default=None, description="bar times in a replay window")
    wait_reason: str | None = Field(default=None, sa_type=String(200),
                                    description="why a running session's clock is waiting")
    settings_rev: int = Field(default=0, description="bumped by every settings change")
    config_history: list = Field(default_factory=list, sa_type=JSON,
                                 description="settings changes: bar, before, after")
    interventions: list = Field(default_factory=list, sa_type=JSON,
                                description="the operator's actions on its trading "
                                            "(engine.core.records.Intervention)")
    ff_until: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                      description="fast-forward up to this bar, then play")
    ff_then: float | None = Field(default=None, description="bars/s after ff_until")
    created_at: datetime = time_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_bar_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                         description="the clock: last bar traded (market time)")
    sweep_id: int | None = Field(default=None, foreign_key="sweep.id", index=True,
                                 description="the sweep this session is a variant of")
    origin_session_id: int | None = Field(default=None, foreign_key="paper_session.id",
                                          description="the sweep variant it graduated from")


class Bar(SQLModel, table=True):
    __tablename__ = "bar"
    symbol: str = Field(primary_key=True, sa_type=String(32))
    timeframe: str = Field(primary_key=True, sa_type=String(8))
    ts: datetime = Field(primary_key=True, sa_type=UTCDateTime, description="bar open time")
    open: float
    high: float
    low: float
    close: float
    volume: float


class SentimentScore(SQLModel, table=True):
    __tablename__ = "sentiment_score"
    __table_args__ = (Index("ix_sentiment_symbol_id", "symbol", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(sa_type=String(32))
    ts: datetime = time_field()
    score: float = Field(description="-1 (bearish) .. +1 (bullish)")
    label: str = Field(sa_type=String(16))
    source: str = Field(sa_type=String(32), description="rss, csv or price-mood")
    item_count: int = 0
    headlines: list = Field(default_factory=list, sa_type=JSON)


class Order(SQLModel, table=True):
    __tablename__ = "trade_order"
    __table_args__ = (
        Index("ix_order_status_session", "status", "session_id"),
        Index("ix_order_session_id", "session_id", "id"),
        Index("ux_order_session_seq", "session_id", "seq", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="paper_session.id")
    seq: int | None = Field(default=None, description="the order's number within its session")
    symbol: str = Field(sa_type=String(32))
    side: str = Field(sa_type=String(4))
    order_type: str = Field(default="market", sa_type=String(8))
    qty: float
    filled_qty: float = 0.0
    limit_price: float | None = None
    stop_price: float | None = None
    status: str = _status(OrderStatus.PENDING)
    decision_bar_ts: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = time_field()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = None
    lineage: dict = Field(default_factory=dict, sa_type=JSON)
    origin: str = Field(default=STRATEGY, sa_type=String(16),
                        description="strategy, or manual: an operator's intervention")
    requested_by: str | None = Field(default=None, sa_type=String(100),
                                     description="who placed a manual order")


class Fill(SQLModel, table=True):
    __tablename__ = "fill"
    __table_args__ = (
        Index("ix_fill_session_id", "session_id", "id"),
        Index("ix_fill_ts", "ts"),
        Index("ux_fill_order_bar", "order_id", "bar_ts", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="trade_order.id")
    session_id: int = Field(foreign_key="paper_session.id")
    symbol: str = Field(sa_type=String(32))
    side: str = Field(sa_type=String(4))
    qty: float
    price: float = Field(description="in quote currency, slippage included")
    fee: float = Field(description="in quote currency")
    realized_pnl: float = 0.0
    bar_ts: datetime = Field(sa_type=UTCDateTime)
    ts: datetime = time_field()
    priced_by: str | None = Field(default=None, sa_type=String(200),
                                  description="the fill model and terms that priced it")


class Position(SQLModel, table=True):
    __tablename__ = "position"
    session_id: int = Field(primary_key=True, foreign_key="paper_session.id")
    symbol: str = Field(primary_key=True, sa_type=String(32))
    qty: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0


class EquitySnapshot(SQLModel, table=True):
    """One row a session and bar: no foreign key (a check a row, the engine's hottest
    write), clustered on its key on SQLite (migration 0016)."""

    __tablename__ = "equity_snapshot"
    __table_args__ = {"sqlite_with_rowid": False}
    session_id: int = Field(primary_key=True)
    ts: datetime = Field(primary_key=True, sa_type=UTCDateTime, description="bar time")
    cash: float
    equity: float


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_severity_id", "severity", "id"),
        Index("ix_event_source_id", "source", "id"),
        Index("ix_event_ts", "ts"),
        Index("ix_event_alert", "source", "kind", "id", "ts", sqlite_where=ALERT_EVENTS,
              postgresql_where=ALERT_EVENTS),
    )
    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = time_field()
    severity: str = Field(default="info", sa_type=String(8))
    source: str = Field(sa_type=String(64))
    kind: str = Field(sa_type=String(32))
    message: str


class AlertAck(SQLModel, table=True):
    """Someone acknowledged a group of alerts (source and kind) up to an event id."""

    __tablename__ = "alert_ack"
    __table_args__ = (Index("ix_alert_ack_source_kind", "source", "kind", "upto_event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(sa_type=String(64))
    kind: str = Field(sa_type=String(32))
    upto_event_id: int
    acknowledged_by: str = Field(sa_type=String(100))
    acknowledged_at: datetime = time_field()


class Command(SQLModel, table=True):
    __tablename__ = "command"
    __table_args__ = (Index("ix_command_status_id", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = time_field()
    target: str = Field(sa_type=String(16), description="system, agent or session")
    target_id: str | None = Field(default=None, sa_type=String(64))
    action: str = Field(sa_type=String(32))
    payload: dict = Field(default_factory=dict, sa_type=JSON)
    status: str = _status(CommandStatus.PENDING)
    message: str | None = None
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_by: str = Field(default="cli", sa_type=String(100))


class NodePosition(SQLModel, table=True):
    """Where the user dragged a node of the agent flow diagram (owned by the UI)."""

    __tablename__ = "node_position"
    node_id: str = Field(primary_key=True, sa_type=String(64))
    x: float
    y: float


class LoginFailure(SQLModel, table=True):
    """A wrong shared password, by client, for the lockout (owned by the UI; kept across
    restarts and shared by every dashboard process on the database)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_client_ts", "client", "ts"),)
    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(sa_type=String(200))
    ts: datetime = time_field()


class Sweep(SQLModel, table=True):
    """A grid of variants of one strategy over one window, run by the engine; each finished
    variant is a completed session (engine/sweeps.py)."""

    __tablename__ = "sweep"
    __table_args__ = (Index("ix_sweep_status_id", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100))
    status: str = _status("queued")
    spec: dict = Field(default_factory=dict, sa_type=JSON,
                       description="the checked spec: base session fields and the grid")
    total: int = Field(description="variants in the grid")
    done: int = Field(default=0, description="variants written as completed sessions")
    split_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                      description="first bar of the out-of-sample window")
    cancel_requested: bool = False
    archived: bool = False
    error: str | None = None
    wait_reason: str | None = Field(default=None, sa_type=String(200))
    runner: str | None = Field(default=None, sa_type=String(200),
                               description="hostname:pid of the engine running it")
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_by: str = Field(default="cli", sa_type=String(100))
    created_at: datetime = time_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SweepVariant(SQLModel, table=True):
    """One finished variant of a sweep: its values on the grid and its figures."""

    __tablename__ = "sweep_variant"
    sweep_id: int = Field(primary_key=True, foreign_key="sweep.id")
    idx: int = Field(primary_key=True, description="its place in the grid, 0, 1, 2…")
    session_id: int = Field(foreign_key="paper_session.id", index=True)
    values: dict = Field(default_factory=dict, sa_type=JSON,
                         description="the grid's values for it (parameters, fill settings)")
    return_pct: float
    buy_hold_pct: float | None = None
    sharpe: float | None = None
    max_drawdown_pct: float = 0.0
    trades: int = 0
    profit_factor: float | None = Field(default=None, description="None: no losing trade")
    in_sample_pct: float | None = Field(default=None, description="return before the split")
    out_sample_pct: float | None = Field(default=None, description="return from the split on")
    return_blocks: list | None = Field(default=None, sa_type=JSON, description="[bars, sum, "
                                       "sum of squares] of its bar returns in 16 runs")

