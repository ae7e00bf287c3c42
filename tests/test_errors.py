"""engine.errors.one_line: how every log line and CLI error names a database fault."""

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from engine.errors import one_line


def test_a_driver_error_is_named_by_its_wrapper_and_the_driver_message(tmp_path):
    missing = tmp_path / "no such dir" / "x.db"
    with (pytest.raises(OperationalError) as caught,
          create_engine(f"sqlite:///{missing}").connect() as c):
        c.execute(text("select 1"))
    assert one_line(caught.value) == "OperationalError: unable to open database file"


def _wrapped() -> None:
    try:
        raise sqlite3.OperationalError("disk I/O error\nmore detail")
    except sqlite3.OperationalError as inner:
        raise ConnectionError() from inner


def test_an_empty_message_gives_the_cause_first_line_or_the_type():
    with pytest.raises(ConnectionError) as caught:
        _wrapped()
    assert one_line(caught.value) == "ConnectionError: disk I/O error"
    assert one_line(TimeoutError()) == "TimeoutError"
