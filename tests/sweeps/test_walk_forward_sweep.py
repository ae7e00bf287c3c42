"""A walk-forward sweep run by the engine's runner (variants and fold training in its process
pool): its folds are those of the same walk-forward run in one process, each fold's test run is
a completed session that reconciles 100 %, the stitched curve is the fold sessions end to end,
and bad specs are refused by name."""

import pytest
from sqlalchemy import select
from sqlmodel import Session

from engine.analytics.walkforward import efficiency, parse_walk_forward
from engine.control import sweeps
from engine.core.bars import bars_per_year
from engine.core.settings import TradeSettings
from engine.errors import BadInput
from engine.market.series import BarCache
from engine.reads.reconcile import reconcile
from engine.reads.walk_forward import walk_forward as walk_read
from engine.store.models import EquitySnapshot, Fill, PaperSession, SweepVariant
from engine.sweeps.runner import run_sweep
from engine.sweeps.walk import walk_forward
from tests.conftest import store_bars

BTC = ("BTC-USD", "1h")
WINDOW = {"from": "2019-01-01", "to": "2019-04-01"}  # 2,161 bars
GRID = {"fast": "5:20:5", "slow": "40,60"}


def _create(db, **extra) -> int:
    return sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                    **WINDOW, "grid": GRID, **extra}).id


def _in_one_process(db, sid: int, text: str, objective: str):
    with Session(db) as s:
        rows = s.execute(select(SweepVariant.idx, PaperSession)
                         .join(PaperSession, PaperSession.id == SweepVariant.session_id)
                         .where(SweepVariant.sweep_id == sid)
                         .order_by(SweepVariant.idx)).all()
    settings = [TradeSettings.of(row) for _, row in rows]
    first = rows[0][1]
    series = BarCache(db).session_series(("BTC-USD",), "1h")
    return walk_forward(series, settings, first.window_from, first.window_to,
                        parse_walk_forward(text), objective, bars_per_year("crypto", BTC[1]))


@pytest.mark.parametrize(("text", "objective"), [("train=500,test=300", "sharpe"),
                                                  ("train=400,test=200,step=300,anchored",
                                                   "calmar")])
def test_a_walk_forward_sweep_is_its_folds_run_in_one_process(db, text, objective):
    store_bars(db, BTC)
    sid = _create(db, walk_forward=text, objective=objective)
    assert run_sweep(db, sid, workers=2) == "completed"
    result = walk_read(db, sid)
    folds = result.folds
    expected = _in_one_process(db, sid, text, objective)
    assert len(folds) == len(expected) == result.expected_folds
    assert folds["variant_idx"].tolist() == [run.chosen for run in expected]
    assert folds["test_from"].tolist() == [run.window.test_from for run in expected]
    assert folds["out_sample_pct"].tolist() == pytest.approx(
        [run.out_sample_return * 100 for run in expected], rel=1e-12)
    assert folds["in_sample_pct"].tolist() == pytest.approx(
        [run.in_sample.total_return * 100 for run in expected], rel=1e-12)
    for fold, run in zip(folds.itertuples(), expected, strict=True):
        assert fold.train_to < fold.test_from
        with Session(db) as s:
            fills = s.execute(select(Fill.bar_ts, Fill.side, Fill.qty, Fill.price).where(
                Fill.session_id == fold.session_id).order_by(Fill.id)).all()
        assert fills == [(f.bar_ts, f.side, f.qty, f.price) for f in run.out.fills]
        assert reconcile(db, fold.session_id).match_pct == 100.0
    tests = list(zip(folds["test_from"], folds["test_to"], strict=True))
    assert all(a[1] < b[0] for a, b in zip(tests, tests[1:], strict=False))


def test_the_stitched_curve_is_the_fold_sessions_end_to_end(db):
    store_bars(db, BTC)
    sid = _create(db, walk_forward="train=500,test=300")
    assert run_sweep(db, sid, workers=2) == "completed"
    result = walk_read(db, sid)
    stitched, cash = [], 10_000.0
    with Session(db) as s:
        for session_id in result.folds["session_id"]:
            row = s.get(PaperSession, int(session_id))
            assert row.starting_cash == pytest.approx(cash, rel=1e-15)
            stitched += s.execute(select(EquitySnapshot.ts, EquitySnapshot.equity).where(
                EquitySnapshot.session_id == row.id).order_by(EquitySnapshot.ts)).all()
            cash = row.equity
    assert list(zip(result.curve["ts"], result.curve["equity"], strict=True)) == stitched
    assert result.out_sample_pct == pytest.approx((cash / 10_000 - 1) * 100, rel=1e-12)
    assert result.curve["buy_hold"].iloc[0] == pytest.approx(result.curve["equity"].iloc[0])
    assert result.curve["best_in_sample"].notna().all()
    in_total = 1.0
    for pct in result.folds["in_sample_pct"]:
        in_total *= 1 + pct / 100
    assert result.efficiency == efficiency(
        in_total - 1, int(result.folds["train_bars"].sum()), result.out_sample_pct / 100,
        int(result.folds["test_bars"].sum()), bars_per_year("crypto", BTC[1]))


@pytest.mark.parametrize(("extra", "message"), [
    ({"walk_forward": "train=500,test=300", "split": "2019-03-01"},
     "walk_forward: a walk-forward sweep has no split"),
    ({"objective": "sharpe"}, "objective: only a walk-forward sweep has one"),
    ({"walk_forward": "train=500,test=300", "objective": "luck"},
     "objective must be one of sharpe, total_return, calmar (got 'luck')"),
    ({"walk_forward": "train=5000,test=300"}, "walk-forward needs at least 5001 bars"),
    ({"walk_forward": "train=500,test=300,step=100"}, "walk-forward step must be ≥ test"),
    ({"walk_forward": "test=300"}, "walk-forward train is missing"),
])
def test_bad_walk_forward_specs_are_refused_by_name(db, extra, message):
    store_bars(db, BTC)
    with pytest.raises(BadInput) as error:
        _create(db, **extra)
    assert str(error.value).startswith(message)
