"""`python -m engine session robustness|report|export ID`: a session's Monte-Carlo, its
self-contained HTML report and its orders, fills and equity as files (the ORM path)."""

import importlib

from engine.cli.output import emit_json
from engine.errors import BadInput


def whole(text: str | None, flag: str, default: int) -> int:
    """An option's whole number, or `default` when it is not given."""
    if text is None:
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise BadInput(f"{flag} must be a whole number (got {text!r})") from None


def _pct(value: float) -> str:
    return f"{value * 100:+.2f}%"


def robustness(db, args) -> None:
    """Bootstrap the session's closed trades; print percentiles of the final return and max
    drawdown and the probability of ending below the start."""
    reads = importlib.import_module("engine.reads.robustness")
    mc = reads.monte_carlo(db, args.id, n=whole(args.n, "--n", reads.DEFAULT_PATHS),
                           seed=whole(args.seed, "--seed", reads.DEFAULT_SEED))
    if args.json:
        emit_json(mc.summary())
        return
    r = mc.result
    print(f"session {mc.session_id}: {r.n:,} paths of {r.trades} closed trades resampled "
          f"(seed {r.seed})")
    if r.final_return is None:
        print("no closed trades: nothing to resample")
        return
    for label, p in (("final return", r.final_return), ("max drawdown", r.max_drawdown)):
        sign = _pct if label == "final return" else (lambda v: f"{v * 100:.2f}%")
        print(f"{label:<13} 5th {sign(p.p5)}  median {sign(p.p50)}  95th {sign(p.p95)}")
    print(f"probability of ending below the start: {r.probability_below_start * 100:.1f}%")


def report(db, args) -> None:
    """Write the session's self-contained HTML report to --out."""
    if not args.out:
        raise BadInput("session report needs --out FILE")
    module = importlib.import_module("engine.reads.report.session")
    path = module.write_session_report(db, args.id, args.out)
    print(path)


def export(db, args) -> None:
    """Write the session's orders, fills and equity to --out as CSV or Parquet files."""
    if not args.out:
        raise BadInput("session export needs --out DIR")
    module = importlib.import_module("engine.reads.export")
    for path in module.export_session(db, args.id, args.export_format or "csv", args.out):
        print(path)


SESSION_COMMANDS = {"robustness": robustness, "report": report, "export": export}
