"""The app's stylesheet: button and figure colours, the narrow-screen layout, and the flow
diagram's controls and code text (inside the diagram's frame).

Drawn once per full run, first, as a hidden element of the sidebar. A stylesheet-only `st.html`
would go to Streamlit's event container, where `st.toast` goes too: a toast shown by a callback
during a fragment rerun takes that container's first slot and so replaced the stylesheet, and
every coloured button turned white until the page changed. Callbacks here draw nothing but
toasts, so nothing replaces an element of the sidebar.
"""

import json

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


# The diagram (streamlit-flow) draws in a frame of its own, which the app's stylesheet does not
# reach: its zoom buttons are white in either theme, its code text is 7/8 of the rest. Its
# frame is served by this app (same origin), so a script adds these rules to it, written with
# the theme colours Streamlit gives every component's frame (light and dark alike).
FLOW_FRAME = "iframe[title='streamlit_flow.streamlit_flow']"
FLOW_CSS = (
    ".react-flow__controls-button{background:var(--secondary-background-color);"
    "border-bottom:1px solid var(--background-color);color:var(--text-color);"
    "fill:var(--text-color)}"
    ".react-flow__controls-button:hover{background:var(--background-color)}"
    ".react-flow__controls-button svg{fill:var(--text-color)}"
    ".react-flow__node code{font-size:1em}"
)
FLOW_SCRIPT = f"""<script>
(() => {{
  if (window.paperdeskFlowStyle) return;
  window.paperdeskFlowStyle = true;
  const dress = (frame) => {{
    const doc = frame.contentDocument;
    if (!doc || !doc.head || doc.getElementById("paperdesk-flow")) return;
    const style = doc.createElement("style");
    style.id = "paperdesk-flow";
    style.textContent = {json.dumps(FLOW_CSS)};
    doc.head.appendChild(style);
  }};
  const scan = () => document.querySelectorAll("{FLOW_FRAME}").forEach((frame) => {{
    dress(frame);
    if (!frame.dataset.paperdesk) {{
      frame.dataset.paperdesk = "1";
      frame.addEventListener("load", () => dress(frame));
    }}
  }});
  new MutationObserver(scan).observe(document.body, {{childList: true, subtree: true}});
  scan();
}})();
</script>"""


def stylesheet() -> str:
    return button_css(BUTTON_KEYS).replace("</style>", health_css() + pnl_css() + LAYOUT
                                           + "</style>")


def draw() -> None:
    """Draw the stylesheet (call it once per full run, outside every fragment)."""
    with st.sidebar.container(key=KEY):
        # not style-only: stays out of the event box
        st.html(stylesheet() + FLOW_SCRIPT + "<span></span>", unsafe_allow_javascript=True)
