"""A session's clock on its page (source, window, progress, speed and why it waits), the speed
and settings controls, and the Reconcile tab."""

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from engine.control import actions as control
from engine.control.database import unavailable_errors
from engine.control.windows import SPEEDS
from engine.core.settings import FAST_FORWARD, describe_change, speed_text
from engine.errors import PaperDeskError
from engine.reads.records import Difference, SessionDocument
from engine.reads.words import WAITING_WORD
from ui import context
from ui.format import literal
from ui.outage import OUTAGE
from ui.session_form import day_start, speed_label
from ui.theme import BAR_FORMAT, MARKET

TIME = "%Y-%m-%d %H:%M"
TERMINAL = ("stopped", "completed")
RECONCILE_HELP = (
    "Reconcile fast-forwards this session's window again, up to its clock, with the settings "
    "it was created with, and compares the fills trade by trade (bar, symbol, side, quantity, "
    "price). A replay session matches 100% however often it was paused, sped up, slowed down "
    "or restarted; every difference names its cause (a settings change, a stop that closed "
    "positions, a late or missed bar in live mode)."
)


def _when(ts) -> str:
    return "—" if ts is None or pd.isna(ts) else f"{ts:{TIME}}"


def _shown(speed: float | str) -> str:
    """A document's speed as the speed picker writes it."""
    return speed_text(None if speed == FAST_FORWARD else speed)


def clock_speed(doc: SessionDocument) -> str:
    if doc.source == "live":
        return "follows the live feed"
    if doc.speed == FAST_FORWARD and doc.ff_until is not None:
        then = speed_label(format(doc.ff_then, "g"))
        return f"fast-forward to {_when(doc.ff_until)}, then {then}"
    return speed_label(_shown(doc.speed))


def clock_panel(doc: SessionDocument) -> None:
    """Where the session's clock is, how fast it runs, and why it waits (if it does)."""
    if doc.condition == WAITING_WORD:
        st.warning(f"Clock waiting: {literal(doc.wait_reason)}", icon=":material/hourglass_top:")
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        if doc.source == "live":
            st.markdown("**Source** live · bars are traded as the feed writes them")
        else:
            st.markdown(f"**Source** replay · **window** {_when(doc.window_from)} – "
                        f"{_when(doc.window_to)} ({MARKET}) · **speed** {clock_speed(doc)}")
        at = f"clock at {_when(doc.last_bar_at)} ({MARKET})" if doc.last_bar_at \
            else "clock not started"
        if doc.bars_total:
            done, total = doc.bars_done, doc.bars_total
            st.progress(min(1.0, done / total),
                        text=f"Bar {done:,} of {total:,} ({doc.progress_pct:.1f}%) · {at}")
        else:
            st.caption(f"{doc.bars_done:,} bars traded · {at}")
    with right:
        speed_control(doc)


def _apply_speed(sid: int) -> None:
    speed = st.session_state.get(f"speed_pick_{sid}", "1")
    context.act(f"Session {sid} speed {speed_label(speed)}", control.set_session_speed, sid,
                speed)


def _apply_fast_forward(sid: int, window_from) -> None:
    until = day_start(st.session_state.get(f"ff_until_{sid}"), window_from)
    then = st.session_state.get(f"ff_then_{sid}", "1")
    if until is None:
        st.session_state["last_error"] = "Fast-forward: choose the date to stop at"
        return
    context.act(f"Session {sid} fast-forward to {until:{TIME}}", control.set_session_speed, sid,
                FAST_FORWARD, until=until, then=then)


def _apply_settings(sid: int) -> None:
    items = st.session_state.get(f"settings_{sid}", "").replace(",", " ").split()
    bad = [item for item in items if "=" not in item]
    if bad:
        st.session_state["last_error"] = f"Settings: write KEY=VALUE (got {literal(repr(bad[0]))})"
        return
    context.act(f"Session {sid} settings", control.update_session_config, sid,
                dict(item.split("=", 1) for item in items))


