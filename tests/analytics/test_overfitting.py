"""PBO by CSCV and the deflated Sharpe ratio, each checked against an independent computation
straight from the papers' definitions (plain Python loops, math.erf), not against numpy."""

import math
import re
import statistics
import time
from itertools import combinations

import numpy as np
import pytest

from engine.analytics.overfitting import (
    MAX_SPLITS,
    deflated_sharpe_from_returns,
    deflated_sharpe_ratio,
    per_bar_sharpe,
    probability_of_backtest_overfitting,
)
from engine.errors import BadInput


def _sharpe(values: list[float]) -> float:
    return statistics.fmean(values) / statistics.pstdev(values)


def _mean(values: list[float]) -> float:
    return statistics.fmean(values)


def _cscv_by_hand(rows: list[list[float]], n_splits: int, score=_sharpe):
    """PBO and the logits, one combination at a time, as the paper describes CSCV."""
    n_bars, n_variants = len(rows), len(rows[0])
    size, longer = divmod(n_bars, n_splits)  # the first `longer` blocks hold one bar more
    blocks, start = [], 0
    for b in range(n_splits):
        end = start + size + (1 if b < longer else 0)
        blocks.append(rows[start:end])
        start = end
    logits = []
    for in_ids in combinations(range(n_splits), n_splits // 2):
        in_rows = [row for b in in_ids for row in blocks[b]]
        out_rows = [row for b in range(n_splits) if b not in in_ids for row in blocks[b]]
        in_scores = [score([row[v] for row in in_rows]) for v in range(n_variants)]
        out_scores = [score([row[v] for row in out_rows]) for v in range(n_variants)]
        best = in_scores.index(max(in_scores))
        mine = out_scores[best]
        rank = 1 + sum(s < mine for s in out_scores) + (sum(s == mine for s in out_scores) - 1) / 2
        omega = rank / (n_variants + 1)
        logits.append(math.log(omega / (1 - omega)))
    return sum(lam <= 0 for lam in logits) / len(logits), logits


@pytest.mark.parametrize(("seed", "n_bars", "n_variants", "n_splits", "metric", "score"), [
    (1, 40, 4, 4, per_bar_sharpe, _sharpe),
    (2, 37, 4, 4, per_bar_sharpe, _sharpe),  # blocks of 10, 9, 9, 9 bars
    (3, 61, 5, 6, per_bar_sharpe, _sharpe),
    (4, 30, 3, 2, per_bar_sharpe, _sharpe),
    (5, 45, 6, 8, lambda n, total, total_sq: total / n, _mean),
])
def test_pbo_matches_cscv_enumerated_by_hand(seed, n_bars, n_variants, n_splits, metric, score):
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0005, 0.01, size=(n_bars, n_variants))
    pbo, logits = _cscv_by_hand(returns.tolist(), n_splits, score)
    result = probability_of_backtest_overfitting(returns, n_splits=n_splits, metric=metric)
    assert result.pbo == pytest.approx(pbo, abs=1e-12)
    assert sorted(result.logits) == pytest.approx(sorted(logits), abs=1e-9)
    assert result.n_combinations == math.comb(n_splits, n_splits // 2) == len(logits)
    assert (result.n_splits, result.n_variants) == (n_splits, n_variants)


def test_a_winner_that_reverses_out_of_sample_overfits_every_time():
    # two halves; A wins the first and loses the second, B the other way round: whichever
    # half is in sample, its winner ranks last (1 of 2) out of sample: ω = 1/3, λ = ln(1/2)
    returns = np.array([[0.02, -0.01], [0.01, -0.02], [-0.01, 0.02], [-0.02, 0.01]])
    result = probability_of_backtest_overfitting(returns, n_splits=2)
    assert result.pbo == 1.0
    assert list(result.logits) == pytest.approx([math.log(0.5)] * 2)


def test_tied_variants_share_their_average_rank():
    # A and B are the same strategy. Block 0 in sample: A (first of the tie) wins and ties B
    # for last out of sample: rank (1 + 2) / 2 = 1.5 of 3, ω = 1.5 / 4. Block 1 in sample:
    # C wins and is last out of sample: rank 1, ω = 1 / 4.
    a = [0.03, 0.01, -0.01, -0.03]
    c = [0.02, -0.01, 0.03, 0.01]
    result = probability_of_backtest_overfitting(np.array([a, a, c]).T, n_splits=2)
    assert list(result.logits) == pytest.approx([math.log(0.375 / 0.625), math.log(1 / 3)])
    assert result.pbo == 1.0


def test_a_variant_that_dominates_every_block_gives_pbo_zero():
    rng = np.random.default_rng(7)
    returns = rng.normal(0.0, 0.01, size=(400, 10))
    returns[:, 3] += 0.05  # far ahead of the rest in every block, in or out of sample
    result = probability_of_backtest_overfitting(returns)
    assert result.pbo == 0.0
    assert np.allclose(result.logits, math.log(10 / 11 / (1 / 11)))  # rank N of N everywhere


def test_pure_noise_gives_pbo_near_one_half():
    # With no skill the in-sample winner's out-of-sample rank is uniform on 1 … 50, and ranks
    # 1 … 25 give λ ≤ 0: PBO's expectation is 0.5. One matrix's PBO varies a lot, since all
    # 12,870 combinations reuse the same 16 blocks (sd 0.17 over 200 seeds, mean 0.48); the
    # mean of 8 seeds has sd ≈ 0.06, so ≥ 0.3 holds with margin and fails a method that
    # mistakes noise for skill.
    values = [probability_of_backtest_overfitting(
        np.random.default_rng(seed).normal(0.0, 0.01, size=(2000, 50))).pbo
        for seed in range(8)]
    assert all(0 <= value <= 1 for value in values)
    assert 0.3 <= statistics.fmean(values) <= 0.7


def test_variants_that_never_trade_are_tied_not_refused():
    returns = np.zeros((64, 5))
    returns[:, 2] = np.random.default_rng(3).normal(0.0, 0.01, 64)
    result = probability_of_backtest_overfitting(returns, n_splits=4)
    assert np.isfinite(result.logits).all()
    assert list(per_bar_sharpe(np.array([[4.0]]), np.array([[0.0, 0.4, -0.4]]),
                               np.array([[0.0, 0.04, 0.04]]))[0]) == [0.0, math.inf, -math.inf]


def test_logits_are_read_only():
    result = probability_of_backtest_overfitting(np.random.default_rng(0).normal(size=(20, 3)),
                                                 n_splits=2)
    with pytest.raises(ValueError, match="read-only"):
        result.logits[0] = 0.0


def test_pbo_cost_is_bounded_at_product_scale():
    # Measured on the 2-core dev machine: 1.1–1.6 s for N = 2,000 variants, T = 20,111 bars,
    # S = 16 (12,870 combinations), the returns already in memory. The bound is generous for a
    # shared machine; re-slicing the T rows per combination would take minutes.
    returns = np.random.default_rng(11).standard_normal((20_111, 2_000))
    returns *= 0.01
    started = time.perf_counter()
    result = probability_of_backtest_overfitting(returns, n_splits=16)
    assert time.perf_counter() - started < 30
    assert result.n_combinations == 12_870
    assert 0 <= result.pbo <= 1


@pytest.mark.parametrize(("returns", "n_splits", "message"), [
    (np.zeros(40), 4, "a table of bars × variants (got 1 dimensions)"),
    (np.zeros((40, 1)), 4, "at least 2 variants to choose from (got 1)"),
    (np.zeros((3, 4)), 4, "at least one bar per split: 4 bars (got 3)"),
    (np.zeros((40, 4)), 3, "n_splits must be an even whole number from 2 to 20 (got 3)"),
    (np.zeros((40, 4)), 0, "n_splits must be an even whole number"),
    (np.zeros((40, 4)), MAX_SPLITS + 2, "n_splits must be an even whole number"),
    (np.zeros((40, 4)), 4.0, "n_splits must be an even whole number"),
    (np.zeros((40, 4)), True, "n_splits must be an even whole number"),
    (np.array([[0.0, 1.0], [math.nan, 0.0], [0.0, 0.0]]), 2, "finite numbers (variant 0 is"),
    (np.array([[0.0, 1.0], [0.0, math.inf], [0.0, 0.0]]), 2, "finite numbers (variant 1 is"),
    ([["a", "b"], ["c", "d"]], 2, "returns must be numbers"),
])
def test_pbo_refuses_bad_input(returns, n_splits, message):
    with pytest.raises(BadInput, match=f"^PBO .*{re.escape(message)}"):
        probability_of_backtest_overfitting(returns, n_splits=n_splits)


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _phi_inverse(p: float) -> float:
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if _phi(middle) < p else (low, middle)
    return (low + high) / 2


def _dsr_by_hand(sharpe, n_trials, n_obs, skew, kurtosis, variance):
    gamma = 0.5772156649015329
    sr0 = math.sqrt(variance) * ((1 - gamma) * _phi_inverse(1 - 1 / n_trials)
                                 + gamma * _phi_inverse(1 - 1 / (n_trials * math.e)))
    z = ((sharpe - sr0) * math.sqrt(n_obs - 1)
         / math.sqrt(1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2))
    return sr0, _phi(z)


def test_dsr_reproduces_the_papers_numerical_example():
    # Bailey & López de Prado (2014), numerical example: best of N = 100 trials, annualised
    # SR 2.5 and variance of the trials' annualised SRs 0.5, on T = 1,250 daily returns
    # (250 a year) with skew −3 and kurtosis 10. The paper finds E[max SR] ≈ 0.1132 per day
    # and DSR ≈ 0.9004.
    result = deflated_sharpe_ratio(2.5 / math.sqrt(250), 100, 1250, -3.0, 10.0, 0.5 / 250)
    assert result.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert result.dsr == pytest.approx(0.9004, abs=5e-5)


@pytest.mark.parametrize("case", [
    (2.5 / math.sqrt(250), 100, 1250, -3.0, 10.0, 0.5 / 250),
    (0.05, 7, 500, 0.4, 4.2, 0.0004),
    (0.12, 2, 90, -1.1, 6.0, 0.003),
    (-0.02, 30, 2000, 0.0, 3.0, 0.0001),
])
def test_dsr_matches_an_erf_computation(case):
    sr0, dsr = _dsr_by_hand(*case)
    result = deflated_sharpe_ratio(*case)
    assert result.expected_max_sharpe == pytest.approx(sr0, rel=1e-9)
    assert result.dsr == pytest.approx(dsr, abs=1e-9)


def test_dsr_falls_as_trials_grow_and_one_trial_is_the_psr():
    values = [deflated_sharpe_ratio(0.08, n, 750, -0.5, 5.0, 0.001).dsr
              for n in (1, 2, 5, 20, 100, 1000, 10_000)]
    assert values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)
    psr = _phi(0.08 * math.sqrt(749) / math.sqrt(1 + 0.5 * 0.08 + 1.0 * 0.08**2))
    assert values[0] == pytest.approx(psr, abs=1e-12)


