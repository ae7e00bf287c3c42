"""The Sessions page's Sweeps tab: create a sweep, watch its progress, cancel it, read its
ranked variants, heatmap and top equity curves, start a variant as a paper session, archive."""

import pandas as pd
import streamlit as st

from engine.control import sweeps
from engine.core.bars import TIMEFRAMES
from engine.core.fill_models import DEFAULT_PRESET, PRESETS
from engine.reads import queries
from engine.reads import sweeps as sweep_reads
from engine.reads.records import SweepDocument
from ui import charts, context, format, sweep_robustness
from ui.form_check import offered_strategies, sentiment_select

TOP_N = 5
CREATED = "sweep_created"  # the sweep this tab just created: confirmed once above its progress
METRICS = {"return_pct": "Return %", "in_sample_pct": "In-sample %",
           "out_sample_pct": "Out-of-sample %", "sharpe": "Sharpe"}
FIGURE_COLUMNS = {
    "rank": st.column_config.NumberColumn("Rank"),
    "session_id": st.column_config.LinkColumn("Session", display_text=r"session=(\d+)",
                                              help="Open the variant's session page"),
    "return_pct": st.column_config.NumberColumn("Return %", format="%+.2f"),
    "buy_hold_pct": st.column_config.NumberColumn("Buy & hold %", format="%+.2f"),
    "sharpe": st.column_config.NumberColumn("Sharpe", format="%.2f"),
    "max_drawdown_pct": st.column_config.NumberColumn("Max DD %", format="%.2f"),
    "trades": st.column_config.NumberColumn("Trades"),
    "profit_factor": st.column_config.NumberColumn("Profit factor", format="%.2f"),
    "in_sample_pct": st.column_config.NumberColumn("In-sample %", format="%+.2f"),
    "out_sample_pct": st.column_config.NumberColumn("Out-of-sample %", format="%+.2f"),
}


def heatmap_spec(frame: pd.DataFrame, x: str, y: str, metric: str) -> dict:
    """Vega-Lite: the best `metric` of the variants at each (x, y) of the grid."""
    title = METRICS[metric]
    return {
        "data": {"values": frame[[x, y, metric]].dropna().to_dict("records")},
        "mark": {"type": "rect", "tooltip": True},
        "encoding": {
            "x": {"field": x, "type": "ordinal", "title": x},
            "y": {"field": y, "type": "ordinal", "title": y, "sort": "descending"},
            "color": {"aggregate": "max", "field": metric, "type": "quantitative",
                      "title": title, "scale": {"scheme": "redyellowgreen", "domainMid": 0}},
        },
        "height": 320,
    }


def _create() -> None:
    ss = st.session_state
    offered = offered_strategies()
    strategy = (ss.get("sweep_strategy") if ss.get("sweep_strategy") in offered
                else next(iter(offered)))
    grid = {name: ss.get(f"sweep_param_{strategy}_{name}", "")
            for name in offered[strategy].params}
    spec = {"name": ss.get("sweep_name") or None, "strategy": strategy,
            "symbols": ss.get("sweep_symbols", ""), "timeframe": ss.get("sweep_timeframe"),
            "fill_model": ss.get("sweep_fill_model"), "sentiment": ss.get("sweep_sentiment"),
            "from": ss.get("sweep_from"),
            "to": ss.get("sweep_to"), "split": ss.get("sweep_split"),
            "grid": {k: v for k, v in grid.items() if str(v).strip()},
            **sweep_robustness.walk_forward_fields()}
    created = context.act("Create sweep", sweeps.create_sweep, spec)
    if created is not None:
        ss["sweep_pick"] = ss[CREATED] = created.id


