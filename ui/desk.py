"""The desk: money across sessions, summed from the per-session figures
engine.reads.queries.sessions
reads (P&L, realized and unrealized come from there), exposure per symbol and daily P&L
(engine.reads.desk) as shown. No `st.` calls."""

from dataclasses import dataclass

import pandas as pd

from ui.format import (
    CURRENCY_CODE,
    colour_pnl,
    colour_status,
    money,
    pct,
    signed_money,
    signed_pct,
)


@dataclass(frozen=True)
class Totals:
    sessions: int
    starting_cash: float
    equity: float
    pnl: float
    realized: float
    unrealized: float

    @property
    def return_pct(self) -> float | None:
        return self.pnl / self.starting_cash * 100 if self.starting_cash else None


def totals(sessions: pd.DataFrame) -> Totals:
    """Sums over the sessions shown (created sessions count with their cash, at zero P&L)."""
    if sessions.empty:
        return Totals(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return Totals(len(sessions), float(sessions["starting_cash"].sum()),
                  float(sessions["equity"].sum()), float(sessions["pnl"].sum()),
                  float(sessions["realized_pnl"].sum()),
                  float(sessions["unrealized_pnl"].sum()))


CHAR_PX, CELL_PAD_PX = 8, 24  # a table digit's width and a cell's padding, in pixels


def pnl_px(view: pd.DataFrame, least: int = 90) -> int:
    """A P&L column wide enough for its longest value as shown (sign and currency
    included), at least `least` pixels."""
    widest = max((len(signed_money(v)) for v in view["P&L"]), default=0)
    return max(least, widest * CHAR_PX + CELL_PAD_PX)


def table(sessions: pd.DataFrame) -> pd.DataFrame:
    """`sessions`' rows as the desk shows them: key columns first (status and P&L fit on a
    phone)."""
    return pd.DataFrame({
        "id": sessions["id"], "name": sessions["name"],
        "status": "● " + sessions["condition"], "P&L": sessions["pnl"],
        "P&L %": sessions["return_pct"], "equity": sessions["equity"],
        "realized": sessions["realized_pnl"],
        "unrealized": sessions["unrealized_pnl"],
        "trades": sessions["trade_count"], "strategy": sessions["strategy"],
        "symbols": sessions["symbols"],
    })


def styled(view: pd.DataFrame, status_hex: dict[str, str]):
    """`table` as shown: money with separators, signed coloured P&L, coloured status."""
    styler = view.style.format({
        "P&L": signed_money, "P&L %": signed_pct, "equity": money, "realized": signed_money,
        "unrealized": signed_money})
    styler = colour_pnl(styler, ["P&L", "P&L %", "realized", "unrealized"])
    return colour_status(styler, "status", status_hex)


EXPOSURE = {"symbol": "symbol", "qty": "net quantity (units)",
            "market_value": f"market value ({CURRENCY_CODE})",
            "equity_pct": "share of equity (%)",
            "unrealized_pnl": f"unrealized P&L ({CURRENCY_CODE})", "sessions": "sessions"}


def exposure_table(symbols: pd.DataFrame):
    """engine.reads.desk.exposure's rows as shown: labelled columns with units, money with
    separators, signed coloured unrealized P&L."""
    view = symbols[list(EXPOSURE)].rename(columns=EXPOSURE)
    styler = view.style.format({
        EXPOSURE["qty"]: "{:,.8g}".format, EXPOSURE["market_value"]: money,
        EXPOSURE["equity_pct"]: pct, EXPOSURE["unrealized_pnl"]: signed_money})
    return colour_pnl(styler, [EXPOSURE["unrealized_pnl"]])


def by_session(daily: pd.DataFrame) -> list[tuple[int, str, pd.DataFrame]]:
    """engine.reads.desk.daily_pnl's rows per session, newest session first: (id, "#id name",
    its days' day, pnl and equity)."""
    return [(int(sid), str(rows["session"].iloc[0]), rows[["day", "pnl", "equity"]])
            for sid, rows in daily.groupby("session_id", sort=False)]
