"""What a sweep must be: a strategy, a grid over its parameters (and fill settings), symbols, a
window and an optional out-of-sample split. Every field is checked and named in the first error.

A dimension is a range `start:stop:step` (both ends included), a list `a,b,c` or one value.
Combinations the strategy itself refuses (an MA crossover with fast ≥ slow) are skipped and
counted, not refused: a grid over fast and slow would otherwise rarely be valid as a whole.
"""

import itertools
import math
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from engine.control import windows
from engine.control.session_spec import (
    FILL_FIELDS,
    FILL_MODEL,
    TIMEFRAME,
    fill_fields,
    parse_fill_spec,
    parse_name,
    parse_symbols,
    validate_session,
)
from engine.control.walk_forward_spec import check_walk_forward
from engine.core.settings import FAST_FORWARD
from engine.errors import BadInput, shown
from engine.market import catalog
from engine.params import Param, mapping
from engine.registry import strategies

MAX_VARIANTS = 2000  # variants in one sweep
MAX_VALUES = 500  # values one dimension may take
FILL_DIMENSIONS = {"fill_model": FILL_MODEL, "fee_bps": FILL_FIELDS["fee_bps"],
                   "slippage_bps": FILL_FIELDS["slippage_bps"]}
SESSION_KEYS = ("strategy", "symbols", "timeframe", "cash", "position_size", "stop_loss_pct",
                "take_profit_pct", "sentiment", "fill_model", *FILL_FIELDS)


def _range(text: str, param: Param, field: str) -> list[Any]:
    parts = text.split(":")
    if len(parts) != 3 or param.kind not in (int, float):
        raise BadInput(f"{field} must be start:stop:step, a list a,b,c or one value "
                       f"(got {shown(text)})")
    start = param.parse(parts[0].strip(), f"{field}: ")
    stop = param.parse(parts[1].strip(), f"{field}: ")
    step = _step(parts[2].strip(), param, field)
    if stop < start:
        raise BadInput(f"{field}: stop must not be below start (got {shown(text)})")
    steps = (stop - start) / step  # 1e-320 as a step: inf steps, refused below
    if not steps + 1 <= MAX_VALUES:
        raise BadInput(f"{field}: more than {MAX_VALUES} values; at most {MAX_VALUES} per "
                       "dimension (use a larger step)")
    count = int(steps + 1e-9) + 1
    values = [start + i * step for i in range(count)]
    return values if param.kind is int else [round(v, 10) for v in values]


def _step(text: str, param: Param, field: str) -> float:
    try:
        step = param.kind(text)
    except (ValueError, OverflowError):
        raise BadInput(f"{field}: step must be a {param.kind.__name__} (got {shown(text)})") \
            from None
    if not step > 0:
        raise BadInput(f"{field}: step must be above 0 (got {shown(text)})")
    if not math.isfinite(step):
        raise BadInput(f"{field}: step must be a finite number (got {shown(text)})")
    return step


def parse_values(field: str, raw: Any, param: Param) -> list[Any]:
    """The values of one dimension, each checked against `param`'s type and bounds."""
    if isinstance(raw, list | tuple):
        items = list(raw)
    else:
        if not isinstance(raw, str | int | float | type(None)):
            raise BadInput(f"{field} must be start:stop:step, a list a,b,c or one value "
                           f"(got {shown(raw)})")
        text = str(raw if raw is not None else "").strip()
        if not text:
            raise BadInput(f"{field} needs at least one value")
        if ":" in text:
            return _range(text, param, field)
        items = [t for t in text.split(",") if t.strip()]
    values = [param.parse(item.strip() if isinstance(item, str) else item, f"{field}: ")
              for item in items]
    if not values:
        raise BadInput(f"{field} needs at least one value")
    if len(set(values)) != len(values):
        raise BadInput(f"{field} repeats a value")
    if len(values) > MAX_VALUES:
        raise BadInput(f"{field}: {len(values)} values; at most {MAX_VALUES} per dimension")
    return values


def parse_grid(strategy: str, raw: dict[str, Any]) -> dict[str, list[Any]]:
    """Each dimension's values: the strategy's parameters and fill_model / fee_bps /
    slippage_bps, by name."""
    cls = strategies.lookup(strategy)
    known = {**cls.params, **FILL_DIMENSIONS}
    raw = mapping(raw, "grid")
    if not raw:
        raise BadInput(f"params: give at least one dimension to sweep, e.g. "
                       f"{next(iter(cls.params))}=5:20:5")
    grid = {}
    for name, values in raw.items():
        if name not in known:
            raise BadInput(f"param {shown(name)} is not a parameter of {cls.name} nor a fill "
                           f"setting; known: {', '.join(known)}")
        grid[name] = parse_values(f"param {name}", values, known[name])
    total = 1
    for values in grid.values():
        total *= len(values)
    if total > MAX_VARIANTS:
        raise BadInput(f"params: the grid holds {total:,} variants; at most {MAX_VARIANTS:,}")
    return grid


