"""Settings from the environment, validated with messages that name the variable."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ConfigError

DEFAULT_HOME = "var"
INITIAL_STATES = ("running", "stopped")
# The parts of a database URL as SQLAlchemy's make_url splits it (sqlalchemy/engine/url.py,
# _parse_url): checked here so that a value it cannot read (a port that is not a number) is a
# ConfigError naming DATABASE_URL, not a ValueError from inside the driver.
URL_PARTS = re.compile(r"""
    [\w+]+://
    (?:[^:/]*(?::[^@]*)?@)?
    (?:(?:\[[^/?]+\]|[^/:?]+)?(?::(?P<port>[^/?]*))?)?
    (?:/[^?]*)?(?:\?.*)?
    """, re.X)


@dataclass(frozen=True)
class Settings:
    """Where PaperDesk keeps its runtime files and which database it uses."""

    home: Path
    database_url: str
    autostart: bool
    initial_state: str
    notify_urls: tuple[str, ...] = ()  # apprise URLs for alerts (never shown back)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def feeds_dir(self) -> Path:
        """RSS files and headline CSVs the sentiment agent may read from the disk."""
        return self.home / "feeds"


def _flag(env: dict, name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1 (got {raw!r})")


def _database_url(env: dict, home: Path) -> str:
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{home / 'paperdesk.db'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://")):
        raise ConfigError(
            "DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// "
            f"(got {url.split('://', 1)[0][:20]!r}://…)"
        )
    if not url.isprintable():  # the value is not echoed: it may hold a password
        raise ConfigError("DATABASE_URL must be one line of printable text (no line breaks or "
                          "control characters)")
    parts = URL_PARTS.match(url)
    port = parts["port"] if parts else None
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError("DATABASE_URL: the port after the host must be a number from 1 to "
                          "65535")
    return url


def load_settings(env: dict | None = None) -> Settings:
    """Read PAPERDESK_HOME, DATABASE_URL, PAPERDESK_AUTOSTART and PAPERDESK_INITIAL_STATE."""
    env = dict(os.environ if env is None else env)
    raw_home = env.get("PAPERDESK_HOME", "").strip() or DEFAULT_HOME
    if not raw_home.isprintable():
        raise ConfigError(f"PAPERDESK_HOME must be a folder path on one line (got {raw_home!r})")
    home = Path(raw_home).resolve()
    if home.exists() and not home.is_dir():
        raise ConfigError(f"PAPERDESK_HOME must be a folder (got the file {home})")
    initial = env.get("PAPERDESK_INITIAL_STATE", "running").strip().lower()
    if initial not in INITIAL_STATES:
        raise ConfigError(
            f"PAPERDESK_INITIAL_STATE must be one of {', '.join(INITIAL_STATES)} (got {initial!r})"
        )
    return Settings(
        home=home,
        database_url=_database_url(env, home),
        autostart=_flag(env, "PAPERDESK_AUTOSTART", True),
        initial_state=initial,
        notify_urls=tuple(env.get("PAPERDESK_NOTIFY_URLS", "").replace(",", " ").split()),
    )