def speed_control(doc: SessionDocument) -> None:
    sid = doc.id
    fixed = doc.status in TERMINAL or doc.source == "live" or not context.can_control()
    current = _shown(doc.speed)
    pick, apply = st.columns([2, 1], vertical_alignment="bottom")
    pick.selectbox("Speed", SPEEDS, index=SPEEDS.index(current) if current in SPEEDS else 0,
                   key=f"speed_pick_{sid}", format_func=speed_label, disabled=fixed,
                   help="Bars per second, or max to fast-forward; results do not depend on it")
    apply.button("Set speed", key="sess_speed", disabled=fixed, on_click=_apply_speed,
                 args=(sid,), width="stretch")
    with st.popover("Fast-forward to a date · settings", icon=":material/fast_forward:",
                    disabled=fixed, width="stretch"):
        st.markdown("**Fast-forward to a date, then play**")
        first = doc.window_from
        # Disabled inside too: a disabled popover's content is still on the page.
        st.date_input(f"Stop at ({MARKET})", key=f"ff_until_{sid}", value=None,
                      format="YYYY-MM-DD", disabled=fixed,
                      min_value=first.date() if first else None,
                      max_value=doc.window_to.date() if doc.window_to else None)
        st.selectbox("Then play at", SPEEDS[:-1], key=f"ff_then_{sid}",
                     format_func=speed_label, disabled=fixed)
        st.button("Fast-forward", key="sess_ff", on_click=_apply_fast_forward,
                  args=(sid, first), disabled=fixed)
        st.divider()
        st.markdown("**Change settings from the next bar on**")
        st.text_input("KEY=VALUE …", key=f"settings_{sid}", placeholder="fast=12 fee_bps=20",
                      disabled=fixed,
                      help="Strategy parameters by name, or fee_bps, slippage_bps, "
                           "position_size, stop_loss_pct, take_profit_pct. Reconcile names "
                           "the change as the cause of the fills it alters.")
        st.button("Apply settings", key="sess_settings", on_click=_apply_settings, args=(sid,),
                  disabled=fixed)


def on_click_result(state_key: str, compute: Callable[[], Any], working: str, label: str,
                    **button) -> Any:
    """A button that computes something slow: on a click `compute()` runs (a spinner says
    `working`) and its result is kept for this browser session; None until then or after an
    error, which is shown."""
    if st.button(label, **button):
        with st.spinner(working):
            try:
                st.session_state[state_key] = compute()
            except PaperDeskError as exc:
                st.session_state.pop(state_key, None)
                st.error(literal(exc), icon=":material/error:")
            except unavailable_errors():
                OUTAGE.begin()
                st.error(f"Not run: {context.UNAVAILABLE}.", icon=":material/cloud_off:")
    return st.session_state.get(state_key)


def reconcile_tab(doc: SessionDocument) -> None:
    sid = doc.id
    st.caption(RECONCILE_HELP)
    result = on_click_result(
        f"reconcile_{sid}", lambda: context.reconcile(sid), "Fast-forwarding the window and "
        "comparing fills…", "Reconcile", key="reconcile_run", icon=":material/fact_check:",
        help="Fast-forward the same window now and compare (read-only)")
    if result is None:
        return
    a, b, c, d, e = st.columns(5)
    a.metric("Fills matched", f"{result.match_pct:.1f}%")
    b.metric("Bars re-run", f"{result.bars:,}")
    c.metric("Fills expected", f"{result.expected:,}")
    d.metric("Fills recorded", f"{result.actual:,}")
    e.metric("Differences", f"{len(result.differences):,}")
    st.caption(f"Fast-forward settings: {result.settings}. Run again to include bars traded "
               "since.")
    for change in doc.config_history or []:
        after = change.get("after_bar")
        when = f"after bar {after[:16].replace('T', ' ')} ({MARKET})" if after \
            else "before the first bar"
        st.caption(f"Settings changed {when}: "
                   f"{describe_change(change['before'], change['after'])}")
    if result.interventions:
        st.caption("Manual orders (Close position), replayed by the fast-forward at their bars:")
        st.dataframe(pd.DataFrame(result.interventions), hide_index=True, width="stretch",
                     column_config={
                         "decision_bar": st.column_config.DatetimeColumn(
                             f"after bar ({MARKET})", format=BAR_FORMAT)})
    if not result.differences:
        st.success("Every fill matches the fast-forward.", icon=":material/check_circle:")
        return
    st.dataframe(differences_table(result.differences), hide_index=True, width="stretch",
                 column_config={"cause": st.column_config.TextColumn("cause", width="large")})


def differences_table(differences: list[Difference]) -> pd.DataFrame:
    """Reconcile's differences for reading: a fill on one side only shows "—" on the other."""
    def text(values: pd.Series, fmt: str) -> pd.Series:
        return values.map(lambda v: "—" if v is None or pd.isna(v) else format(v, fmt))

    diffs = pd.DataFrame(differences)
    return pd.DataFrame({
        "kind": diffs["kind"], f"bar ({MARKET})": diffs["bar_ts"].map(lambda t: f"{t:{TIME}}"),
        "symbol": diffs["symbol"], "side": diffs["side"],
        "expected qty": text(diffs["expected_qty"], ".6g"),
        "actual qty": text(diffs["actual_qty"], ".6g"),
        "expected price": text(diffs["expected_price"], ",.2f"),
        "actual price": text(diffs["actual_price"], ",.2f"), "cause": diffs["cause"]})
