"""What a user's session spec must be: every field checked, named in the first error."""

from typing import TYPE_CHECKING, Any

from engine.control import windows
from engine.core.fill_models import CUSTOM, DEFAULT_PRESET, PRESETS, preset_values
from engine.core.fills import PRICE_RULES
from engine.core.news import SENTIMENT_INPUTS
from engine.core.settings import DEFAULT_TIMEFRAME, MAX_CASH, STARTING_CASH, TradeSettings
from engine.errors import BadInput, shown
from engine.market import catalog
from engine.params import Param, mapping, parse_params
from engine.registry import strategies

if TYPE_CHECKING:
    from sqlalchemy import Engine

RESTART_POLICIES = ("resume", "paused")
RISK_FIELDS = ("fee_bps", "slippage_bps", "position_size", "stop_loss_pct", "take_profit_pct")

# The fill model: a preset, and any of its values the user sets (engine/core/fill_models.py).
FILL_MODEL = Param("fill_model", str, DEFAULT_PRESET, "how fills are priced and sized",
                   choices=(*PRESETS, CUSTOM))
FILL_FIELDS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("fee_bps", float, TradeSettings.fee_bps, "fee in basis points of notional",
              0, 1000),
        Param("slippage_bps", float, TradeSettings.slippage_bps, "slippage in basis points of "
              "price", 0, 1000),
        Param("impact_bps", float, 0.0, "extra slippage in bps at 100 % of a bar's volume",
              0, 10_000),
        Param("volume_cap_pct", float, 0.0, "at most this % of a bar's volume fills per bar; "
              "0 = no cap", 0, 100),
        Param("latency_bars", int, 0, "bars between the decision and the first chance to fill",
              0, 100),
        Param("fill_price", str, "open", "market orders fill at the open, or the worse of "
              "open and close", choices=PRICE_RULES),
        Param("cancel_after_bars", int, 0, "cancel what is unfilled after this many bars; "
              "0 = never", 0, 100_000),
    )
}
TIMEFRAME = Param("timeframe", str, DEFAULT_TIMEFRAME, "bar size",
                  choices=tuple(catalog.TIMEFRAMES))
_BASE_FIELDS: dict[str, Param] = {
    p.name: p
    for p in (
        TIMEFRAME,
        Param("cash", float, STARTING_CASH, "starting cash in quote currency", 1, MAX_CASH),
        Param("position_size", float, TradeSettings.position_size, "fraction of equity per entry",
              0.001, 1),
        Param("stop_loss_pct", float, 0.0, "exit when price falls this % below entry; 0 = off",
              0, 99),
        Param("take_profit_pct", float, 0.0, "exit when price rises this % above entry; 0 = off",
              0, 10_000),
        Param("restart_policy", str, "resume", "after an engine restart",
              choices=RESTART_POLICIES),
        Param("sentiment", str, TradeSettings.sentiment, "the strategy's sentiment input: "
              "stored headline scores (news), the mood of its own closes (price-mood) or none",
              choices=SENTIMENT_INPUTS),
    )
}
SESSION_FIELDS = {**_BASE_FIELDS, **FILL_FIELDS}  # every field of a spec, with its bounds


