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


MANUAL, STRATEGY = "manual", "strategy"  # where an order came from (the order row's origin)
CLOSE = "close"  # the one kind of intervention: sell every holding at the next bar


class Intervention(NamedTuple):
    """An operator's action on a session's trading, recorded with the bar it follows: the core
    applies it on the first bar after `after_bar` — the same bar in the live run and in every
    replay, so results stay a function of data, settings, window and interventions."""

    kind: str  # CLOSE
    after_bar: datetime  # the last bar the session had traded when it was recorded
    by: str  # who asked for it

    @classmethod
    def of(cls, stored: dict) -> "Intervention":
        """An intervention as the session row stores it (its `as_dict`)."""
        return cls(stored["kind"], datetime.fromisoformat(stored["after_bar"]), stored["by"])

    def as_dict(self) -> dict:
        return {"kind": self.kind, "after_bar": self.after_bar.isoformat(), "by": self.by}
