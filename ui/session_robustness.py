"""The session page's Robustness tab: a Monte-Carlo of the session's closed trades (the
histogram and its percentiles), and the session's report and exports to download."""

import streamlit as st

from engine.reads.export import FORMATS
from engine.reads.records import SessionDocument
from engine.reads.report.figures import monte_carlo_figure
from engine.reads.report.session import session_report
from engine.reads.robustness import DEFAULT_PATHS, DEFAULT_SEED, monte_carlo
from ui import context
from ui.format import signed_pct


def _pct(value: float) -> str:
    return signed_pct(value * 100)


def monte_carlo_panel(doc: SessionDocument) -> None:
    a, b = st.columns(2)
    n = a.number_input("Paths", min_value=100, max_value=100_000, value=DEFAULT_PATHS,
                       step=100, key="mc_paths")
    seed = b.number_input("Seed", min_value=0, value=DEFAULT_SEED, step=1, key="mc_seed",
                          help="the same seed draws the same paths")
    mc = context.read(monte_carlo, doc.id, n=int(n), seed=int(seed))
    r = mc.result
    if r.final_return is None:
        st.caption("No closed trades yet: nothing to resample.")
        return
    left, mid, right = st.columns(3)
    left.metric("Final return, median", _pct(r.final_return.p50),
                help=f"5th {_pct(r.final_return.p5)} · 95th {_pct(r.final_return.p95)}")
    mid.metric("Max drawdown, median", f"{r.max_drawdown.p50 * 100:.2f}%",
               help=f"5th {r.max_drawdown.p5 * 100:.2f}% · 95th "
                    f"{r.max_drawdown.p95 * 100:.2f}%")
    right.metric("Probability of ending below the start",
                 f"{r.probability_below_start * 100:.1f}%")
    st.plotly_chart(monte_carlo_figure(r.final_returns, r.max_drawdowns), width="stretch",
                    key="mc_histogram")
    st.caption(f"{r.n:,} paths, each {r.trades} of the session's closed trades drawn with "
               f"replacement (seed {r.seed}) and compounded from the starting cash; dotted "
               "lines: 5th and 95th percentiles, dashed: the median, red: the start.")


def downloads(doc: SessionDocument) -> None:
    """The session's report; its files come from `python -m engine session export`."""
    st.download_button("Download report (HTML)", key="session_report_download",
                       data=lambda: session_report(context.db(), doc.id),
                       file_name=f"paperdesk-session-{doc.id}.html", mime="text/html",
                       on_click="ignore", icon=":material/download:")
    st.caption("A self-contained page (opens with no network): metrics beside buy & hold, "
               "equity and drawdown, monthly returns, trades, settings, reconcile and this "
               f"Monte-Carlo. Orders, fills and equity as {' or '.join(FORMATS)}: `python -m "
               f"engine session export {doc.id} --format csv --out DIR`.")


def robustness_tab(doc: SessionDocument) -> None:
    monte_carlo_panel(doc)
    downloads(doc)