def variants(strategy: str, grid: dict[str, list[Any]]) -> tuple[list[dict[str, Any]], int]:
    """Every combination of the grid the strategy accepts, in grid order, and how many it
    refused (a rule between parameters)."""
    cls = strategies.lookup(strategy)
    names = list(grid)
    kept, skipped = [], 0
    for combination in itertools.product(*(grid[n] for n in names)):
        values = dict(zip(names, combination, strict=True))
        try:
            cls.validate({k: v for k, v in values.items() if k in cls.params})
        except BadInput:
            skipped += 1
            continue
        kept.append(values)
    return kept, skipped


def variant_spec(session: dict[str, Any], strategy: str, values: dict[str, Any]) -> dict:
    """The session spec of one variant: the sweep's spec with the variant's values."""
    params_of = strategies.lookup(strategy).params
    return {**session, **{k: v for k, v in values.items() if k not in params_of},
            "params": {**session.get("params", {}),
                       **{k: v for k, v in values.items() if k in params_of}}}


def variant_fields(base: dict[str, Any], session: dict[str, Any],
                   values: dict[str, Any]) -> dict[str, Any]:
    """PaperSession fields of one variant: `base` (the sweep's first variant, checked in
    full by validate_session) with this variant's parameters and fill settings."""
    spec = variant_spec(session, base["strategy"], values)
    model, given = parse_fill_spec({k: spec.get(k) for k in ("fill_model", *FILL_FIELDS)})
    params = strategies.lookup(base["strategy"]).validate(dict(spec["params"]))
    return {**base, **fill_fields(model, given, base["symbols"].split(","),
                                     base["timeframe"]), "params": params}


def base_fields(db: Engine, name: str, session: dict[str, Any],
                first: dict[str, Any]) -> dict[str, Any]:
    """PaperSession fields of the sweep's first variant, checked in full by validate_session
    (the window included); the other variants differ only in their grid values."""
    spec = {k: v for k, v in session.items() if k not in ("from", "to")}
    return validate_session(db, {**variant_spec(spec, session["strategy"], first),
                                 "name": name, "source": "replay", "speed": FAST_FORWARD,
                                 "from": session.get("from"), "to": session.get("to")})


def _default_window(symbols: list[str], timeframe: str) -> tuple[Any, Any]:
    """The window a sweep gets when from and to are empty: the DEFAULT_WINDOW_BARS bars before
    the latest ones, so that its winners have bars left to trade as paper sessions."""
    latest = windows.replay_window(symbols, timeframe, None, None)
    try:
        earlier = windows.replay_window(symbols, timeframe, None,
                                        latest.start - timedelta(microseconds=1))
    except BadInput:
        return latest.start, latest.end
    return earlier.start, earlier.end


def validate_sweep(db: Engine, raw: dict[str, Any]) -> dict[str, Any]:
    """Turn a user's sweep spec into what the Sweep row stores, naming the first bad field.

    `raw`: name, strategy, symbols, grid {dimension: values}, from, to, split, and the session
    fields every variant shares (timeframe, cash, position_size, fill_model, fee_bps …)."""
    raw = mapping(raw, "sweep")
    strategy = strategies.lookup(str(raw.get("strategy") or "")).name
    grid = parse_grid(strategy, raw.pop("grid", None))
    kept, skipped = variants(strategy, grid)
    if not kept:
        raise BadInput(f"params: all {skipped} combinations are refused by {strategy} "
                       "(e.g. fast must be below slow)")
    unknown = sorted(set(raw) - {*SESSION_KEYS, "name", "from", "to", "split", "params",
                                 "walk_forward", "objective"})
    if unknown:
        raise BadInput(f"unknown sweep field {shown(unknown[0])}")
    session = {k: raw[k] for k in SESSION_KEYS if raw.get(k) not in (None, "")}
    session["params"] = mapping(raw.get("params"), "params")
    # Symbols and timeframe first: the default window below reads their shipped files.
    timeframe = TIMEFRAME.parse(session.get("timeframe") or TIMEFRAME.default)
    symbols = parse_symbols(session.get("symbols") or "", catalog.symbols(timeframe))
    name = parse_name(raw.get("name") or f"{strategy} sweep on {','.join(symbols)}"[:100])
    if not (raw.get("from") or raw.get("to")):
        raw["from"], raw["to"] = _default_window(symbols, timeframe)
    session.update(strategy=strategy, timeframe=timeframe, **{"from": raw.get("from"),
                                                                "to": raw.get("to")})
    base = base_fields(db, name, session, kept[0])
    split = windows.parse_when(raw.get("split"), "split")
    if split is not None and not base["window_from"] < split <= base["window_to"]:
        raise BadInput(f"split must fall inside the window, after "
                       f"{base['window_from']:%Y-%m-%d %H:%M} and on or before "
                       f"{base['window_to']:%Y-%m-%d %H:%M}")
    walk_forward = check_walk_forward(raw, base["bars_total"], split)
    session.update(symbols=base["symbols"], **{"from": base["window_from"].isoformat(),
                                                 "to": base["window_to"].isoformat()})
    return {"name": name, "session": session, "grid": grid, "total": len(kept),
            "skipped": skipped, "split_at": split, "base": base, "walk_forward": walk_forward}
