"""Per-run context for pages: settings, the database, cached reads, and control actions."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from engine.config import Settings, load_settings
from engine.control import actions as control
from engine.control import windows
from engine.control.database import check_file, database, unavailable_errors
from engine.core.lifecycle import CommandStatus
from engine.errors import DatabaseUnavailable, PaperDeskError, WaitTimeout
from engine.reads.reconcile import Reconciliation
from engine.reads.reconcile import reconcile as _reconcile
from ui.format import literal
from ui.outage import OUTAGE

READ_TTL_S = 1.0  # reads are shared by every open tab for this long
OUTCOME_WAIT_S = 1.0  # how long a click waits for the engine's verdict before saying "queued"
DEFAULT_REFRESH_S = 2.0
T = TypeVar("T")
OPENING = "open_session"  # the session a click asked to open on the Sessions page
SWITCH_SETTLE_S = 0.3  # see follow_open_session
UNAVAILABLE = "the database is unavailable; try again once it is back"
ENGINE_STARTING = "engine_starting"  # app.py's sidebar: this server's engine is starting


def engine_starting() -> bool:
    """The engine this dashboard autostarted has not taken the lease yet."""
    return bool(st.session_state.get(ENGINE_STARTING))


def act_with(label: str, fn: Callable, *args, **widgets: str) -> None:
    """`act`, its keyword values read from the widgets named (argument → widget key) when the
    button is clicked: a callback's bound arguments are those of the last finished run, which
    misses a value typed just before the click."""
    act(label, fn, *args, **{name: st.session_state.get(key) for name, key in widgets.items()})


def starting_notice(what: str) -> None:
    """"Starting engine…" and what appears once it runs. An alert, not st.status: a status
    block drawn by a run_every fragment can blank the page in Streamlit 1.67 ("Bad delta path
    index", streamlit#16281) — seen when the engine restarts during a database outage."""
    st.info("Starting engine…", icon=":material/hourglass_top:")
    st.caption(what)


def settings() -> Settings:
    return load_settings()


def db():
    """This process's database engine, migrated once per URL."""
    return database(settings().database_url)


@st.cache_data(ttl=READ_TTL_S, show_spinner=False, max_entries=256)
def _read(url: str, key: str, _fn: Callable, args: tuple, kwargs: tuple) -> Any:
    try:
        check_file(url)
        value = _fn(database(url), *args, **dict(kwargs))
    except unavailable_errors() as exc:  # not cached: the next read tries again
        OUTAGE.begin()
        raise DatabaseUnavailable("the database cannot be reached") from exc
    OUTAGE.end()
    return value


def read(fn: Callable[..., T], *args, **kwargs) -> T:
    """Call `fn`, a read of engine.reads taking the database first, cached for READ_TTL_S
    and shared across sessions (keyed by the function's name and the arguments). While the
    database is unavailable: the value this read returned last (ui.outage)."""
    key = f"{fn.__module__}.{fn.__qualname__}"
    kwargs_key = tuple(sorted(kwargs.items()))
    last_key = repr((key, args, kwargs_key))
    try:
        value = _read(settings().database_url, key, fn, args, kwargs_key)
    except DatabaseUnavailable:
        return OUTAGE.last_value(last_key)
    OUTAGE.remember(last_key, value)
    return value


@st.cache_data(show_spinner=False)
def dataset_ranges(timeframe: str) -> pd.DataFrame:
    """The shipped datasets of `timeframe`: symbol, first and last bar (market time), bars."""
    return pd.DataFrame(windows.dataset_ranges(timeframe),
                        columns=["symbol", "timeframe", "first", "last", "bars"])


@st.cache_data(show_spinner=False, max_entries=64)
def default_window(symbols: tuple[str, ...], timeframe: str) -> windows.Window:
    """The replay window a new session of `symbols` gets when From and To are left empty
    (raises BadInput when the symbols share no bars)."""
    return windows.replay_window(list(symbols), timeframe, None, None)


def reconcile(session_id: int) -> Reconciliation:
    """Fast-forward a session's window again and compare it fill by fill (not cached)."""
    return _reconcile(db(), session_id)


def ask_to_open(table_key: str, ids: list[int]) -> None:
    """on_select callback of a table whose rows show sessions `ids`: remember the clicked one
    for the Sessions page (see leave_for_opened_session)."""
    rows = st.session_state[table_key]["selection"]["rows"]
    if rows:
        st.session_state[OPENING] = str(ids[rows[0]])


def leave_for_opened_session() -> None:
    """First thing in a live fragment that holds a session table: after a row click, rerun the
    whole app at once (app.py then switches pages, see follow_open_session)."""
    if OPENING in st.session_state:
        st.rerun(scope="app")


def follow_open_session() -> None:
    """Switch to the session a click asked for, before anything is drawn (app.py).

    Until the browser has seen this app run start, its refresh timers keep asking for fragment
    runs of the old page; one that reaches the server after the switch runs with the old page
    and blanks the new one, or crashes the browser's renderer ("Bad delta path"). Streamlit
    waits 10 ms for this run's start to be sent before switching, too little on a busy machine,
    so the switch waits SWITCH_SETTLE_S first: by then the browser has stopped the timers, and
    requests already on their way have arrived and are folded into the switch."""
    sid = st.session_state.pop(OPENING, None)
    if sid is not None:
        time.sleep(SWITCH_SETTLE_S)
        st.switch_page("views/sessions.py", query_params={"session": sid})


def refresh_every() -> float | None:
    """The live-refresh interval the user chose in the sidebar (None = off)."""
    value = st.session_state.get("refresh_s", DEFAULT_REFRESH_S)
    return float(value) if value else None


def user() -> str:
    return st.session_state.get("operator", "dashboard")


def can_control() -> bool:
    return bool(st.session_state.get("can_control", True))


def act(label: str, fn: Callable, *args, **kwargs) -> Any:
    """Run an engine.control.actions action (a widget callback) and toast its outcome;
    return the outcome, or None when it was not accepted."""
    if not can_control():
        st.toast("Read-only: your account may not control the system.", icon="🔒")
        return None
    try:
        database = db()
        outcome = fn(database, *args, by=user(), **kwargs)
    except unavailable_errors():
        OUTAGE.begin()
        st.toast(f"{label}: not sent — {UNAVAILABLE}", icon=":material/cloud_off:")
        return None
    except PaperDeskError as exc:
        st.toast(f"{label}: {literal(exc)}", icon=":material/error:")
        st.session_state["last_error"] = f"{label}: {literal(exc)}"
        return None
    st.cache_data.clear()
    if not outcome.queued:
        st.toast(f"{label}: done", icon=":material/check_circle:")
        return outcome
    try:
        result = control.wait_for(database, outcome, OUTCOME_WAIT_S)
    except (WaitTimeout, *unavailable_errors()):
        st.toast(f"{label}: queued — the engine applies it when it runs",
                 icon=":material/schedule:")
    except PaperDeskError as exc:
        st.toast(f"{label}: refused — {literal(exc)}", icon=":material/error:")
    else:
        if result.status == CommandStatus.APPLIED:
            st.toast(f"{label}: {literal(result.message or 'applied')}",
                     icon=":material/check_circle:")
    return outcome


def show_last_error() -> None:
    """Show (once) the error of the last action on this page, under the controls."""
    message = st.session_state.pop("last_error", None)
    if message:
        st.error(message, icon=":material/error:")
