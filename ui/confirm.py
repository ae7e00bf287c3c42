"""Confirmation dialogs for stops and closes, each saying what Start undoes and what is final.

A button asks with `ask(...)`: the request is kept in st.session_state and the whole app runs
again, and app.py opens the dialog with `show_pending()` outside every live-refresh fragment, so
a refresh never closes it. Cancel (or closing the dialog) drops the request; Confirm runs the
engine.control.actions action through context.act.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from engine.control import actions as control
from engine.core.lifecycle import SessionStatus
from engine.reads.records import AgentCard, SessionDocument
from ui import context
from ui.format import literal, price

PENDING = "confirm_pending"
UNDONE_BY_START = "Start undoes this: everything carries on from where it stopped."
FINAL = "This is final: a stopped session cannot be started again (positions stay as chosen)."


@dataclass(frozen=True)
class Request:
    title: str  # the dialog's title, e.g. "Stop session #3?"
    text: str  # what will happen, in markdown
    label: str  # the confirm button, e.g. "Stop session"
    after: str  # what undoes it, or that it is final
    fn: Callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    positions: tuple = ()  # a session stop: (symbol, qty, last_price) of each holding


def ask(request: Request) -> None:
    """Ask for confirmation (call it when the destructive button was clicked)."""
    st.session_state[PENDING] = request
    st.rerun(scope="app")


def _drop() -> None:
    st.session_state.pop(PENDING, None)


def _positions_text(positions: tuple, close: bool) -> str:
    if not positions:
        return "It holds no positions."
    held = ", ".join(f"{qty:g} {symbol} (last close {price(last)})"
                     for symbol, qty, last in positions)
    if close:
        return f"Its positions — {held} — **will be sold at the session's last close**."
    return f"Its positions — {held} — **stay open**, valued at that last close."


def _body(request: Request) -> None:
    st.markdown(request.text)
    kwargs = dict(request.kwargs)
    if "close_positions" in kwargs:
        kwargs["close_positions"] = st.checkbox(
            "Close positions at the last close", value=kwargs["close_positions"],
            key="confirm_close", disabled=not request.positions,
            help="Sell every holding at the close of the session's current bar")
        st.markdown(_positions_text(request.positions, kwargs["close_positions"]))
    st.caption(request.after)
    cancel, ok = st.columns(2)
    if cancel.button("Cancel", key="confirm_cancel", width="stretch"):
        _drop()
        st.rerun()
    if ok.button(request.label, key="confirm_ok", type="primary", width="stretch",
                 disabled=not context.can_control()):
        _drop()
        context.act(request.title.rstrip("?"), request.fn, *request.args, **kwargs)
        st.rerun()


def show_pending() -> None:
    """Open the dialog of the pending request, if any (app.py calls it every full run)."""
    request = st.session_state.get(PENDING)
    if isinstance(request, Request):
        st.dialog(request.title, on_dismiss=_drop)(_body)(request)


def system_stop() -> Request:
    return Request("Stop the system?", "Every agent stops and all trading halts within one "
                   "tick; running sessions pause.", "Stop system", UNDONE_BY_START,
                   control.system_action, ("stop",))


def stop_all() -> Request:
    return Request("Stop every session?", "Every session that is not stopped or completed is "
                   "**stopped for good**: open orders are cancelled, positions stay open.",
                   "Stop all sessions", FINAL, control.bulk_session_action, ("stop_all",))


def session_stop(doc: SessionDocument, close_positions: bool = False) -> Request:
    held = tuple((p.symbol, p.qty, p.last_price) for p in doc.positions)
    return Request(f"Stop session #{doc.id}?",
                   f"**{literal(doc.name)}** stops for good: its open orders are cancelled and "
                   "it cannot be started again.", "Stop session", FINAL, control.session_action,
                   (doc.id, "stop"), {"close_positions": close_positions and bool(held)},
                   positions=held)


def close_position(doc: SessionDocument) -> Request:
    held = ", ".join(f"{p.qty:g} {literal(p.symbol)} (last close {price(p.last_price)})"
                     for p in doc.positions if p.qty > 0)
    when = ("at the open of its next bar" if doc.status == SessionStatus.RUNNING else
            "at the open of the first bar after it resumes (a paused session trades no bars)")
    return Request(f"Close the position of session #{doc.id}?",
                   f"**{literal(doc.name)}** sells its whole position — {held} — with a market "
                   f"order {when}, priced by its fill model (slippage, fee). Its working orders "
                   "are cancelled. The order is recorded as a manual order by "
                   f"**{literal(context.user())}**, and Reconcile replays it at that bar. The "
                   "strategy keeps trading and may buy again on its own signal.",
                   "Close position", "This cannot be undone: the sale is an order of this "
                   "paper session.", control.close_position, (doc.id,))


def agent_stop(agent: AgentCard) -> Request:
    return Request(f"Stop the {agent.name} agent?",
                   f"**{agent.name}** stops; the stages after it wait (orders stay pending, "
                   "session clocks wait).", f"Stop {agent.name}", UNDONE_BY_START,
                   control.agent_action, (agent.id, "stop"))
