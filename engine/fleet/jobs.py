"""The job queue of the PostgreSQL workers: procrastinate, on the same database, so any worker
takes any job. Its one task is a sweep variant: the worker that starts a sweep queues a job per
variant (engine.sweeps.runner) and every worker's JobWorker runs them.

A JobWorker is procrastinate's worker in a thread of the engine process, with its own asyncio
loop. A job's thread hands its variant to a pool process (spawn), which loads the sweep's plan
once per sweep, runs the variant with the core and writes it (`run_variant_job`: fenced and
idempotent): no variant is computed on the engine's GIL. A worker killed mid-variant takes its
pool processes along and leaves its jobs `doing` under a silent procrastinate heartbeat; after
STALLED_S any worker queues them again, and the write keeps exactly one copy of each variant.

Succeeded jobs are deleted as they finish (a sweep of 1,000 variants leaves no job rows; its
variants and events are the record); failed ones stay for inspection.
"""

import asyncio
import logging
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from multiprocessing import get_context
from typing import Any

import psycopg
from procrastinate import (
    App,
    Blueprint,
    JobContext,
    PsycopgConnector,
    RetryStrategy,
    SyncPsycopgConnector,
)
from procrastinate.exceptions import AppNotOpen, ConnectorException
from procrastinate.jobs import Job
from procrastinate.manager import JobManager
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from engine.errors import ConfigError, TransientError, one_line
from engine.sweeps.runner import fail_sweep, run_variant_job, sweep_running

QUEUE = "sweeps"
NAMESPACE = "paperdesk"
TASK = f"{NAMESPACE}:sweep_variant"
HEARTBEAT_S = 2.0  # procrastinate worker heartbeat ...
STALLED_S = 10.0  # ... silent this long: the worker is dead and its jobs run again
POLL_S = 1.0  # how often a worker looks for jobs when no notification came
RETRY_S = 2  # a job that met a transient fault runs again after this long
RECONNECT_S = 2.0  # pause before a worker that lost the database starts again
CALL_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 120.0  # the running jobs finish their variant first
STOP_POLL_S = 1.0

tasks = Blueprint()


@tasks.task(name="sweep_variant", queue=QUEUE, pass_context=True,
            retry=RetryStrategy(wait=RETRY_S, retry_exceptions={TransientError}))
def sweep_variant(context: JobContext, sweep_id: int, idx: int) -> str:
    """Run and write variant `idx` of sweep `sweep_id` (on the worker that took the job)."""
    return context.additional_context["worker"].run_variant(sweep_id, idx)


def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def job_processes() -> int:
    """Pool processes per worker: PAPERDESK_JOB_PROCESSES, else the machine's cores."""
    raw = os.environ.get("PAPERDESK_JOB_PROCESSES", "").strip()
    if not raw:
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"PAPERDESK_JOB_PROCESSES must be a whole number of 1 or more "
                          f"(got {raw!r})")
    return int(raw)


class _OneLine(logging.Handler):
    """The job queue's library logs in the engine log, one line each: no traceback for a
    database outage, which the worker reports itself."""

    def __init__(self, logger: logging.Logger, level: int):
        super().__init__(level)
        self.logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        self.logger.log(record.levelno, "%s: %s", record.name,
                        " ".join(record.getMessage().replace("\\n", " ").split())[:300])


