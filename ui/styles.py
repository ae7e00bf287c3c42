"""The app's stylesheet: button and figure colours, and the narrow-screen layout.

Drawn once per full run, first, as a hidden element of the sidebar. A stylesheet-only `st.html`
would go to Streamlit's event container, where `st.toast` goes too: a toast shown by a callback
during a fragment rerun takes that container's first slot and so replaced the stylesheet, and
every coloured button turned white until the page changed. Callbacks here draw nothing but
toasts, so nothing replaces an element of the sidebar.
"""

import streamlit as st

from ui.theme import BUTTON_KEYS, button_css, health_css, pnl_css

KEY = "app_styles"
NARROW = "max-width: 640px"  # where Streamlit stacks columns: a phone
LAYOUT = (
    f".st-key-{KEY} {{display: none}}"
    # The agents page: the diagram on wide screens, the pipeline as a list on phones.
    f"@media ({NARROW}) {{.st-key-flow_diagram {{display: none}}}}"
    f"@media not all and ({NARROW}) {{[class*='st-key-flow_list'] {{display: none}}}}"
    # Containers keyed pair_…: their columns (buttons, figures) two to a row on a phone
    # instead of one under the other.
    f"@media ({NARROW}) {{"
    "[class*='st-key-pair_'] [data-testid='stHorizontalBlock'] {flex-wrap: wrap; gap: .5rem}"
    "[class*='st-key-pair_'] [data-testid='stColumn'] {flex: 1 1 calc(50% - .5rem) !important;"
    " min-width: calc(50% - .5rem) !important; width: calc(50% - .5rem) !important}}"
)


def stylesheet() -> str:
    return button_css(BUTTON_KEYS).replace("</style>", health_css() + pnl_css() + LAYOUT
                                           + "</style>")


def draw() -> None:
    """Draw the stylesheet (call it once per full run, outside every fragment)."""
    with st.sidebar.container(key=KEY):
        st.html(stylesheet() + "<span></span>")  # not style-only: stays out of the event box
