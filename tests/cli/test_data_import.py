"""`python -m engine data import|list|remove` (issue 17 part 2): the usual layouts load; every
malformed file is refused with exit 2 and one line naming the first bad row and why, and stores
no row; a re-import of the same file is a no-op; a different file needs --replace, which a
running session refuses."""

import gzip
import io
import json

import pandas as pd
import pytest
from sqlmodel import Session, func, select

from engine.control import actions as control
from engine.store.datasets import ImportedDataset
from engine.store.models import Bar, PaperSession
from tests.conftest import cli, run_main

HEADER = "ts,open,high,low,close,volume\n"
EPOCH = pd.Timestamp(0, tz="UTC")


def _hourly(n: int, start: str = "2024-01-01") -> pd.DataFrame:
    ts = pd.date_range(start, periods=n, freq="h", tz="UTC")
    close = pd.Series(range(n), dtype=float) % 17 + 100
    return pd.DataFrame({"ts": ts, "open": close, "high": close + 1, "low": close - 1,
                         "close": close, "volume": 10.0})


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _stored(db) -> tuple[int, int]:
    with Session(db) as s:
        bars = s.exec(select(func.count()).select_from(Bar).where(Bar.symbol == "MINE")).one()
        rows = s.exec(select(func.count()).select_from(ImportedDataset)).one()
    return bars, rows


def _import(path, *extra: str):
    return run_main("data", "import", str(path), "--symbol", "MINE", "--timeframe", "1h", *extra)


GOOD = ["2024-01-01 00:00,10,11,9,10.5,5", "2024-01-01 01:00,10,11,9,10.5,5",
        "2024-01-01 02:00,10,11,9,10.5,5"]
BAD = [
    ("unparseable time", 1, "yesterday,10,11,9,10.5,5", "line 3: unparseable time 'yesterday'"),
    ("NaN price", 2, "2024-01-01 02:00,10,NaN,9,10.5,5", "line 4: high is missing, NaN"),
    ("empty volume", 0, "2024-01-01 00:00,10,11,9,10.5,", "line 2: volume is missing, NaN"),
    ("text price", 1, "2024-01-01 01:00,ten,11,9,10.5,5", "line 3: open is missing, NaN or not "
                                                          "a number ('ten')"),
    ("zero price", 2, "2024-01-01 02:00,0,11,9,10.5,5", "line 4: a price at or below 0"),
    ("negative low", 1, "2024-01-01 01:00,10,11,-9,10.5,5", "line 3: a price at or below 0"),
    ("high below low", 1, "2024-01-01 01:00,10,9,11,10,5", "line 3: high below low"),
    ("close above high", 2, "2024-01-01 02:00,10,11,9,12,5", "line 4: close outside [low, high]"),
    ("close below low", 0, "2024-01-01 00:00,10,11,9,8,5", "line 2: close outside [low, high]"),
    ("duplicate time", 2, "2024-01-01 01:00,10,11,9,10.5,5", "line 4: duplicate time "
                                                             "2024-01-01 01:00"),
    ("out of order", 2, "2024-01-01 00:30,10,11,9,10.5,5", "line 4: times must be all ascending"),
    ("bars too close", 1, "2024-01-01 00:30,10,11,9,10.5,5", "line 3: 0 days 00:30:00 after the "
                                                             "bar before it"),
]


