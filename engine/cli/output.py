"""How `python -m engine` prints: JSON documents, records, tables and the status report."""

import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from engine.errors import single_line


def _clean(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _clean(asdict(value))
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if type(value).__name__ == "NaTType":  # pandas' missing time
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def emit_json(value: Any) -> None:
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame):
        value = value.to_dict("records")
    print(json.dumps(_clean(value), indent=2))


def show_status(report: dict, as_json: bool) -> None:
    """Print `status`: the system summary as engine.reads.status.as_dict gives it."""
    if as_json:
        emit_json(report)
        return
    engine = report["engine"]
    state = (f"online ({engine['holder']}, heartbeat {engine['age_s']:.1f}s ago)"
             if engine["online"] else "offline — commands stay queued until it returns")
    print(f"system:   {report['status']}")
    print(f"engine:   {state}")
    print(f"agents:   {', '.join(f'{k} {v}' for k, v in report['agents'].items()) or 'none'}")
    print(f"sessions: {', '.join(f'{k} {v}' for k, v in report['sessions'].items()) or 'none'}")
    print(f"fills in the last hour: {report['fills_last_hour']:,} (sweeps' backtests: "
          f"{report['sweep_fills_last_hour']:,} more); pending orders: "
          f"{report['pending_orders']:,}; queued commands: {report['pending_commands']:,}")


MONEY_KEYS = ("starting_cash", "cash", "equity", "market_value", "avg_price", "last_price",
              "fees_paid")  # quote currency (US dollars: every shipped dataset)


def shown_value(key: str, value: Any) -> str:
    """A document's value as the dashboard shows it: money as -$1,234.50, percentages as
    +1.25%, other numbers with separators and no float noise; lists and mappings item by
    item."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {shown_value(k, v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return "; ".join(shown_value(key, v) for v in value) or "—"
    if isinstance(value, bool) or not isinstance(value, int | float) or key == "id" \
            or key.endswith("_id"):  # an id is typed back into commands as it is
        return "—" if value is None else str(value)
    if key in MONEY_KEYS or key.endswith("_pnl"):
        return f"{'-' if value < 0 else ''}${abs(value):,.2f}"
    if key.endswith("_pct"):
        return f"{value:+.2f}%"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"


def show_record(record, as_json: bool) -> None:
    """Print a typed record of engine.reads: a JSON document, or a line per field."""
    if as_json:
        emit_json(record)
        return
    fields = asdict(record)
    if "condition" in fields:  # an agent or a session: its word first, as the dashboard shows it
        word = fields.pop("condition")
        fields = {"status": word, "lifecycle_status": fields.pop("status"), **fields}
    for key, value in fields.items():
        print(f"{key}: {shown_value(key, value)}")


def _cell(value: Any) -> str:
    """A table's cell: a fraction with separators and two decimals, a whole number as it is,
    anything else on one line; nothing (or not a number) as —."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return single_line(str(value))


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """`columns` of `rows` as a text table, every column right-aligned under its name, or
    (none)."""
    if not rows:
        return "(none)"
    cells = [list(columns), *([_cell(row[c]) for c in columns] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True))
                     for line in cells)


def _figure(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def odds_text(odds) -> str:
    """A sweep's overfitting odds (engine.reads.overfitting.OverfittingOdds) as lines."""
    lines = [f"overfitting odds over {odds.variants} variants × {odds.bars:,} bar returns: "
             f"PBO {_figure(odds.pbo)}"
             + (f" ({odds.n_combinations:,} combinations of {odds.n_splits} blocks)"
                if odds.pbo is not None else "")
             + f"; deflated Sharpe of the winner {_figure(odds.deflated_sharpe)}"
             + (f" (session {odds.winner_session_id}: Sharpe {odds.winner_sharpe:.4f} a bar "
                f"vs {odds.expected_max_sharpe:.4f} expected from luck)"
                if odds.deflated_sharpe is not None else "")]
    if odds.reason:
        lines.append(f"  {odds.reason}")
    lines.append(f"  {odds.meaning}")
    return "\n".join(lines)