def parse_fill_spec(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The preset and the fill values the user set (None = the preset's), popped from `spec`
    and checked."""
    model = FILL_MODEL.parse(spec.pop("fill_model", None) or FILL_MODEL.default)
    given = {k: spec.pop(k) for k in FILL_FIELDS if k in spec}
    given = {k: v for k, v in given.items() if v is not None}
    return model, parse_params(FILL_FIELDS, given, partial=True)


def fill_fields(model: str, given: dict[str, Any], symbols: list[str],
                timeframe: str) -> dict[str, Any]:
    """The fill model's columns: the preset's values for `symbols` (their datasets' asset
    classes), `given` overriding them."""
    values = preset_values(model, catalog.asset_classes(symbols, timeframe)) | given
    return {**values, "fill_model": model,
            "volume_cap_pct": values["volume_cap_pct"] or None,
            "cancel_after_bars": values["cancel_after_bars"] or None}


def parse_symbols(raw: Any, available: list[str]) -> list[str]:
    """Symbols from a comma-separated string or a list: upper-case, distinct, available."""
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise BadInput(f"symbols must be a comma-separated list like BTC-USD,ETH-USD (got "
                       f"{shown(raw)})")
    chosen = [str(s).strip().upper() for s in items if str(s).strip()]
    if not chosen:
        raise BadInput("symbols must name at least one symbol")
    if len(set(chosen)) != len(chosen):
        raise BadInput("symbols must not repeat a symbol")
    unknown = [s for s in chosen if s not in available]
    if unknown:
        raise BadInput(f"symbols: no data for {', '.join(shown(s) for s in unknown[:5])}; "
                       f"available: {', '.join(available)}")
    return chosen


def _clock_fields(symbols: list[str], timeframe: str, clock: dict[str, Any]) -> dict[str, Any]:
    source = str(clock["source"] or "replay").strip().lower()
    if source not in windows.SOURCES:
        raise BadInput(f"source must be one of {', '.join(windows.SOURCES)} (got "
                       f"{shown(source)})")
    speed = windows.parse_speed(clock["speed"] if clock["speed"] not in (None, "") else "1")
    if source == "live":
        if clock["from"] or clock["to"]:
            raise BadInput("from/to: a live session trades bars as they arrive; leave them "
                           "empty or choose source replay")
        if clock["until"] or clock["then"]:
            raise BadInput("until/then: a live session follows its feed; only a replay "
                           "session fast-forwards")
        return {"source": "live", "speed": speed or 1.0}
    stored = catalog.symbols(timeframe)  # shipped and imported
    missing = [s for s in symbols if s not in stored]
    if missing:
        raise BadInput(f"symbols: no {timeframe} data for {', '.join(missing)} to "
                       f"replay; available: {', '.join(stored)}")
    window = windows.replay_window(symbols, timeframe, clock["from"], clock["to"])
    return {"source": "replay", "speed": speed, "window_from": window.start,
            "window_to": window.end, "bars_total": window.bars,
            **windows.fast_forward(speed, clock["until"], clock["then"], window.start,
                                   window.end)}


def parse_name(raw: Any) -> str:
    """A session name: 1 to 100 characters of one printable line."""
    if raw is not None and not isinstance(raw, str):
        raise BadInput(f"name must be text (got {type(raw).__name__})")
    name = (raw or "").strip()
    if not 1 <= len(name) <= 100:
        raise BadInput("name must be 1 to 100 characters")
    if not name.isprintable():
        raise BadInput("name must be one line of printable text (no line breaks, tabs or "
                       "control characters)")
    return name


def validate_session(db: "Engine", spec: dict[str, Any]) -> dict[str, Any]:
    """Turn a user's session spec into PaperSession fields, naming the first bad field."""
    spec = mapping(spec, "session")
    name = parse_name(spec.pop("name", ""))
    loaded = strategies.current()
    strategy = strategies.resolve(str(spec.pop("strategy", "")), loaded)
    raw_symbols = spec.pop("symbols", "")
    params = strategy.validate(mapping(spec.pop("params", None), "params"))
    clock = {k: spec.pop(k, None) for k in ("source", "from", "to", "speed", "until", "then")}
    model, fill_values = parse_fill_spec(spec)
    fields = parse_params(_BASE_FIELDS, spec, where="")
    cash = fields.pop("cash")
    from engine.reads.queries import available_symbols  # on use: pandas only when creating

    symbols = parse_symbols(raw_symbols, available_symbols(db, fields["timeframe"]))
    return {
        **fields,
        **fill_fields(model, fill_values, symbols, fields["timeframe"]),
        **_clock_fields(symbols, fields["timeframe"], clock),
        "name": name,
        "strategy": strategy.name,
        "strategy_source": strategies.source_hash(strategy.name, loaded),
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
