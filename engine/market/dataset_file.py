"""Reading a user's bar file (CSV, gzip CSV or Parquet) into checked, ascending bars, with
pandas throughout (no Python loop over rows): a million rows read in seconds.

A file is judged by its bytes, never by its name (the name is only provenance). Every refusal
is a BadInput naming the first bad row and why; nothing is stored by this module."""

import io
from dataclasses import dataclass
from datetime import datetime

from engine.core.bars import TIMEFRAMES, max_gap
from engine.errors import BadInput, shown

TIME_NAMES = ("ts", "time", "date", "datetime", "timestamp")
PRICES = ("open", "high", "low", "close")
COLUMNS = (*PRICES, "volume")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
EPOCH_MS_FROM = 1e11  # an epoch number above this counts milliseconds, not seconds


@dataclass(frozen=True)
class Gap:
    after: datetime  # the last bar before the gap
    before: datetime  # the first bar after it


@dataclass(frozen=True)
class BarFile:
    """A file's bars, checked and ascending, and what was found on the way."""

    frame: object  # pandas DataFrame: ts (UTC) and OHLCV, ascending
    kind: str  # "CSV", "gzip CSV" or "Parquet"
    naive_times: bool  # times had no zone and were read as UTC
    descending: bool  # the file listed its bars newest first
    gaps: list[Gap]

    @property
    def rows(self) -> int:
        return len(self.frame)


def _read(data: bytes):
    import pandas as pd

    if data.startswith(PARQUET_MAGIC):
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except (ValueError, OSError, EOFError) as exc:  # pyarrow's errors subclass these
            raise BadInput(f"file: not a readable Parquet file "
                           f"({str(exc).splitlines()[0][:80]})") from None
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()
        return frame, "Parquet"
    kind = "gzip CSV" if data.startswith(GZIP_MAGIC) else "CSV"
    try:
        frame = pd.read_csv(io.BytesIO(data), compression="gzip" if kind != "CSV" else None,
                            keep_default_na=False, na_values=[""])
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInput(f"file: not a readable {kind} file ({str(exc).splitlines()[0][:80]})") \
            from None
    return frame, kind


def _columns(frame) -> dict[str, str]:
    """The file's time and OHLCV columns: our name → the file's name."""
    named: dict[str, str] = {}
    for column in frame.columns:
        key = str(column).strip().lower()
        if key in named:
            raise BadInput(f"columns: two columns are named {shown(key)}")
        named[key] = column
    found = {c: named[c] for c in COLUMNS if c in named}
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise BadInput(f"columns: no {', '.join(missing)} column (found "
                       f"{', '.join(shown(str(c)) for c in frame.columns[:8]) or 'none'})")
    time_name = next((n for n in TIME_NAMES if n in named), None)
    first = str(frame.columns[0]).strip().lower()
    if time_name is None and (first == "" or first.startswith("unnamed") or first == "index"):
        time_name = first
    if time_name is None:
        raise BadInput(f"columns: no time column; name it one of {', '.join(TIME_NAMES)} (or "
                       "leave the first column unnamed)")
    return {"ts": named[time_name], **found}


