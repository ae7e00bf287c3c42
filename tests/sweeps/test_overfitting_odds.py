"""Overfitting odds of a real sweep: the read returns what engine.analytics computes from the
variants' stored equity, a small sweep says why it has no PBO, and `sweep show` prints both."""

import argparse
import json

import numpy as np
import pytest
from sqlalchemy import select
from sqlmodel import Session

from engine.analytics.overfitting import (
    deflated_sharpe_from_returns,
    per_bar_sharpe,
    probability_of_backtest_overfitting,
)
from engine.cli.sweep import add_parser, cmd_sweep
from engine.control import sweeps
from engine.reads import sweeps as sweep_reads
from engine.reads.overfitting import MEANING, overfitting_odds
from engine.store.models import EquitySnapshot, SweepVariant
from engine.sweeps.runner import run_sweep
from tests.conftest import store_bars

BTC = ("BTC-USD", "1h")


def _run(db, grid: dict) -> int:
    sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                   "from": "2019-01-01", "to": "2019-02-01",
                                   "grid": grid}).id
    assert run_sweep(db, sid, workers=2) == "completed"
    return sid


def _returns_by_orm(db, sid: int) -> tuple[list[int], np.ndarray]:
    """Each variant's bar returns, read row by row through the ORM (not the read's SQL)."""
    with Session(db) as s:
        variants = s.execute(select(SweepVariant.idx, SweepVariant.session_id)
                             .where(SweepVariant.sweep_id == sid)
                             .order_by(SweepVariant.idx)).all()
        curves = [[e for e in s.execute(select(EquitySnapshot.equity).where(
            EquitySnapshot.session_id == session_id).order_by(EquitySnapshot.ts)).scalars()]
            for _, session_id in variants]
    equity = np.array(curves).T
    return [v.idx for v in variants], equity[1:] / equity[:-1] - 1


def test_the_odds_of_a_sweep_are_what_analytics_computes_from_its_equity(db):
    store_bars(db, BTC)
    sid = _run(db, {"fast": "2:9:1", "slow": "30,40"})
    odds = overfitting_odds(db, sid)
    order, returns = _returns_by_orm(db, sid)
    assert odds.variants == 16 == returns.shape[1]
    assert odds.bars == returns.shape[0] == 31 * 24 + 1 - 1  # 745 bars, 744 returns
    expected = probability_of_backtest_overfitting(returns, 16)
    assert odds.pbo == pytest.approx(expected.pbo, abs=1e-12)
    assert odds.n_combinations == expected.n_combinations == 12_870
    winner = sweep_reads.variants(db, sid).iloc[0]
    assert odds.winner_session_id == int(winner.session_id)
    sharpes = per_bar_sharpe(np.float64(len(returns)), returns.sum(axis=0),
                             (returns * returns).sum(axis=0))
    dsr = deflated_sharpe_from_returns(returns[:, order.index(int(winner.idx))], sharpes)
    assert odds.deflated_sharpe == pytest.approx(dsr.dsr, rel=1e-9)
    assert odds.expected_max_sharpe == pytest.approx(dsr.expected_max_sharpe, rel=1e-9)
    assert odds.winner_sharpe == pytest.approx(dsr.sharpe, rel=1e-9)
    assert 0 <= odds.pbo <= 1
    assert 0 <= odds.deflated_sharpe <= 1
    assert odds.reason is None


def _cli(db, *argv):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return cmd_sweep(db, parser.parse_args(["sweep", *argv]))


def test_a_sweep_of_fewer_than_16_variants_says_why_it_has_no_pbo(db, capsys):
    store_bars(db, BTC)
    sid = _run(db, {"fast": "5,10", "slow": "30"})
    odds = overfitting_odds(db, sid)
    assert odds.pbo is None
    assert odds.deflated_sharpe is None
    assert odds.reason == ("PBO needs 16 or more finished variants to choose from; this "
                           "sweep has 2")
    _cli(db, "show", str(sid))
    text = capsys.readouterr().out
    assert "PBO —" in text
    assert odds.reason in text
    assert MEANING in text
    _cli(db, "show", str(sid), "--json")
    shown = json.loads(capsys.readouterr().out)["overfitting"]
    assert shown["pbo"] is None
    assert shown["reason"] == odds.reason
