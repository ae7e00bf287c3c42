"""What a user's session spec must be: every field checked, named in the first error."""

from typing import Any

from sqlalchemy import Engine

from engine import catalog, windows
from engine.core.strategies import strategy_class
from engine.errors import BadInput
from engine.params import Param, parse_params

RESTART_POLICIES = ("resume", "paused")
RISK_FIELDS = ("fee_bps", "slippage_bps", "position_size", "stop_loss_pct", "take_profit_pct")

SESSION_FIELDS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("timeframe", str, "1h", "bar size", choices=tuple(catalog.TIMEFRAMES)),
        Param("cash", float, 10_000.0, "starting cash in quote currency", 1, 1e12),
        Param("fee_bps", float, 10.0, "fee in basis points of notional", 0, 1000),
        Param("slippage_bps", float, 5.0, "slippage in basis points of price", 0, 1000),
        Param("position_size", float, 0.25, "fraction of equity per entry", 0.001, 1),
        Param("stop_loss_pct", float, 0.0, "exit when price falls this % below entry; 0 = off",
              0, 99),
        Param("take_profit_pct", float, 0.0, "exit when price rises this % above entry; 0 = off",
              0, 10_000),
        Param("restart_policy", str, "resume", "after an engine restart",
              choices=RESTART_POLICIES),
    )
}



def parse_symbols(raw: Any, available: list[str]) -> list[str]:
    """Symbols from a comma-separated string or a list: upper-case, distinct, available."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    chosen = [str(s).strip().upper() for s in items if str(s).strip()]
    if not chosen:
        raise BadInput("symbols must name at least one symbol")
    if len(set(chosen)) != len(chosen):
        raise BadInput("symbols must not repeat a symbol")
    unknown = [s for s in chosen if s not in available]
    if unknown:
        raise BadInput(
            f"symbols: no data for {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return chosen


def _clock_fields(symbols: list[str], timeframe: str, clock: dict[str, Any]) -> dict[str, Any]:
    source = str(clock["source"] or "replay").strip().lower()
    if source not in windows.SOURCES:
        raise BadInput(f"source must be one of {', '.join(windows.SOURCES)} (got {source!r})")
    speed = windows.parse_speed(clock["speed"] if clock["speed"] not in (None, "") else "1")
    if source == "live":
        if clock["from"] or clock["to"]:
            raise BadInput("from/to: a live session trades bars as they arrive; leave them "
                           "empty or choose source replay")
        return {"source": "live", "speed": speed or 1.0}
    shipped = catalog.symbols(timeframe)
    missing = [s for s in symbols if s not in shipped]
    if missing:
        raise BadInput(f"symbols: no shipped {timeframe} data for {', '.join(missing)} to "
                       f"replay; available: {', '.join(shipped)}")
    window = windows.replay_window(symbols, timeframe, clock["from"], clock["to"])
    return {"source": "replay", "speed": speed, "window_from": window.start,
            "window_to": window.end, "bars_total": window.bars}


def parse_name(raw: Any) -> str:
    """A session name: 1 to 100 characters of one printable line."""
    name = str(raw or "").strip()
    if not 1 <= len(name) <= 100:
        raise BadInput("name must be 1 to 100 characters")
    if not name.isprintable():
        raise BadInput("name must be one line of printable text (no line breaks, tabs or "
                       "control characters)")
    return name


def validate_session(db: Engine, spec: dict[str, Any]) -> dict[str, Any]:
    """Turn a user's session spec into PaperSession fields, naming the first bad field."""
    spec = dict(spec)
    name = parse_name(spec.pop("name", ""))
    strategy = strategy_class(str(spec.pop("strategy", "")))
    raw_symbols = spec.pop("symbols", "")
    params = strategy.validate(dict(spec.pop("params", None) or {}))
    clock = {k: spec.pop(k, None) for k in ("source", "from", "to", "speed")}
    fields = parse_params(SESSION_FIELDS, spec, where="")
    cash = fields.pop("cash")
    from engine.queries import available_symbols  # on use: pandas only when creating

    symbols = parse_symbols(raw_symbols, available_symbols(db, fields["timeframe"]))
    return {
        **fields,
        **_clock_fields(symbols, fields["timeframe"], clock),
        "name": name,
        "strategy": strategy.name,
        "symbols": ",".join(symbols),
        "params": params,
        "starting_cash": cash,
        "cash": cash,
        "equity": cash,
        "marked_equity": cash,
        "peak_equity": cash,
        "stop_loss_pct": fields["stop_loss_pct"] or None,
        "take_profit_pct": fields["take_profit_pct"] or None,
    }
