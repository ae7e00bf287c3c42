"""Plotly figure builders: DataFrames in, figures out, no Streamlit calls."""

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BUY, SELL = "#16a34a", "#dc2626"
MARKET_TIME = "market time (UTC)"
MA_STRATEGIES = ("ma_crossover", "blend")  # strategies whose signal compares fast/slow SMAs
LINE_COLOURS = ("#f59e0b", "#8b5cf6")  # fast, slow: apart from the candles' green and red
MARKER_GAP = 0.03  # markers sit this fraction of the drawn price range off the bar
RANGE_BUTTONS = [
    {"count": 1, "label": "1d", "step": "day", "stepmode": "backward"},
    {"count": 7, "label": "1w", "step": "day", "stepmode": "backward"},
    {"count": 1, "label": "1m", "step": "month", "stepmode": "backward"},
    {"count": 3, "label": "3m", "step": "month", "stepmode": "backward"},
    {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
    {"step": "all", "label": "all"},
]
COMPARE_AXES = {"ts": MARKET_TIME, "bar": "bars since start"}
# One clearly different hue per compared session, readable on light and dark backgrounds.
COMPARE_COLOURS = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692",
                   "#b6e880"]


def equity_spec(currency: str = "quote currency") -> dict:
    """A Vega-Lite spec of equity over time with its drawdown underneath, for
    st.vega_lite_chart(curve, spec) with a curve of ts, equity and drawdown_pct.

    Vega-Lite, not plotly: the spec holds no data, so a live refresh only swaps the rows and
    the drawn chart stays; Streamlit gives a plotly chart a new identity whenever its figure
    (data included) changes, which remounts it blank on every refresh."""
    x = {"field": "ts", "type": "temporal", "title": MARKET_TIME}
    tip = [{"field": "ts", "type": "temporal", "title": "bar", "format": "%Y-%m-%d %H:%M"},
           {"field": "equity", "type": "quantitative", "format": ",.2f",
            "title": f"equity ({currency})"},
           {"field": "drawdown_pct", "type": "quantitative", "format": ".2f",
            "title": "drawdown %"}]
    return {
        "vconcat": [
            {"height": 250, "width": "container",
             "mark": {"type": "line", "strokeWidth": 2, "tooltip": True},
             "encoding": {"x": {**x, "axis": {"title": None, "labels": False}},
                          "y": {"field": "equity", "type": "quantitative",
                                "scale": {"zero": False},
                                "title": f"equity ({currency})",
                                "axis": {"format": ",.0f"}},
                          "tooltip": tip}},
            {"height": 100, "width": "container",
             "mark": {"type": "area", "color": SELL, "opacity": 0.5,
                      "line": {"color": SELL, "strokeWidth": 1}, "tooltip": True},
             "encoding": {"x": x,
                          "y": {"field": "drawdown_pct", "type": "quantitative",
                                "title": "drawdown %", "axis": {"format": ".1f"}},
                          "tooltip": tip}},
        ],
        "resolve": {"scale": {"x": "shared"}},
    }


def indicator_lines(bars: pd.DataFrame, strategy: str, params: dict) -> dict[str, pd.Series]:
    """The strategy's moving averages over the bars shown (the same simple averages of the
    close that its signals compare), by legend name; none for strategies without them."""
    if strategy not in MA_STRATEGIES or "fast" not in params or "slow" not in params:
        return {}
    close = bars["close"]
    return {f"SMA {params[k]}": close.rolling(int(params[k])).mean() for k in ("fast", "slow")}


def _fills_in_view(bars: pd.DataFrame, trades: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The fills of `symbol` on a drawn bar, with that bar's low and high."""
    if trades.empty:
        return trades.assign(low=[], high=[])
    mine = trades[trades["symbol"] == symbol].assign(
        bar_time=lambda t: pd.to_datetime(t["bar_time"], utc=True))
    drawn = bars[["ts", "low", "high"]].assign(ts=pd.to_datetime(bars["ts"], utc=True))
    return mine.merge(drawn, left_on="bar_time", right_on="ts", how="inner")


def _add_fills(fig: go.Figure, bars: pd.DataFrame, fills: pd.DataFrame) -> None:
    """Buys under the low and sells over the high of the bar that filled."""
    gap = MARKER_GAP * float(bars["high"].max() - bars["low"].min() or bars["high"].max())
    for side, colour, marker, y in (("buy", BUY, "triangle-up", fills["low"] - gap),
                                    ("sell", SELL, "triangle-down", fills["high"] + gap)):
        rows = fills["side"] == side
        if not rows.any():
            continue
        fig.add_trace(go.Scatter(
            x=fills.loc[rows, "bar_time"], y=y[rows], mode="markers", name=side,
            marker={"symbol": marker, "size": 11, "color": colour,
                    "line": {"width": 1, "color": "#ffffff"}},
            customdata=fills.loc[rows, ["price", "qty"]], text=fills.loc[rows, "reason"],
            hovertemplate="%{text}<br>filled %{customdata[1]:,.6g} at "
            "%{customdata[0]:,.2f}<extra>" + side + "</extra>"), row=1, col=1)


def candles_figure(bars: pd.DataFrame, trades: pd.DataFrame, symbol: str,
                   lines: dict[str, pd.Series] | None = None,
                   currency: str = "USD") -> go.Figure:
    """Candlesticks of one symbol over volume bars, the strategy's indicator lines, and its
    fills as buy (▲ under the bar) and sell (▼ over the bar) markers on drawn bars only."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.76, 0.24],
                        vertical_spacing=0.03)
    fig.add_trace(go.Candlestick(x=bars["ts"], open=bars["open"], high=bars["high"],
                                 low=bars["low"], close=bars["close"], name=symbol), row=1, col=1)
    for (name, values), colour in zip((lines or {}).items(), LINE_COLOURS, strict=False):
        fig.add_trace(go.Scatter(x=bars["ts"], y=values, mode="lines", name=name,
                                 line={"width": 1.5, "color": colour}), row=1, col=1)
    _add_fills(fig, bars, _fills_in_view(bars, trades, symbol))
    up = bars["close"] >= bars["open"]
    fig.add_trace(go.Bar(x=bars["ts"], y=bars["volume"], name="volume", showlegend=False,
                         marker={"color": [BUY if u else SELL for u in up]}, opacity=0.6),
                  row=2, col=1)
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      hovermode="x", legend={"orientation": "h", "y": 1.02, "yanchor": "bottom",
                                             "x": 1, "xanchor": "right"})
    fig.update_xaxes(rangeslider_visible=False)
    fig.update_xaxes(row=1, col=1, rangeselector={"buttons": RANGE_BUTTONS, "x": 0, "y": 1.02,
                                                  "yanchor": "bottom"})
    fig.update_xaxes(row=2, col=1, title_text=MARKET_TIME)
    fig.update_yaxes(row=1, col=1, title_text=f"price ({currency})", tickformat=",.2f")
    fig.update_yaxes(row=2, col=1, title_text=f"volume ({symbol.split('-')[0]})",
                     tickformat="~s")
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
