import pytest
from sqlmodel import Session, func, select

from engine.control import actions as control
from engine.errors import BadInput, NotAllowed, NotFound
from engine.reads.status import alert_groups
from engine.store.db import session_scope
from engine.store.events import record_events
from engine.store.models import Agent, AlertAck, Command, PaperSession

SPEC = {"name": "t", "symbols": "BTC-USD", "strategy": "ma_crossover", "cash": "10000"}


def _commands(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(Command)).one()


def _set_status(db, session_id, status):
    with session_scope(db) as s:
        row = s.get(PaperSession, session_id)
        row.status = status
        s.add(row)


def test_create_session_stores_validated_fields_and_queues_start(db):
    created = control.create_session(db, {**SPEC, "params": {"fast": "5", "slow": "20"}},
                                     start=True)
    with Session(db) as s:
        row = s.get(PaperSession, created.id)
        command = s.get(Command, created.command)
    assert row.status == "created"
    assert row.params == {"fast": 5, "slow": 20}
    assert row.cash == row.equity == row.starting_cash == 10_000
    assert (command.target, command.target_id, command.action) == ("session", str(row.id),
                                                                    "start")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"symbols": "DOGE-USD"}, "symbols"),
        ({"symbols": ""}, "symbols"),
        ({"strategy": "astrology"}, "strategy"),
        ({"cash": "-5"}, "cash"),
        ({"cash": "lots"}, "cash"),
        ({"fee_bps": "5000"}, "fee_bps"),
        ({"position_size": "2"}, "position_size"),
        ({"timeframe": "1m"}, "timeframe"),
        ({"restart_policy": "maybe"}, "restart_policy"),
        ({"params": {"fast": "30", "slow": "10"}}, "fast"),
        ({"params": {"speed": "1"}}, "speed"),
    ],
)
def test_bad_session_fields_are_named_and_nothing_is_written(db, change, field):
    with pytest.raises(BadInput, match=field):
        control.create_session(db, {**SPEC, **change}, start=True)
    with Session(db) as s:
        assert s.exec(select(func.count()).select_from(PaperSession)).one() == 0
    assert _commands(db) == 0


def test_illegal_session_actions_are_refused_at_once(db):
    sid = control.create_session(db, SPEC).id
    with pytest.raises(NotAllowed, match="cannot pause session .* it is created"):
        control.session_action(db, sid, "pause")
    _set_status(db, sid, "stopped")
    with pytest.raises(NotAllowed, match="cannot resume"):
        control.session_action(db, sid, "resume")
    with pytest.raises(NotFound):
        control.session_action(db, 999, "start")
    with pytest.raises(BadInput):
        control.session_action(db, "abc", "start")
    assert _commands(db) == 0


def test_queued_commands_count_toward_the_projected_state(db):
    sid = control.create_session(db, SPEC, start=True).id
    control.session_action(db, sid, "pause")
    with pytest.raises(NotAllowed, match="it is paused"):
        control.session_action(db, sid, "pause")
    control.session_action(db, sid, "resume")
    assert _commands(db) == 3


def test_agent_control_validates_id_action_and_config(db):
    with session_scope(db) as s:
        s.add(Agent(id="sentiment", name="Sentiment", kind="sentiment", status="running"))
    with pytest.raises(NotFound):
        control.agent_action(db, "nope", "start")
    with pytest.raises(NotAllowed, match="cannot start agent sentiment"):
        control.agent_action(db, "sentiment", "start")
    with pytest.raises(BadInput, match="interval_s"):
        control.update_agent_config(db, "sentiment", {"interval_s": "-1"})
    with pytest.raises(BadInput, match="unknown config"):
        control.update_agent_config(db, "sentiment", {"colour": "red"})
    with pytest.raises(BadInput, match="headlines_csv"):
        control.update_agent_config(db, "sentiment", {"headlines_csv": "/no/such.csv"})
    assert _commands(db) == 0
    control.update_agent_config(db, "sentiment", {"interval_s": "2.5"})
    with Session(db) as s:
        assert s.exec(select(Command.payload)).one() == {"interval_s": 2.5}


def test_system_switch_follows_its_table(db):
    with pytest.raises(NotAllowed, match="cannot pause system"):
        control.system_action(db, "pause")
    control.system_action(db, "start")
    with pytest.raises(NotAllowed, match="cannot start system"):
        control.system_action(db, "start")


def test_archive_only_stopped_sessions(db):
    sid = control.create_session(db, SPEC).id
    with pytest.raises(NotAllowed, match="stop it first"):
        control.archive_session(db, sid)
    _set_status(db, sid, "stopped")
    control.archive_session(db, sid)
    with Session(db) as s:
        assert s.get(PaperSession, sid).archived is True


def test_acknowledging_a_group_twice_writes_one_acknowledgement(db):
    """The browser may deliver one click twice, or two viewers acknowledge the same group: one
    row; a later alert of the group is acknowledged on its own."""
    with session_scope(db) as s:
        record_events(s, [("session-3", "alert_drawdown", "down 9 %", "warning")] * 2)
    (group,) = alert_groups(db)
    control.acknowledge_alerts(db, [group], by="ann")
    control.acknowledge_alerts(db, [group], by="bob")
    assert alert_groups(db) == []
    with session_scope(db) as s:
        record_events(s, [("session-3", "alert_drawdown", "down 12 %", "warning")])
    (again,) = alert_groups(db)
    control.acknowledge_alerts(db, [again, group], by="bob")
    with Session(db) as s:
        acks = s.exec(select(AlertAck.upto_event_id, AlertAck.acknowledged_by)
                      .order_by(AlertAck.id)).all()
    assert acks == [(group.last_event_id, "ann"), (again.last_event_id, "bob")]
    assert alert_groups(db) == []
