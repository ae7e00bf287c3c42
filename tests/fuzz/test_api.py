"""Fuzz the public act and read API (issue 20): every function of engine.control.actions,
engine.control.sweeps, engine.reads.queries and engine.reads.status that the dashboard or the
CLI calls with a user's values (and the reads beside them: summary, sweeps, reconcile, fill
models) is called with arguments hypothesis builds — meaningful ones and hostile ones of every
type (tests/fuzz/values.py). Whatever it is given, a function

- returns, or raises a PaperDeskError (BadInput, NotAllowed, NotFound, WaitTimeout …) whose
  message is one line: never a ValueError, TypeError, OverflowError or a driver's error;
- writes no row when it raises.

Not fuzzed: engine.control.sweeps.locked_sweep, which takes an ORM session, and the builders of
engine.reads.builders, which take a row's columns from the engine's own reads, not a user's
value.

Examples per function: 40 by default (about 1,800 in all: functions without arguments stop
sooner); PAPERDESK_FUZZ_EXAMPLES=N runs N per function. The example database is
.hypothesis/examples (gitignored), replayed first on the
next run. Run on SQLite, and on PostgreSQL with PAPERDESK_TEST_PG_URL set.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from engine.control import actions, sweeps
from engine.control.outcome import Outcome
from engine.errors import PaperDeskError
from engine.reads import fill_compare, queries, reconcile, status, summary
from engine.reads import sweeps as sweep_reads
from engine.reads.status import AlertGroup
from tests.fuzz import values as v
from tests.fuzz.conftest import fuzz_settings, row_counts

SESSIONS = (1, 2, 3, 4)  # as the world fixture creates them: running, completed, created, stopped
SWEEPS = (1,)
NOW = datetime(2019, 9, 10, tzinfo=UTC)


@dataclass(frozen=True)
class Arg:
    """One parameter's values: what a caller could mean, and what it must be refused."""

    good: st.SearchStrategy
    bad: st.SearchStrategy = field(default_factory=v.anything)


def one_of(*good, bad: st.SearchStrategy | None = None) -> Arg:
    return Arg(st.sampled_from(good), bad or v.anything())


SESSION_ID = Arg(st.one_of(st.sampled_from(SESSIONS), st.sampled_from(SESSIONS).map(str)),
                 v.ids(*SESSIONS))
SWEEP_ID = Arg(st.sampled_from((*SWEEPS, "1")), v.ids(*SWEEPS))
# Seconds to wait: only short valid ones (no engine runs here), and every invalid kind.
TIMEOUT = Arg(st.sampled_from((0, 0.01)), st.one_of(
    st.sampled_from((-1, 86_401, float("nan"), float("inf"), 1e309, "1", None, True)),
    v.anything().filter(lambda x: not (isinstance(x, int | float) and 0.02 < x <= 86_400))))
BY = one_of("cli", "dashboard", "ops@example.com")
AGENT_ID = one_of(*v.AGENT_IDS)
SYMBOL = one_of("ETH-USD", "BTC-USD", "../../x")
TIMEFRAME = one_of("1d", "1h", "5m")
LIMIT = Arg(st.sampled_from((1, 5, 100)), st.one_of(st.sampled_from((0, -1, 10**6)),
                                                    v.anything()))
TIME = Arg(st.one_of(st.none(), v.aware_times()))
FLAGS = Arg(st.booleans())
DATES = Arg(st.one_of(st.none(), v.dates()), v.anything())


def _changed(base: dict, keys: tuple[str, ...]) -> st.SearchStrategy[dict]:
    """`base` with a field or two set to hostile values or values of another type."""
    return st.dictionaries(st.sampled_from(keys), st.one_of(v.HOSTILE, v.anything()),
                           min_size=1, max_size=2).map(lambda c: {**base, **c})


SESSION_SPEC = {"name": "fuzz", "symbols": "ETH-USD", "strategy": "ma_crossover",
                "timeframe": "1d", "from": "2019-06-01"}
SPEC = Arg(st.sampled_from((SESSION_SPEC, {**SESSION_SPEC, "speed": "max",
                                           "until": "2019-09-10", "then": "5"},
                            {**SESSION_SPEC, "params": {"fast": 5, "slow": 20}},
                            {**SESSION_SPEC, "fill_model": "pessimistic", "fee_bps": "0"})),
           st.one_of(_changed(SESSION_SPEC, (*SESSION_SPEC, "cash", "params", "speed", "until",
                                             "then", "source", "to", "fill_model", "fee_bps",
                                             "latency_bars", "colour")), v.anything()))
SWEEP_SPEC = {"strategy": "ma_crossover", "symbols": "ETH-USD", "timeframe": "1d",
              "grid": {"fast": "3:5:1"}}
GRIDS = st.dictionaries(st.sampled_from(("fast", "slow", "fee_bps", "fill_model", "x")),
                        st.one_of(v.HOSTILE, v.anything()), min_size=1, max_size=2)
