"""The Sweeps tab's robustness panel: the sweep's overfitting odds with what they mean (and,
for a walk-forward sweep, its folds), the sweep report to download."""

import streamlit as st

from engine.analytics.walkforward import EXAMPLE
from engine.control.walk_paper import start_walk_forward
from engine.core.selection import DEFAULT_OBJECTIVE, OBJECTIVES
from engine.reads.overfitting import overfitting_odds
from engine.reads.report.figures import curves_figure
from engine.reads.report.sweep import CURVES, sweep_report
from engine.reads.walk_forward import walk_forward
from ui import context
from ui.format import DASH, signed_pct


def walk_forward_inputs() -> None:
    """The new-sweep form's walk-forward fields (empty: a plain sweep)."""
    left, right = st.columns([2, 1])
    left.text_input("Walk-forward (bars)", key="sweep_walk_forward",
                    placeholder=f"optional: {EXAMPLE}[,step=S][,anchored]",
                    help="per fold, the best variant on the train bars trades the test bars "
                         "after them; the test folds are stitched into one out-of-sample "
                         "curve")
    right.selectbox("Objective", OBJECTIVES, index=OBJECTIVES.index(DEFAULT_OBJECTIVE),
                    key="sweep_objective", help="what picks each fold's variant")


def walk_forward_fields() -> dict:
    """The spec's walk-forward fields from the form (none when it is left empty)."""
    text = str(st.session_state.get("sweep_walk_forward") or "").strip()
    return {"walk_forward": text, "objective": st.session_state.get("sweep_objective")
            } if text else {}


def _share(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def overfitting(sweep_id: int) -> None:
    """PBO and the winner's deflated Sharpe, with one sentence of what they mean."""
    odds = context.read(overfitting_odds, sweep_id)
    with st.container(key="sweep_overfitting"):
        a, b, c = st.columns(3)
        a.metric("Probability of backtest overfitting", _share(odds.pbo),
                 help="by combinatorially symmetric cross-validation (Bailey et al. 2015)")
        b.metric("Deflated Sharpe of the winner", _share(odds.deflated_sharpe),
                 help="Bailey & López de Prado 2014, given the number of variants tried")
        c.metric("Variants × bar returns", f"{odds.variants:,} × {odds.bars:,}")
        if odds.reason:
            st.text(odds.reason)
        st.caption(odds.meaning)


def report_download(sweep_id: int) -> None:
    st.download_button("Download sweep report (HTML)", key="sweep_report_download",
                       data=lambda: sweep_report(context.db(), sweep_id),
                       file_name=f"paperdesk-sweep-{sweep_id}.html", mime="text/html",
                       on_click="ignore", icon=":material/download:")


def walk_forward_results(sweep_id: int) -> None:
    """A walk-forward sweep's folds, stitched curve and efficiency."""
    walk = context.read(walk_forward, sweep_id)
    if walk is None:
        return
    kind = "anchored" if walk.anchored else "rolling"
    st.markdown("**Walk-forward**")
    st.caption(f"{kind}: train {walk.train_bars:,} bars, test {walk.test_bars:,}, step "
               f"{walk.step_bars:,}; {walk.expected_folds} folds, each variant chosen by "
               f"{walk.objective} on its train bars")
    if walk.folds.empty:
        st.caption("The folds run once every variant has finished.")
        return
    a, b, c, d = st.columns(4)
    a.metric("Out of sample (stitched)", signed_pct(walk.out_sample_pct))
    b.metric("Buy & hold, same bars", signed_pct(walk.buy_hold_pct))
    c.metric("Best in-sample variant", signed_pct(walk.best_in_sample_pct),
             help=f"variant idx {walk.best_variant}, over the same out-of-sample bars")
    d.metric("Walk-forward efficiency", DASH if walk.efficiency is None
             else f"{walk.efficiency:.2f}")
    st.caption(walk.meaning)
    st.plotly_chart(curves_figure(walk.curve, CURVES), width="stretch", key="walk_curves")
    with st.container(key="walk_folds"):
        st.dataframe(walk.folds, hide_index=True, width="stretch")
    graduate_rule(sweep_id, walk.anchored, walk.step_bars)


def graduate_rule(sweep_id: int, anchored: bool, step_bars: int) -> None:
    """Trade the walk-forward's rule on paper (a rolling one; offered to operators only)."""
    if anchored or not context.can_control():
        return
    st.markdown("**Trade this rule on paper**")
    st.caption(f"A paper session re-selects among this sweep's variants every {step_bars:,} "
               "bars, by the same objective on the same train bars, as the folds did: replay "
               "re-plays the folds' test bars at max speed, then trades on past the window.")
    a, b, c = st.columns([1, 1, 1], vertical_alignment="bottom")
    a.selectbox("Source", ("replay", "live"), key="walk_rule_source")
    b.text_input("Speed after the window (bars/s)", value="1", key="walk_rule_speed")
    c.button("Start the rule as a paper session", key="walk_rule_start", type="primary",
             on_click=context.act_with, args=("Start the rule as a paper session",
                                              start_walk_forward, sweep_id),
             kwargs={"source": "walk_rule_source", "speed": "walk_rule_speed"})


def panel(sweep_id: int) -> None:
    """Everything this module shows of a sweep, under its ranking."""
    walk_forward_results(sweep_id)
    overfitting(sweep_id)
    report_download(sweep_id)
