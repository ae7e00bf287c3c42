"""The walk-forward table (beside engine.store.models, which holds every other table): the folds
of a walk-forward sweep."""

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime


class WalkForwardFold(SQLModel, table=True):
    """One fold of a walk-forward sweep: its windows, the variant chosen on its train bars and
    the completed session that traded it on its test bars."""

    __tablename__ = "walk_forward_fold"
    sweep_id: int = Field(primary_key=True, foreign_key="sweep.id")
    idx: int = Field(primary_key=True, description="the fold's place, 0, 1, 2…")
    train_from: datetime = Field(sa_type=UTCDateTime, description="first train bar")
    train_to: datetime = Field(sa_type=UTCDateTime, description="last train bar")
    test_from: datetime = Field(sa_type=UTCDateTime, description="first test bar")
    test_to: datetime = Field(sa_type=UTCDateTime, description="last test bar")
    train_bars: int
    test_bars: int
    variant_idx: int = Field(description="the variant chosen on the train bars")
    values: dict = Field(default_factory=dict, sa_type=JSON, description="its grid values")
    in_sample_score: float | None = Field(default=None, description="its objective, train bars")
    in_sample_pct: float = Field(description="its return on the train bars")
    out_sample_pct: float = Field(description="the fold session's return on the test bars")
    session_id: int = Field(foreign_key="paper_session.id", description="the test run")
