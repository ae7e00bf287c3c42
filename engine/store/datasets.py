"""The imported-datasets table (beside engine.store.models): one row per (symbol, timeframe)
the user imported, with its provenance. The bars themselves are rows of the bar table, as the
shipped datasets' are."""

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime, utcnow


class ImportedDataset(SQLModel, table=True):
    """A dataset imported with `data import` or the dashboard's upload."""

    __tablename__ = "imported_dataset"
    symbol: str = Field(primary_key=True, sa_type=String(32))
    timeframe: str = Field(primary_key=True, sa_type=String(8))
    asset_class: str = Field(sa_type=String(8), description="crypto, stock or fx")
    file_name: str = Field(sa_type=String(255), description="the file's name, as text only")
    sha256: str = Field(sa_type=String(64), description="of the file's bytes")
    rows: int = Field(description="bars stored")
    first_ts: datetime = Field(sa_type=UTCDateTime, description="first bar time")
    last_ts: datetime = Field(sa_type=UTCDateTime, description="last bar time")
    gaps: int = Field(default=0, description="gaps longer than the asset class's normal one")
    imported_by: str = Field(sa_type=String(64))
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
