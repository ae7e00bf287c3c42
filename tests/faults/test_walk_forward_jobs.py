"""A walk-forward sweep on the job queue: two real `python -m engine run` workers run its
variant jobs, and the worker that writes the last variant walks it forward and completes it;
its folds are those of the same walk-forward in one process. PostgreSQL only."""

import os

import pytest

from engine.control import sweeps
from engine.reads import sweeps as sweep_reads
from engine.reads.reconcile import reconcile
from engine.reads.walk_forward import walk_forward
from tests.conftest import spawn_workers, store_bars, wait_until
from tests.faults.test_sweep_jobs import _kill
from tests.sweeps.test_walk_forward_sweep import GRID, WINDOW, _in_one_process

pytestmark = pytest.mark.skipif(not os.environ.get("PAPERDESK_TEST_PG_URL"),
                                reason="the job queue needs PostgreSQL")
TEXT = "train=500,test=300"


def test_the_last_variant_job_walks_the_sweep_forward(env, db, tmp_path):
    store_bars(db, ("BTC-USD", "1h"))
    procs = spawn_workers(env, db, tmp_path, 2)
    try:
        sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                       **WINDOW, "grid": GRID, "walk_forward": TEXT}).id
        wait_until(lambda: sweep_reads.sweep_document(db, sid).status == "completed", 180,
                   poll=0.2, message="the walk-forward sweep to complete")
    finally:
        _kill(procs)
    result = walk_forward(db, sid)
    expected = _in_one_process(db, sid, TEXT, "sharpe")
    assert result.folds["variant_idx"].tolist() == [run.chosen for run in expected]
    assert result.folds["out_sample_pct"].tolist() == pytest.approx(
        [run.out_sample_return * 100 for run in expected], rel=1e-12)
    for session_id in result.folds["session_id"]:
        assert reconcile(db, int(session_id)).match_pct == 100.0
