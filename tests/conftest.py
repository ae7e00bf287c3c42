"""Shared fixtures: a real database (SQLite file, or PostgreSQL when PAPERDESK_TEST_PG_URL is
set), a real engine subprocess, the real CLI, and polling with a deadline."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from engine.agents.base import AgentContext
from engine.config import load_settings
from engine.logs import get_logger
from engine.reads.fleet import lease_info
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Agent, Event

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("PAPERDESK_TEST_PG_URL", "")


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, poll: float = 0.05,
               message: str = "condition") -> object:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(poll)


DATABASE_MARKS = ("PAPERDESK_TEST_PG_URL", "PG_ADMIN_URL", "create_pg_database")


def pytest_collection_modifyitems(config, items) -> None:
    """On the PostgreSQL pass run only the tests that touch a database: a test with no
    database fixture, in a module that never asks for PostgreSQL, runs exactly as it did on
    the SQLite pass, and a `sqlite_pass` browser test's pages render on PostgreSQL in
    tests/views (the summary counts both as deselected)."""
    if not PG_ADMIN_URL:
        return
    keep, drop = [], []
    for item in items:
        runs = _touches_database(item) and item.get_closest_marker("sqlite_pass") is None
        (keep if runs else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _touches_database(item) -> bool:
    return "pg_template" in getattr(item, "fixturenames", ()) or any(
        mark in _module_text(item.path) for mark in DATABASE_MARKS)


@cache
def _module_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_template() -> str | None:
    """A migrated template database that each test's database is copied from (PostgreSQL)."""
    if not PG_ADMIN_URL:
        yield None
        return
    name = f"pd_template_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    template = sa.create_engine(url)
    migrate(template)
    template.dispose()
    yield name
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_pg_database(template: str) -> str:
    """A fresh PostgreSQL database copied from the migrated template; returns its URL."""
    name = f"pd_{uuid.uuid4().hex[:12]}"
    with _pg_admin().connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def recreate_pg_database(url: str, template_url: str) -> None:
    """Replace the database at `url` with a copy of the one at `template_url`."""
    get_engine(url).dispose()
    get_engine(template_url).dispose()
    name, template = url.rsplit("/", 1)[1], template_url.rsplit("/", 1)[1]
    with _pg_admin().connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))


def drop_pg_database(url: str) -> None:
    get_engine(url).dispose()
    with _pg_admin().connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


@pytest.fixture
def env(tmp_path, pg_template, monkeypatch) -> dict:
    """Environment for this test's PaperDesk: its own home folder and its own database."""
    values = {"PAPERDESK_HOME": str(tmp_path / "home"), "PAPERDESK_AUTOSTART": "0"}
    if pg_template:
        values["DATABASE_URL"] = create_pg_database(pg_template)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    yield {**os.environ, **values}
    if pg_template:
        drop_pg_database(values["DATABASE_URL"])


def make_agent(db, env: dict, cls, config: dict, state: dict | None = None):
    """A real agent of type `cls` on its stored row (created or updated), started."""
    with session_scope(db) as s:
        row = s.get(Agent, cls.kind) or Agent(id=cls.kind, name=cls.title, kind=cls.kind)
        row.config, row.state = config, state or {}
        s.add(row)
    settings = load_settings(env)
    logger = get_logger(settings.logs_dir, cls.kind, pin=True)
    agent = cls(row, AgentContext(db, settings, logger))
    agent.on_start()
    return agent


@pytest.fixture
def db(env) -> sa.Engine:
    engine = get_engine(load_settings(env).database_url)
    migrate(engine)
    return engine


@pytest.fixture
def logs_dir(env) -> Path:
    return Path(env["PAPERDESK_HOME"]) / "logs"


def cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "engine", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_main(*args: str) -> subprocess.CompletedProcess:
    """Run the real CLI in this process (engine.cli.main.main, on os.environ as the `env`
    fixture set it), its output captured: what `cli` does without a new interpreter. An
    exception escaping main() is raised here (the subprocess would print a traceback)."""
    from engine.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse: usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@dataclass
