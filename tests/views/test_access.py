"""The three access modes: open (local), shared password with lockout, OIDC with operators."""

from streamlit.testing.v1 import AppTest

from engine.control import actions as control
from tests.views.conftest import APP, answer_dialog, commands
from ui.access import LOCKOUT_AFTER, hash_password

SALT = "pepper"


def _app(secrets=None, user=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if secrets:
        at.secrets = secrets
    if user is not None:
        at.user = user
    return at


def test_open_mode_says_it_is_unprotected(filled):
    at = _app().run()
    assert not at.exception
    assert any("unprotected" in c.value for c in at.sidebar.caption)


def test_password_mode_locks_out_after_repeated_failures_across_restarts(db):
    secrets = {"paperdesk": {"password_hash": hash_password("s3cret", SALT),
                             "password_salt": SALT}}
    at = _app(secrets).run()
    assert at.text_input[0].label == "Password"
    assert not at.metric  # nothing of the dashboard before the password
    for _ in range(LOCKOUT_AFTER):
        at.text_input[0].input("wrong")
        at.button[0].click().run()
    assert any("Too many wrong passwords" in e.value for e in at.error)
    fresh = _app(secrets).run()  # a new session (or a restarted server): still locked
    assert any("Too many wrong passwords" in e.value for e in fresh.error)
    assert not fresh.text_input
    control.clear_login_failures(db, "local")
    at = _app(secrets).run()
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert not at.exception
    assert any(m.label == "System health" for m in at.metric)


def test_oidc_requires_login(db):
    secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                        "cookie_secret": "x", "client_id": "id", "client_secret": "s",
                        "server_metadata_url": "http://localhost/.well-known/openid"}}
    at = _app(secrets, user={"is_logged_in": False}).run()
    assert any(b.label == "Sign in" for b in at.button)
    assert not at.metric


def test_oidc_operator_controls_and_others_read_only(filled, db):
    secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                        "cookie_secret": "x", "client_id": "id", "client_secret": "s",
                        "server_metadata_url": "http://localhost/.well-known/openid"},
               "paperdesk": {"operators": ["ops@example.com"]}}
    viewer = _app(secrets, user={"is_logged_in": True, "email": "viewer@example.com"}).run()
    assert not viewer.exception
    stop = next(b for b in viewer.button if b.key == "overview_stop")
    assert stop.disabled
    assert any("read-only" in c.value for c in viewer.sidebar.caption)
    operator = _app(secrets, user={"is_logged_in": True, "email": "ops@example.com"}).run()
    next(b for b in operator.button if b.key == "overview_stop").click().run()
    answer_dialog(operator, confirm=True)
    assert commands(db) == [("system", None, "stop", {})]
    with_who = operator.session_state["operator"]
    assert with_who == "ops@example.com"
