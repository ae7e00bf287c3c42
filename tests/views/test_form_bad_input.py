"""Bad input through the dashboard's forms, driven with AppTest: the new-session form, the agent
config forms, the session settings-change form, the log viewer's id and the sign-in form. Each
case is refused with one message naming the field (or, for bounded widgets, the widget keeps
its value), draws no exception, and changes no row. tests/control/test_bad_input.py sends the
same kinds of input through engine.control.actions; tests/cli/test_fast.py through the
CLI."""

from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from engine.control.session_spec import SESSION_FIELDS
from engine.core.strategies import STRATEGIES
from engine.registry.agents import SPECS
from engine.store.db import session_scope
from engine.store.models import Agent, LoginFailure, SystemState
from tests.conftest import replay_session
from tests.control.test_bad_input import _state as rows
from tests.views.conftest import APP, run_page
from ui.access import hash_password
from ui.format import literal
from ui.session_form import RISK_INPUTS

GOOD = {"name": "ok", "symbols": ["BTC-USD"]}


@pytest.fixture
def desk(db) -> int:
    """Every agent registered and running, the system running, and a running replay session
    (its id returned); no engine process."""
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        for kind, spec in SPECS.items():
            s.add(Agent(id=kind, name=spec.title, kind=kind, status="running"))
    return replay_session(db, {"name": "live one", "symbols": "BTC-USD", "from": "2019-09-01"},
                          to_end=False)


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _one_error(at: AppTest) -> str:
    """The page's one error message, on one line, with no exception drawn."""
    assert not at.exception, at.exception
    (error,) = at.error
    assert "\n" not in error.value, error.value
    return error.value


# ---------------------------------------------------------------- the new-session form


def _text(key: str, value: str) -> Callable[[AppTest], None]:
    return lambda at: at.text_input(key=key).input(value).run()


def _state(key: str, value) -> Callable[[AppTest], None]:
    """Put `value` in a widget's state, as a stale tab or a crafted request would."""

    def put(at: AppTest) -> None:
        at.session_state[key] = value
        at.run()

    return put


def _pick(**widgets) -> Callable[[AppTest], None]:
    """Set selectboxes, multiselects and date inputs by key, in order."""

    def pick(at: AppTest) -> None:
        for key, value in widgets.items():
            widget = next(w for w in (*at.selectbox, *at.multiselect, *at.date_input)
                          if w.key == key)
            widget.set_value(value).run()

    return pick


def _param(strategy: str, name: str, value: str) -> Callable[[AppTest], None]:
    def put(at: AppTest) -> None:
        at.selectbox(key="new_strategy").set_value(strategy).run()
        at.text_input(key=f"new_param_{strategy}_{name}").input(value).run()

    return put


def _out_of_range(low: float | None, high: float | None) -> str:
    return f"{low - 1:g}" if low is not None else f"{high * 10:g}"


NAMES = ("", "   ", "x" * 101, "a\nb", "a\x00b", "tab\there", "\r", "o\u2028k", "\x1b[31mred")
FORM_CASES = [
    *[(f"name {v[:12]!r}", _text("new_name", v), "Name") for v in NAMES],
    ("no symbols", _pick(new_symbols=[]), "Symbols"),
    ("symbols with no common bars", _pick(new_timeframe="1d", new_symbols=["BTC-USD", "AAPL"]),
     "Symbols"),
    ("unknown symbol in a stale tab", _state("new_symbols", ["XYZ"]), "Symbols"),
    ("lower-case symbol in a stale tab", _state("new_symbols", ["btc-usd"]), "Symbols"),
    *[(f"{strategy} {p.name}={v!r}", _param(strategy, p.name, v), p.name)
      for strategy, cls in STRATEGIES.items() for p in cls.params.values()
      for v in ("x", "", _out_of_range(p.low, p.high))],
    ("fast above slow", _param("ma_crossover", "fast", "50"), "Parameters:"),
    ("from before the data", _pick(new_from=date(2010, 1, 1)), "From"),
    ("to before the data", _pick(new_to=date(2010, 1, 1)), "To"),
    ("from after to", _pick(new_from=date(2019, 6, 1), new_to=date(2019, 1, 1)), "From"),
    ("a one-bar window", _pick(new_timeframe="1d", new_symbols=["BTC-USD"],
                               new_from=date(2019, 5, 1), new_to=date(2019, 5, 1)), "From"),
]


