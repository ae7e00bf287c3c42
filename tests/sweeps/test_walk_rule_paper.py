"""A walk-forward sweep's rule graduated to paper (engine.control.walk_paper): the session
re-plays the folds' test bars choosing at each boundary what the fold chose, trades on past the
sweep's window, and reconciles 100 %; what cannot be a rule is refused with one line."""

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from engine.control import sweeps
from engine.control.walk_paper import start_walk_forward
from engine.errors import BadInput
from engine.reads.reconcile import reconcile
from engine.reads.walk_forward import walk_forward as walk_read
from engine.store.db import session_scope
from engine.store.models import Order, PaperSession, SweepVariant
from engine.sweeps.runner import run_sweep
from engine.trading.clock import run_to_end
from tests.conftest import store_bars

BTC = ("BTC-USD", "1h")


def _sweep(db, walk: str, grid: dict | None = None) -> int:
    sid = sweeps.create_sweep(db, {
        "strategy": "ma_crossover", "symbols": "BTC-USD", "from": "2019-01-01",
        "to": "2019-04-01", "grid": grid or {"fast": "5:20:5", "slow": "40,60"},
        "walk_forward": walk}).id
    assert run_sweep(db, sid, workers=2) == "completed"
    return sid


def _params(db, sweep_id: int) -> dict[int, dict]:
    with Session(db) as s:
        return dict(s.execute(select(SweepVariant.idx, PaperSession.params)
                              .join(PaperSession, PaperSession.id == SweepVariant.session_id)
                              .where(SweepVariant.sweep_id == sweep_id)).all())


def test_a_graduated_rule_chooses_as_its_folds_did_trades_on_and_reconciles(db):
    store_bars(db, BTC)
    sid = _sweep(db, "train=500,test=300")
    with pytest.raises(BadInput, match="^to: the sweep's window ends"):
        start_walk_forward(db, sid, to="2019-03-20")
    pid = start_walk_forward(db, sid, speed="100", to="2019-05-01", start=False).id
    with session_scope(db) as s:  # what the engine's start does, without an engine process
        s.execute(update(PaperSession).where(PaperSession.id == pid).values(status="running"))
    run_to_end(db, pid)  # re-plays the folds' test bars at max speed ...
    run_to_end(db, pid)  # ... then trades on past the sweep's window
    folds = walk_read(db, sid).folds
    with Session(db) as s:
        paper = s.get(PaperSession, pid)
        orders = s.execute(select(Order.decision_bar_ts, Order.lineage)
                           .where(Order.session_id == pid)).all()
    assert paper.status == "completed"
    assert paper.window_from == folds["test_from"].iloc[0]
    assert paper.last_bar_at > folds["test_to"].iloc[-1]
    params = _params(db, sid)
    for fold in folds.itertuples():
        decided = [lineage["params"] for ts, lineage in orders
                   if fold.test_from <= ts <= fold.test_to]
        assert decided, f"fold {fold.idx} decided no order"
        assert all(p == params[fold.variant_idx] for p in decided)
    assert {tuple(p.items()) for p in (lin["params"] for _, lin in orders)} != {
        tuple(params[folds["variant_idx"].iloc[0]].items())}  # the rule did re-select
    assert reconcile(db, pid).match_pct == 100.0


@pytest.mark.parametrize(("walk", "grid", "message"), [
    ("train=400,test=200,anchored", None, "is anchored"),
    ("train=500,test=300", {"fast": "5,10", "slow": "40", "fee_bps": "5,10"},
     "the sweep varies fee_bps"),
])
def test_what_cannot_be_a_rule_is_refused_with_one_line(db, walk, grid, message):
    store_bars(db, BTC)
    sid = _sweep(db, walk, grid)
    with pytest.raises(BadInput, match=message) as refused:
        start_walk_forward(db, sid)
    assert "\n" not in str(refused.value)
    with Session(db) as s:
        assert s.execute(select(PaperSession.id).where(
            PaperSession.walk_rule.is_not(None))).first() is None
