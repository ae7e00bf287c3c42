"""Sweeps (issue 9): 100 variants over the hourly BTC bars ranked as each variant run alone,
Cancel leaving only whole variants, a variant graduating to a paper session that reconciles
with it over their shared bars, and bad input refused by name."""

import argparse
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from engine.cli.sweep import add_parser, cmd_sweep
from engine.control import sweeps
from engine.core.curve import display_curve
from engine.errors import BadInput, NotAllowed
from engine.reads import sweeps as sweep_queries
from engine.reads.curve import per_bar_curve, stored_curve
from engine.reads.reconcile import initial_settings, reconcile, rerun
from engine.store.db import session_scope
from engine.store.models import Fill, PaperSession, SweepVariant
from engine.sweeps.runner import SweepRunner, run_sweep
from engine.trading.clock import run_to_end
from tests.conftest import store_bars, wait_until

BTC = ("BTC-USD", "1h")
SPLIT = datetime(2019, 3, 1, tzinfo=UTC)


def _sweep(db, grid: dict, **extra) -> int:
    spec = {"strategy": "ma_crossover", "symbols": "BTC-USD", "from": "2019-01-01",
            "to": "2019-04-01", "grid": grid, **extra}
    return sweeps.create_sweep(db, spec).id


def _solo(db, session_id: int):
    """The variant's window run alone by the core, as Reconcile runs it."""
    with Session(db) as s:
        row = s.get(PaperSession, session_id)
    return rerun(db, row, initial_settings(row), row.window_to)


def _fills(db, session_id: int) -> list[tuple]:
    with Session(db) as s:
        return s.execute(select(Fill.bar_ts, Fill.symbol, Fill.side, Fill.qty, Fill.price)
                         .where(Fill.session_id == session_id).order_by(Fill.id)).all()


def _whole(db, session_id: int) -> None:
    """A variant session holds its whole window (its curve at display resolution, recomputed
    bar for bar on demand) and equals its solo run."""
    out, trader = _solo(db, session_id)
    with Session(db) as s:
        row = s.get(PaperSession, session_id)
        stored = stored_curve(s, session_id)
    assert row.status == "completed"
    assert row.bars_done == row.bars_total == len(out.snapshots)
    assert stored == display_curve(out.snapshots)
    assert per_bar_curve(db, session_id) == out.snapshots
    assert row.equity == pytest.approx(trader.ledger.marked_equity, rel=1e-12)
    assert [(f.bar_ts, f.qty, f.price) for f in out.fills] == [
        (t, q, p) for t, _, _, q, p in _fills(db, session_id)]


def test_a_sweep_of_100_variants_ranks_as_each_variant_alone(db):
    store_bars(db, BTC)
    sid = _sweep(db, {"fast": "2:21:1", "slow": "30,40,50,60,70"}, split="2019-03-01")
    assert run_sweep(db, sid, workers=2) == "completed"
    ranked = sweep_queries.variants(db, sid)
    assert len(ranked) == 100
    assert sweep_queries.sweep_document(db, sid).done == 100
    solo = {}
    for v in ranked.itertuples():
        out, trader = _solo(db, v.session_id)
        at_split = [eq for ts, _, eq in out.snapshots if ts < SPLIT][-1]
        solo[v.session_id] = (at_split, trader.ledger.marked_equity)
        assert v.in_sample_pct == pytest.approx((at_split / 10_000 - 1) * 100, rel=1e-9)
        assert v.return_pct == pytest.approx((solo[v.session_id][1] / 10_000 - 1) * 100,
                                             rel=1e-9)
    alone = sorted(solo, key=lambda k: (-solo[k][0], k))
    assert list(ranked["session_id"]) == alone  # ranked on the train bars, ties by grid order
    for session_id in ranked["session_id"][:3]:
        assert reconcile(db, int(session_id)).match_pct == 100.0
        _whole(db, int(session_id))


def test_cancel_leaves_only_whole_variants(db):
    store_bars(db, BTC)
    sid = _sweep(db, {"fast": "2:40:1", "slow": "50,60,70,80"}, **{"from": "2018-01-01"})
    runner = SweepRunner(db, workers=1)
    thread = threading.Thread(target=runner.tick)
    thread.start()
    try:
        wait_until(lambda: sweep_queries.sweep_document(db, sid).done >= 2, 120,
                   message="two variants written")
        sweeps.cancel_sweep(db, sid)
        with pytest.raises(NotAllowed, match="already being cancelled"):
            sweeps.cancel_sweep(db, sid)
        wait_until(lambda: sweep_queries.sweep_document(db, sid).status == "cancelled", 120,
                   message="the sweep to be cancelled")
    finally:
        thread.join(120)
    doc = sweep_queries.sweep_document(db, sid)
    assert 2 <= doc.done < doc.total == 156
    with Session(db) as s:
        ids = list(s.execute(select(PaperSession.id).where(PaperSession.sweep_id == sid))
                   .scalars())
        variants = s.execute(select(func.count()).select_from(SweepVariant)
                             .where(SweepVariant.sweep_id == sid)).scalar_one()
    assert len(ids) == variants == doc.done
    for session_id in ids:
        _whole(db, session_id)
    sweeps.archive_sweep(db, sid)
    with Session(db) as s:
        assert all(s.execute(select(PaperSession.archived)
                             .where(PaperSession.sweep_id == sid)).scalars())


