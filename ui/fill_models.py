"""The session page's fill-model parts: what priced its fills, and "Re-run with another fill
model" — the same window under each preset, side by side."""

import pandas as pd
import streamlit as st

from engine.core.fill_models import overridden, summary
from engine.reads import queries
from engine.reads.fill_compare import compare_fill_models
from engine.reads.records import SessionDocument
from ui import context
from ui import format as fmt
from ui.session_clock import on_click_result
from ui.theme import MARKET

HELP = ("Each preset re-runs this session's window from its first bar with the settings it was "
        "created with, changing only the fill model: fee, slippage, impact "
        "(price = base × (1 ± (slippage + impact × filled ÷ bar volume) ÷ 10,000)), the cap on "
        "a bar's volume (the rest fills on later bars), latency and the market-order price. "
        "Read-only: nothing is written.")
MODEL_COLOURS = {"frictionless": "#00cc96", "realistic": "#636efa", "pessimistic": "#ef553b"}
CURVES_SPEC = {  # equity over market time, a line per fill model
    "height": 280, "width": "container",
    "mark": {"type": "line", "strokeWidth": 2, "tooltip": True},
    "encoding": {
        "x": {"field": "ts", "type": "temporal", "title": MARKET},
        "y": {"field": "equity", "type": "quantitative", "scale": {"zero": False},
              "title": f"equity ({fmt.CURRENCY_CODE})", "axis": {"format": ",.0f"}},
        "color": {"field": "model", "type": "nominal", "title": "fill model",
                  "scale": {"domain": list(MODEL_COLOURS), "range": list(MODEL_COLOURS.values())}},
    },
}


def caption(doc: SessionDocument) -> str:
    """'Fill model realistic: fee 10 bps, … (fee_bps set by hand)' for the session header."""
    changed = overridden(doc.as_dict(), queries.asset_classes(doc.symbols, doc.timeframe))
    return f"Fill model {summary(doc)}" + (f" ({', '.join(changed)} set by hand)"
                                          if changed else "")


def fill_models_tab(doc: SessionDocument) -> None:
    sid = doc.id
    st.caption(HELP)
    runs = on_click_result(
        f"fill_models_{sid}", lambda: compare_fill_models(context.db(), sid),
        "Fast-forwarding the window under each preset…", "Re-run with each fill model",
        key="fill_models_run", icon=":material/compare_arrows:",
        help="Fast-forward the window under frictionless, realistic and pessimistic")
    if runs is None:
        return
    st.container(key="fill_models_table").dataframe(pd.DataFrame({
        "fill model": [r.model + (" (this session)" if r.model == doc.fill_model else "")
                       for r in runs],
        "return": [fmt.signed_pct(r.return_pct) for r in runs],
        "max drawdown": [f"{r.max_drawdown_pct:.2f}%" for r in runs],
        "fills": [f"{r.fills:,}" for r in runs],
        "orders filled in parts": [f"{r.partial_orders:,}" for r in runs],
        "fees": [fmt.money(r.fees) for r in runs],
        "settings": [r.description.split(": ", 1)[1] for r in runs],
    }), hide_index=True, width="stretch",
        column_config={"settings": st.column_config.TextColumn(width="large")})
    curves = pd.DataFrame([(r.model, ts, equity) for r in runs for ts, equity in r.curve],
                          columns=["model", "ts", "equity"])
    with st.container(key="fill_models_chart"):
        st.vega_lite_chart(curves, CURVES_SPEC, width="stretch")
