"""Logs: tail any agent's or session's log, filter it, follow it live, download it."""

import streamlit as st

from engine.errors import BadInput, NotFound
from engine.log_files import ENGINE_LOG, LEVELS, log_path
from engine.reads import queries, summary
from ui import context
from ui.format import literal
from ui.log_view import log_html

st.title("Logs")
log_ids = context.read(queries.log_ids)
a, b, c, d = st.container(key="pair_log_controls").columns([2, 1, 1, 2])
requested = st.query_params.get("id")
opening = requested if requested in log_ids else ENGINE_LOG  # the engine's log by default
if requested and requested not in log_ids:
    st.warning(f"No log is named “{literal(requested[:100])}”: showing the engine's log.",
               icon=":material/warning:")
log_id = a.selectbox("Log", log_ids, index=log_ids.index(opening), key="log_id",
                     help="An agent, the engine, or a session (session-N)")
st.query_params["id"] = log_id  # the URL names the log shown
lines = b.number_input("Lines", min_value=10, max_value=5000, value=200, step=50,
                       key="log_lines")
level = c.selectbox("Level at least", ["ALL", *LEVELS], key="log_level")
grep = d.text_input("Search", key="log_grep", placeholder="text in the line")
follow = st.toggle("Live tail", value=True, key="log_follow",
                   help="Refresh with the interval chosen in the sidebar")


@st.fragment(run_every=context.refresh_every() if follow else None)
def tail_view() -> None:
    try:
        result = context.read(summary.log_tail, context.settings().logs_dir, log_id, int(lines),
                              None if level == "ALL" else level, grep or None)
    except NotFound:
        st.info(f"No log for {log_id} yet: it appears once it has something to say.",
                icon=":material/description:")
        return
    except BadInput as exc:
        st.error(literal(exc))
        return
    note = "" if result.complete else " (search stopped after the last 64 MB)"
    st.caption(f"{len(result.lines)} lines, newest at the bottom · file "
               f"{result.size_bytes / 1024:,.0f} KiB{note} · warnings and errors coloured")
    with st.container(key="log_view"):
        st.html(log_html(result.lines))


tail_view()
path = log_path(context.settings().logs_dir, log_id)
if path.is_file():
    st.download_button("Download the whole file", data=path.read_bytes, file_name=path.name,
                       mime="text/plain", icon=":material/download:",
                       help="The current file (rotated parts .1, .2… stay on disk)")