SWEEP = Arg(st.sampled_from((SWEEP_SPEC, {**SWEEP_SPEC, "grid": {"fee_bps": "0:20:10"},
                                          "split": "2019-12-01"})),
            st.one_of(_changed(SWEEP_SPEC, (*SWEEP_SPEC, "name", "from", "to", "split",
                                            "params", "cash", "fill_model", "colour")),
                      GRIDS.map(lambda g: {**SWEEP_SPEC, "grid": g}), v.anything()))
CHANGES = Arg(st.sampled_from(({"fast": "5"}, {"fee_bps": "20"}, {"interval_s": "2"})),
              st.one_of(st.dictionaries(st.sampled_from(v.PARAM_NAMES), st.one_of(
                  v.HOSTILE, v.anything()), max_size=2), v.anything()))
POSITIONS = Arg(st.dictionaries(st.sampled_from(("market_data", "s-1")), st.tuples(
    st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)), max_size=2), st.one_of(st.dictionaries(
        st.one_of(st.sampled_from(("market_data", "s-1")), v.KEYS), st.one_of(
            st.tuples(st.floats(), st.floats()), v.anything()), max_size=2), v.anything()))
def _groups(source, event_id) -> st.SearchStrategy:
    return st.lists(st.builds(AlertGroup, source, st.just("alert"), st.integers(0, 3),
                              st.just(NOW), st.just(NOW), event_id, st.just("warning"),
                              v.TEXT), min_size=1, max_size=2)


GROUPS = Arg(_groups(st.sampled_from(("system", "session-1")), st.integers(1, 10**6)),
             st.one_of(_groups(v.HOSTILE, st.integers()), v.anything()))

# name: (function, {parameter: Arg}); every parameter is passed.
API = {
    "actions.system_action": (actions.system_action, {
        "action": one_of("start", "stop", "pause", "resume"), "by": BY}),
    "actions.agent_action": (actions.agent_action, {
        "agent_id": AGENT_ID, "action": one_of("start", "stop"), "by": BY}),
    "actions.update_agent_config": (actions.update_agent_config, {
        "agent_id": AGENT_ID, "changes": CHANGES, "by": BY}),
    "actions.reset_agent_metrics": (actions.reset_agent_metrics, {"agent_id": AGENT_ID,
                                                                  "by": BY}),
    "actions.create_session": (actions.create_session, {"spec": SPEC, "start": FLAGS,
                                                        "by": BY}),
    "actions.session_action": (actions.session_action, {
        "session_id": SESSION_ID, "action": one_of("start", "pause", "resume", "stop"),
        "close_positions": FLAGS, "by": BY}),
    "actions.close_position": (actions.close_position, {"session_id": SESSION_ID, "by": BY}),
    "actions.bulk_session_action": (actions.bulk_session_action, {
        "action": one_of("pause_all", "resume_all", "stop_all"), "by": BY}),
    "actions.set_session_speed": (actions.set_session_speed, {
        "session_id": SESSION_ID, "speed": one_of("1", "max", 5, 0.5), "until": DATES,
        "then": one_of(None, "1", "5"), "by": BY}),
    "actions.update_session_config": (actions.update_session_config, {
        "session_id": SESSION_ID, "changes": CHANGES, "by": BY}),
    "actions.archive_session": (actions.archive_session, {
        "session_id": SESSION_ID, "archived": FLAGS, "by": BY}),
    "actions.save_node_positions": (actions.save_node_positions, {"positions": POSITIONS}),
    "actions.wait_for": (actions.wait_for, {
        "outcome": Arg(st.builds(Outcome, v.TEXT, st.sampled_from((None, 1, 2))), st.one_of(
            st.builds(Outcome, v.TEXT, v.ids(1, 2)), v.anything())), "timeout": TIMEOUT,
        "poll": TIMEOUT}),
    "actions.session_document": (actions.session_document, {"session_id": SESSION_ID}),
    "actions.wait_for_session": (actions.wait_for_session, {
        "session_id": SESSION_ID, "timeout": TIMEOUT, "poll": TIMEOUT,
        "progress": Arg(st.sampled_from((None, repr)))}),
    "actions.record_login_failure": (actions.record_login_failure, {
        "client": one_of("local", "10.0.0.1")}),
    "actions.clear_login_failures": (actions.clear_login_failures, {"client": one_of("local")}),
    "actions.acknowledge_alerts": (actions.acknowledge_alerts, {"groups": GROUPS, "by": BY}),
    "sweeps.create_sweep": (sweeps.create_sweep, {"spec": SWEEP, "by": BY}),
    "sweeps.cancel_sweep": (sweeps.cancel_sweep, {"sweep_id": SWEEP_ID, "by": BY}),
    "sweeps.archive_sweep": (sweeps.archive_sweep, {"sweep_id": SWEEP_ID, "archived": FLAGS,
                                                    "by": BY}),
    "sweeps.start_as_paper": (sweeps.start_as_paper, {
        "variant_id": SESSION_ID, "source": one_of("replay", "live"),
        "speed": one_of("1", "max"), "to": DATES, "start": FLAGS, "by": BY}),
    "queries.agents": (queries.agents, {}),
    "queries.node_positions": (queries.node_positions, {}),
    "queries.sessions": (queries.sessions, {
        "include_archived": FLAGS, "include_sweeps": FLAGS, "limit": LIMIT}),
    "queries.positions": (queries.positions, {"session_id": SESSION_ID}),
    "queries.session_document": (queries.session_document, {"session_id": SESSION_ID}),
    "queries.trades": (queries.trades, {"session_id": SESSION_ID, "limit": LIMIT}),
    "queries.orders": (queries.orders, {
        "session_id": SESSION_ID, "status": one_of(None, "pending", "filled"),
        "limit": LIMIT}),
    "queries.equity_curve": (queries.equity_curve, {"session_id": SESSION_ID,
                                                    "limit": LIMIT}),
    "queries.bars": (queries.bars, {"symbol": SYMBOL, "timeframe": TIMEFRAME, "start": TIME,
                                    "end": TIME, "limit": LIMIT}),
    "queries.sentiment_latest": (queries.sentiment_latest, {}),
    "queries.comparison": (queries.comparison, {"session_ids": Arg(
        st.lists(SESSION_ID.good, max_size=3), st.one_of(
            st.lists(SESSION_ID.bad, max_size=3), v.anything()))}),
    "queries.events": (queries.events, {
        "limit": LIMIT, "severity": Arg(st.one_of(st.none(), st.lists(st.sampled_from(
            ("info", "warning", "error")), max_size=2))),
        "source": one_of(None, "system", "session-1"), "text": one_of(None, "created", "%")}),
    "queries.event_sources": (queries.event_sources, {}),
    "queries.log_ids": (queries.log_ids, {"limit": LIMIT}),
    "queries.available_symbols": (queries.available_symbols, {"timeframe": TIMEFRAME}),
    "queries.workers": (queries.workers, {}),
    "queries.datasets": (lambda _db: queries.datasets(), {}),
    "status.as_dict": (lambda _db, obj: status.as_dict(obj), {
        "obj": Arg(GROUPS.good.map(lambda groups: groups[0]), v.anything())}),
    "status.health": (status.health, {}),
    "status.agent": (status.agent, {"agent_id": AGENT_ID}),
    "status.login_failures": (status.login_failures, {
        "client": one_of("local"), "within_s": one_of(300, 0, 1.5)}),
    "status.alert_groups": (status.alert_groups, {"limit": LIMIT}),
    "status.flow_counts": (status.flow_counts, {}),
    "summary.system_summary": (summary.system_summary, {}),
    "sweeps.sweeps": (sweep_reads.sweeps, {"include_archived": FLAGS, "limit": LIMIT}),
    "sweeps.sweep_document": (sweep_reads.sweep_document, {"sweep_id": SWEEP_ID}),
    "sweeps.variants": (sweep_reads.variants, {"sweep_id": SWEEP_ID}),
    "sweeps.paper_sessions": (sweep_reads.paper_sessions, {"sweep_id": SWEEP_ID}),
    "sweeps.origin_comparison": (sweep_reads.origin_comparison, {"session_id": SESSION_ID}),
    "reconcile.reconcile": (reconcile.reconcile, {"session_id": SESSION_ID}),
    "fill_compare.compare_fill_models": (fill_compare.compare_fill_models, {
        "session_id": SESSION_ID}),
}


