"""Long tables a page at a time. A styled table costs its page run about 0.2 ms a row (pandas'
Styler and Streamlit's marshalling of it, per cell), so a table draws PAGE_ROWS rows and a
pager above it walks the rest, as FreqUI's and Hummingbot's trade lists do."""

import math

import streamlit as st

PAGE_ROWS = 50


def pager(total: int, key: str, what: str, rows: int = PAGE_ROWS) -> tuple[int, int]:
    """(offset, limit) of the page chosen for a table of `total` `what`, newest first. Draws
    the page picker and "rows 51–100 of 1,000" only when there is more than one page; a page
    beyond the last (the table shrank) becomes the last."""
    pages = max(1, math.ceil(total / rows))
    if pages == 1:
        return 0, rows
    if st.session_state.get(key, 1) > pages:
        st.session_state[key] = pages
    left, right = st.columns([1, 3], vertical_alignment="center")
    page = left.number_input("Page", min_value=1, max_value=pages, step=1, key=key,
                             help=f"{rows} {what} a page, newest first")
    offset = (int(page) - 1) * rows
    right.caption(f"{what.capitalize()} {offset + 1:,}–{min(offset + rows, total):,} of "
                  f"{total:,}, newest first.")
    return offset, rows
