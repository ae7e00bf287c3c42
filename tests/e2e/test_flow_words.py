"""Issue 19, item 9, in a real browser: one status word on the agent card, its node and the
sidebar; a waiting session says why on its node; a window whose from is after its to says so;
the diagram's text readable and its controls themed."""

import re

import pytest
from sqlmodel import Session, select

from engine.control import actions as control
from engine.reads.fleet import lease_info
from engine.store.models import Event
from tests.conftest import wait_until
from tests.e2e.conftest import goto, name_a_btc_session, no_exception, open_tab
from tests.e2e.test_truth import failing_feed

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
FLOW = "iframe[title='streamlit_flow.streamlit_flow']"


def open_app(page, url: str, db, path: str = "") -> None:
    """Open `path` once the autostarted engine runs (and so has registered its agents)."""
    goto(page, url)
    wait_until(lambda: lease_info(db).online, 60, message="the autostarted engine")
    goto(page, url, path)


def _word(text: str, pattern: str) -> str | None:
    found = re.search(pattern, text)
    return found[1] if found else None


def _words(page, agent: str, name: str) -> tuple[str | None, ...]:
    """The word the card's heading, the agent's node and the sidebar say for `agent`."""
    heading = page.locator("[data-testid='stMain'] h3").filter(has_text=name).first
    node = page.frame_locator(FLOW).locator(f".react-flow__node[data-id='{agent}']")
    sidebar = page.locator("[data-testid='stSidebar']").inner_text()
    return (_word(heading.inner_text(), r"● (\w+)"), _word(node.inner_text(), r"● (\w+)"),
            _word(sidebar, rf"{name} (\w+) —") or "running")


def _failures(db, agent: str) -> int:
    with Session(db) as s:
        return len(s.exec(select(Event.id).where(
            Event.source == agent, Event.message.contains("→ error"))).all())


def test_a_failing_agent_says_one_word_on_its_card_node_and_sidebar(app, page):
    url, env, db = app
    open_app(page, url, db, "agents?agent=sentiment")
    page.frame_locator(FLOW).locator(".react-flow__node[data-id='sentiment']").wait_for()
    with failing_feed() as port:
        control.wait_for(db, control.update_agent_config(db, "sentiment", {
            "rss_feeds": f"http://127.0.0.1:{port}/x", "interval_s": "2.5"}), 10)
        wait_until(lambda: _words(page, "sentiment", "Sentiment") == ("degraded",) * 3, 20,
                   poll=0.25, message="card, node and sidebar to say degraded")
        wait_until(lambda: _words(page, "sentiment", "Sentiment") == ("error",) * 3, 30,
                   poll=0.25, message="card, node and sidebar to say error")
        # Its retry (16 s on) starts and runs the agent once more, and fails again: each
        # surface still says error, whenever it refreshes.
        first = _failures(db, "sentiment")
        seen = set()

        def retried() -> bool:
            seen.add(_words(page, "sentiment", "Sentiment"))
            return _failures(db, "sentiment") > first

        wait_until(retried, 40, poll=0.25, message="the retry to fail again")
        for _ in range(8):  # two more refreshes
            seen.add(_words(page, "sentiment", "Sentiment"))
            page.wait_for_timeout(500)
        assert seen == {("error",) * 3}
        control.wait_for(db, control.update_agent_config(db, "sentiment", {"rss_feeds": ""}),
                         10)
    no_exception(page)


def test_a_session_held_by_a_stopped_execution_agent_says_so_on_its_node(app, page):
    url, env, db = app
    open_app(page, url, db, "agents")
    made = control.create_session(db, {"name": "held one", "symbols": "BTC-USD",
                                       "timeframe": "1h", "strategy": "ma_crossover",
                                       "speed": "1"}, start=True)
    control.wait_for(db, made, 30)
    node = page.frame_locator(FLOW).locator(f".react-flow__node[data-id='session-{made.id}']")
    wait_until(lambda: "● running" in node.inner_text(), 30, poll=0.25,
               message="the session's node running")
    control.wait_for(db, control.agent_action(db, "execution", "stop"), 30)
    wait_until(lambda: "● waiting — execution agent stopped: fills held" in node.inner_text(),
               30, poll=0.25, message="the session's node to say it waits, and why")
    assert re.search(r"rgb\(202, 138, 4\)|#ca8a04", node.get_attribute("style") or "")
    control.wait_for(db, control.agent_action(db, "execution", "start"), 30)
    wait_until(lambda: "● running" in node.inner_text(), 30, poll=0.25,
               message="the session's node running again")
    no_exception(page)


