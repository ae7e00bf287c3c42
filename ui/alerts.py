"""Alerts the dashboard acts on: acknowledging a group of alerts (a UI-owned write, like the
diagram's node positions) and sending a test notification."""

import streamlit as st

from engine.db import session_scope
from engine.models import AlertAck
from engine.notify import SendOutcome, send_test_and_record
from engine.status import AlertGroup
from ui import context


def acknowledge(groups: list[AlertGroup]) -> None:
    """Hide each group's alerts up to its latest event, naming who acknowledged them; a later
    alert of the same source and kind shows the group again."""
    if not context.can_control():
        return
    with session_scope(context.db()) as s:
        s.add_all(AlertAck(source=g.source, kind=g.kind, upto_event_id=g.last_event_id,
                           acknowledged_by=context.user()) for g in groups)
    st.cache_data.clear()


def send_test() -> SendOutcome:
    """Send a test message to every notification URL; the outcome is also an event."""
    outcome = send_test_and_record(context.db(), context.settings().notify_urls,
                                   by=context.user())
    st.cache_data.clear()
    return outcome
