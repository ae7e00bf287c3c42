"""The trade bootstrap: reproducible from its seed, every path recomputed trade by trade in
plain Python, and bad input refused naming the field."""

import math
import re

import numpy as np
import pytest

from engine.analytics.montecarlo import BATCH_TRADES, MAX_PATHS, bootstrap_trades
from engine.errors import BadInput

TRADES = [0.04, -0.02, 0.015, -0.06, 0.03, 0.0, -0.01]


def _path_by_hand(returns: list[float], picks: list[int], start: float) -> tuple[float, float]:
    """Final return and max drawdown of one path, compounding trade by trade from `start`."""
    equity = peak = start
    worst = 0.0
    for pick in picks:
        equity *= 1 + returns[pick]
        peak = max(peak, equity)
        worst = max(worst, (peak - equity) / peak)
    return equity / start - 1, worst


def test_every_path_and_percentile_matches_a_trade_by_trade_computation():
    n, seed = 500, 42
    assert n * len(TRADES) <= BATCH_TRADES  # one batch: row i of the draw is path i
    picks = np.random.default_rng(seed).integers(0, len(TRADES), size=(n, len(TRADES)))
    paths = [_path_by_hand(TRADES, row, 250.0) for row in picks.tolist()]
    finals = [final for final, _ in paths]
    drawdowns = [drawdown for _, drawdown in paths]

    result = bootstrap_trades(TRADES, n=n, seed=seed, starting_equity=250.0)

    assert (result.n, result.seed, result.trades) == (n, seed, len(TRADES))
    assert result.final_returns == pytest.approx(finals, rel=1e-12, abs=1e-15)
    assert result.max_drawdowns == pytest.approx(drawdowns, rel=1e-12, abs=1e-15)
    p5, p50, p95 = np.percentile(finals, [5, 50, 95])
    assert (result.final_return.p5, result.final_return.p50, result.final_return.p95) == \
        pytest.approx((p5, p50, p95), rel=1e-12, abs=1e-15)
    d5, d50, d95 = np.percentile(drawdowns, [5, 50, 95])
    assert (result.max_drawdown.p5, result.max_drawdown.p50, result.max_drawdown.p95) == \
        pytest.approx((d5, d50, d95), rel=1e-12, abs=1e-15)
    assert result.probability_below_start == sum(final < 0 for final in finals) / n
    assert result.final_equities == pytest.approx([250.0 * (1 + f) for f in finals])


def test_the_same_seed_gives_the_same_paths_and_another_seed_others():
    first = bootstrap_trades(TRADES, n=300, seed=7)
    again = bootstrap_trades(TRADES, n=300, seed=7)
    other = bootstrap_trades(TRADES, n=300, seed=8)
    assert np.array_equal(first.final_returns, again.final_returns)
    assert np.array_equal(first.max_drawdowns, again.max_drawdowns)
    assert first.final_return == again.final_return
    assert not np.array_equal(first.final_returns, other.final_returns)


def test_more_paths_extend_the_same_seeds_paths_across_batches():
    returns = np.random.default_rng(1).normal(0.001, 0.02, size=3_000).tolist()
    few = bootstrap_trades(returns, n=100, seed=3)
    many = bootstrap_trades(returns, n=1_000, seed=3)  # 3 million trades: several batches
    assert len(many.final_returns) == 1_000
    assert np.array_equal(many.final_returns[:100], few.final_returns)
    assert np.array_equal(many.max_drawdowns[:100], few.max_drawdowns)


def test_only_winning_trades_never_end_below_the_start():
    result = bootstrap_trades([0.01, 0.2, 1e-9, 0.05], n=2_000, seed=1)
    assert result.probability_below_start == 0.0
    assert result.max_drawdown.p95 == 0.0
    assert (result.final_returns > 0).all()


def test_a_single_losing_trade_counts_the_start_as_the_peak():
    result = bootstrap_trades([-0.1], n=5)
    assert result.final_returns == pytest.approx([-0.1] * 5)
    assert result.max_drawdowns == pytest.approx([0.1] * 5)
    assert result.probability_below_start == 1.0


def test_no_trades_give_a_record_that_says_so():
    result = bootstrap_trades([], n=10, seed=3)
    assert result.trades == 0
    assert (result.n, result.seed) == (10, 3)
    assert result.final_return is None
    assert result.max_drawdown is None
    assert result.probability_below_start is None
    assert len(result.final_returns) == len(result.max_drawdowns) == 0


def test_per_path_arrays_are_read_only():
    result = bootstrap_trades(TRADES, n=10)
    with pytest.raises(ValueError, match="read-only"):
        result.final_returns[0] = 1.0


@pytest.mark.parametrize(("trades", "kwargs", "message"), [
    (TRADES, {"n": 0}, "monte-carlo n must be a whole number of paths from 1 to 100000"),
    (TRADES, {"n": MAX_PATHS + 1}, "monte-carlo n must be a whole number of paths"),
    (TRADES, {"n": 2.5}, "monte-carlo n must be a whole number of paths"),
    (TRADES, {"n": True}, "monte-carlo n must be a whole number of paths"),
    ([], {"n": -1}, "monte-carlo n must be a whole number of paths"),
    (TRADES, {"seed": -1}, "monte-carlo seed must be a whole number ≥ 0"),
    (TRADES, {"starting_equity": 0.0}, "monte-carlo starting equity must be a positive"),
    (TRADES, {"starting_equity": math.nan}, "monte-carlo starting equity must be a positive"),
    ([0.1, -1.0], {}, "monte-carlo trade return must be a finite fraction > -1"),
    ([0.1, 0.2, -1.5], {}, "trade 2 is -1.5"),
    ([0.1, math.nan], {}, "trade 1 is nan"),
    ([0.1, math.inf], {}, "trade 1 is inf"),
    (["x"], {}, "monte-carlo trade returns must be numbers"),
    ([[0.1], [0.2]], {}, "monte-carlo trade returns must be a flat sequence"),
])
def test_bad_input_is_refused_naming_the_field(trades, kwargs, message):
    with pytest.raises(BadInput, match=re.escape(message)) as caught:
        bootstrap_trades(trades, **kwargs)
    assert len(str(caught.value).splitlines()) == 1
