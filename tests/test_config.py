import pytest

from engine.config import load_settings
from engine.errors import ConfigError


def test_defaults_use_sqlite_under_home(tmp_path):
    settings = load_settings({"PAPERDESK_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'paperdesk.db'}"
    assert settings.logs_dir == tmp_path / "logs"
    assert settings.autostart is True
    assert settings.initial_state == "running"


def test_plain_postgresql_url_means_psycopg3(tmp_path):
    settings = load_settings({"PAPERDESK_HOME": str(tmp_path),
                              "DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL"),
        ("PAPERDESK_AUTOSTART", "maybe", "PAPERDESK_AUTOSTART"),
        ("PAPERDESK_INITIAL_STATE", "paused", "PAPERDESK_INITIAL_STATE"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, key, value, named):
    with pytest.raises(ConfigError, match=named):
        load_settings({"PAPERDESK_HOME": str(tmp_path), key: value})


def test_home_must_be_a_folder(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError, match="PAPERDESK_HOME"):
        load_settings({"PAPERDESK_HOME": str(target)})
