"""When the database goes away under the dashboard: one banner on every page ("Database
unavailable since 12:04:31 UTC — retrying every 2 s", no driver text), the last values each
read returned kept on the page (greyed out), and everything back by itself once the database
answers again.

The outage is this server process's (every tab reads the same database): a read that cannot
reach it starts the outage and gets its last value; the banner's fragment probes the database
every few seconds and, once it answers, ends the outage and reruns the whole page."""

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from engine.control.database import probe, unavailable_errors
from engine.errors import DatabaseUnavailable

KEY = "db_outage"  # the banner's container
SEEN = "db_outage_seen"  # this browser session drew the banner: rerun the page once it is over
RETRY_S = 5.0  # how often the banner retries when live refresh is off
LAST_VALUES = 512  # reads whose last value is kept
# Everything but the banner greyed out: the values are the last ones read, not current.
GREY = ("<style>[data-testid='stMain'] [data-testid='stVerticalBlock'] > "
        f"[data-testid='stElementContainer']:not(.st-key-{KEY}),"
        "[data-testid='stMain'] [data-testid='stVerticalBlock'] > "
        f"[data-testid='stVerticalBlockBorderWrapper']:not(:has(.st-key-{KEY})),"
        "[data-testid='stSidebarUserContent'] {filter: grayscale(1); opacity: .55}"
        f".st-key-{KEY} > * {{filter: none !important; opacity: 1 !important}}"
        "</style><span></span>")


class Outage:
    """Since when the database has been unavailable (None: it is not), and the last value
    of each read, shared by every session of this server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.since: datetime | None = None
        self.last: OrderedDict[str, Any] = OrderedDict()

    def begin(self) -> None:
        with self.lock:
            self.since = self.since or datetime.now(UTC)

    def end(self) -> None:
        with self.lock:
            self.since = None

    def remember(self, key: str, value: Any) -> None:
        value = copy.deepcopy(value)  # the page may change the one it was given
        with self.lock:
            self.last[key] = value
            self.last.move_to_end(key)
            while len(self.last) > LAST_VALUES:
                self.last.popitem(last=False)

    def last_value(self, key: str) -> Any:
        """The value `key` read last; with none, this run (or fragment run) stops here: the
        banner says why."""
        with self.lock:
            if key in self.last:
                return copy.deepcopy(self.last[key])
        st.stop()


OUTAGE = Outage()


def retry_every(refresh_s: float | None) -> float:
    return refresh_s or RETRY_S


def banner(url: str, refresh_s: float | None) -> None:
    """The outage banner, a fragment that retries every `refresh_s` (or RETRY_S) seconds;
    draws nothing while the database answers."""
    every = retry_every(refresh_s)

    @st.fragment(run_every=every)
    def outage_banner() -> None:
        if OUTAGE.since is not None:
            _retry(url)
        since = OUTAGE.since
        if since is None:
            if st.session_state.pop(SEEN, False):
                st.rerun(scope="app")  # fresh values everywhere, the grey gone
            return
        st.session_state[SEEN] = True
        with st.container(key=KEY):
            st.error(f"Database unavailable since {since:%H:%M:%S} UTC — retrying every "
                     f"{every:g} s. The values shown are the last ones read.",
                     icon=":material/cloud_off:")
            st.html(GREY)

    outage_banner()


def _retry(url: str) -> None:
    try:
        probe(url)
    except DatabaseUnavailable:
        return
    OUTAGE.end()


def guarded(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Call `fn`, which reaches the database; during an outage stop this run here (the
    banner says why) instead of showing the driver's error."""
    try:
        return fn(*args, **kwargs)
    except unavailable_errors():
        OUTAGE.begin()
        st.stop()
