"""Sessions: the list, bulk and per-session controls, details, new sessions, comparison."""

import math

import pandas as pd
import streamlit as st

from engine.control import actions as control
from engine.errors import NotFound
from engine.reads import curves, queries
from engine.reads.records import SessionDocument
from engine.reads.strategies import chart_of
from ui import charts, confirm, context, datasets, sweeps
from ui import format as fmt
from ui.desk import pnl_px, styled
from ui.desk import table as desk_table
from ui.fill_models import caption as fill_caption
from ui.fill_models import fill_models_tab
from ui.paging import pager
from ui.session_actions import CLOSABLE, close_position_button, edit_parameters
from ui.session_clock import clock_panel, reconcile_tab
from ui.session_form import new_session, presets
from ui.session_robustness import robustness_tab
from ui.theme import BAR_FORMAT, MARKET, STATUS_HEX, TIME_FORMAT, WALL, badge, pnl_key

FILLS_MARKED = 200  # the latest fills, marked on the candles
VARIANT = "session_variant"  # a sweep's variant opened by its link: in the picker too
SESSION_ACTIONS = {
    "start": (":material/play_arrow:", "Start trading this session"),
    "pause": (":material/pause:", "No new orders or fills; positions stay marked to market"),
    "resume": (":material/resume:", "Continue from the current bar (nothing is back-filled)"),
    "stop": (":material/stop:", "Stop for good: cancels open orders"),
}

PCT, MONEY, RATIO = "%+.2f%%", "dollar", "%.2f"  # MONEY: $1,234.56 (fmt.CURRENCY)
COMPARE_COLUMNS = {  # in the order shown: the headline figures first
    "session": "Session",
    "return_pct": st.column_config.NumberColumn("Return %", format=PCT),
    "buy_hold_pct": st.column_config.NumberColumn("Buy & hold %", format=PCT),
    "max_drawdown_pct": st.column_config.NumberColumn("Max drawdown %", format="%.2f%%"),
    "sharpe": st.column_config.NumberColumn("Sharpe", format=RATIO,
                                            help="annualized for the bar frequency"),
    "trades": st.column_config.NumberColumn("Trades", format="%d"),
    "win_rate_pct": st.column_config.NumberColumn("Win rate %", format="%.1f%%"),
    "profit_factor": st.column_config.NumberColumn("Profit factor", format=RATIO),
    "realized_pnl": st.column_config.NumberColumn("Realized P&L", format=MONEY),
    "unrealized_pnl": st.column_config.NumberColumn("Unrealized P&L", format=MONEY),
    "fees_paid": st.column_config.NumberColumn("Fees paid", format=MONEY),
    "strategy": "Strategy", "symbols": "Symbols",
    "window": st.column_config.TextColumn(f"Window ({MARKET})"),
}

st.title("Sessions")


def bulk_controls() -> bool:
    a, b, c, d = st.columns([1, 1, 1, 2])
    if c.button("Stop all", key="bulk_stop_all", disabled=not context.can_control(),
                help="Stop every session that is not stopped (asks first)", width="stretch"):
        confirm.ask(confirm.stop_all())
    for col, action, tip in ((a, "pause_all", "Pause every running session"),
                             (b, "resume_all", "Resume every paused session")):
        col.button(action.replace("_", " ").capitalize(), key=f"bulk_{action}", help=tip,
                   disabled=not context.can_control(), width="stretch",
                   on_click=context.act, args=(action.replace("_", " ").capitalize(),
                                               control.bulk_session_action, action))
    return d.toggle("Show archived", key="show_archived",
                    help="Archived sessions are hidden from the list but kept")


@st.fragment(run_every=context.refresh_every())
def table(include_archived: bool) -> None:
    sessions = context.read(queries.sessions, include_archived=include_archived)
    offset, limit = pager(len(sessions), "sessions_page", "sessions")
    shown = sessions.iloc[offset:offset + limit]
    view = desk_table(shown).assign(started=shown["started_at"])
    st.dataframe(styled(view, STATUS_HEX), hide_index=True, width="stretch",
                 height=min(38 + 35 * len(view), 400),
                 column_config={"P&L": st.column_config.Column(width=pnl_px(view)),
                                "started": st.column_config.DatetimeColumn(
                                    f"started ({WALL})", format=TIME_FORMAT)})