@pytest.mark.parametrize(("case", "row", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_malformed_file_is_refused_with_one_line_and_stores_nothing(db, tmp_path, case, row,
                                                                       line, message):
    rows = list(GOOD)
    rows[row] = line
    result = _import(_write(tmp_path, "bad.csv", HEADER + "\n".join(rows) + "\n"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert "nothing imported" in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert _stored(db) == (0, 0)


@pytest.mark.parametrize(("text", "message"), [
    ("", "file: not a readable CSV file"),
    (HEADER, "file: 0 data row(s)"),
    ("ts,open,high,low,close\n" + "\n".join(g.rsplit(",", 1)[0] for g in GOOD),
     "columns: no volume column"),
    ("when,open,high,low,close,volume\n" + "\n".join(GOOD), "columns: no time column"),
    ("ts,open,high,low,close,volume,Close\n" + "\n".join(g + ",1" for g in GOOD),
     "columns: two columns are named 'close'"),
])
def test_a_file_without_the_columns_is_refused(db, tmp_path, text, message):
    result = _import(_write(tmp_path, "bad.csv", text))
    assert (result.returncode, result.stderr.split("\n")[1:]) == (2, [""]), result.stderr
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert _stored(db) == (0, 0)


def test_bad_symbol_timeframe_and_class_are_refused_before_reading(db, tmp_path):
    path = _write(tmp_path, "ok.csv", HEADER + "\n".join(GOOD))
    for args, message in [(("--symbol", "../etc"), "error: symbol must be"),
                          (("--symbol", "BTC-USD"), "error: symbol: BTC-USD 1h is shipped")]:
        result = run_main("data", "import", str(path), "--timeframe", "1h", *args)
        assert (result.returncode, result.stderr.startswith(message)) == (2, True), result.stderr
    assert _import(path, "--asset-class", "bonds").returncode == 2
    missing = _import(tmp_path / "nope.csv")
    assert (missing.returncode, missing.stderr) == (4, "error: PATH: no file at "
                                                       f"{str(tmp_path / 'nope.csv')!r}\n")
    assert _stored(db) == (0, 0)


def test_usual_layouts_load_the_same_bars(db, tmp_path):
    """Header case, time names, an unnamed index column, descending order, gzip, Parquet,
    epoch seconds and zoned times all give the same stored bars."""
    frame = _hourly(50)
    naive = frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    layouts = {
        "upper.csv": naive.rename(columns=str.upper).rename(columns={"TS": "Datetime"})
        .to_csv(index=False).encode(),
        "index.csv": naive.set_index("ts").rename_axis(None).to_csv().encode(),
        "desc.csv.gz": gzip.compress(naive.iloc[::-1].rename(columns={"ts": "Timestamp"})
                                     .to_csv(index=False).encode()),
        "epoch.csv": frame.assign(ts=(frame["ts"] - EPOCH) // pd.Timedelta("1s"))
        .rename(columns={"ts": "time"}).to_csv(index=False).encode(),
        "zoned.csv": frame.assign(ts=frame["ts"].dt.tz_convert("America/New_York"))
        .to_csv(index=False).encode(),
    }
    buffer = io.BytesIO()
    frame.set_index("ts").to_parquet(buffer)
    layouts["bars.parquet"] = buffer.getvalue()
    stored = None
    for name, data in layouts.items():
        (tmp_path / name).write_bytes(data)
        result = _import(tmp_path / name, "--replace")
        assert result.returncode == 0, (name, result.stderr)
        assert ("read as UTC" in result.stdout) == (name in ("upper.csv", "index.csv",
                                                              "desc.csv.gz")), name
        with Session(db) as s:
            bars = s.exec(select(Bar.ts, Bar.open, Bar.close).where(Bar.symbol == "MINE")
                          .order_by(Bar.ts)).all()
        assert (len(bars), bars[0][0]) == (50, frame["ts"].iloc[0].to_pydatetime()), name
        assert stored is None or bars == stored, name
        stored = bars


def test_reimport_is_a_no_op_replace_needs_the_flag_and_no_running_session(db, tmp_path):
    first = tmp_path / "a.csv"
    _hourly(60).to_csv(first, index=False)
    assert _import(first).returncode == 0
    again = _import(first)
    assert (again.returncode, "nothing changed" in again.stdout) == (0, True)
    as_stock = _import(first, "--asset-class", "stock")
    assert as_stock.returncode == 3
    assert "imported from this file as crypto; --replace imports it again as stock" in \
        as_stock.stderr
    other = tmp_path / "b.csv"
    _hourly(80).to_csv(other, index=False)
    refused = _import(other)
    assert refused.returncode == 3
    assert "only with --replace" in refused.stderr
    assert _stored(db) == (60, 1)
    sid = control.create_session(db, {"name": "mine", "symbols": "MINE", "timeframe": "1h",
                                      "strategy": "ma_crossover", "speed": "max"}).id
    busy = _import(other, "--replace")
    assert busy.returncode == 3
    assert f"session {sid} (created) trades MINE 1h" in busy.stderr
    assert run_main("data", "remove", "MINE", "1h").returncode == 3
    with Session(db) as s:
        s.get(PaperSession, sid).status = "stopped"
        s.commit()
    replaced = _import(other, "--replace")
    assert replaced.returncode == 0
    assert replaced.stdout.startswith("replaced MINE 1h")
    assert _stored(db) == (80, 1)
    listed = json.loads(run_main("data", "list", "--json").stdout)
    assert [(d["symbol"], d["rows"], d["file_name"]) for d in listed] == [("MINE", 80, "b.csv")]
    assert run_main("data", "remove", "MINE", "1h").stdout == "removed MINE 1h (80 bars)\n"
    assert _stored(db) == (0, 0)


def test_gaps_are_reported_not_filled(db, tmp_path):
    frame = _hourly(30).drop(index=range(10, 15))
    path = tmp_path / "gappy.csv"
    frame.to_csv(path, index=False)
    result = _import(path)
    assert result.returncode == 0
    assert "1 gap(s) longer than 1:30:00 (reported, not filled in): 2024-01-01 09:00 → " \
           "2024-01-01 15:00" in result.stdout
    assert _stored(db) == (25, 1)


def test_the_real_cli_refuses_in_one_line_without_a_traceback(env, db, tmp_path):
    path = _write(tmp_path, "bad.csv", HEADER + "2024-01-01 00:00,10,9,11,10,5\n"
                                       "2024-01-01 01:00,10,11,9,10,5\n")
    result = cli(env, "data", "import", str(path), "--symbol", "MINE", "--timeframe", "1h")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: line 2: high below low; nothing imported\n"
    assert _stored(db) == (0, 0)


def test_a_parquet_file_names_its_bad_row_and_a_broken_one_is_refused(db, tmp_path):
    frame = _hourly(10)
    frame.loc[3, "high"] = frame.loc[3, "low"] - 1
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    result = _import(path)
    assert (result.returncode, result.stderr) == (2, "error: row 4: high below low; nothing "
                                                     "imported\n")
    path.write_bytes(path.read_bytes()[:200])  # cut short: its footer is gone
    broken = _import(path)
    assert broken.returncode == 2
    assert broken.stderr.startswith("error: file: not a readable Parquet file")
    assert broken.stderr.count("\n") == 1
    garbage = tmp_path / "noise.csv.gz"
    garbage.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    assert _import(garbage).stderr.startswith("error: file: not a readable gzip CSV file")
    assert _stored(db) == (0, 0)
