"""Figure builders the reports and the dashboard share: DataFrames or arrays in, plotly
figures out, no Streamlit calls (the style of ui/charts.py; here so that the CLI's reports
draw the same figures as the pages)."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.reads.colours import GREEN, RED

GAIN, LOSS, NEUTRAL, BENCH, OTHER = GREEN, RED, "#636efa", "#9ca3af", "#f59e0b"
MARKET_TIME = "market time (UTC)"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BINS = 40


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.15}, hovermode="x unified")
    return fig


def monte_carlo_figure(final_returns: np.ndarray, max_drawdowns: np.ndarray) -> go.Figure:
    """Histograms of the paths' final return and max drawdown (in %), the start (0 %) and the
    5th / 50th / 95th percentiles marked."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("final return %", "max drawdown %"))
    for col, (values, colour) in enumerate(((final_returns, NEUTRAL),
                                            (max_drawdowns, LOSS)), start=1):
        pct = np.asarray(values, dtype=float) * 100
        fig.add_trace(go.Histogram(x=pct, nbinsx=BINS, marker_color=colour, opacity=0.8,
                                   showlegend=False,
                                   hovertemplate="%{x}: %{y} paths<extra></extra>"),
                      row=1, col=col)
        if len(pct):
            for q, dash in zip(np.percentile(pct, [5, 50, 95]), ("dot", "dash", "dot"),
                               strict=True):
                fig.add_vline(x=float(q), line_dash=dash, line_color="#374151", row=1, col=col)
    if len(final_returns):
        fig.add_vline(x=0.0, line_color=LOSS, line_width=2, row=1, col=1)
    fig.update_yaxes(title_text="paths", row=1, col=1)
    fig.update_layout(bargap=0.05)
    return _layout(fig, 320)


def equity_figure(curve: pd.DataFrame, lines: dict[str, str] | None = None) -> go.Figure:
    """Equity over market time (and any other columns of `curve` named in `lines`, column →
    legend name), with the drawdown % under it."""
    lines = lines or {}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28],
                        vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=curve["ts"], y=curve["equity"], name="equity",
                             line={"color": NEUTRAL, "width": 2}), row=1, col=1)
    for (column, name), colour in zip(lines.items(), (BENCH, OTHER, GAIN), strict=False):
        fig.add_trace(go.Scatter(x=curve["ts"], y=curve[column], name=name,
                                 line={"color": colour, "width": 1.5}), row=1, col=1)
    fig.add_trace(go.Scatter(x=curve["ts"], y=curve["drawdown_pct"], name="drawdown %",
                             fill="tozeroy", line={"color": LOSS, "width": 1}), row=2, col=1)
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    fig.update_xaxes(title_text=MARKET_TIME, row=2, col=1)
    return _layout(fig, 460)


def monthly_figure(monthly: pd.DataFrame) -> go.Figure:
    """Monthly returns (%) as a year × month heatmap, red below 0, green above."""
    years = sorted(monthly["year"].unique())
    grid = np.full((len(years), 12), np.nan)
    for row in monthly.itertuples():
        grid[years.index(row.year), row.month - 1] = row.return_pct
    text = [["" if np.isnan(v) else f"{v:+.1f}%" for v in line] for line in grid]
    fig = go.Figure(go.Heatmap(z=grid, x=list(MONTHS), y=[str(y) for y in years], text=text,
                               texttemplate="%{text}", zmid=0, colorscale="RdYlGn",
                               colorbar={"title": "%"},
                               hovertemplate="%{y} %{x}: %{z:+.2f}%<extra></extra>"))
    return _layout(fig, 120 + 40 * len(years))


def heatmap_figure(ranked: pd.DataFrame, x: str, y: str, metric: str) -> go.Figure:
    """The best `metric` of a sweep's variants at each (x, y) of its grid."""
    best = ranked.groupby([y, x])[metric].max().unstack(x)
    fig = go.Figure(go.Heatmap(z=best.to_numpy(), x=[str(v) for v in best.columns],
                               y=[str(v) for v in best.index], colorscale="RdYlGn", zmid=0,
                               colorbar={"title": metric},
                               hovertemplate=f"{x} %{{x}}, {y} %{{y}}: %{{z:.2f}}"
                                             "<extra></extra>"))
    fig.update_xaxes(title_text=x, type="category")
    fig.update_yaxes(title_text=y, type="category")
    return _layout(fig, 420)


def curves_figure(curves: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """Several equity curves of one axis `ts` (columns → legend names), e.g. a walk-forward's
    stitched out-of-sample curve beside buy & hold and the best in-sample variant."""
    fig = go.Figure()
    for (column, name), colour in zip(names.items(), (NEUTRAL, BENCH, OTHER, GAIN),
                                      strict=False):
        fig.add_trace(go.Scatter(x=curves["ts"], y=curves[column], name=name,
                                 line={"color": colour, "width": 2 if colour == NEUTRAL
                                       else 1.5}))
    fig.update_xaxes(title_text=MARKET_TIME)
    fig.update_yaxes(title_text="equity")
    return _layout(fig, 400)
