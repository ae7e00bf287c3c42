"""A session's monthly returns, Sharpe and max drawdown against empyrical-reloaded (a
maintained metrics library, the test oracle) on the same equity, and against the session's
own figures from the core's running counters."""

import empyrical
import numpy as np
import pytest
from sqlmodel import Session

from engine.core.bars import bars_per_year
from engine.reads import performance, queries
from engine.store.models import PaperSession


def test_figures_agree_with_empyrical_and_the_core(db, traded):
    curve, cash, per_year = performance.curves(db, traded)
    assert per_year == bars_per_year("crypto", "1h")
    returns = performance.bar_returns(curve["equity"], cash).set_axis(
        curve["ts"].to_numpy())
    mine = performance.figures(curve["equity"], cash, per_year)
    assert mine.sharpe == pytest.approx(
        empyrical.sharpe_ratio(returns.iloc[1:], annualization=per_year), rel=1e-9)
    assert mine.max_drawdown_pct == pytest.approx(-empyrical.max_drawdown(returns) * 100,
                                                  rel=1e-9)
    assert mine.total_return_pct == pytest.approx(
        empyrical.cum_returns_final(returns) * 100, rel=1e-9)
    doc = queries.session_document(db, traded)
    assert mine.sharpe == pytest.approx(doc.metrics["sharpe"], rel=1e-9)
    assert mine.max_drawdown_pct == pytest.approx(doc.metrics["max_drawdown_pct"], rel=1e-9)
    assert mine.total_return_pct == pytest.approx(doc.return_pct, rel=1e-12)


def test_monthly_returns_agree_with_empyrical(db, traded):
    curve, cash, _ = performance.curves(db, traded)
    returns = performance.bar_returns(curve["equity"], cash)
    returns.index = curve["ts"].to_numpy()
    oracle = empyrical.aggregate_returns(returns, "monthly") * 100
    monthly = performance.monthly_returns(curve, cash)
    assert list(zip(monthly["year"], monthly["month"], strict=True)) == list(oracle.index)
    assert monthly["return_pct"].to_numpy() == pytest.approx(oracle.to_numpy(), rel=1e-9)
    assert len(monthly) == 6  # January through the 1 June bar


def test_buy_and_hold_is_the_stored_buy_and_hold_return(db, traded):
    curve, cash, _ = performance.curves(db, traded)
    with Session(db) as s:
        row = s.get(PaperSession, traded)
    first, last = row.first_price["BTC-USD"], row.last_price["BTC-USD"]
    assert curve["buy_hold"].iloc[0] == pytest.approx(cash)
    assert curve["buy_hold"].iloc[-1] == pytest.approx(cash * last / first, rel=1e-12)
    assert np.isfinite(curve["buy_hold"]).all()
