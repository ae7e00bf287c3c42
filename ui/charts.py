"""Plotly figure builders: DataFrames in, figures out, no Streamlit calls."""

import pandas as pd
import plotly.graph_objects as go

BUY, SELL = "#16a34a", "#dc2626"


def equity_figure(curve: pd.DataFrame) -> go.Figure:
    """Equity over time with the drawdown from its running peak underneath (two stacked
    y-axes on one x-axis; make_subplots would cost more than the data)."""
    fig = go.Figure([
        go.Scatter(x=curve["ts"], y=curve["equity"], name="equity", line={"width": 2}),
        go.Scatter(x=curve["ts"], y=curve["drawdown_pct"], name="drawdown %", yaxis="y2",
                   fill="tozeroy", line={"color": SELL, "width": 1}),
    ])
    fig.update_layout(
        height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False,
        hovermode="x unified", yaxis={"domain": [0.34, 1], "title": "equity"},
        yaxis2={"domain": [0, 0.28], "title": "drawdown %"},
    )
    return fig


def candles_figure(bars: pd.DataFrame, trades: pd.DataFrame, symbol: str) -> go.Figure:
    """Candlesticks of one symbol with its fills as buy (▲) and sell (▼) markers."""
    fig = go.Figure(go.Candlestick(x=bars["ts"], open=bars["open"], high=bars["high"],
                                   low=bars["low"], close=bars["close"], name=symbol))
    mine = trades[trades["symbol"] == symbol] if len(trades) else trades
    for side, colour, marker in (("buy", BUY, "triangle-up"), ("sell", SELL, "triangle-down")):
        rows = mine[mine["side"] == side] if len(mine) else mine
        if len(rows):
            fig.add_trace(go.Scatter(
                x=rows["bar_time"], y=rows["price"], mode="markers", name=side,
                marker={"symbol": marker, "size": 12, "color": colour,
                        "line": {"width": 1, "color": "#000000"}},
                text=rows["reason"], hovertemplate="%{text}<br>%{y:.4f}<extra>" + side
                + "</extra>"))
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_rangeslider_visible=False, hovermode="x")
    return fig


def comparison_figure(curves: pd.DataFrame) -> go.Figure:
    """Equity curves of several sessions, each starting at 1."""
    fig = go.Figure()
    for name, rows in curves.groupby("session", sort=False):
        fig.add_trace(go.Scatter(x=rows["ts"], y=rows["normalized"], name=str(name)))
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      yaxis_title="equity (start = 1)", hovermode="x unified")
    return fig
