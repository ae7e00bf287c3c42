"""Chart builders: DataFrames in, plotly figures or Vega-Lite specs out, no Streamlit calls."""

from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from engine.core.indicators import RSI
from engine.core.strategy_api import ChartItem, RsiChart, SmaLine
from engine.reads.colours import GREEN, RED

BUY, SELL = GREEN, RED
MARKET_TIME = "market time (UTC)"
LINE_COLOURS = ("#f59e0b", "#8b5cf6")  # fast, slow: apart from the candles' green and red
MARKER_GAP = 0.03  # markers sit this fraction of the drawn price range off the bar
COMPARE_AXES = {"ts": MARKET_TIME, "bar": "bars since start"}
# One clearly different hue per compared session, readable on light and dark backgrounds.
COMPARE_COLOURS = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692",
                   "#b6e880"]


# Pane heights (px) in one layered view: candles, volume, RSI; equity, drawdown.
PRICE_PX, VOLUME_PX, RSI_PX, GAP_PX = 300, 90, 110, 14
EQUITY_PX, DRAWDOWN_PX = 250, 100


def _y(field: str, title: str, top: int, height: int, **scale) -> dict:
    """A y encoding drawn in the band [top, top + height] px of the view: the panes are
    layers with their own y scales, so the whole chart is one view that fits its container
    (Vega-Lite sizes a concatenation to the container per pane, and it overflows)."""
    return {"field": field, "type": "quantitative", "title": title,
            "scale": {"range": [top + height, top], **scale},
            "axis": {"orient": "left", "titlePadding": 8, "minExtent": 64, "maxExtent": 64}}


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
    equity = _y("equity", f"equity ({currency})", 0, EQUITY_PX, zero=False)
    equity["axis"]["format"] = ",.0f"
    drawdown = _y("drawdown_pct", "drawdown %", EQUITY_PX + GAP_PX, DRAWDOWN_PX)
    drawdown["axis"].update(format=".1f", tickCount=3)
    return {
        "height": EQUITY_PX + GAP_PX + DRAWDOWN_PX, "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 2, "tooltip": True},
             "encoding": {"x": x, "y": equity, "tooltip": tip}},
            {"mark": {"type": "area", "color": SELL, "opacity": 0.5,
                      "line": {"color": SELL, "strokeWidth": 1}, "tooltip": True},
             "encoding": {"x": x, "y": drawdown, "tooltip": tip}},
        ],
        "resolve": {"scale": {"y": "independent"}, "axis": {"y": "independent"}},
    }


DAY_PNL_PX = 170


def daily_pnl_spec(currency: str = "quote currency") -> dict:
    """A Vega-Lite spec of one session's P&L per day of its clock as bars, green gains and red
    losses, for st.vega_lite_chart(days, spec) with rows of day, pnl and equity. Days without
    a bar (a stock's weekend) are left out rather than drawn as zero."""
    day = {"field": "day", "type": "ordinal", "timeUnit": "utcyearmonthdate",
           "title": f"day, {MARKET_TIME}", "axis": {"format": "%b %d", "labelAngle": -45}}
    tip = [{"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate",
            "title": "day (UTC)", "format": "%Y-%m-%d"},
           {"field": "pnl", "type": "quantitative", "format": "+,.2f",
            "title": f"the day's P&L ({currency})"},
           {"field": "equity", "type": "quantitative", "format": ",.2f",
            "title": f"equity at the day's last bar ({currency})"}]
    return {
        "height": DAY_PNL_PX, "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": day,
            "y": {"field": "pnl", "type": "quantitative", "title": f"P&L ({currency})",
                  "axis": {"format": ",.0f", "tickCount": 4}},
            "color": {"condition": {"test": "datum.pnl >= 0", "value": GREEN}, "value": RED},
            "tooltip": tip},
    }


def indicator_lines(bars: pd.DataFrame, chart: tuple[ChartItem, ...],
                    params: dict) -> dict[str, pd.Series]:
    """The moving averages the strategy's `chart` declares (SmaLine), over the bars shown, by
    legend name."""
    close = bars["close"]
    windows = [int(params[line.param]) for line in chart
               if isinstance(line, SmaLine) and line.param in params]
    return {f"SMA {n}": close.rolling(n).mean() for n in windows}


