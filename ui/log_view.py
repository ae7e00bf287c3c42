"""Log lines as HTML: wrapped, levels coloured, the newest line in view (pure, no st. calls)."""

from html import escape

from ui.theme import SEVERITY_HEX

LEVEL_HEX = {"WARNING": SEVERITY_HEX["warning"], "ERROR": SEVERITY_HEX["error"],
             "CRITICAL": SEVERITY_HEX["error"]}
HEIGHT_PX = 520
# column-reverse anchors the scroll position at the end: the newest (last) line shows first and
# stays in view on each refresh; the inner div keeps the lines in file order.
BOX = (f"max-height:{HEIGHT_PX}px;overflow-y:auto;display:flex;flex-direction:column-reverse;"
       "border:1px solid rgba(128,128,128,.35);border-radius:.5rem;padding:.5rem .75rem;"
       "font-family:'Source Code Pro',monospace;font-size:.8rem;line-height:1.45")
LINE = "white-space:pre-wrap;overflow-wrap:anywhere;margin:0"


def line_level(line: str) -> str | None:
    """The coloured level of a formatted log line ("<UTC time> LEVEL message"), if any."""
    words = line.split(maxsplit=2)
    return words[1] if len(words) > 1 and words[1] in LEVEL_HEX else None


def _line(line: str) -> str:
    level = line_level(line)
    colour = f";color:{LEVEL_HEX[level]};font-weight:600" if level else ""
    return f'<div class="log-line" data-level="{level or ""}" style="{LINE}{colour}">' \
           f"{escape(line) or '&nbsp;'}</div>"


def log_html(lines: list[str]) -> str:
    """The tail as one scroll box, oldest line first, scrolled to the newest."""
    body = "".join(_line(line) for line in lines) or _line("(no matching lines)")
    return f'<div class="log-box" style="{BOX}"><div>{body}</div></div>'
