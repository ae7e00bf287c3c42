"""A session's orders, fills and equity as files (CSV or Parquet) for tools outside PaperDesk.

fills holds the rows of `session trades` (every fill with its order's reason and lineage,
oldest first; lineage as JSON text), orders every order, equity every bar snapshot. Times are
UTC: bar times are market time, `time`/`created_at`/`closed_at` when PaperDesk wrote them."""

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select
from sqlmodel import Session

from engine.errors import BadInput
from engine.params import session_key
from engine.reads.queries import equity_curve, trades
from engine.store.models import Order

FORMATS = ("csv", "parquet")
ORDER_COLUMNS = ("id", "seq", "symbol", "side", "order_type", "qty", "filled_qty",
                 "limit_price", "stop_price", "status", "decision_bar_ts", "created_at",
                 "closed_at", "reason", "lineage", "origin", "requested_by")


def _orders(db: Engine, key: int) -> pd.DataFrame:
    with Session(db) as s:
        rows = s.execute(select(*(getattr(Order, c) for c in ORDER_COLUMNS))
                         .where(Order.session_id == key).order_by(Order.id)).all()
    frame = pd.DataFrame(rows, columns=list(ORDER_COLUMNS))
    frame["lineage"] = frame["lineage"].map(json.dumps)
    return frame


def session_tables(db: Engine, session_id) -> dict[str, pd.DataFrame]:
    """The session's orders, fills and equity, oldest first (NotFound for no session)."""
    key = session_key(session_id)
    fills = trades(db, key, limit=None).iloc[::-1].reset_index(drop=True)
    fills["lineage"] = fills["lineage"].map(json.dumps)
    equity = equity_curve(db, key, limit=None)[["ts", "cash", "equity"]]
    return {"orders": _orders(db, key), "fills": fills, "equity": equity}


def export_session(db: Engine, session_id, fmt: str, out: str) -> list[Path]:
    """Write orders, fills and equity of a session into the folder `out` (made when its
    parent exists) as `fmt` files; return their paths."""
    fmt = str(fmt).strip().lower()
    if fmt not in FORMATS:
        raise BadInput(f"format must be {' or '.join(FORMATS)} (got {fmt!r})")
    folder = Path(out).expanduser()
    if not folder.parent.is_dir():
        raise BadInput(f"out: folder {str(folder.parent)!r} does not exist")
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"out: {str(folder)!r} is a file, not a folder")
    tables = session_tables(db, session_id)
    folder.mkdir(exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        paths.append(path)
    return paths