@pytest.mark.parametrize(("change", "label"), [c[1:] for c in FORM_CASES],
                         ids=[c[0] for c in FORM_CASES])
def test_new_session_form_names_the_bad_field_and_creates_nothing(desk, db, change, label):
    before = rows(db)
    at = run_page("sessions", sessions_tab="New session")
    at.text_input(key="new_name").input(GOOD["name"])
    at.multiselect(key="new_symbols").set_value(GOOD["symbols"]).run()
    change(at)
    _button(at, "new_create").click().run()
    assert _one_error(at).startswith(f"**{label}**")
    assert any("1 field to fix" in w.value for w in at.warning)
    assert rows(db) == before


def test_from_after_to_says_so_naming_both_fields(desk, db):
    before = rows(db)
    at = run_page("sessions", sessions_tab="New session")
    at.text_input(key="new_name").input(GOOD["name"])
    at.multiselect(key="new_symbols").set_value(GOOD["symbols"]).run()
    _pick(new_from=date(2019, 6, 1), new_to=date(2018, 1, 1))(at)
    _button(at, "new_create").click().run()
    said = _one_error(at).replace("\\", "")  # as drawn: without Markdown's escapes
    assert said.startswith("**From** 2019-06-01 is after to: 2018-01-01")  # To: its day's end
    assert "bar" not in said
    assert rows(db) == before


BOUNDED = [(field, key, value) for field, (key, *_) in RISK_INPUTS.items()
           for value in (SESSION_FIELDS[field].low - 1, SESSION_FIELDS[field].high * 10)]


@pytest.mark.parametrize(("field", "key", "value"), BOUNDED,
                         ids=[f"{f}={v:g}" for f, _, v in BOUNDED])
def test_a_number_out_of_bounds_is_kept_and_refused_by_its_field(desk, db, field, key, value):
    """Money and risk are number inputs without widget bounds: the value typed stays what
    the form sends (never the last valid one), and the engine's Param refuses it by its
    field, creating nothing."""
    before = rows(db)
    at = run_page("sessions", sessions_tab="New session")
    at.text_input(key="new_name").input(GOOD["name"])
    at.multiselect(key="new_symbols").set_value(GOOD["symbols"]).run()
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    _button(at, "new_create").click().run()
    assert _one_error(at).startswith(f"**{RISK_INPUTS[field][1]}**")
    assert rows(db) == before


# ---------------------------------------------------------------- agent config forms


def _numbers(kind: str) -> list[tuple[str, str, str]]:
    return [(kind, p.name, v) for p in SPECS[kind].config.values()
            if p.kind in (int, float) for v in ("x", "", _out_of_range(p.low, p.high))]


CONFIG_CASES = [
    *[c for kind in SPECS for c in _numbers(kind)],
    *[("market_data", "exchange", v) for v in ("nonexistent", "Coinbase Pro")],
    *[("sentiment", "rss_feeds", v) for v in ("/etc/passwd", "file:///etc/passwd",
                                               "ftp://x/feed", "../x.xml")],
    *[("sentiment", "headlines_csv", v) for v in ("/etc/passwd", "http://x/a.csv", "nope.csv",
                                                   "../../etc/passwd")],
    ("market_data", "exchange", ""),
    ("sentiment", "rss_feeds", "a\nb"),
]


def _config_id(case) -> str:
    kind, name, value = case.values if hasattr(case, "values") else case
    return f"{kind} {name}={value!r}"


@pytest.mark.parametrize(("kind", "name", "value"), CONFIG_CASES,
                         ids=[_config_id(c) for c in CONFIG_CASES])