def form() -> None:
    """The new-sweep form: a strategy, a range or list per parameter, symbols, window, split."""
    with st.expander("New sweep", expanded=False, key="sweep_form"):
        left, right = st.columns(2)
        offered = offered_strategies()
        strategy = left.selectbox("Strategy", list(offered), key="sweep_strategy",
                                  format_func=lambda n: offered[n].title)
        right.text_input("Name", key="sweep_name", placeholder="optional")
        for name, param in offered[strategy].params.items():
            st.text_input(format.literal(f"{name} — {param.help}"),
                          key=f"sweep_param_{strategy}_{name}",
                          placeholder=f"5:20:5, 30,50,100 or one value (empty: "
                                      f"{param.default})")
        left, mid, right = st.columns(3)
        timeframe = left.selectbox("Timeframe", list(TIMEFRAMES), key="sweep_timeframe")
        symbols = context.read(queries.available_symbols, timeframe)
        mid.text_input("Symbols", key="sweep_symbols", value="BTC-USD",
                       help=f"comma-separated: {', '.join(symbols)}")
        right.selectbox("Fill model", PRESETS, index=PRESETS.index(DEFAULT_PRESET),
                        key="sweep_fill_model")
        left, mid, right = st.columns(3)
        left.text_input("From", key="sweep_from", placeholder="2019-01-01",
                        help="empty: the 1,000 bars before the latest 1,000")
        mid.text_input("To", key="sweep_to", placeholder="2019-03-01")
        right.text_input("Split (out-of-sample from)", key="sweep_split",
                         placeholder="optional date inside the window")
        sentiment_select(left, "sweep_sentiment")
        sweep_robustness.walk_forward_inputs()
        st.button("Create sweep", key="sweep_create", type="primary", on_click=_create,
                  disabled=not context.can_control())


def progress(sweep_id: int) -> None:
    """The sweep's state and progress bar, live; Cancel while it runs."""
    doc = context.read(sweep_reads.sweep_document, sweep_id)
    done, total = doc.done, doc.total
    st.progress(done / total if total else 0.0,
                text=f"{doc.status}: {done:,} of {total:,} variants"
                + (f" — {format.literal(doc.wait_reason)}" if doc.wait_reason else "")
                + (" — cancelling" if doc.cancel_requested and doc.can_cancel else ""))
    if doc.error:
        st.error(format.literal(doc.error))
    if doc.can_cancel:
        st.button("Cancel sweep", key="sweep_cancel", disabled=not context.can_control(),
                  on_click=context.act, args=("Cancel sweep", sweeps.cancel_sweep, sweep_id))
    elif doc.status in ("queued", "running"):
        return
    elif st.session_state.get("sweep_seen_done") != (sweep_id, done):
        st.session_state["sweep_seen_done"] = (sweep_id, done)
        st.rerun()  # finished: draw the full results once


def results(sweep_id: int, doc: SweepDocument) -> None:
    ranked = context.read(sweep_reads.variants, sweep_id)
    if ranked.empty:
        st.caption("No variant has finished yet.")
        return
    values = list(doc.grid)
    st.caption(f"{len(ranked):,} variants of {format.literal(doc.strategy)} on "
               f"{format.literal(', '.join(doc.symbols))}"
               f" {doc.timeframe}, {doc.window_from[:16]} – {doc.window_to[:16]}; "
               + ("ranked by in-sample return (split at "
                  f"{doc.split_at:%Y-%m-%d %H:%M})" if doc.split_at else
                  "ranked by return"))
    shown = [c for c in ("rank", "session_id", *values, *FIGURE_COLUMNS) if c in ranked]
    with st.container(key="sweep_table"):
        links = ranked.assign(session_id="/sessions?session=" + ranked["session_id"].astype(str))
        st.dataframe(links[list(dict.fromkeys(shown))], hide_index=True, width="stretch",
                     column_config=FIGURE_COLUMNS, height=320)
    numeric = [v for v in values if pd.api.types.is_numeric_dtype(ranked[v])]
    if len(numeric) >= 2:
        with st.expander("Heatmap", key="sweep_heatmap_open"):
            a, b, c = st.columns(3)
            x = a.selectbox("x", numeric, index=0, key="sweep_heat_x")
            y = b.selectbox("y", [v for v in numeric if v != x], key="sweep_heat_y")
            metric = c.selectbox("Colour", [m for m in METRICS if ranked[m].notna().any()],
                                 format_func=METRICS.get, key="sweep_heat_metric")
            with st.container(key="sweep_heatmap"):
                st.vega_lite_chart(heatmap_spec(ranked, x, y, metric), width="stretch")
    top = [int(i) for i in ranked["session_id"].head(TOP_N)]
    curves = context.read(sweep_reads.top_curves, tuple(top))
    if not curves.empty:
        st.caption(f"Equity of the top {len(top)} (% of starting cash)")
        st.plotly_chart(charts.comparison_figure(curves, "ts"), width="stretch",
                        key="sweep_curves")
    sweep_robustness.panel(sweep_id)
    graduate(ranked)


