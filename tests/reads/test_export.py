"""`session export` writes orders, fills and equity as CSV and Parquet; read back with pandas,
the fills are the rows of `session trades --json` and the equity every stored snapshot."""

import json

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from engine.store.models import EquitySnapshot, Order
from tests.conftest import cli

NUMBERS = ("qty", "price", "fee", "realized_pnl")


def _same_rows(frame: pd.DataFrame, listed: list[dict]) -> None:
    assert len(frame) == len(listed) > 0
    for row, want in zip(frame.to_dict("records"), listed, strict=True):
        for key in ("time", "bar_time"):
            assert pd.Timestamp(row[key]) == pd.Timestamp(want[key])
        for key in ("symbol", "side", "reason", "priced_by"):
            assert row[key] == want[key]
        assert int(row["order_id"]) == want["order_id"]
        assert [row[k] for k in NUMBERS] == pytest.approx([want[k] for k in NUMBERS],
                                                          rel=1e-15)
        assert json.loads(row["lineage"]) == want["lineage"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_export_reads_back_to_the_rows_of_session_trades(db, traded, env, tmp_path, fmt):
    done = cli(env, "session", "export", str(traded), "--format", fmt, "--out",
               str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    names = [line.rsplit("/", 1)[1] for line in done.stdout.split()]
    assert names == [f"orders.{fmt}", f"fills.{fmt}", f"equity.{fmt}"]
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    listed = json.loads(cli(env, "session", "trades", str(traded), "--json").stdout)
    _same_rows(read(tmp_path / "out" / f"fills.{fmt}"), listed[::-1])  # oldest first
    equity = read(tmp_path / "out" / f"equity.{fmt}")
    orders = read(tmp_path / "out" / f"orders.{fmt}")
    with Session(db) as s:
        stored = s.execute(select(EquitySnapshot.equity).where(
            EquitySnapshot.session_id == traded).order_by(EquitySnapshot.ts)).scalars().all()
        n_orders = s.execute(select(func.count()).select_from(Order)
                             .where(Order.session_id == traded)).scalar_one()
    assert equity["equity"].tolist() == stored
    assert len(orders) == n_orders
    assert set(orders["id"]) >= {row["order_id"] for row in listed}


def test_bad_format_and_folder_are_refused_by_name(traded, env, tmp_path):
    done = cli(env, "session", "export", str(traded), "--format", "xlsx", "--out",
               str(tmp_path))
    assert (done.returncode, done.stderr.strip()) == (
        2, "error: format must be csv or parquet (got 'xlsx')")
    done = cli(env, "session", "export", str(traded), "--out", str(tmp_path / "a" / "b"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: out: folder ")
    done = cli(env, "session", "report", str(traded))
    assert done.stderr.strip() == "error: session report needs --out FILE"