def session_controls(doc: SessionDocument) -> None:
    cols = st.columns([1, 1, 1, 1, 1.6, 1.2])
    sid = doc.id
    for col, (action, (icon, tip)) in zip(cols, SESSION_ACTIONS.items(), strict=False):
        disabled = action not in doc.allowed or not context.can_control()
        if action == "stop":
            if col.button("Stop", key="sess_stop", icon=icon, help=f"{tip} (asks first)",
                          disabled=disabled, width="stretch"):
                confirm.ask(confirm.session_stop(
                    doc, st.session_state.get("close_on_stop", False)))
            continue
        col.button(action.title(), key=f"sess_{action}", icon=icon, help=tip,
                   disabled=disabled,
                   on_click=context.act, args=(f"Session {sid} {action}",
                                               control.session_action, sid, action),
                   width="stretch")
    cols[4].checkbox("Close positions on stop", key="close_on_stop",
                     help="Sell every holding at the session's last close when stopping "
                     "(the stop dialog asks again)")
    if doc.status in CLOSABLE:
        close_position_button(cols[5], doc)
    if doc.status in ("stopped", "completed"):
        cols[5].button("Unarchive" if doc.archived else "Archive", key="sess_archive",
                       icon=":material/archive:", help="Hide or show it in the default list",
                       disabled=not context.can_control(),
                       on_click=context.act, args=(f"Session {sid} archive",
                                                   control.archive_session, sid,
                                                   not doc.archived))
    context.show_last_error()


def metrics_row(m: dict, doc: SessionDocument) -> None:
    a, b, c, d, e = st.columns(5)
    a.metric("Equity", fmt.money(doc.equity), fmt.signed_pct(m["return_pct"]))
    b.metric("Buy and hold", fmt.signed_pct(m["buy_hold_pct"]))
    with c.container(key=pnl_key("sess_realized", m["realized_pnl"])):
        st.metric("Realized P&L", fmt.signed_money(m["realized_pnl"]),
                  help="From closed trades, after fees")
    with d.container(key=pnl_key("sess_unrealized", m["unrealized_pnl"])):
        st.metric("Unrealized P&L", fmt.signed_money(m["unrealized_pnl"]),
                  help="Open positions marked at the session's last close")
    e.metric("Cash", fmt.money(doc.cash))
    a, b, c, d, e = st.columns(5)
    a.metric("Trades", f"{m['trades']:,}")
    b.metric("Win rate", "—" if m["win_rate_pct"] is None else f"{m['win_rate_pct']:.0f}%")
    c.metric("Profit factor", fmt.ratio(m["profit_factor"], m["trades"]),
             help=f"Gross profit ÷ gross loss; {fmt.RATIO_HELP}")
    d.metric("Max drawdown", f"{m['max_drawdown_pct']:.2f}%")
    e.metric("Sharpe (annualized)", fmt.ratio(m["sharpe"], m["trades"]),
             help=f"Annualized for the bar frequency; {fmt.RATIO_HELP}")


def lineage_table(trades: pd.DataFrame) -> pd.DataFrame:
    lineage = trades["lineage"].apply(lambda x: x or {})
    return pd.DataFrame({
        "bar": trades["bar_time"], "recorded": trades["time"], "symbol": trades["symbol"],
        "side": trades["side"], "qty": trades["qty"], "price": trades["price"].map(fmt.price),
        "fee": trades["fee"].map(fmt.money),
        "realized P&L": [fmt.realized(v, side)
                         for v, side in zip(trades["realized_pnl"], trades["side"],
                                            strict=True)],
        "why": trades["reason"], "by": trades["by"],
        "indicators": lineage.apply(lambda x: ", ".join(
            f"{k}={v}" for k, v in (x.get("indicators") or {}).items())),
        "sentiment": lineage.apply(lambda x: x.get("sentiment")),
        "decision bar close": lineage.apply(lambda x: x.get("close")),
        "priced by": trades["priced_by"],
        "order": trades["order_id"],
    })


@st.fragment(run_every=context.refresh_every())
def detail(sid: int) -> None:
    try:
        doc = context.read(queries.session_document, sid)
    except NotFound:
        st.warning(f"Session {sid} no longer exists.")
        return
    st.markdown(f"### {fmt.literal(doc.name)} {badge(doc.condition)}")
    st.caption(f"#{doc.id} · {fmt.literal(doc.strategy)} {fmt.literal(doc.params)} · "
               f"{fmt.literal(', '.join(doc.symbols))} {doc.timeframe} · size "
               f"{doc.position_size:g} of equity · sentiment: {doc.sentiment}"
               f" · after restart: {doc.restart_policy}"
               f" · created {doc.created_at:%Y-%m-%d %H:%M} ({WALL})")
    st.caption(fill_caption(doc))
    if doc.walk_rule:
        rule = doc.walk_rule
        st.caption(f"Walk-forward rule: every {rule['step_bars']:,} bars it re-selects among "
                   f"{len(rule['candidates'])} parameter sets the one with the best "
                   f"{rule['objective']} on the {rule['train_bars']:,} bars before (each "
                   "order's lineage names the parameters it was decided with)")
    session_controls(doc)
    if doc.error:
        st.error(fmt.literal(doc.error), icon=":material/error:")
    clock_panel(doc)
    metrics_row(doc.metrics, doc)
    # Stateful tabs: only the open one is drawn (each chart or table costs a page run).
    tabs = {"Performance": lambda: performance(sid), "Chart": lambda: candles(doc, sid),
            "Positions": lambda: positions(doc), "Trades": lambda: trade_list(sid),
            "Orders": lambda: order_list(sid), "Reconcile": lambda: reconcile_tab(doc),
            "Fill models": lambda: fill_models_tab(doc),
            "Robustness": lambda: robustness_tab(doc), "Parameters": lambda: edit_parameters(doc)}
    for tab, draw in zip(st.tabs(list(tabs), key="detail_tab", on_change="rerun"),
                         tabs.values(), strict=True):
        if tab.open:
            with tab:
                draw()


