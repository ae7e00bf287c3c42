"""The typed records the read API returns: what a page, the CLI and a test see of a session,
named fields in one place (a typo is an AttributeError at once, not a KeyError at run time).
`asdict` turns one into the JSON document the CLI prints."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PositionLine:
    """A holding of a session, marked at the last price (quote currency)."""

    symbol: str
    qty: float
    avg_price: float
    last_price: float
    market_value: float

    @property
    def unrealized_pnl(self) -> float:
        return (self.last_price - self.avg_price) * self.qty


@dataclass(frozen=True, slots=True)
class SessionDocument:
    """A session as the detail view and `session show` present it: state, money, settings,
    clock, positions and metrics."""

    id: int
    name: str
    status: str
    condition: str  # the word every surface shows (engine.reads.words.session_word)
    strategy: str
    symbols: list[str]
    timeframe: str
    params: dict[str, Any]
    walk_rule: dict[str, Any] | None  # a graduated walk-forward's rule (params re-selected)
    starting_cash: float
    cash: float
    equity: float
    return_pct: float
    trades: int
    pending_orders: int
    fill_model: str
    fee_bps: float
    slippage_bps: float
    impact_bps: float
    volume_cap_pct: float | None
    latency_bars: int
    fill_price: str
    cancel_after_bars: int | None
    position_size: float
    stop_loss_pct: float | None
    take_profit_pct: float | None
    restart_policy: str
    sentiment: str  # the strategy's sentiment input: news, price-mood or none
    archived: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    last_bar_at: datetime | None
    source: str
    window_from: datetime | None
    window_to: datetime | None
    speed: float | str  # bars per second, or "max"
    ff_until: datetime | None
    ff_then: float | None
    bars_done: int
    bars_total: int | None
    progress_pct: float | None
    wait_reason: str | None
    config_history: list[dict[str, Any]]
    allowed: list[str]
    positions: list[PositionLine]
    metrics: dict[str, Any]
    sweep_id: int | None = None  # the sweep it is a variant of (a backtest, not the desk's)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AgentCard:
    """An agent as its card, the diagram and `agent show` present it."""

    id: str
    name: str
    kind: str
    status: str
    condition: str  # the word every surface shows (engine.reads.words.agent_word)
    consecutive_errors: int
    status_changed_at: datetime | None
    last_active_at: datetime | None
    ticks: int
    items_processed: int
    errors: int
    last_tick_ms: float
    last_error: str | None
    retry_at: datetime | None
    config: dict[str, Any]
    summary: dict[str, Any]
    allowed: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SweepDocument:
    """A sweep as its tab, `sweep show` and its report present it: state, progress, spec,
    window and what may be done with it."""

    id: int
    name: str
    status: str
    done: int
    total: int
    skipped: int
    progress_pct: float | None
    strategy: str
    symbols: list[str]
    timeframe: str
    window_from: str
    window_to: str
    split_at: datetime | None
    grid: dict[str, list[Any]]
    fill_model: str
    cancel_requested: bool
    archived: bool
    error: str | None
    wait_reason: str | None
    runner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    can_cancel: bool
    can_archive: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Difference:
    """A fill Reconcile found on one side only ("missing", "extra") or on both but unequal
    ("different"), with the cause it names; quantities and prices of the side that has it."""

    kind: str
    bar_ts: datetime
    symbol: str
    side: str
    expected_qty: float | None
    expected_price: float | None
    actual_qty: float | None
    actual_price: float | None
    cause: str


@dataclass(frozen=True, slots=True)
class ManualOrder:
    """An order an operator placed (Close position): Reconcile replays it at its bar."""

    seq: int  # its number among the session's orders
    symbol: str
    side: str
    qty: float
    filled: float
    status: str
    decision_bar: datetime  # the bar it followed; it filled from the next bar on
    by: str | None  # who asked for it
