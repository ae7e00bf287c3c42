"""Disabled means disabled (issue 20): a viewer (signed in, not an operator) is offered no
control anywhere — every button that acts is disabled, inside popovers and forms too, and so
are the inputs that only feed an action. Buttons that only compute a read (Reconcile, the
fill-model comparison) stay available."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.views.conftest import APP, commands

SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                    "cookie_secret": "x", "client_id": "id", "client_secret": "s",
                    "server_metadata_url": "http://localhost/.well-known/openid"},
           "paperdesk": {"operators": ["ops@example.com"]}}
READS = {"reconcile_run", "fill_models_run"}  # compute and show; change nothing
ACTION_INPUTS = ("ff_until_", "ff_then_", "settings_", "speed_pick_")  # feed an action only


def _as(email: str, page: str, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = SECRETS
    at.user = {"is_logged_in": True, "email": email}
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"views/{page}.py")
    return at.run()


PAGES = [
    ("overview", {}),
    ("agents", {"agent_selected": "execution"}),
    ("sessions", {"session_selected": "running"}),
    ("sessions", {"session_selected": "created"}),
    ("sessions", {"sessions_tab": "New session"}),
    ("sessions", {"sessions_tab": "Sweeps"}),
    ("sessions", {"sessions_tab": "Data"}),
    ("logs", {}),
]


@pytest.mark.parametrize(("page", "state"), PAGES,
                         ids=[f"{p}-{'-'.join(map(str, s.values())) or 'main'}"
                              for p, s in PAGES])
def test_a_viewer_is_offered_no_control(filled, db, page, state):
    state = {k: filled.get(v, v) for k, v in state.items()}
    at = _as("viewer@example.com", page, **state)
    assert not at.exception
    offered = [b.key or b.label for b in at.button
               if not b.disabled and b.key not in READS and b.label != "Sign out"]
    assert offered == []
    inputs = [w for kind in ("text_input", "date_input", "selectbox") for w in at.get(kind)
              if (w.key or "").startswith(ACTION_INPUTS)]
    assert all(w.disabled for w in inputs), [w.key for w in inputs if not w.disabled]
    assert commands(db) == []


def test_an_operator_is_offered_the_same_controls(filled, db):
    at = _as("ops@example.com", "sessions", session_selected=filled["running"])
    enabled = {b.key for b in at.button if not b.disabled}
    assert {"sess_speed", "sess_ff", "sess_settings", "sess_pause"} <= enabled


def test_only_an_operator_is_offered_the_data_upload(filled, db):
    """The Data tab: a viewer sees the imports and no upload control; an operator gets both."""
    viewer = _as("viewer@example.com", "sessions", sessions_tab="Data")
    operator = _as("ops@example.com", "sessions", sessions_tab="Data")
    assert not viewer.exception
    assert not operator.exception
    assert viewer.get("file_uploader") == []
    assert "data_import" not in {b.key for b in viewer.button}
    assert len(operator.get("file_uploader")) == 1
    assert "data_import" in {b.key for b in operator.button if not b.disabled}