def performance(sid: int) -> None:
    curve = context.read(curves.equity_history, sid)
    if curve.empty:
        st.info("No equity snapshots yet: they start with the next bar.")
        return
    with st.container(key="equity_chart"):  # the spec is the same each run: no blanking
        st.vega_lite_chart(curve[["ts", "equity", "drawdown_pct"]],
                           charts.equity_spec(fmt.CURRENCY_CODE), width="stretch")
    st.caption(f"The whole history, {curve['ts'].iloc[0]:%Y-%m-%d %H:%M} – "
               f"{curve['ts'].iloc[-1]:%Y-%m-%d %H:%M} ({MARKET}), every high and low kept; "
               f"deepest drawdown drawn: {-curve['drawdown_pct'].min():.2f}%.")


def candles(doc: SessionDocument, sid: int) -> None:
    symbol = st.selectbox("Symbol", doc.symbols, key="chart_symbol")
    bars = context.read(curves.window_bars, symbol, doc.timeframe, start=doc.window_from,
                        end=doc.last_bar_at)
    if bars.empty:
        st.info("No bars yet.")
        return
    trades = context.read(queries.trades, sid, limit=FILLS_MARKED)
    drawn = curves.ohlc_buckets(bars)
    chart = chart_of(doc.strategy)
    lines, rsi = charts.at_rows(charts.indicator_lines(bars, chart, doc.params),
                                charts.rsi_pane(bars, chart, doc.params), drawn["last"])
    with st.container(key="candles_chart"):  # the spec is the same each run: no blinking
        st.vega_lite_chart(charts.candles_data(drawn, trades, symbol, lines, rsi),
                           charts.candles_spec(symbol, doc.timeframe, list(lines), rsi,
                                               fmt.CURRENCY_CODE), width="stretch")
    merged = (f", drawn as {len(drawn):,} candles of {math.ceil(len(bars) / len(drawn))} bars"
              if len(drawn) < len(bars) else "")
    st.caption(f"All {len(bars):,} bars, {bars['ts'].iloc[0]:%Y-%m-%d %H:%M} – "
               f"{bars['ts'].iloc[-1]:%Y-%m-%d %H:%M} ({MARKET}), to the session's clock"
               f"{merged}; fills on them marked ▲ buy under the bar and ▼ sell over the bar "
               "that filled" + (f"; {' and '.join(lines)} of the close, as the strategy "
                                "computes them" if lines else "") + ".")


def positions(doc: SessionDocument) -> None:
    if not doc.positions:
        st.caption("No open positions.")
        return
    st.dataframe(pd.DataFrame({
        "Symbol": [p.symbol for p in doc.positions],
        "Quantity (units)": [f"{p.qty:,.8g}" for p in doc.positions],
        f"Average price ({fmt.CURRENCY_CODE})": [fmt.price(p.avg_price) for p in doc.positions],
        f"Last close ({fmt.CURRENCY_CODE})": [fmt.price(p.last_price) for p in doc.positions],
        f"Market value ({fmt.CURRENCY_CODE})": [fmt.money(p.market_value)
                                               for p in doc.positions],
    }), hide_index=True, width="stretch")
    st.caption("Valued at the close of the session's current bar.")


def trade_list(sid: int) -> None:
    offset, limit = pager(context.read(queries.fill_count, sid), "trades_page", "fills")
    trades = context.read(queries.trades, sid, limit=limit, offset=offset)
    if trades.empty:
        st.caption("No trades yet.")
        return
    st.caption("Every fill, newest first (`python -m engine session trades ID` lists them "
               "too); 'why' is the rule that fired, with the indicator values and sentiment "
               f"on the decision bar. 'bar' is the bar it filled on ({MARKET}); 'recorded' is "
               f"when PaperDesk wrote it ({WALL}).")
    table = lineage_table(trades)
    styler = fmt.colour_pnl(fmt.colour_sides(table.style), ["realized P&L"])
    st.dataframe(styler, hide_index=True, width="stretch", column_config={
        "bar": st.column_config.DatetimeColumn(f"bar ({MARKET})", format=BAR_FORMAT),
        "recorded": st.column_config.DatetimeColumn(f"recorded ({WALL})", format=TIME_FORMAT)})


