"""What a session trades with: the settings its results are a function of (with data and
window)."""

from dataclasses import dataclass, fields, replace
from typing import Any

from engine.core.news import PRICE_MOOD

STARTING_CASH = 10_000.0  # quote currency, when a new session names none
DEFAULT_TIMEFRAME = "1h"  # the bar size of a new session or sweep that names none
FAST_FORWARD = "max"  # the speed that plays bars as fast as the engine can (stored as None)


@dataclass(frozen=True)
class WalkRule:
    """A walk-forward rule traded on (engine.core.walk_rule): before the first traded bar and
    every `step_bars` bars after it, each candidate parameter set is replayed on the
    `train_bars` bar times just before, and the best by `objective` trades on."""

    candidates: tuple[dict[str, Any], ...]  # parameter sets, in the sweep's variant order
    train_bars: int
    step_bars: int
    objective: str  # one of engine.core.selection.OBJECTIVES
    bars_per_year: float  # annualises the train runs' figures

    @classmethod
    def of(cls, value: "dict[str, Any] | WalkRule | None") -> "WalkRule | None":
        """The rule of a stored document (its `as_dict`), or None."""
        if value is None or isinstance(value, WalkRule):
            return value
        return cls(tuple(dict(c) for c in value["candidates"]), int(value["train_bars"]),
                   int(value["step_bars"]), str(value["objective"]),
                   float(value["bars_per_year"]))

    def as_dict(self) -> dict[str, Any]:
        return {"candidates": [dict(c) for c in self.candidates], "train_bars": self.train_bars,
                "step_bars": self.step_bars, "objective": self.objective,
                "bars_per_year": self.bars_per_year}


@dataclass(frozen=True)
class TradeSettings:
    strategy: str
    params: dict[str, Any]
    symbols: tuple[str, ...]
    timeframe: str
    starting_cash: float  # quote currency
    fee_bps: float = 10.0  # basis points of notional
    slippage_bps: float = 5.0  # basis points of price
    position_size: float = 0.25  # fraction of equity per entry
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    # the fill model (engine/core/fill_models.py): a preset's name and the values traded with
    fill_model: str = "custom"
    impact_bps: float = 0.0  # extra slippage at 100 % of a bar's volume
    volume_cap_pct: float | None = None  # at most this % of a bar's volume fills per bar
    latency_bars: int = 0  # an order decided on bar t is eligible from bar t + 1 + latency
    fill_price: str = "open"  # market orders: "open", or "worse" of open and close
    cancel_after_bars: int | None = None  # cancel what is still unfilled after N eligible bars
    sentiment: str = PRICE_MOOD  # the strategy's sentiment input (engine/core/news.py)
    walk_rule: WalkRule | None = None  # re-select params as a walk-forward did (else fixed)
    # each symbol's dataset's asset class (crypto, stock, fx): its calendar's gap rule and the
    # Sharpe's year; not a session column but looked up from the datasets (engine.market.catalog)
    asset_classes: tuple[str, ...] = ()  # empty: every symbol crypto

    @classmethod
    def of(cls, row: Any, asset_classes: tuple[str, ...] = ()) -> "TradeSettings":
        """The settings of anything with these attributes (a session row), its symbols' asset
        classes given; symbols may be a comma-separated string."""
        values = {f.name: getattr(row, f.name, None) if f.name == "walk_rule"
                  else getattr(row, f.name) for f in fields(cls) if f.name != "asset_classes"}
        symbols = values["symbols"]
        values["symbols"] = tuple(symbols.split(",") if isinstance(symbols, str) else symbols)
        values["params"] = dict(values["params"])
        values["walk_rule"] = WalkRule.of(values["walk_rule"])
        return cls(**values, asset_classes=tuple(asset_classes))

    def asset_class(self, symbol: str) -> str:
        return dict(zip(self.symbols, self.asset_classes, strict=False)).get(symbol, "crypto")

    def changed(self, changes: dict[str, Any]) -> "TradeSettings":
        return replace(self, **changes)


def describe_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    """'fast 10 → 4, fee_bps 10 → 20': a settings change, strategy parameters by name."""
    def flat(values: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if k != "params"}
        return {**values.get("params", {}), **out}

    old, new = flat(before), flat(after)
    return ", ".join(f"{k} {old.get(k)} → {v}" for k, v in new.items() if old.get(k) != v)


def speed_text(speed: float | None) -> str:
    """A stored speed as users write it: bars per second, or max (stored as None)."""
    return FAST_FORWARD if speed is None else f"{speed:g}"