def _end_with_parent(pid: int) -> None:
    """Pool initializer: end this process when the engine that started it is gone (killed -9
    too), so no orphan keeps computing."""

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class JobWorker:
    """This engine process as a worker of the job queue (PostgreSQL only): `start`, `stop`,
    the jobs it runs and has run (`counts`), and what engine.sweeps.runner asks of the queue."""

    def __init__(self, db: Engine, name: str, logger, processes: int | None = None):
        self.db, self.name, self.log = db, name, logger
        self.url = db.url.render_as_string(hide_password=False)
        self.processes = processes or job_processes()
        self.app = App(connector=PsycopgConnector(conninfo=conninfo(self.url), min_size=1,
                                                  max_size=4))
        self.app.add_tasks_from(tasks, namespace=NAMESPACE)
        self.deferrer = JobManager(SyncPsycopgConnector())  # on the caller's connection only
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.running = self.done = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.main: asyncio.Task | None = None
        self.connected, self.ready = threading.Event(), threading.Event()
        self.stopping = threading.Event()
        self.serving = threading.Event()  # inside procrastinate's worker: `stop` cancels it
        self.thread = threading.Thread(target=self._run, name="job-worker", daemon=True)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the worker's thread and loop (it connects and takes jobs from there on)."""
        # procrastinate's warnings and errors (a failed job, a lost listener), and only the
        # pool's errors: it warns at every reconnection attempt during an outage
        for name, level in (("procrastinate", logging.WARNING), ("psycopg.pool", logging.ERROR)):
            library = logging.getLogger(name)
            library.addHandler(_OneLine(self.log, level))
            library.propagate = False
        self.thread.start()
        self.ready.wait(CALL_TIMEOUT_S)

    def stop(self) -> None:
        """Take no more jobs, let the running ones finish their variant, end the pool.
        Procrastinate's worker is stopped by cancelling it (it then finishes its jobs); the
        worker's thread sees `stopping` anywhere else: a cancel landing while the connection
        pool opens would leave the pool's tasks behind. The cancel is repeated while no job
        runs, in case a query it interrupted took it."""
        self.stopping.set()
        deadline, first = time.monotonic() + STOP_TIMEOUT_S, True
        while self.thread.is_alive() and time.monotonic() < deadline:
            if self.serving.is_set() and self.loop is not None and self.main is not None and (
                    first or self.counts()[0] == 0):
                self.loop.call_soon_threadsafe(self.main.cancel)
                first = False
            self.thread.join(STOP_POLL_S)
        if self.thread.is_alive():
            self.log.warning("job worker still busy after %.0fs; not waiting", STOP_TIMEOUT_S)
        with self.lock:
            if self.pool is not None:  # idle once the worker has stopped
                self.pool.shutdown(wait=not self.thread.is_alive(), cancel_futures=True)

    def counts(self) -> tuple[int, int]:
        """Jobs running now and jobs finished, in this process."""
        with self.lock:
            return self.running, self.done

    def _run(self) -> None:
        with suppress(asyncio.CancelledError):  # how `stop` ends it
            asyncio.run(self._serve())

    async def _serve(self) -> None:
        """Run procrastinate's worker until `stop`; start it again when it loses the database
        (it stops itself when its heartbeat fails)."""
        self.loop, self.main = asyncio.get_running_loop(), asyncio.current_task()
        # sync jobs run in the loop's default executor: one thread per pool process
        self.loop.set_default_executor(ThreadPoolExecutor(self.processes,
                                                          thread_name_prefix="job"))
        self.ready.set()
        while not self.stopping.is_set():
            try:
                async with self.app.open_async():
                    self.connected.set()
                    self.serving.set()
                    try:
                        if self.stopping.is_set():  # asked before `stop` could cancel
                            return
                        await self.app.run_worker_async(
                            queues=[QUEUE], name=self.name, concurrency=self.processes,
                            install_signal_handlers=False,
                            update_heartbeat_interval=HEARTBEAT_S,
                            stalled_worker_timeout=STALLED_S,
                            fetch_job_polling_interval=POLL_S, delete_jobs="successful",
                            additional_context={"worker": self})
                    finally:
                        self.serving.clear()
                if not self.stopping.is_set():
                    self.log.warning("job worker stopped (a database fault); starting it again")
            except (ConnectorException, psycopg.Error, OSError) as exc:
                # a cancel that lands in a query can surface as the query's error instead
                if not self.stopping.is_set():
                    self.log.warning("job worker: database unavailable (%s); retrying",
                                     one_line(exc))
            finally:
                self.connected.clear()
            for _ in range(round(RECONNECT_S / STOP_POLL_S * 10)):
                if self.stopping.is_set():
                    return
                await asyncio.sleep(STOP_POLL_S / 10)

    # ------------------------------------------------------------ the task

    def run_variant(self, sweep_id: int, idx: int) -> str:
        """Run one variant job in a pool process; a variant of a sweep no longer running is
        not computed. A fault that would repeat puts the sweep in error; a transient one
        (database, a lost pool process) raises TransientError and the job runs again."""
        with self._counted():
            try:
                if not sweep_running(self.db, sweep_id):
                    return "skipped: the sweep is no longer running"
                written = self._compute(sweep_id, idx)
            except SQLAlchemyError as exc:
                raise TransientError(f"database unavailable ({type(exc).__name__})") from None
        return "written" if written else "not written: already there, or the sweep stopped"

    def _compute(self, sweep_id: int, idx: int) -> bool:
        pool = self._pool()
        try:
            return pool.submit(run_variant_job, self.url, sweep_id, idx).result()
        except BrokenProcessPool:
            with self.lock:
                if self.pool is pool:  # the next job starts a new one
                    self.pool = None
            pool.shutdown(wait=False)
            raise TransientError("a pool process ended; the variant runs again") from None
        except TransientError:
            raise
        except Exception as exc:
            fail_sweep(self.db, sweep_id, f"variant #{idx + 1}: {type(exc).__name__}: {exc}",
                       self.log)
            raise

    def _pool(self) -> ProcessPoolExecutor:
        with self.lock:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"),
                                                initializer=_end_with_parent,
                                                initargs=(os.getpid(),))
            return self.pool

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self.lock:
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                self.done += 1

    # ------------------------------------------------------------ the queue (JobQueue)

    def defer(self, s: Session, sweep_id: int, idxs: list[int]) -> None:
        """Queue a job per variant inside the caller's transaction (its psycopg connection):
        the jobs exist exactly when the sweep is running. A queueing lock per variant keeps a
        second job of it from waiting beside the first."""
        connection = s.connection().connection.driver_connection
        self.deferrer.batch_defer_jobs([Job(
            queue=QUEUE, task_name=TASK, lock=None, queueing_lock=f"sweep-{sweep_id}-{idx}",
            task_kwargs={"sweep_id": sweep_id, "idx": idx}) for idx in idxs],
            connection=connection)

    def cancel(self, sweep_id: int) -> int:
        """Drop the sweep's jobs still waiting; return how many."""
        return self._call(self._cancel(sweep_id))

    async def _cancel(self, sweep_id: int) -> int:
        manager = self.app.job_manager
        dropped = 0
        for job in await manager.list_jobs_async(queue=QUEUE, task=TASK, status="todo"):
            if job.task_kwargs.get("sweep_id") == sweep_id:
                dropped += await manager.cancel_job_by_id_async(job.id, delete_job=True)
        return dropped

    def retry_stalled(self) -> list[tuple[int, int]]:
        """Queue again the jobs of workers silent for STALLED_S (procrastinate's recipe for
        stalled jobs); return their (sweep id, variant index)."""
        return self._call(self._retry_stalled())

    async def _retry_stalled(self) -> list[tuple[int, int]]:
        manager = self.app.job_manager
        retried = []
        for job in await manager.get_stalled_jobs(queue=QUEUE, task_name=TASK,
                                                  seconds_since_heartbeat=STALLED_S):
            try:
                await manager.retry_job(job)
            except ConnectorException:
                continue  # another worker queued it again first
            retried.append((job.task_kwargs["sweep_id"], job.task_kwargs["idx"]))
        return retried

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a job-manager coroutine on the worker's loop and wait for its result."""
        if self.loop is None or not self.connected.is_set():
            coro.close()
            raise TransientError("the job queue is not connected")
        try:
            return asyncio.run_coroutine_threadsafe(coro, self.loop).result(CALL_TIMEOUT_S)
        except (ConnectorException, AppNotOpen, TimeoutError) as exc:
            raise TransientError(f"job queue unavailable ({one_line(exc)})") from None
