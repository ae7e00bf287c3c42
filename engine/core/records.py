"""The records the trading core hands across its boundary — to the batch store, the paper
broker, sweeps and reconcile: named fields in one place (a typo is an AttributeError at once,
not a KeyError at run time). Money in quote currency."""

from datetime import datetime
from typing import NamedTuple


class FillRecord(NamedTuple):
    """A fill: `qty` of `symbol` at `price` on the bar at `bar_ts`, for the order numbered
    `seq` in its session."""

    seq: int
    symbol: str
    side: str
    qty: float
    price: float
    fee: float
    realized_pnl: float
    bar_ts: datetime
    loss_streak: int  # losing sells in a row after this fill
    priced_by: str  # how the price was made, in one line


class OrderOutcome(NamedTuple):
    """An order that stopped working: `filled`, `cancelled` or `rejected`, and why."""

    seq: int
    status: str
    reason: str | None