def graduate(ranked: pd.DataFrame) -> None:
    """Start a chosen variant as a paper session (replay past the window, or live)."""
    labels = {int(r.session_id): f"#{r.rank} session {r.session_id} "
              f"({format.signed_pct(r.return_pct)})" for r in ranked.head(50).itertuples()}
    a, b, c = st.columns([2, 1, 1])
    a.selectbox("Variant", list(labels), format_func=labels.get, key="sweep_graduate_pick")
    b.selectbox("Source", ("replay", "live"), key="sweep_graduate_source")
    c.text_input("Speed after the window (bars/s)", value="1", key="sweep_graduate_speed")
    st.button("Start as paper session", key="sweep_graduate", type="primary",
              disabled=not context.can_control(), on_click=context.act_with,
              args=("Start as paper session", sweeps.start_as_paper),
              kwargs={"variant_id": "sweep_graduate_pick", "source": "sweep_graduate_source",
                      "speed": "sweep_graduate_speed"})


def paper_sessions(sweep_id: int) -> None:
    started = context.read(sweep_reads.paper_sessions, sweep_id)
    if started.empty:
        return
    st.markdown("**Paper sessions from this sweep**")
    rows = []
    for r in started.itertuples():
        shared = context.read(sweep_reads.origin_comparison, int(r.id))
        rows.append({"session": f"#{r.id} {r.name}", "status": r.status,
                     "variant": r.origin_session_id, "shared bars": shared["shared_bars"],
                     "fills matched": f"{shared['matched']} of "
                     f"{max(shared['expected'], shared['actual'])} ({shared['match_pct']:.0f} %)",
                     "paper return": format.signed_pct(shared["paper_return_pct"]),
                     "variant return": format.signed_pct(shared["variant_return_pct"])})
    with st.container(key="sweep_paper_table"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def render() -> None:
    """The whole tab."""
    form()
    context.show_last_error()
    archived = st.toggle("Show archived", key="sweep_archived")
    listed = context.read(sweep_reads.sweeps, include_archived=archived)
    if listed.empty:
        st.caption("No sweeps yet: create one above.")
        return
    # No status in the label: the progress line under it is the live one.
    names = {int(r.id): f"#{r.id} {r.name}" for r in listed.itertuples()}
    sweep_id = st.selectbox("Sweep", list(names), format_func=names.get, key="sweep_pick")
    if st.session_state.pop(CREATED, None) == sweep_id:
        st.success(f"Sweep #{sweep_id} created: its variants are queued for the engine's "
                   "workers.", icon=":material/check_circle:")
    st.fragment(run_every=context.refresh_every())(progress)(sweep_id)
    doc = context.read(sweep_reads.sweep_document, sweep_id)
    results(sweep_id, doc)
    paper_sessions(sweep_id)
    if doc.can_archive and not doc.archived:
        st.button("Archive sweep", key="sweep_archive", disabled=not context.can_control(),
                  on_click=context.act, args=("Archive sweep", sweeps.archive_sweep, sweep_id))
