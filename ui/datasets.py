"""The Data tab of Sessions: every imported dataset with its provenance, and — for an operator
only — the upload of a bar file (CSV, gzip CSV or Parquet) with the same checks as `python -m
engine data import`. A viewer is offered no upload control at all."""

import pandas as pd
import streamlit as st

from engine.control.database import unavailable_errors
from engine.control.datasets import UPLOAD_MAX_MB, import_upload, remove_data, report_lines
from engine.core.bars import ASSET_CLASSES, TIMEFRAMES
from engine.errors import PaperDeskError
from engine.reads.datasets import imported_datasets
from ui import context
from ui.format import literal
from ui.theme import BAR_FORMAT, TIME_FORMAT

RESULT = "data_result"  # (ok, lines) of the last upload or removal, shown once
ASSET_HELP = ("Drives the calendar (a stock's or currency pair's weekend is not a gap; the "
              "Sharpe's year: 365 / 252 / 260 days) and the fill models' fee defaults")


def _table() -> None:
    found = context.read(imported_datasets)
    if not found:
        st.caption("No imported datasets yet; the shipped ones are always there.")
        return
    st.dataframe(pd.DataFrame([{
        "Symbol": d.symbol, "Timeframe": d.timeframe, "Class": d.asset_class, "Bars": d.rows,
        "First bar (UTC)": d.first_ts, "Last bar (UTC)": d.last_ts, "Gaps": d.gaps,
        "File": d.file_name, "sha256": d.sha256[:12], "By": d.imported_by,
        "Imported (UTC)": d.imported_at} for d in found]), hide_index=True, width="stretch",
        column_config={c: st.column_config.DatetimeColumn(c, format=f) for c, f in (
            ("First bar (UTC)", BAR_FORMAT), ("Last bar (UTC)", BAR_FORMAT),
            ("Imported (UTC)", TIME_FORMAT))})


def _run(action, *args) -> None:
    """Run an import or removal from a callback; keep its lines (or one error line)."""
    try:
        st.session_state[RESULT] = (True, action(context.db(), *args))
    except unavailable_errors():
        st.session_state[RESULT] = (False, [f"Not done — {context.UNAVAILABLE}"])
    except PaperDeskError as exc:
        st.session_state[RESULT] = (False, [str(exc)])
    st.cache_data.clear()


def _import() -> None:
    ss = st.session_state
    upload = ss.get("data_file")
    if upload is None:
        ss[RESULT] = (False, ["file: choose a CSV, gzip CSV or Parquet file first"])
        return
    _run(lambda db, *a: report_lines(import_upload(db, *a)), upload.getvalue(), upload.name,
         (ss.get("data_symbol") or "").strip(), ss["data_timeframe"], ss["data_class"],
         bool(ss.get("data_replace")), context.user())


def _remove(key: str) -> None:
    symbol, timeframe = key.rsplit(" ", 1)
    _run(lambda db, s, tf: [f"removed {s} {tf} ({remove_data(db, s, tf):,} bars)"], symbol,
         timeframe)


def _upload_form() -> None:
    with st.form("data_upload", border=True):
        st.markdown("**Import a bar file**")
        st.file_uploader(f"CSV (plain or gzip) or Parquet, at most {UPLOAD_MAX_MB} MB",
                         key="data_file", type=["csv", "gz", "parquet"],
                         max_upload_size=UPLOAD_MAX_MB,
                         help="Columns time (ts, time, date, datetime or timestamp, or an "
                              "unnamed first column), open, high, low, close, volume in any "
                              "case; times without a zone are read as UTC; ascending or "
                              "descending")
        a, b, c = st.columns(3)
        a.text_input("Symbol", key="data_symbol", placeholder="e.g. SOL-USD",
                     help="Letters, digits, '.', '_' or '-'; not a shipped symbol")
        b.selectbox("Timeframe", list(TIMEFRAMES), key="data_timeframe")
        c.selectbox("Asset class", ASSET_CLASSES, key="data_class", help=ASSET_HELP)
        st.checkbox("Replace an earlier import of this symbol and timeframe", key="data_replace")
        st.form_submit_button("Import", key="data_import", type="primary", on_click=_import,
                              help="Checks every row first: a refused file stores nothing")


def _remove_form() -> None:
    keys = [f"{d.symbol} {d.timeframe}" for d in context.read(imported_datasets)]
    if not keys:
        return
    a, b = st.columns([3, 1])
    a.selectbox("Imported dataset", keys, key="data_remove_pick", label_visibility="collapsed")
    b.button("Remove", key="data_remove", on_click=lambda: _remove(st.session_state[
        "data_remove_pick"]), help="Drop the import and its bars (refused while a session "
                                   "trades it)", width="stretch")


def render() -> None:
    _table()
    if not context.can_control():
        st.caption("Read-only: only an operator imports data.")
        return
    ok, lines = st.session_state.pop(RESULT, (None, []))
    for line in lines:
        (st.success if ok else st.error)(literal(line))
    _upload_form()
    _remove_form()
