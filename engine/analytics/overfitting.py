"""How likely a parameter search overfits: the probability of backtest overfitting (PBO) by
combinatorially symmetric cross-validation, and the deflated Sharpe ratio (DSR).

Sharpe ratios here are per bar (mean ÷ standard deviation of bar returns, risk-free 0), never
annualised: both papers work in the returns' own frequency.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

import numpy as np

from engine.core.curve import RETURN_BLOCKS
from engine.errors import BadInput

MIN_VARIANTS = 16  # what a caller should require for a meaningful PBO; the maths needs 2
DEFAULT_SPLITS = RETURN_BLOCKS  # 16: the blocks a sweep variant keeps its returns' sums in
MAX_SPLITS = 20  # C(20, 10) = 184,756 combinations; the cost grows with combinations × variants
EULER_GAMMA = 0.5772156649015329
_CHUNK_CELLS = 1 << 19  # combinations × variants scored at once: about 4 MB per float array
_FLAT = 1e-12  # a variance below this share of the mean square is rounding noise: no spread

Metric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""Score variants from (bar count, sum, sum of squares) of their returns, arrays that broadcast
to combinations × variants; higher is better. Must be elementwise and return no NaN."""


def per_bar_sharpe(n_bars: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """Per-bar Sharpe ratio (mean ÷ population std, risk-free 0) from count, sum and sum of
    squares; a series with no spread scores +inf, −inf or 0 by the sign of its mean."""
    mean = total / n_bars
    mean_sq = total_sq / n_bars
    var = mean_sq - mean * mean
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = mean / np.sqrt(var)
    flat = var <= _FLAT * mean_sq
    if flat.any():  # two steps, as copysign(inf, 0) is inf, not 0
        sharpe[flat] = np.copysign(np.inf, mean[flat])
        sharpe[flat & (mean == 0)] = 0.0
    return sharpe


@dataclass(frozen=True, slots=True)
class Pbo:
    """The result of CSCV: PBO and the logit λ of every in-sample/out-of-sample combination."""

    pbo: float  # share of combinations whose in-sample best ranks at or below the OOS median
    # λ = ln(ω / (1 − ω)) per combination, read-only: first those holding block 0 in sample,
    # in itertools.combinations order, then their mirrors in the same order
    logits: np.ndarray
    n_combinations: int
    n_splits: int
    n_variants: int


def _returns_matrix(returns: np.ndarray, n_splits: int) -> np.ndarray:
    try:
        matrix = np.asarray(returns, dtype=float)
    except (TypeError, ValueError):
        raise BadInput("PBO returns must be numbers") from None
    if matrix.ndim != 2:
        raise BadInput(f"PBO returns must be a table of bars × variants (got {matrix.ndim} "
                       "dimensions)")
    n_bars, n_variants = matrix.shape
    whole = isinstance(n_splits, int | np.integer) and not isinstance(n_splits, bool)
    if not whole or not 2 <= n_splits <= MAX_SPLITS or n_splits % 2:
        raise BadInput(f"PBO n_splits must be an even whole number from 2 to {MAX_SPLITS} "
                       f"(got {n_splits!r})")
    if n_variants < 2:
        raise BadInput(f"PBO needs at least 2 variants to choose from (got {n_variants})")
    if n_bars < n_splits:
        raise BadInput(f"PBO needs at least one bar per split: {n_splits} bars (got {n_bars})")
    return matrix


def block_aggregates(matrix: np.ndarray, n_splits: int) -> tuple[np.ndarray, ...]:
    """Bar count (S,), sums (S × N) and sums of squares (S × N) of S contiguous row blocks."""
    blocks = np.array_split(matrix, n_splits)
    counts = np.array([len(block) for block in blocks], dtype=float)
    sums = np.stack([block.sum(axis=0) for block in blocks])
    squares = np.stack([np.einsum("ij,ij->j", block, block) for block in blocks])
    bad = ~np.isfinite(squares).all(axis=0)  # NaN and inf survive the squares; so do overflows
    if bad.any():
        raise BadInput(f"PBO returns must be finite numbers (variant {int(bad.argmax())} is not)")
    return counts, sums, squares


def _sum_blocks(per_block: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Per combination (rows of `chosen`, block ids), the sum of those blocks' rows."""
    total = per_block[chosen[:, 0]]
    for column in range(1, chosen.shape[1]):
        total += per_block[chosen[:, column]]
    return total


def _logits(in_score: np.ndarray, out_score: np.ndarray) -> np.ndarray:
    """λ per row: the out-of-sample relative rank of the row's in-sample best, as a logit."""
    best = in_score.argmax(axis=1)  # ties: the lowest variant index
    chosen = out_score[np.arange(len(out_score)), best][:, None]
    below = (out_score < chosen).sum(axis=1)
    level = (out_score == chosen).sum(axis=1)
    rank = below + (level + 1) / 2  # 1 = worst … N = best; ties share their average rank
    omega = rank / (out_score.shape[1] + 1)
    return np.log(omega / (1 - omega))


def _mirrored_logits(chosen: np.ndarray, counts: np.ndarray, sums: np.ndarray,
                     squares: np.ndarray, metric: Metric) -> tuple[np.ndarray, np.ndarray]:
    """λ with the blocks of each row of `chosen` in sample, and λ with them out of sample."""
    side_n = counts[chosen].sum(axis=1)[:, None]
    side_sum = _sum_blocks(sums, chosen)
    side_sq = _sum_blocks(squares, chosen)
    # the other side is everything minus this one: elementwise, so equal variants score equal
    side = metric(side_n, side_sum, side_sq)
    other = metric(counts.sum() - side_n, sums.sum(axis=0) - side_sum,
                   squares.sum(axis=0) - side_sq)
    return _logits(side, other), _logits(other, side)


def probability_of_backtest_overfitting(returns: np.ndarray, n_splits: int = DEFAULT_SPLITS,
                                        metric: Metric = per_bar_sharpe) -> Pbo:
    """PBO of choosing the best of N variants by `metric`, by CSCV (Bailey, Borwein, López de
    Prado & Zhu 2015, "The Probability of Backtest Overfitting").

    `returns` is T × N: bar returns (fractions) of N variants over the same T bars. The rows are
    cut into S = `n_splits` contiguous blocks (sizes differ by at most one bar when S does not
    divide T; no bar is dropped). For each of the C(S, S/2) ways to pick S/2 blocks as in
    sample, the rest out of sample, the in-sample best variant (first on a tie) gets its
    out-of-sample rank among all N, tied variants sharing their average rank; ω = rank / (N+1),
    λ = ln(ω / (1 − ω)), and PBO is the share of combinations with λ ≤ 0.

    Each combination's mirror (in and out of sample swapped) is also a combination, so the
    scores of the half that holds the first block in sample serve both. Scores come from
    per-block counts, sums and sums of squares: a combination costs O(S·N), not O(T·N).
    Measured on the 2-core dev machine: N = 2,000, T = 20,111, S = 16 (12,870 combinations)
    takes 1.1 s (up to 1.6 s while the machine is shared), about 13 s at S = 20.
    """
    matrix = _returns_matrix(returns, n_splits)
    return pbo_from_blocks(*block_aggregates(matrix, n_splits), metric)


def pbo_from_blocks(counts: np.ndarray, sums: np.ndarray, squares: np.ndarray,
                    metric: Metric = per_bar_sharpe) -> Pbo:
    """PBO as `probability_of_backtest_overfitting` computes it, from what it keeps of the
    returns: the bar count (S,), sums (S × N) and sums of squares (S × N) of S contiguous
    blocks of bars (what a sweep variant stores, engine.core.curve.return_blocks)."""
    n_splits, n_variants = sums.shape
    if n_variants < 2:
        raise BadInput(f"PBO needs at least 2 variants to choose from (got {n_variants})")
    if n_splits < 2 or n_splits % 2 or (counts < 1).any():
        raise BadInput(f"PBO needs an even number of blocks of one bar or more (got {n_splits})")
    if not (np.isfinite(sums).all() and np.isfinite(squares).all()):
        raise BadInput("PBO returns must be finite numbers")
    half = n_splits // 2
    holding_first = np.array([(0, *rest) for rest in combinations(range(1, n_splits), half - 1)])
    per_chunk = max(1, _CHUNK_CELLS // n_variants)
    pairs = [_mirrored_logits(holding_first[start:start + per_chunk], counts, sums, squares,
                              metric)
             for start in range(0, len(holding_first), per_chunk)]
    logits = np.concatenate([pair[0] for pair in pairs] + [pair[1] for pair in pairs])
    logits.flags.writeable = False
    return Pbo(pbo=float((logits <= 0).mean()), logits=logits, n_combinations=len(logits),
               n_splits=n_splits, n_variants=n_variants)


@dataclass(frozen=True, slots=True)
class Dsr:
    """A deflated Sharpe ratio and what it was deflated against; Sharpe ratios per bar."""

    dsr: float  # probability that the true Sharpe ratio exceeds expected_max_sharpe
    sharpe: float
    expected_max_sharpe: float  # SR0: the best Sharpe ratio expected from n_trials with no skill
    n_trials: int
    n_obs: int


def _expected_max_sharpe(n_trials: int, variance: float) -> float:
    if n_trials == 1:
        return 0.0  # nothing was chosen; the formula's Φ⁻¹(0) is −∞
    inverse = NormalDist().inv_cdf
    return math.sqrt(variance) * ((1 - EULER_GAMMA) * inverse(1 - 1 / n_trials)
                                  + EULER_GAMMA * inverse(1 - 1 / (n_trials * math.e)))


def _require_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise BadInput(f"DSR {name.replace('_', ' ')} must be a finite number (got {value!r})")


def _require_count(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise BadInput(f"DSR {name} must be a whole number ≥ {least} (got {value!r})")


def deflated_sharpe_ratio(sharpe: float, n_trials: int, n_obs: int, skew: float,
                          kurtosis: float, trials_sharpe_variance: float) -> Dsr:
    """DSR of a per-bar Sharpe ratio chosen as the best of `n_trials` (Bailey & López de Prado
    2014, "The Deflated Sharpe Ratio").

    SR0 = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e))), V the variance of the trials' per-bar
    Sharpe ratios and γ Euler's constant (SR0 = 0 for one trial), and
    DSR = Φ((SR − SR0) √(T − 1) / √(1 − skew·SR + (kurtosis − 1)/4 · SR²)), T = `n_obs` bar
    returns. `kurtosis` is not excess: 3 for normal returns. N counts trials as given; pass
    the number of independent trials when the variants are strongly correlated.
    """
    _require_finite(sharpe=sharpe, skew=skew, kurtosis=kurtosis,
                    trials_sharpe_variance=trials_sharpe_variance)
    _require_count("n_trials", n_trials, 1)
    _require_count("n_obs", n_obs, 2)
    if trials_sharpe_variance < 0:
        raise BadInput(f"DSR trials Sharpe variance must be ≥ 0 (got {trials_sharpe_variance!r})")
    if kurtosis < skew * skew + 1 - 1e-9:  # the slack absorbs rounding in sample moments
        raise BadInput(f"DSR kurtosis must be ≥ skew² + 1, as for any distribution "
                       f"(got kurtosis {kurtosis!r}, skew {skew!r})")
    benchmark = _expected_max_sharpe(n_trials, trials_sharpe_variance)
    spread = max(0.0, 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe * sharpe)
    excess = (sharpe - benchmark) * math.sqrt(n_obs - 1)
    z = excess / math.sqrt(spread) if spread > 0 else math.copysign(math.inf, excess)
    return Dsr(dsr=NormalDist().cdf(z), sharpe=sharpe, expected_max_sharpe=benchmark,
               n_trials=n_trials, n_obs=n_obs)


def deflated_sharpe_from_returns(winner_returns: np.ndarray, all_sharpes: np.ndarray) -> Dsr:
    """DSR of the chosen variant from its bar returns and every trial's per-bar Sharpe ratio.

    The winner's Sharpe ratio, skew and kurtosis use population moments (as `per_bar_sharpe`);
    V is the sample variance (n − 1) of `all_sharpes`, whose length is the number of trials.
    """
    returns = np.asarray(winner_returns, dtype=float)
    sharpes = np.asarray(all_sharpes, dtype=float)
    if returns.ndim != 1 or len(returns) < 2 or not np.isfinite(returns).all():
        raise BadInput("DSR winner returns must be 2 or more finite bar returns")
    if sharpes.ndim != 1 or len(sharpes) < 1 or not np.isfinite(sharpes).all():
        raise BadInput("DSR trial Sharpe ratios must be 1 or more finite numbers")
    centred = returns - returns.mean()
    m2 = float(np.mean(centred**2))
    if m2 <= _FLAT * float(np.mean(returns**2)):
        raise BadInput("DSR winner returns do not vary, so their Sharpe ratio is undefined")
    return deflated_sharpe_ratio(
        sharpe=float(returns.mean()) / math.sqrt(m2),
        n_trials=len(sharpes),
        n_obs=len(returns),
        skew=float(np.mean(centred**3)) / m2**1.5,
        kurtosis=float(np.mean(centred**4)) / m2**2,
        trials_sharpe_variance=float(sharpes.var(ddof=1)) if len(sharpes) > 1 else 0.0,
    )