def draw_arguments(data, params: dict[str, Arg]) -> dict:
    """Calm examples: every argument meaningful but at most one (so the checks behind the
    first are reached); the others: each argument either."""
    calm = data.draw(st.booleans(), label="calm")
    bad = data.draw(st.sampled_from([None, *params]), label="bad") if calm else None
    return {key: data.draw(
        (arg.bad if key == bad else arg.good) if calm else st.one_of(arg.good, arg.bad),
        label=key) for key, arg in params.items()}


def refusal(fn, *args, **kwargs) -> PaperDeskError | None:
    """Call `fn`; the PaperDeskError it raised, or None (any other exception escapes)."""
    try:
        fn(*args, **kwargs)
    except PaperDeskError as exc:
        return exc
    return None


@pytest.mark.parametrize("name", sorted(API))
@fuzz_settings(40)
@given(data=st.data())
def test_every_function_returns_or_raises_a_one_line_paperdesk_error_and_writes_nothing(
        world, name, data):
    _, db, _ = world
    fn, params = API[name]
    kwargs = draw_arguments(data, params)
    before = row_counts(db)
    refused = refusal(fn, db, **kwargs)
    event(type(refused).__name__ if refused else "returned")
    if refused:
        assert str(refused).isprintable(), (name, kwargs, str(refused))
        assert row_counts(db) == before, (name, kwargs, refused)


LOG_TAIL = {"log_id": one_of("engine", "market_data", "session-1", "session-999", "../x"),
            "lines": one_of(1, 5, 0, 10_001), "level": one_of(None, "info", "ERROR", "LOUD"),
            "grep": one_of(None, "line")}


@fuzz_settings(40)
@given(data=st.data())
def test_a_log_tail_returns_or_raises_a_one_line_paperdesk_error(world, data):
    env, db, _ = world
    refused = refusal(summary.log_tail, db, Path(env["PAPERDESK_HOME"]) / "logs",
                      **draw_arguments(data, LOG_TAIL))
    assert refused is None or str(refused).isprintable()
