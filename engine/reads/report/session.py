"""A session's report: metrics beside buy & hold, equity and drawdown, monthly returns, the
trade list, fill model and settings, reconcile status and a Monte-Carlo of its trades."""

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from engine.errors import BadInput, PaperDeskError
from engine.reads import performance, queries
from engine.reads.reconcile import reconcile
from engine.reads.records import SessionDocument
from engine.reads.report import figures
from engine.reads.report.html import Section, page
from engine.reads.robustness import DEFAULT_PATHS, DEFAULT_SEED, monte_carlo

MAX_TRADES = 5000  # fills listed in a report; `session export` writes every one
SETTINGS = ("strategy", "params", "symbols", "timeframe", "starting_cash", "position_size",
            "stop_loss_pct", "take_profit_pct", "fill_model", "fee_bps", "slippage_bps",
            "impact_bps", "volume_cap_pct", "latency_bars", "fill_price", "cancel_after_bars",
            "source", "window_from", "window_to", "bars_done", "bars_total", "status")


def _metrics(doc: SessionDocument, curve: pd.DataFrame, cash: float,
             per_year: float) -> Section:
    section = Section("metrics", "Metrics beside buy & hold")
    if curve.empty:
        return section.text("No equity snapshots yet: the session has traded no bar.")
    mine = performance.figures(curve["equity"], cash, per_year)
    rows = {"total return %": "total_return_pct", "annual return %": "annual_return_pct",
            "Sharpe (annualised)": "sharpe", "max drawdown %": "max_drawdown_pct",
            "volatility % (annualised)": "volatility_pct"}
    held = (performance.figures(curve["buy_hold"], cash, per_year)
            if curve["buy_hold"].notna().all() else None)
    section.table(pd.DataFrame({
        "figure": list(rows),
        "session": [getattr(mine, f) for f in rows.values()],
        "buy & hold": [getattr(held, f) if held else None for f in rows.values()]}))
    m = doc.metrics
    return section.pairs({"trades (fills)": m["trades"], "win rate %": m["win_rate_pct"],
                          "profit factor": m["profit_factor"], "fees paid": m["fees_paid"],
                          "realized P&L": m["realized_pnl"],
                          "unrealized P&L": m["unrealized_pnl"]})


def _trades(db: Engine, session_id: int) -> Section:
    trades = queries.trades(db, session_id, limit=None).iloc[::-1]
    section = Section("trades", "Trade list")
    if trades.empty:
        return section.text("No fills.")
    shown = trades.head(MAX_TRADES).drop(columns=["lineage"])
    if len(trades) > MAX_TRADES:
        section.text(f"The first {MAX_TRADES:,} of {len(trades):,} fills; `python -m engine "
                     "session export` writes every one.")
    return section.text(f"{len(trades):,} fills, oldest first; bar_time is the bar it filled "
                        "on (market time, UTC).").table(shown, scroll=True)


def _reconcile(db: Engine, session_id: int) -> Section:
    section = Section("reconcile", "Reconcile")
    try:
        result = reconcile(db, session_id)
    except PaperDeskError as exc:
        return section.text(f"Not reconciled: {exc}")
    section.text(f"{result.match_pct:.1f} % of fills match a fast-forward of the window "
                 f"({result.matched} matched; {result.expected} expected, {result.actual} "
                 f"actual; {result.bars:,} bars; settings {result.settings}).")
    if result.differences:
        section.table(pd.DataFrame(result.differences), scroll=True)
    return section


def monte_carlo_section(db: Engine, session_id: int, n: int, seed: int) -> Section:
    """The Monte-Carlo of a session's closed trades: percentiles and the histograms."""
    mc = monte_carlo(db, session_id, n=n, seed=seed)
    r = mc.result
    section = Section("montecarlo", "Monte-Carlo of the closed trades")
    section.text(f"{r.n:,} paths of {r.trades} closed trades drawn with replacement (seed "
                 f"{r.seed}); each path compounds its trades from the starting cash.")
    if r.final_return is None:
        return section.text("No closed trades: nothing to resample.")
    section.table(pd.DataFrame({
        "percentile": ["5th", "50th", "95th"],
        "final return %": [r.final_return.p5 * 100, r.final_return.p50 * 100,
                           r.final_return.p95 * 100],
        "max drawdown %": [r.max_drawdown.p5 * 100, r.max_drawdown.p50 * 100,
                           r.max_drawdown.p95 * 100]}), floats="{:,.2f}")
    section.text(f"Probability of ending below the start: "
                 f"{r.probability_below_start * 100:.1f} %.")
    return section.figure(figures.monte_carlo_figure(r.final_returns, r.max_drawdowns))


def session_report(db: Engine, session_id, n: int = DEFAULT_PATHS,
                   seed: int = DEFAULT_SEED) -> str:
    """The session's report as one self-contained HTML document."""
    doc = queries.session_document(db, session_id)
    curve, cash, per_year = performance.curves(db, doc.id)
    sections = [_metrics(doc, curve, cash, per_year)]
    chart = Section("equity", "Equity and drawdown")
    sections.append(chart.figure(figures.equity_figure(curve, {"buy_hold": "buy & hold"}))
                    if not curve.empty else chart.text("No equity snapshots yet."))
    monthly = performance.monthly_returns(curve, cash)
    month = Section("monthly", "Monthly returns")
    sections.append(month.figure(figures.monthly_figure(monthly)).table(monthly)
                    if not monthly.empty else month.text("No month traded yet."))
    sections += [_trades(db, doc.id),
                 Section("settings", "Fill model and settings").pairs(
                     {k: getattr(doc, k) for k in SETTINGS}),
                 _reconcile(db, doc.id), monte_carlo_section(db, doc.id, n, seed)]
    return page(f"Session #{doc.id}: {doc.name}",
                f"{doc.strategy} on {', '.join(doc.symbols)} {doc.timeframe}", sections)


def writable(out: str, field: str = "out") -> Path:
    """The path a report or export goes to: its folder must exist."""
    path = Path(out).expanduser()
    if not path.parent.is_dir():
        raise BadInput(f"{field}: folder {str(path.parent)!r} does not exist")
    return path


def write_session_report(db: Engine, session_id, out: str) -> Path:
    """Write the session's report to `out` (a file in an existing folder); return its path."""
    path = writable(out)
    path.write_text(session_report(db, session_id), encoding="utf-8")
    return path
