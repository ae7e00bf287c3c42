"""Plotly figure builders: DataFrames in, figures out, no Streamlit calls."""

import pandas as pd
import plotly.graph_objects as go

BUY, SELL = "#16a34a", "#dc2626"
MARKET_TIME = "market time (UTC)"
COMPARE_AXES = {"ts": MARKET_TIME, "bar": "bars since start"}
# One clearly different hue per compared session, readable on light and dark backgrounds.
COMPARE_COLOURS = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692",
                   "#b6e880"]


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
        xaxis={"anchor": "y2", "title": MARKET_TIME},  # ticks under the drawdown panel
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
                      xaxis_rangeslider_visible=False, hovermode="x", xaxis_title=MARKET_TIME)
    return fig


def comparison_figure(curves: pd.DataFrame, x: str = "ts") -> go.Figure:
    """Each session's equity as % from its starting cash, over market time (`x="ts"`: the
    sessions share a window) or over bars since each session's start (`x="bar"`)."""
    fig = go.Figure()
    for name, rows in curves.groupby("session", sort=False):
        fig.add_trace(go.Scatter(
            x=rows[x], y=rows["pct_from_start"], name=str(name),
            customdata=pd.to_datetime(rows["ts"], utc=True).dt.strftime("%Y-%m-%d %H:%M"),
            hovertemplate="%{y:+.2f}% · bar %{customdata} (market time)<extra>"
            + str(name) + "</extra>"))
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title=COMPARE_AXES[x], yaxis_title="% from start",
                      yaxis_ticksuffix="%", hovermode="x unified", colorway=COMPARE_COLOURS,
                      legend={"orientation": "h", "y": -0.2})
    return fig