def _times(raw):
    """(aware UTC times with NaT where unreadable, whether they had no zone)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(raw):
        naive = raw.dt.tz is None
        return (raw.dt.tz_localize("UTC") if naive else raw.dt.tz_convert("UTC")), naive
    if pd.api.types.is_numeric_dtype(raw):
        unit = "ms" if raw.abs().median() > EPOCH_MS_FROM else "s"
        return pd.to_datetime(raw, unit=unit, utc=True, errors="coerce"), False
    text = raw.astype("string").str.strip()
    if text.str.fullmatch(r"\d{9,13}(\.\d+)?").fillna(False).all():  # epoch numbers as text
        return _times(pd.to_numeric(text))
    times = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    if times.isna().any() and text.notna().all():  # not ISO: let pandas infer one layout
        times = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
    first = text.dropna()
    sample = pd.to_datetime(first.iloc[0], errors="coerce") if len(first) else None
    return times, sample is None or pd.isna(sample) or sample.tzinfo is None


def _first(mask) -> int | None:
    import numpy as np

    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def read_bar_file(data: bytes, timeframe: str, asset_class: str):
    """The bars of a file's bytes, checked: BadInput names the first bad row and why."""
    import numpy as np
    import pandas as pd

    frame, kind = _read(data)
    line = (lambda i: f"line {i + 2}") if kind != "Parquet" else (lambda i: f"row {i + 1}")
    if len(frame) < 2:
        raise BadInput(f"file: {len(frame)} data row(s); a dataset needs at least 2 bars")
    names = _columns(frame)
    times, naive = _times(frame[names["ts"]])
    out = pd.DataFrame({"ts": times})
    problems = [(times.isna().to_numpy(),
                 lambda i: f"unparseable time {shown(frame[names['ts']].iloc[i])}")]
    for column in COLUMNS:
        raw = frame[names[column]]
        values = (raw.astype("float64") if pd.api.types.is_numeric_dtype(raw)
                  else pd.to_numeric(raw, errors="coerce").astype("float64"))
        out[column] = values
        problems.append((~np.isfinite(values.to_numpy()),
                         lambda i, c=column, r=raw: f"{c} is missing, NaN or not a number "
                                                    f"({shown(r.iloc[i])})"))
    prices = out[list(PRICES)].to_numpy()
    problems += [
        ((prices <= 0).any(axis=1), lambda i: "a price at or below 0"),
        ((out["volume"] < 0).to_numpy(), lambda i: "a volume below 0"),
        ((out["high"] < out["low"]).to_numpy(), lambda i: "high below low"),
        (((out["close"] < out["low"]) | (out["close"] > out["high"])).to_numpy(),
         lambda i: "close outside [low, high]"),
        (out["ts"].duplicated().to_numpy(),
         lambda i: f"duplicate time {out['ts'].iloc[i]:%Y-%m-%d %H:%M}"),
    ]
    found = [(i, k) for k, (mask, _) in enumerate(problems) if (i := _first(mask)) is not None]
    if found:
        row, which = min(found)
        raise BadInput(f"{line(row)}: {problems[which][1](row)}; nothing imported")
    steps = out["ts"].diff().iloc[1:].to_numpy()
    descending = bool(steps[0] < np.timedelta64(0))
    back = _first(steps > np.timedelta64(0) if descending else steps < np.timedelta64(0))
    if back is not None:
        raise BadInput(f"{line(back + 1)}: times must be all ascending or all descending; "
                       "this one turns back; nothing imported")
    if descending:
        out = out.iloc[::-1].reset_index(drop=True)
    return BarFile(out, kind, bool(naive), descending, _gaps(out["ts"], line, timeframe,
                                                             asset_class, descending))


def _gaps(ts, line, timeframe: str, asset_class: str, descending: bool) -> list[Gap]:
    """The gaps longer than the class's calendar allows (reported, never filled in); bars
    closer than the timeframe are refused."""
    import numpy as np

    steps = ts.diff().iloc[1:].to_numpy()
    short = _first(steps < np.timedelta64(TIMEFRAMES[timeframe], "s"))
    if short is not None:
        at = len(ts) - 2 - short if descending else short + 1
        raise BadInput(f"{line(at)}: {ts.iloc[short + 1] - ts.iloc[short]} after the bar "
                       f"before it; {timeframe} bars are {timeframe} apart at least (is the "
                       "timeframe right?); nothing imported")
    wide = np.flatnonzero(steps > np.timedelta64(max_gap(asset_class, timeframe)))
    return [Gap(ts.iloc[i].to_pydatetime(), ts.iloc[i + 1].to_pydatetime()) for i in wide]
