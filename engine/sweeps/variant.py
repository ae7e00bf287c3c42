"""One sweep variant, run in memory by the per-bar core — in a worker process of the sweep's
pool, so this module imports the pure core only (a worker starts in a fraction of a second).

A variant is run by the core's `replay`, exactly as reconcile.rerun fast-forwards a session: a
fresh Trader, primed on the warm-up bars before the window, then every bar time of it in order.
That is what makes a variant's stored fills reconcile 100 % and equal a session of the same
settings. Its figures (and its bar returns summed in runs, for the overfitting odds) come from every
bar; of its equity curve it keeps only the display resolution (engine.core.curve), which is
what the runner stores."""

import os
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from engine.core.bars import BarData, frames
from engine.core.curve import display_curve, return_blocks
from engine.core.news import News
from engine.core.portfolio import Account
from engine.core.settings import TradeSettings
from engine.core.stats import session_stats
from engine.core.strategies import STRATEGIES
from engine.core.trader import Ledger, Outbox, Trader, replay
from engine.errors import StrategyError
from engine.registry import strategies
from engine.trading.budget import OverBudget, in_budget_chunks, reason, run_limited, user_code

_series: dict = {}  # the sweep's bars, handed to each worker process once
_news: dict = {}  # and its headline scores (a `news` sweep's), by symbol


def init(series: dict, news: News | None = None) -> None:
    """Keep the sweep's bars (symbol → (times, bars)) and its headline scores in this process
    (a pool process's initializer `init_packed` calls it; a job worker's process directly)."""
    _series.clear()
    _series.update(series)
    _news.clear()
    _news.update(news or {})


EPOCH, MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


@contextmanager
def packed(series: dict, news: News | None = None) -> Iterator[str]:
    """The sweep's bars and headline scores written once to a temporary file (removed on exit),
    whose path `init_packed` reads in each pool process. The bars go as columns of plain numbers
    (bar times in microseconds since the epoch, exact), which pickle about 7x quicker than
    BarData tuples of datetimes; and through a file, not the initializer's arguments: a spawned
    process reads its process object only after importing its main module, and the runner's
    write of it waits, beyond the pipe's 64 KB, until it has: the pool's processes would start
    one after another."""
    columns = {symbol: ([(ts - EPOCH) // MICROSECOND for ts in times],
                        list(zip(*bars, strict=True))[1:])
               for symbol, (times, bars) in series.items()}
    fd, path = tempfile.mkstemp(prefix="paperdesk-sweep-", suffix=".bars")
    try:
        with os.fdopen(fd, "wb") as file:
            pickle.dump((columns, news), file, pickle.HIGHEST_PROTOCOL)
        yield path
    finally:
        os.unlink(path)


def init_packed(path: str) -> None:
    """Pool initializer: `init` with the bars and scores `packed` wrote, equal to its input."""
    with open(path, "rb") as file:
        columns, news = pickle.load(file)  # noqa: S301 - written by `packed`, in the runner
    series = {}
    for symbol, (micros, values) in columns.items():
        times = [EPOCH + us * MICROSECOND for us in micros]
        series[symbol] = (times, [BarData(*row) for row in zip(times, *values, strict=True)])
    init(series, news)


def loaded(symbols: tuple[str, ...]) -> dict:
    """The bars of `symbols` this process was handed by `init`."""
    return {s: _series[s] for s in symbols}


def loaded_news() -> News:
    """The headline scores this process was handed by `init` (read only by `news` runs)."""
    return _news


@dataclass
class VariantRun:
    idx: int
    settings: TradeSettings
    out: Outbox
    account: Account
    ledger: Ledger
    figures: dict  # return, buy-and-hold, Sharpe, drawdown, trades, profit factor, IS / OOS,
    # return blocks


def _figures(settings: TradeSettings, trader: Trader, out: Outbox,
             split: datetime | None) -> dict:
    account, ledger = trader.account, trader.ledger
    row = {f: getattr(account, f) for f in ("wins", "losses", "realized_pnl", "gross_profit",
                                            "gross_loss", "trade_count", "fees_paid")}
    row |= {f: getattr(ledger, f) for f in ("max_drawdown_pct", "ret_n", "ret_sum",
                                            "ret_sumsq", "first_price", "last_price")}
    row |= {"equity": ledger.marked_equity, "starting_cash": settings.starting_cash,
            "symbols": ",".join(settings.symbols), "timeframe": settings.timeframe}
    stats = session_stats(row, ledger.marked_equity - settings.starting_cash
                          - account.realized_pnl, settings.asset_class(settings.symbols[0]))
    figures = {k: stats[k] for k in ("return_pct", "buy_hold_pct", "sharpe",
                                     "max_drawdown_pct", "trades", "profit_factor")}
    if figures["profit_factor"] == float("inf"):
        figures["profit_factor"] = None  # no losing trade: shown as "—"
    figures["in_sample_pct"] = figures["out_sample_pct"] = None
    if split is not None:
        before = [equity for ts, _, equity in out.snapshots if ts < split]
        at_split = before[-1] if before else settings.starting_cash
        figures["in_sample_pct"] = (at_split / settings.starting_cash - 1) * 100
        figures["out_sample_pct"] = (ledger.marked_equity / at_split - 1) * 100
    return figures


def _guarded_replay(settings: TradeSettings, series: dict, start: datetime,
                    end: datetime) -> tuple[Outbox, Trader]:
    """`replay` for a user's strategy: its time budget holds (engine.trading.budget), and
    what it raises or overruns becomes a StrategyError naming its file and line (the sweep is
    then failed with it, not retried)."""
    try:
        trader = run_limited(True, 1, Trader, settings, news=_news)
        out = Outbox()
        run_limited(True, trader.warmup_bars, trader.prime, series, start)
        bars = iter(frames(series, None, end, start))

        def advance(want: int, into: Outbox) -> int:
            moved = 0
            for ts, frame in islice(bars, want):
                trader.step(ts, frame, into)
                moved += 1
            return moved

        in_budget_chunks(advance, sum(len(times) for times, _ in series.values()), out)
    except OverBudget as exc:
        raise StrategyError(reason(exc, settings.strategy, None)) from None
    return out, trader


def run_variant(idx: int, settings: TradeSettings, start: datetime, end: datetime,
                split: datetime | None) -> VariantRun:
    """Fast-forward the window [start, end] with `settings`; the split only divides the
    figures (one continuous run: what is held at the split is carried into the test bars)."""
    series = {s: _series[s] for s in settings.symbols}
    if settings.strategy not in STRATEGIES:  # a spawned worker: the operator's files too
        strategies.scan(pin=True)
    if user_code(settings.strategy):
        out, trader = _guarded_replay(settings, series, start, end)
    else:
        out, trader = replay(settings, series, start, end, _news)
    figures = _figures(settings, trader, out, split)
    figures["return_blocks"] = return_blocks([equity for _, _, equity in out.snapshots])
    out.snapshots = display_curve(out.snapshots)  # the core recomputes every bar on demand
    return VariantRun(idx, settings, out, trader.account, trader.ledger, figures)
