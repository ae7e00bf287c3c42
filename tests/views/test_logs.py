from tests.views.conftest import run_page


def test_agent_log_with_level_and_search(filled, db):
    at = run_page("logs")
    at.selectbox(key="log_id").set_value("strategy").run()
    assert not at.exception
    assert "tick log line from strategy" in at.code[0].value
    at.text_input(key="log_grep").input("no such text anywhere").run()
    assert at.code[0].value == "(no matching lines)"
    at.text_input(key="log_grep").input("")
    at.selectbox(key="log_level").set_value("ERROR").run()
    assert "tick log line" not in at.code[0].value
    assert at.download_button


def test_a_log_that_does_not_exist_yet_reads_well(filled, db):
    at = run_page("logs")
    at.selectbox(key="log_id").set_value(f"session-{filled['created']}").run()
    assert not at.exception
    assert any("No log for" in i.value for i in at.info)