def test_the_form_says_from_is_after_to_naming_both(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    open_tab(page, "New session")
    name_a_btc_session(page, "backwards")
    wait_until(lambda: page.locator(".st-key-new_from input").input_value(), 30, poll=0.25,
               message="From to be filled with the default window")
    for key, day in (("new_from", "2019-06-01"), ("new_to", "2018-01-01")):
        field = page.locator(f".st-key-{key} input")
        field.fill(day)
        field.press("Enter")
        page.keyboard.press("Escape")
    page.get_by_role("button", name="Create and start").click()
    error = page.locator(".st-key-new_from + div [data-testid='stAlertContentError']")
    error.wait_for()
    assert "From 2019-06-01 is after to: 2018-01-01" in error.inner_text()  # To: its day's end
    assert "bar(s)" not in page.locator("body").inner_text()
    no_exception(page)


SMALLEST_TEXT_PX = """() => {
  const scale = new DOMMatrix(getComputedStyle(
    document.querySelector('.react-flow__viewport')).transform).a;
  let smallest = Infinity;
  for (const el of document.querySelectorAll('.react-flow__node *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
  }
  return {scale, smallest, rendered: smallest * scale};
}"""
CONTROLS = """() => [...document.querySelectorAll('.react-flow__controls-button')].map(b => ({
  background: getComputedStyle(b).backgroundColor,
  icon: getComputedStyle(b.querySelector('svg')).fill}))"""


def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", colour)[:3])


def _luminance(colour: str) -> float:
    r, g, b = _rgb(colour)
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_diagram_text_is_readable_fits_and_its_controls_follow_the_theme(app, new_tab,
                                                                             scheme):
    url, env, db = app
    page = new_tab(color_scheme=scheme)  # the app's theme follows the system setting
    open_app(page, url, db)
    for n in range(3):  # a few running sessions: their nodes join the diagram
        control.wait_for(db, control.create_session(db, {
            "name": f"readable {scheme} {n}", "symbols": "ETH-USD", "timeframe": "1d",
            "strategy": "rsi_reversion", "speed": "1"}, start=True), 30)
    goto(page, url, "agents")
    page.locator(FLOW).wait_for()
    frame = page.locator(FLOW).element_handle().content_frame()
    frame.wait_for_selector(".react-flow__node[data-id='execution']")
    frame.wait_for_selector(".react-flow__controls-button")
    wait_until(lambda: frame.evaluate(SMALLEST_TEXT_PX)["rendered"] >= 12, 10, poll=0.25,
               message="the diagram's text at least 12 px on screen")
    box = page.locator(FLOW).bounding_box()
    nodes = frame.query_selector_all(".react-flow__node")
    assert len(nodes) >= 4 + 3
    for node in nodes:  # fit to view: every node inside the diagram's frame
        inner = node.bounding_box()  # in the page's coordinates
        assert box["x"] <= inner["x"]
        assert inner["x"] + inner["width"] <= box["x"] + box["width"]
        assert box["y"] <= inner["y"]
        assert inner["y"] + inner["height"] <= box["y"] + box["height"]

    def themed() -> bool:
        controls = frame.evaluate(CONTROLS)
        if scheme == "dark":  # a dark button with a light icon
            return len(controls) >= 3 and all(
                _luminance(b["background"]) < 0.35 and _luminance(b["icon"]) > 0.6
                for b in controls)
        return len(controls) >= 3 and all(
            _luminance(b["background"]) > 0.8 and _luminance(b["icon"]) < 0.4 for b in controls)

    wait_until(themed, 10, poll=0.25, message=f"the zoom controls in the {scheme} theme")
    no_exception(page)
