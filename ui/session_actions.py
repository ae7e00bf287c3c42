"""Operator actions on one session beyond start/pause/stop: Close position (asks first) and
Edit parameters (the strategy's declared parameters in a form, checked field by field with the
engine's own parsers, then queued with update_session_config: the change lands in the
session's settings history, from its next bar on)."""

import pandas as pd
import streamlit as st

from engine.control import actions as control
from engine.core.lifecycle import SessionStatus
from engine.core.settings import describe_change
from engine.reads.records import SessionDocument
from ui import confirm, context
from ui.form_check import check_params, offered_strategies
from ui.format import literal
from ui.session_form import param_inputs
from ui.theme import MARKET

CLOSABLE = (SessionStatus.RUNNING, SessionStatus.PAUSED)  # also the sessions one may edit
NOTICES = {"error": st.error, "info": st.info, "success": st.success}  # the last Save's outcome


def close_position_button(where, doc: SessionDocument) -> None:
    """"Close position": open the dialog that says what will be sold and when."""
    held = any(p.qty > 0 for p in doc.positions)
    why = ("Sell every holding at market on the next bar, as a manual order (asks first)"
           if held else "It holds no position")
    if where.button("Close position", key="sess_close_position", icon=":material/block:",
                    help=why, width="stretch",
                    disabled=not (held and doc.status in CLOSABLE and context.can_control())):
        confirm.ask(confirm.close_position(doc))


def _key(sid: int, rev: int, name: str) -> str:
    """A field of the form as of settings revision `rev` (the length of the session's settings
    history): after a change the fields are new widgets showing the session's new values."""
    return f"edit_param_{sid}_{rev}_{name}"


def _errors_key(sid: int) -> str:
    return f"edit_param_errors_{sid}"


def _notice_key(sid: int) -> str:
    return f"edit_param_notice_{sid}"


def _save(sid: int, rev: int, strategy: str, current: dict) -> None:
    """Check every field with the strategy's parsers (nothing is queued while one is bad),
    then queue the changed ones (a widget callback: the values are those on screen)."""
    params = offered_strategies()[strategy].params
    typed = {name: st.session_state.get(_key(sid, rev, name), "") for name in params}
    errors: dict[str, str] = {}
    check_params(errors, strategy, typed)
    st.session_state[_errors_key(sid)] = errors
    if errors:
        fields = f"{len(errors)} field{'s' if len(errors) > 1 else ''}"
        st.session_state[_notice_key(sid)] = (
            rev, "error", f"Not saved: {fields} to fix (see the messages under them); nothing "
                          "changed.")
        return
    parsed = {name: params[name].parse(raw) for name, raw in typed.items()}
    changed = {name: raw for name, raw in typed.items() if parsed[name] != current.get(name)}
    if not changed:
        st.session_state[_notice_key(sid)] = (rev, "info", "Nothing to save: these are the "
                                                           "session's current values.")
        return
    if context.act(f"Session {sid} parameters", control.update_session_config, sid,
                   changed) is not None:
        summary = describe_change({"params": current}, {"params": {**current, **parsed}})
        st.session_state[_notice_key(sid)] = (
            rev, "success", f"Sent: {summary}, from the next bar on (the history below shows "
                            "it once the engine has applied it).")


def edit_parameters(doc: SessionDocument) -> None:
    """The Parameters tab: the form (a running or paused session) and the settings history."""
    cls = offered_strategies().get(doc.strategy)
    if doc.walk_rule:
        st.caption("Its walk-forward rule chooses the parameters (each order's lineage names "
                   "them); they are not edited here.")
    elif cls is None:
        st.warning(f"The strategy {literal(doc.strategy)} is not loaded (its file was removed "
                   "or renamed): its parameters cannot be edited.")
    else:
        editable = doc.status in CLOSABLE and context.can_control()
        st.caption("Edit the strategy's parameters: each is checked as when creating a "
                   "session, and nothing is saved while one is refused. A saved change applies "
                   "from the next bar on and is kept below; Reconcile names it."
                   if editable else "Parameters can be edited while the session is running "
                   "or paused.")
        rev = len(doc.config_history or [])
        with st.container(key="edit_params"):
            param_inputs(cls.params, lambda name: _key(doc.id, rev, name), doc.params,
                         _errors_key(doc.id), disabled=not editable)
            st.button("Save parameters", key="edit_params_save", type="primary",
                      disabled=not editable, on_click=_save,
                      args=(doc.id, rev, doc.strategy, dict(doc.params)))
        shown, kind, message = st.session_state.get(_notice_key(doc.id), (None, None, None))
        if shown == rev:  # the last Save's outcome, until the settings change
            NOTICES[kind](literal(message))
    history(doc)


def history(doc: SessionDocument) -> None:
    """Every settings change of the session, oldest first: after which bar, by whom, what."""
    changes = doc.config_history or []
    st.markdown("**Settings history**")
    if not changes:
        st.caption("No changes: it trades with the settings it was created with.")
        return
    st.container(key="settings_history").dataframe(pd.DataFrame({
        f"after bar ({MARKET})": [(c.get("after_bar") or "before the first bar")[:16]
                                  .replace("T", " ") for c in changes],
        "by": [c.get("by") or "—" for c in changes],
        "change": [describe_change(c["before"], c["after"]) for c in changes],
    }), hide_index=True, width="stretch")