class EngineHandle:
    proc: subprocess.Popen
    env: dict
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


def spawn_engine(env: dict, log: Path) -> subprocess.Popen:
    fh = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "engine", "run"], env=env, cwd=ROOT,
                            stdout=fh, stderr=subprocess.STDOUT)


def spawn_workers(env: dict, db: sa.Engine, tmp_path: Path, n: int) -> list[subprocess.Popen]:
    """Start `n` engine workers (PostgreSQL) and wait until every one has registered."""
    from engine.reads.fleet import workers

    procs = [spawn_engine(env, tmp_path / f"worker{i}.out") for i in range(n)]

    def registered():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"worker {p.pid} exited with {p.returncode}")
        return {w.holder.rsplit(":", 1)[1] for w in workers(db) if w.alive} == {
            str(p.pid) for p in procs}

    wait_until(registered, 180, message="every worker to register")  # a ceiling, not a pace
    return procs


def start_engine(env: dict, db: sa.Engine, log: Path, timeout: float = 90) -> EngineHandle:
    """Start `python -m engine run` and wait until it holds the lease."""
    proc = spawn_engine(env, log)
    handle = EngineHandle(proc, env, log)

    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"engine exited with {proc.returncode}:\n{handle.output()}")
        info = lease_info(db)
        if not (info.online and info.holder and info.holder.endswith(f":{proc.pid}")):
            return False
        with Session(db) as s:  # recovery done: it records its start with the holder
            return s.exec(select(Event).where(Event.kind == "engine_start",
                                              Event.message.contains(info.holder))).first()

    wait_until(ready, timeout, message="the engine to take the lease and restore state")
    return handle


@pytest.fixture
def engines(env, db, tmp_path):
    """Start real engine subprocesses on this test's database; all are stopped at teardown."""
    started: list[EngineHandle] = []

    def start(name: str = "engine") -> EngineHandle:
        handle = start_engine(env, db, tmp_path / f"{name}.out")
        started.append(handle)
        return handle

    yield start
    for handle in started:
        if handle.proc.poll() is None:
            handle.stop(signal.SIGKILL)


@pytest.fixture
def engine_proc(engines):
    """One real engine subprocess, stopped at teardown."""
    return engines()


def store_bars(db, *keys: tuple[str, str]) -> None:
    """Store shipped datasets as the market data agent does (all of them by default)."""
    from engine.market import catalog
    from engine.market.replay import load_shipped

    for key in keys or catalog.datasets():
        load_shipped(db, *key)


def replay_session(db, spec: dict, *, to_end: bool = True, status: str = "running") -> int:
    """Create a session through engine.control.actions, mark it `status` (no engine process needed)
    and, with `to_end`, fast-forward it through its window with the engine's own code."""
    from sqlalchemy import update

    from engine.control import actions as control
    from engine.store.models import PaperSession
    from engine.trading.clock import run_to_end

    sid = control.create_session(db, {"name": "replay", "strategy": "ma_crossover", **spec}).id
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(status="running"))
    if to_end:
        run_to_end(db, sid)
    if status != "running":
        with session_scope(db) as s:
            s.execute(update(PaperSession).where(PaperSession.id == sid,
                                                 PaperSession.status == "running")
                      .values(status=status))
    return sid


@contextmanager
def webhook_server() -> Iterator[tuple[str, list[dict]]]:
    """A webhook on 127.0.0.1 that records the JSON POSTed to /hook; any other path or method
    answers 500 (a notification target that fails). Yields (host:port, what /hook received)."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's API name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/hook":
                received.append(json.loads(body or b"{}"))
            self.send_response(200 if self.path == "/hook" else 500)
            self.end_headers()

        def do_GET(self):  # noqa: N802
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
