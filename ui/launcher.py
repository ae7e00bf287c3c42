"""Start the engine as a subprocess of the Streamlit server when no engine holds the lease."""

import atexit
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from engine.config import Settings
from engine.control.database import database, unavailable_errors
from engine.reads.fleet import lease_info

ROOT = Path(__file__).resolve().parent.parent
STARTING = "engine starting…"


@dataclass
class EngineStatus:
    mode: str  # "autostart" or "external"
    message: str

    @property
    def starting(self) -> bool:
        """This server started the engine and it holds no lease yet."""
        return self.message == STARTING


class Launcher:
    """One per Streamlit server process (st.cache_resource): reruns, reloads and extra tabs
    reuse it, so at most one engine child exists; the lease stops any duplicate anyway."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()
        atexit.register(self.stop)

    def ensure(self) -> str:
        info = lease_info(database(self.settings.database_url))
        if info.online:
            return f"engine running ({info.holder})"
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                return STARTING
            log = self.settings.home / "engine.out"
            log.parent.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "PAPERDESK_PARENT_PID": str(os.getpid()),
                   "DATABASE_URL": self.settings.database_url,
                   "PAPERDESK_HOME": str(self.settings.home)}
            self.proc = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
                [sys.executable, "-m", "engine", "run"], cwd=ROOT, env=env,
                stdout=log.open("ab"), stderr=subprocess.STDOUT)
            return STARTING

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@st.cache_resource(show_spinner=False)
def _launcher(url: str, home: str) -> Launcher:
    from engine.config import load_settings

    return Launcher(load_settings())


def ensure_engine(settings: Settings) -> EngineStatus:
    """Autostart (PAPERDESK_AUTOSTART, default on) or report that the engine runs elsewhere."""
    if not settings.autostart:
        return EngineStatus("external", "autostart off: run `python -m engine run` yourself")
    launcher = _launcher(settings.database_url, str(settings.home))
    try:
        return EngineStatus("autostart", launcher.ensure())
    except unavailable_errors():  # no engine is started while the database is away
        return EngineStatus("autostart", "waiting for the database")
