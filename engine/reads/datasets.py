"""The read API of the user's own market data: every imported dataset with its provenance."""

from sqlalchemy import Engine, select

from engine.market.imports import DatasetInfo, dataset_info
from engine.store.datasets import ImportedDataset
from engine.store.db import session_scope


def imported_datasets(db: Engine) -> list[DatasetInfo]:
    with session_scope(db) as s:
        rows = s.execute(select(ImportedDataset).order_by(ImportedDataset.symbol,
                                                          ImportedDataset.timeframe)).scalars()
        return [dataset_info(r) for r in rows]