def test_dsr_from_returns_computes_moments_from_the_definitions():
    rng = np.random.default_rng(5)
    winner = rng.standard_t(5, size=600) * 0.01 + 0.001
    sharpes = rng.normal(0.02, 0.03, size=40)
    values = winner.tolist()
    mean = sum(values) / len(values)
    m2, m3, m4 = (sum((x - mean) ** k for x in values) / len(values) for k in (2, 3, 4))
    expected = deflated_sharpe_ratio(
        mean / math.sqrt(m2), 40, 600, m3 / m2**1.5, m4 / m2**2,
        statistics.variance(sharpes.tolist()))
    result = deflated_sharpe_from_returns(winner, sharpes)
    assert result.sharpe == pytest.approx(expected.sharpe, rel=1e-9)
    assert result.expected_max_sharpe == pytest.approx(expected.expected_max_sharpe, rel=1e-9)
    assert result.dsr == pytest.approx(expected.dsr, abs=1e-9)
    assert (result.n_trials, result.n_obs) == (40, 600)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_trials": 0}, "n_trials must be a whole number ≥ 1 \\(got 0\\)"),
    ({"n_trials": 2.5}, "n_trials must be a whole number ≥ 1"),
    ({"n_obs": 1}, "n_obs must be a whole number ≥ 2"),
    ({"trials_sharpe_variance": -0.1}, "trials Sharpe variance must be ≥ 0"),
    ({"kurtosis": 1.5, "skew": 1.0}, "kurtosis must be ≥ skew² \\+ 1"),
    ({"sharpe": math.nan}, "sharpe must be a finite number"),
    ({"skew": math.inf}, "skew must be a finite number"),
])
def test_dsr_refuses_bad_input_naming_the_field(kwargs, message):
    args = {"sharpe": 0.1, "n_trials": 10, "n_obs": 100, "skew": 0.0, "kurtosis": 3.0,
            "trials_sharpe_variance": 0.01, **kwargs}
    with pytest.raises(BadInput, match=f"^DSR {message}"):
        deflated_sharpe_ratio(**args)


@pytest.mark.parametrize(("winner", "sharpes", "message"), [
    ([0.01] * 50, [0.1, 0.2], "winner returns do not vary"),
    ([0.01], [0.1], "winner returns must be 2 or more"),
    ([0.01, math.nan], [0.1], "winner returns must be 2 or more finite"),
    ([0.01, 0.02], [], "trial Sharpe ratios must be 1 or more"),
])
def test_dsr_from_returns_refuses_bad_input(winner, sharpes, message):
    with pytest.raises(BadInput, match=f"^DSR {message}"):
        deflated_sharpe_from_returns(np.array(winner), np.array(sharpes))
