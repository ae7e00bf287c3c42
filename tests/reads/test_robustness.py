"""Monte-Carlo of a session: its closed trades read independently from the fills, resampled by
a direct numpy computation, give the same percentiles as `session robustness --json`; the
same seed gives the same paths, another seed others."""

import json
from collections import defaultdict

import numpy as np
import pytest
from sqlalchemy import select
from sqlmodel import Session

from engine.errors import BadInput, NotFound
from engine.reads.robustness import closed_trade_returns, monte_carlo
from engine.store.models import Fill, PaperSession
from tests.conftest import cli


def _trade_returns_by_hand(db, sid: int) -> tuple[float, list[float]]:
    """Sell orders' realized P&L over the realized equity before each, in closing order."""
    with Session(db) as s:
        cash = s.get(PaperSession, sid).starting_cash
        fills = s.execute(select(Fill).where(Fill.session_id == sid)
                          .order_by(Fill.id)).scalars().all()
    pnl, last = defaultdict(float), {}
    for f in fills:
        if f.side == "sell":
            pnl[f.order_id] += f.realized_pnl
            last[f.order_id] = f.id
    equity, returns = cash, []
    for order in sorted(pnl, key=last.get):
        returns.append(pnl[order] / equity)
        equity += pnl[order]
    return cash, returns


def _numpy_bootstrap(returns: list[float], n: int, seed: int) -> dict:
    r = np.array(returns)
    picks = np.random.default_rng(seed).integers(0, len(r), size=(n, len(r)))
    paths = np.cumprod(1 + r[picks], axis=1)
    peak = np.maximum.accumulate(np.concatenate([np.ones((n, 1)), paths], axis=1), axis=1)[:, 1:]
    drawdown = ((peak - paths) / peak).max(axis=1)
    final = paths[:, -1] - 1
    return {"final": np.percentile(final, [5, 50, 95]),
            "drawdown": np.percentile(drawdown, [5, 50, 95]), "below": (final < 0).mean()}


def test_trade_returns_compound_to_the_realized_result(db, traded):
    cash, returns = closed_trade_returns(db, traded)
    by_hand_cash, by_hand = _trade_returns_by_hand(db, traded)
    assert cash == by_hand_cash
    assert returns.tolist() == pytest.approx(by_hand, rel=1e-12)
    assert len(returns) > 50
    with Session(db) as s:
        realized = s.get(PaperSession, traded).realized_pnl
    assert np.prod(1 + returns) == pytest.approx(1 + realized / cash, rel=1e-9)


def test_percentiles_match_a_direct_numpy_bootstrap(db, traded, env):
    _, returns = _trade_returns_by_hand(db, traded)
    expected = _numpy_bootstrap(returns, 700, 11)
    done = cli(env, "session", "robustness", str(traded), "--n", "700", "--seed", "11",
               "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["paths"], shown["seed"], shown["trades"]) == (700, 11, len(returns))
    got = [shown["final_return"][k] for k in ("p5", "p50", "p95")]
    assert got == pytest.approx(expected["final"].tolist(), rel=1e-9)
    got = [shown["max_drawdown"][k] for k in ("p5", "p50", "p95")]
    assert got == pytest.approx(expected["drawdown"].tolist(), rel=1e-9)
    assert shown["probability_below_start"] == pytest.approx(expected["below"])
    text = cli(env, "session", "robustness", str(traded))
    assert "probability of ending below the start" in text.stdout


def test_the_seed_makes_it_reproducible(db, traded):
    first = monte_carlo(db, traded, n=300, seed=5).result
    again = monte_carlo(db, traded, n=300, seed=5).result
    other = monte_carlo(db, traded, n=300, seed=6).result
    assert np.array_equal(first.final_returns, again.final_returns)
    assert np.array_equal(first.max_drawdowns, again.max_drawdowns)
    assert not np.array_equal(first.final_returns, other.final_returns)


def test_no_trades_no_session_and_bad_options(db, traded, env):
    with pytest.raises(NotFound):
        monte_carlo(db, 999)
    with pytest.raises(BadInput, match="^monte-carlo n must be"):
        monte_carlo(db, traded, n=0)
    done = cli(env, "session", "robustness", str(traded), "--n", "many")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --n must be a whole number (got 'many')"
