"""The sessions list every page reads (engine.reads.queries.sessions), built a column at a
time, is the frame of builders.session_line's rows — the record the CLI's plain reads build
one row at a time — value for value and type for type."""

import pandas as pd
import pytest
from sqlalchemy import select, update

from engine.reads import builders, queries
from engine.reads.status import session_hold
from engine.store.db import session_scope
from engine.store.models import Agent, PaperSession, Sweep
from tests.conftest import replay_session, store_bars

WINDOW = {"symbols": "BTC-USD", "timeframe": "1h", "from": "2019-01-01", "to": "2019-01-08",
          "params": {"fast": 5, "slow": 20}}


@pytest.fixture
def listed(db) -> list[int]:
    """Sessions in every state the list words differently: traded and not, running with and
    without a wait reason, paused with one, stopped, archived and a sweep's variant."""
    store_bars(db, ("BTC-USD", "1h"))
    ids = [replay_session(db, WINDOW, status="completed") for _ in range(5)]
    ids.append(replay_session(db, WINDOW, to_end=False, status="created"))
    changes = [{"status": "running"},
               {"status": "running", "wait_reason": "waiting for BTC-USD bars"},
               {"status": "paused", "wait_reason": "paused by the drawdown alert"},
               {"status": "stopped", "archived": True}, {}, {"status": "created"}]
    with session_scope(db) as s:
        sweep = Sweep(name="grid", total=1)
        s.add(sweep)
        s.flush()
        changes[4] = {"sweep_id": sweep.id}
        for sid, values in zip(ids, changes, strict=True):
            s.execute(update(PaperSession).where(PaperSession.id == sid).values(**values))
    return ids


def _row_by_row(db, include_archived: bool, include_sweeps: bool) -> pd.DataFrame:
    with session_scope(db) as s:
        rows = [r.model_dump() for r in s.execute(
            select(PaperSession).order_by(PaperSession.id.desc())).scalars()
            if (include_archived or not r.archived) and (include_sweeps or r.sweep_id is None)]
        hold = session_hold(s)
    return pd.DataFrame([builders.session_line(r, hold) for r in rows],
                        columns=list(builders.SESSION_LINE))


@pytest.mark.parametrize("stage", ["running", "stopped"])
@pytest.mark.parametrize(("archived", "sweeps"), [(False, False), (True, True)])
def test_sessions_are_session_lines_row_by_row(db, listed, stage, archived, sweeps):
    with session_scope(db) as s:  # a stopped execution agent: every running session waits
        s.add(Agent(id="execution", name="Execution", kind="execution", status=stage))
    shown = queries.sessions(db, include_archived=archived, include_sweeps=sweeps)
    assert len(shown) == 6 - (not archived) - (not sweeps)
    assert {"waiting", "paused", "created"} <= set(shown["condition"])
    pd.testing.assert_frame_equal(shown, _row_by_row(db, archived, sweeps), check_exact=True)


def test_each_status_and_wait_reason_is_worded_once(db, listed, monkeypatch):
    calls = []
    worded = queries.session_word
    monkeypatch.setattr(queries, "session_word", lambda *a: calls.append(a) or worded(*a))
    with session_scope(db) as s:
        s.execute(update(PaperSession).values(status="running", wait_reason=None))
    assert set(queries.sessions(db)["condition"]) == {"running"}
    assert len(calls) == 1


def test_no_sessions_is_the_empty_list(db):
    pd.testing.assert_frame_equal(queries.sessions(db), _row_by_row(db, False, False))
