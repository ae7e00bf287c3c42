"""The read API of the user's own market data: every imported dataset with its provenance, in
plain SQL (engine.store.plainsql): `data list` runs on the CLI's fast path."""

from typing import Any

from engine.market.catalog import DatasetInfo, dataset_info
from engine.store.plainsql import Sql, loaded, reading


def imported_datasets(source: Sql | Any) -> list[DatasetInfo]:
    """Called with an `Sql` (the CLI's own connection) or an SQLAlchemy engine."""
    with reading(source) as sql:
        rows = sql.records("SELECT * FROM imported_dataset ORDER BY symbol, timeframe")
    return [dataset_info(loaded(r, times=("first_ts", "last_ts", "imported_at"))) for r in rows]