def order_list(sid: int) -> None:
    orders = context.read(queries.orders, sid)
    if orders.empty:
        st.caption("No orders yet.")
    else:
        st.caption("An order the volume cap splits fills over several bars ('fills' counts "
                   "the parts; 'filled' and 'remaining' show how far it got); each part is its "
                   "own fill on the Trades tab with its own price and fee.")
        st.container(key="orders_table").dataframe(
            orders, hide_index=True, width="stretch", column_config={
                "decision_bar": st.column_config.DatetimeColumn(f"decided on bar ({MARKET})",
                                                                format=BAR_FORMAT),
                "created_at": st.column_config.DatetimeColumn(f"created ({WALL})",
                                                              format=TIME_FORMAT)})


def compare(sessions: pd.DataFrame) -> None:
    labels = {int(r.id): f"#{r.id} {r.name}" for r in sessions.itertuples()}
    chosen = st.multiselect("Sessions to compare", list(labels), format_func=labels.get,
                            key="compare_ids", max_selections=8)
    if len(chosen) < 2:
        st.caption("Pick two or more sessions.")
        return
    lines, metrics = context.read(curves.comparison_history, tuple(chosen))
    shared = metrics["window"].nunique() == 1 and metrics["window"].iloc[0] != "live"
    if lines.empty:
        st.caption("No equity snapshots yet: the curves start with the sessions' first bars.")
    else:
        axis = "ts" if shared else "bar"
        st.caption(f"x: {MARKET} — the sessions share one window ({metrics['window'].iloc[0]})"
                   if shared else "x: bars since each session's start — the sessions trade "
                   "different windows, so dates would not line up.",
                   help="y: equity against starting cash, in % (the same for every axis)")
        st.plotly_chart(charts.comparison_figure(lines, axis), width="stretch",
                        key="compare_chart")
    st.dataframe(metrics, hide_index=True, width="stretch", column_config=COMPARE_COLUMNS,
                 column_order=list(COMPARE_COLUMNS))


def session_list(sessions: pd.DataFrame, show_archived: bool) -> None:
    if sessions.empty:
        presets()
        return
    table(show_archived)
    names = dict(zip((int(i) for i in sessions["id"]), sessions["name"], strict=True))
    variant = st.session_state.get(VARIANT)
    if variant is not None and variant not in names:
        names[variant] = f"{context.read(queries.session_document, variant).name} (sweep variant)"
    ids = list(names)
    linked = from_url(ids)
    if linked is not None:
        st.session_state["session_pick"] = linked
    elif st.session_state.get("session_pick") not in ids:
        current = st.session_state.get("session_selected")
        st.session_state["session_pick"] = current if current in ids else ids[0]
    chosen = st.selectbox("Session", ids, format_func=lambda i: f"#{i} {names[i]}",
                          key="session_pick")
    st.session_state["session_selected"] = chosen
    st.session_state["session_linked"] = str(chosen)
    st.query_params["session"] = str(chosen)  # the URL follows the session shown
    detail(chosen)


def _is_variant(sid: int) -> bool:
    try:
        return context.read(queries.session_document, sid).sweep_id is not None
    except NotFound:
        return False


def from_url(ids: list[int]) -> int | None:
    """The session a `?session=N` link asks for, when it is new (typed, clicked, first load)."""
    wanted = st.query_params.get("session")
    if wanted is None or wanted == st.session_state.get("session_linked"):
        return None
    st.session_state["session_linked"] = wanted
    try:
        sid = int(wanted)
    except ValueError:
        st.warning(f"No session {fmt.literal(repr(wanted))}: the link should end with "
                   "?session=<number>.")
        return None
    if sid not in ids and _is_variant(sid):
        st.session_state[VARIANT] = sid
        st.rerun()
    if sid not in ids:
        st.warning(f"Session {sid} is not in the list (archived sessions show with "
                   "'Show archived').")
        return None
    return sid


show_archived = bulk_controls()
# The desk's paper sessions; a sweep's variants are ranked on the Sweeps tab, and one opens
# here from there by its link (?session=N).
sessions = context.read(queries.sessions, include_archived=show_archived)
list_tab, new_tab, compare_tab, sweeps_tab, data_tab = st.tabs(
    ["Sessions", "New session", "Compare", "Sweeps", "Data"], key="sessions_tab",
    on_change="rerun")
if list_tab.open:
    with list_tab:
        session_list(sessions, show_archived)
if new_tab.open:
    with new_tab:
        new_session()
if compare_tab.open:
    with compare_tab:
        compare(sessions)
if sweeps_tab.open:
    with sweeps_tab:
        sweeps.render()
if data_tab.open:
    with data_tab:
        datasets.render()