def test_start_as_paper_reconciles_with_its_variant_over_their_shared_bars(db):
    store_bars(db, BTC)
    sid = _sweep(db, {"fast": "5,10", "slow": "30"}, split="2019-03-01",
                 fill_model="pessimistic")
    assert run_sweep(db, sid, workers=1) == "completed"
    winner = sweep_queries.variants(db, sid).iloc[0]
    variant_id = int(winner.session_id)
    with pytest.raises(BadInput, match="^to: "):
        sweeps.start_as_paper(db, variant_id, to="2019-03-15")
    paper_id = sweeps.start_as_paper(db, variant_id, speed="100", to="2019-04-20",
                                     start=False).id
    with session_scope(db) as s:  # what the engine's start does, without an engine process
        s.execute(update(PaperSession).where(PaperSession.id == paper_id)
                  .values(status="running"))
    run_to_end(db, paper_id)  # re-plays the variant's window at max speed ...
    run_to_end(db, paper_id)  # ... then trades on past it
    with Session(db) as s:
        paper, variant = s.get(PaperSession, paper_id), s.get(PaperSession, variant_id)
    assert paper.origin_session_id == variant_id
    assert paper.status == "completed"
    assert paper.fill_model == "pessimistic"
    assert paper.params == variant.params
    assert paper.speed == 100
    assert paper.bars_done > variant.bars_done
    shared = sweep_queries.origin_comparison(db, paper_id)
    assert shared["shared_bars"] == variant.bars_total
    assert shared["expected"] == shared["actual"] > 0
    assert shared["match_pct"] == 100.0
    assert shared["paper_return_pct"] == pytest.approx(winner.return_pct, rel=1e-12)
    assert _fills(db, paper_id)[:shared["actual"]] == _fills(db, variant_id)
    assert reconcile(db, paper_id).match_pct == 100.0
    assert sweep_queries.paper_sessions(db, sid)["id"].tolist() == [paper_id]


@pytest.mark.parametrize(("grid", "extra", "field"), [
    ({"fast": "5:20:5", "sloww": "30"}, {}, "param 'sloww'"),
    ({"fast": "20:5:5"}, {}, "param fast: stop must not be below start"),
    ({"fast": "5:20:0"}, {}, "param fast: step must be above 0"),
    ({"fast": "1,5"}, {}, "param fast: "),
    ({"fast": "2:101:1", "slow": "200:221:1"}, {}, "params: the grid holds 2,200 variants"),
    ({"fast": "50", "slow": "30,40"}, {}, "params: all 2 combinations"),
    ({"fast": "5", "fill_model": "magic"}, {}, "param fill_model: "),
    ({"fast": "5"}, {"split": "2020-01-01"}, "split must fall inside the window"),
    ({"fast": "5"}, {"symbols": "DOGE-USD"}, "symbols: "),
    ({"fast": "5"}, {"strategy": "nope"}, "strategy"),
    ({"fast": "5"}, {"to": "2030-01-01"}, "to: "),
    ({}, {}, "params: "),
])
def test_bad_input_is_refused_by_name(db, grid, extra, field):
    store_bars(db, BTC)
    with pytest.raises(BadInput) as error:
        _sweep(db, grid, **extra)
    assert str(error.value).startswith(field) or field in str(error.value)
    with Session(db) as s:
        assert not s.execute(select(func.count()).select_from(SweepVariant)).scalar_one()


def _cli(db, *argv):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return cmd_sweep(db, parser.parse_args(["sweep", *argv]))


def test_cli_creates_shows_and_refuses(db, capsys):
    store_bars(db, BTC)
    with pytest.raises(BadInput, match="--param"):
        _cli(db, "create", "--strategy", "ma_crossover", "--symbols", "BTC-USD")
    with pytest.raises(BadInput, match="--param K=RANGE expected"):
        _cli(db, "create", "--strategy", "ma_crossover", "--symbols", "BTC-USD",
             "--param", "fast")
    _cli(db, "create", "--strategy", "ma_crossover", "--symbols", "BTC-USD", "--param",
         "fast=5:15:5", "--param", "slow=30,50", "--from", "2019-01-01", "--to", "2019-02-01")
    sid = int(capsys.readouterr().out)
    assert sweep_queries.sweep_document(db, sid).total == 6
    _cli(db, "cancel", str(sid))  # queued: cancelled at once
    assert sweep_queries.sweep_document(db, sid).status == "cancelled"
    with pytest.raises(NotAllowed, match="cannot cancel sweep"):
        _cli(db, "cancel", str(sid))
    with pytest.raises(BadInput, match="needs an ID"):
        _cli(db, "show")
    _cli(db, "show", str(sid), "--json")
    assert '"status": "cancelled"' in capsys.readouterr().out
