"""Memory bounded by design (issue 21): a sweep keeps at most IN_FLIGHT variants per pool
process submitted and not yet written, however many variants it has and however slow the
writer is — counted outside the code under test, at the pool's submit and at the write."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.control import sweeps
from engine.reads import sweeps as sweep_queries
from engine.sweeps import runner
from engine.sweeps.in_flight import IN_FLIGHT, InFlight
from tests.conftest import store_bars


class Count:
    """Tasks submitted and taken back, and the most ever in flight between the two."""

    def __init__(self):
        self.submitted = self.taken = self.peak = 0

    def submit(self) -> None:
        self.submitted += 1
        self.peak = max(self.peak, self.submitted - self.taken)


@pytest.mark.parametrize("limit", [1, 3])
def test_in_flight_never_exceeds_its_limit_and_runs_every_task(limit):
    count = Count()
    with ThreadPoolExecutor(4) as pool:
        def submit(task: int):
            count.submit()
            return pool.submit(lambda: task)

        flight, results = InFlight(submit, range(20), limit), []
        while flight:
            for result in flight.finished(timeout=1.0):
                time.sleep(0.002)  # a slow writer: finished tasks would pile up behind it
                results.append(result)
                count.taken += 1
    assert sorted(results) == list(range(20))
    assert count.peak == limit


def test_a_sweep_holds_at_most_in_flight_variants_per_process(db, monkeypatch):
    store_bars(db, ("BTC-USD", "1h"))
    sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                   "from": "2019-01-01", "to": "2019-02-01",
                                   "grid": {"fast": "2:13:1", "slow": "30"}}).id
    count, write = Count(), runner._Plan.write

    class CountingPool(runner.ProcessPoolExecutor):
        def submit(self, *args, **kwargs):
            count.submit()
            return super().submit(*args, **kwargs)

    def counted_write(plan, run, *args, **kwargs):
        written = write(plan, run, *args, **kwargs)
        count.taken += 1
        return written

    monkeypatch.setattr(runner, "ProcessPoolExecutor", CountingPool)
    monkeypatch.setattr(runner._Plan, "write", counted_write)
    assert runner.run_sweep(db, sid, workers=1) == "completed"
    assert len(sweep_queries.variants(db, sid)) == count.submitted == count.taken == 12
    assert count.peak == IN_FLIGHT
