import logging

import pytest

from engine import logs
from engine.errors import BadInput, NotFound
from engine.log_files import LEVEL_NUMBERS, log_path, tail
from engine.logs import append_lines, get_logger


def _write(logs_dir, log_id, n):
    logger = get_logger(logs_dir, log_id)
    for i in range(n):
        logger.log(logging.WARNING if i % 10 == 0 else logging.INFO, "line %d", i)
    for handler in logger.handlers:
        handler.flush()


def test_tail_returns_the_last_lines_in_order(tmp_path):
    _write(tmp_path, "strategy", 5000)
    result = tail(tmp_path, "strategy", lines=3)
    assert [line.split()[-1] for line in result.lines] == ["4997", "4998", "4999"]
    assert result.scanned_bytes < result.size_bytes


def test_tail_filters_by_level_and_text(tmp_path):
    _write(tmp_path, "execution", 100)
    warnings = tail(tmp_path, "execution", lines=3, level="warning")
    assert [line.split()[-1] for line in warnings.lines] == ["70", "80", "90"]
    found = tail(tmp_path, "execution", lines=50, grep="LINE 4")
    assert {line.split()[-1] for line in found.lines} == {"4", *map(str, range(40, 50))}


def test_the_tail_reads_levels_as_logging_numbers_them():
    """engine.log_files filters by level without importing logging: its table is logging's
    own levels (a library may add more names to logging's at run time)."""
    own = {logging.getLevelName(v) for v in (10, 20, 30, 40, 50)} | {"WARN", "FATAL"}
    assert {n: logging.getLevelNamesMapping()[n] for n in own} == LEVEL_NUMBERS


def test_tail_of_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        tail(tmp_path, "sentiment")


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "..", "/tmp/x", "a/b", "sentiment/../../x", "", "A", "x.log",
            "session-0", "session-../1"]
)
def test_ids_that_could_leave_the_folder_are_rejected(tmp_path, bad):
    outside = tmp_path / "x.log"
    outside.write_text("secret\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    with pytest.raises(BadInput):
        log_path(logs, bad)
    with pytest.raises(BadInput):
        tail(logs, bad)


def test_bad_level_and_line_count_name_the_field(tmp_path):
    _write(tmp_path, "strategy", 3)
    with pytest.raises(BadInput, match="level"):
        tail(tmp_path, "strategy", level="loud")
    with pytest.raises(BadInput, match="lines"):
        tail(tmp_path, "strategy", lines=0)


def test_a_line_break_in_logged_text_cannot_forge_a_record(logs_dir):
    log = get_logger(logs_dir, "session-7")
    log.info("order: %s", "x\n2030-01-01T00:00:00.000Z ERROR    FORGED: pay me\r\nmore")
    for handler in log.handlers:
        handler.flush()
    lines = (logs_dir / "session-7.log").read_text().splitlines()
    assert len(lines) == 1
    assert "\\n2030-01-01" in lines[0]
    assert tail(logs_dir, "session-7", level="ERROR").lines == []


def test_appended_lines_land_in_the_session_log_one_line_each(logs_dir):
    log = get_logger(logs_dir, "session-7")
    log.info("started")
    for handler in log.handlers:
        handler.flush()
    append_lines(logs_dir, {"session-7": [
        (logging.INFO, "fill: bought 1 BTC-USD"),
        (logging.WARNING, "rejected: x\n2030-01-01T00:00:00.000Z ERROR    FORGED")]})
    lines = tail(logs_dir, "session-7").lines
    assert [line.split(None, 2)[1:] for line in lines[:2]] == [
        ["INFO", "started"], ["INFO", "fill: bought 1 BTC-USD"]]
    assert len(lines) == 3
    assert "\\n2030-01-01" in lines[2]
    assert tail(logs_dir, "session-7", level="WARNING").lines == lines[2:]
    assert tail(logs_dir, "session-7", level="ERROR").lines == []


def test_appended_lines_roll_the_file_over_and_the_open_logger_follows(logs_dir, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 200)
    log = get_logger(logs_dir, "session-8")
    log.info("first")
    append_lines(logs_dir, {"session-8": [(logging.INFO, "x" * 150)]})
    assert len(tail(logs_dir, "session-8").lines) == 1
    assert "first" in (logs_dir / "session-8.log.1").read_text()
    get_logger(logs_dir, "session-8").info("after")
    assert tail(logs_dir, "session-8").lines[-1].endswith("INFO     after")


def test_appending_to_an_id_outside_the_folder_is_refused(logs_dir):
    with pytest.raises(BadInput):
        append_lines(logs_dir, {"../x": [(logging.INFO, "no")]})


def test_appending_never_writes_through_a_link(logs_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(logs._FileHandler, "last_error", float("-inf"))  # not rate-limited
    outside = tmp_path / "outside.txt"
    outside.write_text("mine\n")
    logs_dir.mkdir(parents=True, exist_ok=True)
    (logs_dir / "session-9.log").symlink_to(outside)
    append_lines(logs_dir, {"session-9": [(logging.INFO, "no")]})
    assert outside.read_text() == "mine\n"
    assert "cannot write the log" in capsys.readouterr().err
