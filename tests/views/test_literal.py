"""User and engine text on a page is one literal line (issue 20): a session name, an event
message or an agent's error cannot add a line, a link, a colour, a formula or bold text."""

import pytest

from engine.store.db import session_scope
from engine.store.events import record_event
from tests.views.conftest import run_page
from ui.format import literal

HOSTILE = "**bold** [link](javascript:alert(1)) :red[red] $x^2$ `code` <b>b</b>\n# forged"


@pytest.mark.parametrize(("text", "shown"), [
    ("plain text, 3.5 bars", "plain text, 3.5 bars"),
    ("**b** [l](u) :red[r] $m$ `c` ~~s~~ \\", r"\*\*b\*\* \[l\](u) \:red\[r\] \$m\$ \`c\` "
                                              r"\~\~s\~\~ \\"),
    ("# heading", r"\# heading"), ("- item", r"\- item"), ("1. first", r"1\. first"),
    ("> quote", r"\> quote"), ("a\nb\x00", r"a\\nb\\x00"),
    ("http://x.io www.y.io a@b.io", "http:\u2060//x.io w\u2060ww.y.io a@\u2060b.io"),
])
def test_literal_escapes_what_markdown_would_act_on(text, shown):
    assert literal(text) == shown


def test_an_alert_message_is_shown_as_written(filled, db):
    with session_scope(db) as s:
        record_event(s, "session-1", "alert_drawdown", HOSTILE, severity="warning")
    at = run_page("overview")
    assert not at.exception
    shown = [m.value for m in at.markdown if "forged" in m.value]
    assert shown == [literal(HOSTILE)]
    assert "\n" not in shown[0]
    assert "**bold**" not in shown[0]