def _fills_in_view(bars: pd.DataFrame, trades: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The fills of `symbol` on or after the first drawn bar, each with the drawn bar (or
    candle of merged bars) it falls in: that bar's time, low and high."""
    if trades.empty:
        return trades.assign(ts=[], low=[], high=[])
    mine = trades[trades["symbol"] == symbol].assign(
        bar_time=lambda t: pd.to_datetime(t["bar_time"], utc=True)).sort_values("bar_time")
    drawn = bars[["ts", "low", "high"]].assign(ts=pd.to_datetime(bars["ts"], utc=True))
    return pd.merge_asof(mine, drawn, left_on="bar_time", right_on="ts").dropna(subset=["ts"])


def at_rows(lines: dict[str, pd.Series], rsi: "RsiPane | None",
            rows: pd.Series) -> tuple[dict[str, pd.Series], "RsiPane | None"]:
    """The indicator values at positions `rows` of the bars they were computed over (each
    merged candle shows them as of its last bar)."""
    picked = {name: values.iloc[rows].reset_index(drop=True) for name, values in lines.items()}
    if rsi is None:
        return picked, None
    return picked, replace(rsi, values=rsi.values.iloc[rows].reset_index(drop=True))


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


@dataclass(frozen=True)
class RsiPane:
    """The RSI a strategy trades on, with the levels it buys under and sells over."""

    title: str
    values: pd.Series
    oversold: float
    overbought: float


def rsi_pane(bars: pd.DataFrame, chart: tuple[ChartItem, ...], params: dict) -> RsiPane | None:
    """Wilder's RSI of the close over the bars shown, by the core's own indicator (it warms up
    over its first `period` bars), when the strategy's `chart` declares it (RsiChart)."""
    wanted = next((item for item in chart if isinstance(item, RsiChart)), None)
    if wanted is None or wanted.period not in params:
        return None
    period = int(params[wanted.period])
    rsi = RSI(period)
    values = pd.Series([rsi.update(float(c)) for c in bars["close"]], index=bars.index,
                       dtype=float)
    return RsiPane(f"RSI {period}", values, float(params.get(wanted.oversold, 30.0)),
                   float(params.get(wanted.overbought, 70.0)))


# Vega-Lite candles: one data frame whose columns the spec names, so a live refresh swaps rows
# under an unchanged spec and the drawn chart stays (see equity_spec).
TIME_UNIT = {"1h": "utcyearmonthdatehours", "1d": "utcyearmonthdate"}
RANGES = (("1d", 1), ("1w", 7), ("1m", 30), ("3m", 90), ("1y", 365), ("all", 0))  # days shown
UP = "datum.close >= datum.open"


def _fills_by_bar(bars: pd.DataFrame, trades: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Per drawn bar and side: the fills' total quantity, average price and first reason."""
    fills = _fills_in_view(bars, trades, symbol)
    if fills.empty:
        return pd.DataFrame({"ts": pd.Series(dtype="datetime64[ns, UTC]")})
    fills = fills.assign(value=fills["price"] * fills["qty"])
    grouped = fills.groupby(["ts", "side"]).agg(qty=("qty", "sum"), value=("value", "sum"),
                                                reason=("reason", "first")).reset_index()
    grouped["price"] = grouped["value"] / grouped["qty"]
    wide = grouped.pivot(index="ts", columns="side", values=["qty", "price", "reason"])
    wide.columns = [f"{side}_{name}" for name, side in wide.columns]
    return wide.reset_index()


def candles_data(bars: pd.DataFrame, trades: pd.DataFrame, symbol: str,
                 lines: dict[str, pd.Series], rsi: RsiPane | None) -> pd.DataFrame:
    """The rows `candles_spec` draws: each bar, its indicator values and the fills on it, with
    buy markers under the low and sell markers over the high."""
    data = bars[["ts", "open", "high", "low", "close", "volume"]].assign(
        ts=pd.to_datetime(bars["ts"], utc=True))
    for name, values in lines.items():
        data[name] = values.to_numpy()
    if rsi is not None:
        data["rsi"] = rsi.values.to_numpy()
    data = data.merge(_fills_by_bar(bars, trades, symbol), on="ts", how="left")
    gap = MARKER_GAP * float(bars["high"].max() - bars["low"].min() or bars["high"].max())
    for side, edge, sign in (("buy", "low", -1), ("sell", "high", 1)):
        for column in ("qty", "price", "reason"):
            if f"{side}_{column}" not in data:
                data[f"{side}_{column}"] = None
        data[f"{side}_y"] = data[edge].where(data[f"{side}_qty"].notna()) + sign * gap
    return data


def _x(timeframe: str) -> dict:
    return {"field": "ts", "type": "temporal", "timeUnit": TIME_UNIT[timeframe],
            "title": MARKET_TIME}


def _markers(side: str, shape: str, colour: str, x: dict, y: dict, currency: str) -> dict:
    return {"transform": [{"filter": f"isValid(datum.{side}_y)"}],
            "mark": {"type": "point", "shape": shape, "filled": True, "size": 110,
                     "color": colour, "stroke": "#ffffff", "strokeWidth": 1, "opacity": 1},
            "encoding": {"x": x, "y": {**y, "field": f"{side}_y"},
                         "tooltip": [{"field": f"{side}_reason", "title": side},
                                     {"field": f"{side}_qty", "type": "quantitative",
                                      "title": "quantity", "format": ",.6g"},
                                     {"field": f"{side}_price", "type": "quantitative",
                                      "title": f"price ({currency})", "format": ",.2f"}]}}


def _price_pane(x: dict, lines: list[str], currency: str) -> dict:
    colour = {"condition": {"test": UP, "value": BUY}, "value": SELL}
    tip = [{"field": "ts", "type": "temporal", "title": "bar", "format": "%Y-%m-%d %H:%M",
            "formatType": "utc"},
           *({"field": f, "type": "quantitative", "format": ",.2f"}
             for f in ("open", "high", "low", "close"))]
    y = _y("low", f"price ({currency})", 0, PRICE_PX, zero=False)
    y["axis"]["format"] = ",.2f"
    layers = [
        {"mark": "rule", "encoding": {"x": x, "y": y, "y2": {"field": "high"}, "color": colour,
                                      "tooltip": tip}},
        {"mark": {"type": "bar", "width": {"band": 0.7}},
         "encoding": {"x": x, "y": {**y, "field": "open"}, "y2": {"field": "close"},
                      "color": colour, "tooltip": tip}},
    ]
    if lines:
        layers.append({"transform": [{"fold": lines, "as": ["indicator", "value"]}],
                       "mark": {"type": "line", "strokeWidth": 1.5},
                       "encoding": {"x": x, "y": {**y, "field": "value"},
                                    "color": {"field": "indicator", "type": "nominal",
                                              "title": None,
                                              "scale": {"domain": lines,
                                                        "range": list(LINE_COLOURS)},
                                              "legend": {"orient": "top"}}}})
    layers += [_markers("buy", "triangle-up", BUY, x, y, currency),
               _markers("sell", "triangle-down", SELL, x, y, currency)]
    return {"layer": layers}


def _volume_pane(x: dict, symbol: str) -> dict:
    y = _y("volume", f"volume ({symbol.split('-')[0]})", PRICE_PX + GAP_PX, VOLUME_PX)
    y["axis"].update(format="~s", tickCount=3)
    return {"mark": {"type": "bar", "width": {"band": 0.7}, "opacity": 0.6},
            "encoding": {"x": x, "y": y,
                         "color": {"condition": {"test": UP, "value": BUY}, "value": SELL}}}


def _rsi_pane(x: dict, rsi: RsiPane) -> dict:
    top = PRICE_PX + VOLUME_PX + 2 * GAP_PX
    y = _y("rsi", rsi.title, top, RSI_PX, domain=[0, 100])
    y["axis"]["values"] = [0, rsi.oversold, rsi.overbought, 100]
    level_y = {k: v for k, v in y.items() if k != "field"}
    return {"layer": [
        {"mark": {"type": "line", "strokeWidth": 1.5, "color": LINE_COLOURS[1]},
         "encoding": {"x": x, "y": y,
                      "tooltip": [{"field": "rsi", "type": "quantitative", "format": ".1f",
                                   "title": rsi.title}]}},
        *({"mark": {"type": "rule", "strokeDash": [4, 4], "color": colour},
           "encoding": {"y": {**level_y, "datum": level}}}
          for level, colour in ((rsi.oversold, BUY), (rsi.overbought, SELL)))]}


def candles_spec(symbol: str, timeframe: str, lines: list[str], rsi: RsiPane | None,
                 currency: str = "USD") -> dict:
    """Candles over volume (and under them the RSI pane when the strategy trades on it), the
    strategy's moving averages, fills as ▲ buy under / ▼ sell over the bar that filled, and
    range buttons; for st.vega_lite_chart(candles_data(...), spec). The spec holds no data."""
    x = _x(timeframe)
    panes = [_price_pane(x, lines, currency), _volume_pane(x, symbol)]
    if rsi is not None:
        panes.append(_rsi_pane(x, rsi))
    height = PRICE_PX + VOLUME_PX + GAP_PX + ((RSI_PX + GAP_PX) if rsi else 0)
    days = "range_days"
    return {
        "height": height, "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "params": [{"name": days, "value": 0, "bind": {
            "input": "radio", "name": "range ", "options": [d for _, d in RANGES],
            "labels": [label for label, _ in RANGES]}}],
        "transform": [{"joinaggregate": [{"op": "max", "field": "ts", "as": "newest"}]},
                      {"filter": f"{days} == 0 || time(datum.ts) > "
                                 f"time(datum.newest) - {days} * 86400000"}],
        "layer": panes,
        "resolve": {"scale": {"y": "independent"}, "axis": {"y": "independent"}},
    }
