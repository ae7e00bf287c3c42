from streamlit.testing.v1 import AppTest

from tests.views.conftest import APP, run_page
from ui.log_view import log_html


def test_agent_log_with_level_and_search(filled, db):
    at = run_page("logs")
    at.selectbox(key="log_id").set_value("strategy").run()
    assert not at.exception
    assert at.query_params["id"] == "strategy"  # the URL follows the log shown
    assert "tick log line from strategy" in at.html[0].value
    at.text_input(key="log_grep").input("no such text anywhere").run()
    assert "(no matching lines)" in at.html[0].value
    at.text_input(key="log_grep").input("")
    at.selectbox(key="log_level").set_value("ERROR").run()
    assert "tick log line" not in at.html[0].value
    assert at.download_button


def test_opens_on_the_engine_log_or_the_one_in_the_url(filled, db):
    assert run_page("logs").selectbox(key="log_id").value == "engine"
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["id"] = "strategy"
    at.switch_page("views/logs.py").run()
    assert at.selectbox(key="log_id").value == "strategy"


def test_lines_wrap_and_warnings_and_errors_are_coloured():
    html = log_html(["2026-01-01T00:00:00.000Z INFO     fine",
                     "2026-01-01T00:00:01.000Z WARNING  careful <b>",
                     "2026-01-01T00:00:02.000Z ERROR    broken"])
    assert html.count("pre-wrap") == 3
    assert 'data-level="WARNING"' in html
    assert 'data-level="ERROR"' in html
    assert "&lt;b&gt;" in html  # escaped
    assert html.index("fine") < html.index("broken")  # file order; the box shows the end


def test_a_log_that_does_not_exist_yet_reads_well(filled, db):
    at = run_page("logs")
    at.selectbox(key="log_id").set_value(f"session-{filled['created']}").run()
    assert not at.exception
    assert any("No log for" in i.value for i in at.info)
