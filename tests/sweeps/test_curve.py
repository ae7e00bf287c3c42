"""Store what cannot be recomputed (issue 21): a sweep variant keeps its orders, fills, figures
and an equity curve at display resolution; its per-bar curve, recomputed by the core on demand,
equals bar for bar the curve a full run of the same settings stores, and a recompute that
disagrees with what the variant stored is refused by name."""

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from engine.control import sweeps
from engine.core.curve import DISPLAY_POINTS, RETURN_BLOCKS, display_curve, return_blocks
from engine.errors import NotReproducible
from engine.reads import performance, queries
from engine.reads import sweeps as sweep_queries
from engine.reads.curve import per_bar_curve, stored_curve
from engine.reads.overfitting import overfitting_odds
from engine.reads.reconcile import reconcile
from engine.store.db import session_scope
from engine.store.models import EquitySnapshot, Fill, PaperSession, SweepVariant
from engine.sweeps.runner import run_sweep
from engine.trading.clock import run_to_end
from tests.conftest import store_bars

BTC = ("BTC-USD", "1h")


def _curve(n: int, seed: int) -> list[tuple]:
    rng, start = random.Random(seed), datetime(2020, 1, 1, tzinfo=UTC)
    return [(start + timedelta(hours=i), 100.0, rng.uniform(50, 150)) for i in range(n)]


@pytest.mark.parametrize(("n", "points"), [(3, 4), (2_000, 2_000), (2_001, 2_000),
                                           (20_111, 2_000), (997, 10)])
def test_a_display_curve_keeps_every_bucket_extreme_within_its_points(n, points):
    curve = _curve(n, n)
    kept = display_curve(curve, points)
    assert len(kept) <= points
    assert kept == sorted(kept)
    assert set(kept) <= set(curve)
    assert kept[0] == curve[0]
    assert kept[-1] == curve[-1]
    equities = [e for _, _, e in curve]
    assert min(equities) in {e for _, _, e in kept}
    assert max(equities) in {e for _, _, e in kept}
    if n <= points:
        assert kept == curve


@pytest.mark.parametrize("n", [17, 18, 33, 2_161, 20_111])
def test_return_blocks_are_numpys_array_split_of_the_bar_returns(n):
    equity = np.array([e for _, _, e in _curve(n, n)])
    returns = equity[1:] / equity[:-1] - 1
    blocks = return_blocks(list(equity))
    expected = np.array_split(returns, RETURN_BLOCKS)
    assert [b[0] for b in blocks] == [len(e) for e in expected]
    assert [b[1] for b in blocks] == pytest.approx([e.sum() for e in expected], rel=1e-12)
    assert [b[2] for b in blocks] == pytest.approx([(e * e).sum() for e in expected], rel=1e-12)
    assert return_blocks(list(equity[:16])) == []


def _variant_and_paper(db) -> tuple[int, int, int]:
    """A 3-variant sweep over 2,160 hourly bars and a full run of its winner's settings."""
    store_bars(db, BTC)
    sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                   "from": "2019-01-01", "to": "2019-04-01",
                                   "grid": {"fast": "5,10,20", "slow": "30"}}).id
    assert run_sweep(db, sid, workers=1) == "completed"
    variant_id = int(sweep_queries.variants(db, sid).iloc[0].session_id)
    paper_id = sweeps.start_as_paper(db, variant_id, speed="100", to="2019-04-20",
                                     start=False).id
    with session_scope(db) as s:  # what the engine's start does, without an engine process
        s.execute(update(PaperSession).where(PaperSession.id == paper_id)
                  .values(status="running"))
    run_to_end(db, paper_id)  # re-plays the variant's window, storing a snapshot a bar
    return sid, variant_id, paper_id


def test_a_variants_recomputed_curve_equals_a_full_runs_bar_for_bar(db):
    sid, variant_id, paper_id = _variant_and_paper(db)
    with Session(db) as s:
        variant = s.get(PaperSession, variant_id)
        stored = stored_curve(s, variant_id)
        full = [p for p in stored_curve(s, paper_id) if p[0] <= variant.window_to]
    assert variant.bars_done == len(full) == 2_161 > DISPLAY_POINTS >= len(stored)
    assert per_bar_curve(db, variant_id) == full  # bar for bar: time, cash and equity
    assert stored == display_curve(full)
    top = sweep_queries.top_curves(db, [variant_id])  # the Sweeps tab's chart: no recompute
    assert list(top["pct_from_start"]) == [(e / variant.starting_cash - 1) * 100
                                           for _, _, e in stored]
    curve = queries.equity_curve(db, variant_id, limit=None)
    assert list(curve["equity"]) == [e for _, _, e in full]
    assert len(queries.equity_curve(db, variant_id, limit=100)) == 100
    frame, _, _ = performance.curves(db, variant_id)
    assert list(frame["equity"]) == [e for _, _, e in full]
    shared = sweep_queries.origin_comparison(db, paper_id)
    assert shared["variant_return_pct"] == pytest.approx(
        (full[-1][2] / variant.starting_cash - 1) * 100, rel=1e-12)
    for v in sweep_queries.variants(db, sid).itertuples():
        assert reconcile(db, int(v.session_id)).match_pct == 100.0
    assert overfitting_odds(db, sid).bars == 2_160


def test_a_recompute_that_disagrees_with_the_stored_fills_is_refused(db):
    _, variant_id, _ = _variant_and_paper(db)
    with session_scope(db) as s:
        first = s.execute(select(func.min(Fill.id)).where(Fill.session_id == variant_id)
                          ).scalar_one()
        s.execute(update(Fill).where(Fill.id == first).values(price=Fill.price * 1.01))
    with pytest.raises(NotReproducible, match=f"session {variant_id}: the recomputed fill"):
        per_bar_curve(db, variant_id)


def test_a_recompute_that_disagrees_with_a_stored_point_is_refused(db):
    _, variant_id, _ = _variant_and_paper(db)
    with session_scope(db) as s:
        last = s.execute(select(func.max(EquitySnapshot.ts))
                         .where(EquitySnapshot.session_id == variant_id)).scalar_one()
        s.execute(update(EquitySnapshot).where(EquitySnapshot.session_id == variant_id,
                                               EquitySnapshot.ts == last)
                  .values(equity=EquitySnapshot.equity + 1))
    with pytest.raises(NotReproducible, match="differs from the stored point"):
        per_bar_curve(db, variant_id)


def test_odds_from_the_stored_blocks_equal_odds_from_every_recomputed_curve(db):
    store_bars(db, BTC)
    sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                   "from": "2019-01-01", "to": "2019-04-01",
                                   "grid": {"fast": "2:9:1", "slow": "30,40"}}).id
    assert run_sweep(db, sid, workers=2) == "completed"
    stored = overfitting_odds(db, sid)
    with session_scope(db) as s:  # variants written before the blocks were kept
        s.execute(update(SweepVariant).where(SweepVariant.sweep_id == sid)
                  .values(return_blocks=None))
    recomputed = overfitting_odds(db, sid)
    assert stored.variants == recomputed.variants == 16
    assert stored.bars == recomputed.bars == 2_160
    assert stored.pbo == pytest.approx(recomputed.pbo, abs=1e-12)
    assert stored.winner_session_id == recomputed.winner_session_id
    assert stored.deflated_sharpe == pytest.approx(recomputed.deflated_sharpe, rel=1e-9)
    assert stored.expected_max_sharpe == pytest.approx(recomputed.expected_max_sharpe,
                                                       rel=1e-9)
