"""A self-contained HTML page: sections of escaped text, tables and plotly figures, with
plotly.js inline (include_plotlyjs once, in the head), so the file opens with no network."""

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1200px;padding:0 16px;color:#111827}
h1{font-size:1.6rem}h2{font-size:1.2rem;border-bottom:1px solid #e5e7eb;padding-bottom:4px;
margin-top:32px}table{border-collapse:collapse;font-size:.85rem;margin:8px 0}
td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:right}th{background:#f3f4f6}
td:first-child,th:first-child{text-align:left}.note{color:#4b5563;font-size:.9rem}
.scroll{max-height:480px;overflow:auto}nav a{margin-right:12px}
"""


@dataclass
class Section:
    """One titled part of a report; `parts` are HTML fragments made by the helpers below."""

    key: str  # the element id, e.g. "metrics"
    title: str
    parts: list[str] = field(default_factory=list)

    def text(self, value: str) -> "Section":
        self.parts.append(f'<p class="note">{html.escape(value)}</p>')
        return self

    def table(self, frame: pd.DataFrame, scroll: bool = False, floats: str = "{:,.6g}"
              ) -> "Section":
        shown = frame.to_html(index=False, escape=True, na_rep="—",
                              float_format=floats.format, border=0)
        self.parts.append(f'<div class="scroll">{shown}</div>' if scroll else shown)
        return self

    def pairs(self, values: dict[str, object]) -> "Section":
        """A two-column table of labels and values (every value shown as text)."""
        frame = pd.DataFrame({"": list(values), "value": [_shown(v) for v in values.values()]})
        return self.table(frame)

    def figure(self, fig: go.Figure) -> "Section":
        self.parts.append(fig.to_html(full_html=False, include_plotlyjs=False,
                                      config={"displaylogo": False}))
        return self


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return str(value)


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole document: a head with the styles and plotly.js, a contents line, sections."""
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = " ".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    body = "\n".join(f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2>'
                     + "\n".join(s.parts) + "</section>" for s in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
            f"<h1>{html.escape(title)}</h1><p class=\"note\">{html.escape(subtitle)} · made "
            f"{made} by PaperDesk</p><nav>{nav}</nav>\n{body}\n</body></html>")