def test_agent_config_form_names_the_bad_field_and_queues_nothing(desk, db, kind, name,
                                                                  value):
    before = rows(db)
    at = run_page("agents", agent_selected=kind)
    next(t for t in at.text_input if t.label == name).input(value)
    next(b for b in at.button if b.label == "Apply config").click().run()
    message = _one_error(at)
    assert message.startswith(f"Config {kind}: config {name}")
    assert rows(db) == before


# ---------------------------------------------------------------- session settings change


SETTINGS_CASES = [
    ("fast", "Settings: write KEY=VALUE (got 'fast')"),
    ("", "config needs at least one KEY=VALUE"),
    ("=5", "unknown setting ''"),
    ("colour=red", "unknown setting 'colour'"),
    ("timeframe=1d", "unknown setting 'timeframe'"),
    ("fast=x", "param fast must be"),
    ("fast=\x00", "param fast must be"),
    ("fast=30", "param fast must be below param slow"),
    ("slow=2", "param slow must be at least"),
    ("fee_bps=-1", "fee_bps must be at least"),
    ("fee_bps=nan", "fee_bps must be a number"),
    ("position_size=2", "position_size must be at most"),
    ("stop_loss_pct=x", "stop_loss_pct must be a number"),
    ("take_profit_pct=-3", "take_profit_pct must be at least"),
]


@pytest.mark.parametrize(("value", "says"), SETTINGS_CASES,
                         ids=[repr(c[0]) for c in SETTINGS_CASES])
def test_settings_change_names_the_bad_setting_and_queues_nothing(desk, db, value, says):
    before = rows(db)
    at = run_page("sessions", session_selected=desk)
    at.text_input(key=f"settings_{desk}").input(value)
    _button(at, "sess_settings").click().run()
    assert says in _one_error(at)
    assert rows(db) == before


# ---------------------------------------------------------------- the log viewer's id


LOG_IDS = ("../etc/passwd", "/etc/passwd", "engine\n", "ENGINE", "session-0", "session-x",
           "session-999999", "session-1/../x", "a" * 100, "x y", "")


def _logs(log_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["id"] = log_id
    at.switch_page("views/logs.py")
    return at.run()


@pytest.mark.parametrize("log_id", LOG_IDS, ids=repr)
def test_log_viewer_says_an_id_names_no_log_and_opens_the_engine_log(desk, db, log_id):
    """An id in the URL that names no log opens the engine's log, saying so (the URL follows);
    nothing else is read and nothing written."""
    before = rows(db)
    at = _logs(log_id)
    assert not at.exception
    assert not at.error
    assert at.selectbox(key="log_id").value == "engine"
    assert at.query_params["id"] == "engine"
    named = [w.value for w in at.warning if log_id and literal(log_id[:100]) in w.value]
    assert len(named) == (1 if log_id else 0)  # an empty id is no id: nothing to say
    assert rows(db) == before


@pytest.mark.parametrize("lines", [0, 9, 5001, -200], ids=repr)
def test_log_viewer_lines_keep_their_bounds(desk, db, lines):
    at = _logs("engine")
    at.number_input(key="log_lines").set_value(lines).run()
    assert not at.exception
    assert 10 <= at.number_input(key="log_lines").value <= 5000


# ---------------------------------------------------------------- the sign-in form


SALT = "pepper"
SECRETS = {"paperdesk": {"password_hash": hash_password("s3cret", SALT), "password_salt": SALT}}
PASSWORDS = ("", " ", "wrong", "s3cret ", "S3CRET", "s3cret\n", "\x00", "x" * 100_000)


def _failures(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(LoginFailure)).one()


@pytest.mark.parametrize("password", PASSWORDS, ids=lambda v: repr(v[:12]))
def test_sign_in_refuses_a_wrong_password_and_shows_nothing_else(db, password):
    before = rows(db)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = SECRETS
    at.run()
    at.text_input[0].input(password)
    at.button[0].click().run()
    assert _one_error(at) == "Wrong password."
    assert not at.metric  # nothing of the dashboard
    assert rows(db) == before
    assert _failures(db) == 1  # the lockout counts it; nothing else is written
