"""The Sweeps tab's robustness panel: the sweep's overfitting odds with what they mean (and,
for a walk-forward sweep, its folds), the sweep report to download."""

import streamlit as st

from engine.reads.overfitting import overfitting_odds
from engine.reads.report.sweep import sweep_report
from ui import context
from ui.format import DASH


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


def panel(sweep_id: int) -> None:
    """Everything this module shows of a sweep, under its ranking."""
    overfitting(sweep_id)
    report_download(sweep_id)
