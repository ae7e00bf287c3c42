"""A session's clock settings: its source, its replay window over the stored data (shipped
or imported), its speed.

Every value is checked with a message that names the field (`from`, `to`, `speed`, `source`).
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from engine.core.settings import FAST_FORWARD
from engine.errors import BadInput, shown
from engine.market import catalog

SOURCES = ("replay", "live")
DEFAULT_WINDOW_BARS = 1000  # a new replay session trades the latest this many bars by default
MAX_SPEED = 100_000.0  # bars per second; faster than this is `max`
SPEEDS = ("1", "10", "100", "1000", FAST_FORWARD)  # offered in the form


@dataclass(frozen=True)
class Window:
    start: datetime  # first bar time traded (market time, UTC)
    end: datetime  # last bar time traded
    bars: int  # bar times in the window across the session's symbols


def parse_when(raw: Any, field: str) -> datetime | None:
    """An ISO date or time (or a date/datetime) as aware UTC; empty → None. Every command's
    dates go through here: --from, --to, --until, --split."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise BadInput(f"{field} must be an ISO date like 2018-06-01 (got {shown(raw)})") \
                from None
    else:
        raise BadInput(f"{field} must be an ISO date like 2018-06-01 (got {shown(raw)})")
    try:  # 9999-12-31T23:59:59-23:59 is a valid time whose UTC is past year 9999
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadInput(f"{field} must be a date between years 1 and 9999 in UTC "
                       f"(got {shown(raw)})") from None


def parse_speed(raw: Any, field: str = "speed") -> float | None:
    """Bars per second (a number above 0), or None for `max`."""
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise BadInput(f"{field} must be bars per second (e.g. 1, 10, 100) or max "
                       f"(got {shown(raw)})")
    text = str(raw).strip().lower()
    if text == FAST_FORWARD:
        return None
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise BadInput(f"{field} must be bars per second (e.g. 1, 10, 100) or max "
                       f"(got {shown(raw)})") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SPEED):
        raise BadInput(f"{field} must be above 0 and at most {MAX_SPEED:,.0f} bars per second, "
                       f"or max (got {shown(raw)})")
    return value


def fast_forward(speed: float | None, until: Any, then: Any, window_from, window_to) -> dict:
    """The clock fields of "fast-forward to `until`, then play at `then` bars/s" (ff_until,
    ff_then): only at speed max, `until` inside the window, `then` a speed above 0; none when
    `until` and `then` are empty. The same rule for a new session and a speed change."""
    stop_at = parse_when(until, "until")
    if stop_at is None:
        if then not in (None, ""):
            raise BadInput("then goes with until")
        return {}
    if speed is not None:
        raise BadInput("until: only a max-speed fast-forward stops at a date")
    if window_from is None or not window_from <= stop_at <= window_to:
        raise BadInput("until must lie in the session's window" + (
            f" {window_from:%Y-%m-%d %H:%M} – {window_to:%Y-%m-%d %H:%M}"
            if window_from is not None else " (it has none)"))
    after = parse_speed(then if then not in (None, "") else "1", "then")
    if after is None:
        raise BadInput("then must be bars per second, not max")
    return {"ff_until": stop_at, "ff_then": after}


def _times(symbols: list[str], timeframe: str):
    """The union of the symbols' bar times (a pandas DatetimeIndex)."""
    import pandas as pd  # on use: speed changes and the CLI's start need no pandas

    index = pd.DatetimeIndex([], tz="UTC")
    for symbol in symbols:
        index = index.union(pd.DatetimeIndex(catalog.load(symbol, timeframe)["ts"]))
    return index


def replay_window(symbols: list[str], timeframe: str, raw_from: Any, raw_to: Any) -> Window:
    """Check that every symbol has bars over [from, to]; default to the latest
    DEFAULT_WINDOW_BARS bars they share."""
    spans = {s: catalog.span(s, timeframe) for s in symbols}
    first = max(spans.values(), key=lambda sp: sp[0])
    last = min(spans.values(), key=lambda sp: sp[1])
    if first[0] >= last[1]:
        raise BadInput(f"symbols: {', '.join(symbols)} have no {timeframe} bars in common "
                       f"({_ranges(spans)})")
    times = _times(symbols, timeframe)
    times = times[(times >= first[0]) & (times <= last[1])]
    end = parse_when(raw_to, "to") or times[-1].to_pydatetime()
    default_start = times[max(0, len(times) - DEFAULT_WINDOW_BARS)].to_pydatetime()
    start = parse_when(raw_from, "from") or min(default_start, end)
    for symbol, (lo, hi, _) in spans.items():
        if end < lo:
            raise BadInput(f"to: {symbol} {timeframe} data starts {lo:%Y-%m-%d %H:%M}; "
                           f"choose to after it")
        if start < lo:
            raise BadInput(f"from: {symbol} {timeframe} data starts {lo:%Y-%m-%d %H:%M}; "
                           f"choose from on or after it")
        if end > hi:
            raise BadInput(f"to: {symbol} {timeframe} data ends {hi:%Y-%m-%d %H:%M}; "
                           f"choose to on or before it")
    if start > end:
        limit = f"to: {_day(end)}" if parse_when(raw_to, "to") else \
            f"the last {timeframe} bar of {', '.join(symbols)} ({_day(end)})"
        raise BadInput(f"from: {_day(start)} is after {limit}; choose from before it")
    inside = times[(times >= start) & (times <= end)]
    if len(inside) < 2:
        bars = "1 bar" if len(inside) == 1 else f"{len(inside)} bars"
        raise BadInput(f"from/to: the window {_day(start)} – {_day(end)} holds {bars}; "
                       "it needs at least 2")
    return Window(start, inside[-1].to_pydatetime(), len(inside))


def _day(when: datetime) -> str:
    """A window's bound as the user writes it: the date, with the time unless midnight."""
    return f"{when:%Y-%m-%d}" if when.time() == time() else f"{when:%Y-%m-%d %H:%M}"


def _ranges(spans: dict) -> str:
    return "; ".join(f"{s} {lo:%Y-%m-%d} – {hi:%Y-%m-%d}" for s, (lo, hi, _) in spans.items())


def dataset_ranges(timeframe: str) -> list[dict]:
    """Each dataset of `timeframe` (shipped or imported): first and last bar time and bar count."""
    out = []
    for symbol in catalog.symbols(timeframe):
        lo, hi, n = catalog.span(symbol, timeframe)
        out.append({"symbol": symbol, "timeframe": timeframe, "first": lo, "last": hi,
                    "bars": n})
    return out
