"""The worker and lease tables (beside engine.store.models): the engine processes sharing the
work on PostgreSQL and who owns each running session and dataset."""

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from engine.store.models import time_field
from engine.store.types import UTCDateTime


class EngineWorker(SQLModel, table=True):
    """One engine process sharing the work on PostgreSQL; its heartbeat says it is alive."""

    __tablename__ = "engine_worker"
    id: str = Field(primary_key=True, sa_type=String(64), description="random per process")
    hostname: str = Field(sa_type=String(200))
    pid: int
    started_at: datetime = time_field()
    heartbeat_at: datetime = time_field()
    released: bool = Field(default=False, description="stopped cleanly")
    offline_reported: bool = Field(default=False, description="its offline alert was raised")
    sessions_owned: int = 0
    datasets_owned: int = 0
    tick_p95_ms: float | None = Field(default=None, description="sum of its agents' tick p95s")
    cpu_pct: float = 0.0
    rss_mb: float = 0.0
    jobs_running: int = Field(default=0, description="job-queue jobs it runs now (sweep variants)")
    jobs_done: int = Field(default=0, description="job-queue jobs it has finished since it started")


class LeaseBase(SQLModel):
    """Who owns a piece of work: a worker, for as long as that worker's heartbeat is fresh."""

    worker_id: str | None = Field(default=None, sa_type=String(64), index=True)
    epoch: int = Field(default=0, description="fencing token: +1 at every claim")
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SessionLease(LeaseBase, table=True):
    """The worker that trades a running session (PostgreSQL workers)."""

    __tablename__ = "session_lease"
    session_id: int = Field(primary_key=True, foreign_key="paper_session.id")
    takeovers: int = Field(default=0, description="times a dead worker's lease was taken")
    downtime_s: float = Field(default=0.0, description="seconds without a live owner, summed")


class DatasetLease(LeaseBase, table=True):
    """The worker that writes a dataset's bars (market data written once)."""

    __tablename__ = "dataset_lease"
    symbol: str = Field(primary_key=True, sa_type=String(32))
    timeframe: str = Field(primary_key=True, sa_type=String(8))
