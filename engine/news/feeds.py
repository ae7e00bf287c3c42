"""Where news may come from: http(s) URLs, or files inside PAPERDESK_HOME/feeds — nothing else
on the disk is read (a config value cannot point the engine at /etc/passwd)."""

from pathlib import Path

from engine.config import load_settings
from engine.errors import BadInput

URL_SCHEMES = ("http://", "https://")


def is_url(location: str) -> bool:
    return location.strip().lower().startswith(URL_SCHEMES)


def local_file(location: str, field: str) -> Path:
    """The file a location names, which must exist inside the feeds folder."""
    folder = load_settings().feeds_dir.resolve()
    path = Path(location).expanduser()
    path = (path if path.is_absolute() else folder / path).resolve()
    if "://" in location or not path.is_relative_to(folder):
        raise BadInput(f"{field}: {location!r} must be an http(s) URL or a file in {folder}")
    if not path.is_file():
        raise BadInput(f"{field}: no file at {str(path)!r}")
    return path


def check_feeds(value: str, field: str) -> None:
    """A Param check for comma-separated feed locations."""
    for item in filter(None, (v.strip() for v in value.split(","))):
        if not is_url(item):
            local_file(item, field)


def check_local_file(value: str, field: str) -> None:
    """A Param check for a file that must lie in the feeds folder."""
    local_file(value, field)
