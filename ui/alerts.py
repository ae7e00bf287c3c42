"""Alerts the dashboard acts on: acknowledging a group of alerts and sending a test
notification."""

import streamlit as st

from engine.control import actions as control
from engine.control.database import unavailable_errors
from engine.control.notify import SendOutcome, send_test_and_record
from engine.reads.status import AlertGroup
from ui import context

ALERTS_SHOWN = 8  # alert groups drawn, newest first (each a bordered row with a button)


def acknowledge(groups: list[AlertGroup]) -> None:
    """Hide each group's alerts up to its latest event, naming who acknowledged them; a later
    alert of the same source and kind shows the group again."""
    if not context.can_control():
        return
    try:
        control.acknowledge_alerts(context.db(), groups, by=context.user())
    except unavailable_errors():
        st.toast(f"Not acknowledged: {context.UNAVAILABLE}", icon=":material/cloud_off:")
        return
    st.cache_data.clear()


def send_test() -> SendOutcome:
    """Send a test message to every notification URL; the outcome is also an event."""
    outcome = send_test_and_record(context.db(), context.settings().notify_urls,
                                   by=context.user())
    st.cache_data.clear()
    return outcome
