"""Numbers as PaperDesk shows them, formatted once: money, signed and coloured P&L, percentages,
sides, and ratios that say "—" until they mean something. Plain functions over values and
DataFrames; no `st.` calls."""

import math
import re

from engine.errors import single_line
from engine.reads.colours import GREEN, GREY, RED

CURRENCY = "$"  # every shipped dataset is quoted in US dollars
CURRENCY_CODE = "USD"  # the same, for axis titles
DASH = "—"
GAIN_HEX, LOSS_HEX, FLAT_HEX = GREEN, RED, GREY
SIDE_HEX = {"buy": GREEN, "sell": RED}
# Sharpe and profit factor of a handful of trades are noise (Sharpe 22 after one trade):
# they are shown from this many fills on.
MIN_TRADES_FOR_RATIOS = 10
RATIO_HELP = (f"shown from {MIN_TRADES_FOR_RATIOS} trades on; with fewer it says nothing "
              "about the strategy")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, decimals: int = 2) -> str:
    """$19,273.66 — thousands separators, the currency, a minus sign before it."""
    if _missing(value):
        return DASH
    sign = "-" if value < 0 else ""
    return f"{sign}{CURRENCY}{abs(value):,.{decimals}f}"


def signed_money(value: float | None, decimals: int = 2) -> str:
    """+$1,234.50 / -$12.00 / $0.00: P&L always says which way it went."""
    if _missing(value):
        return DASH
    if round(value, decimals) == 0:
        return money(0.0, decimals)
    return ("+" if value > 0 else "-") + money(abs(value), decimals)


def signed_pct(value: float | None, decimals: int = 2) -> str:
    if _missing(value):
        return DASH
    return f"{value:+.{decimals}f}%"


def pct(value: float | None, decimals: int = 2) -> str:
    """12.34% — a share, which has no direction (P&L in % is signed_pct)."""
    if _missing(value):
        return DASH
    return f"{value:.{decimals}f}%"


def price(value: float | None) -> str:
    """A price with the decimals its size needs: 64,123.50 · 182.31 · 0.4312."""
    if _missing(value):
        return DASH
    decimals = 2 if abs(value) >= 1 else 4
    return money(value, decimals)


def pnl_hex(value: float | str | None) -> str:
    """Green gain, red loss, grey flat; a formatted figure ("+$3.00") by its sign."""
    if isinstance(value, str):
        return {"+": GAIN_HEX, "-": LOSS_HEX}.get(value[:1], FLAT_HEX)
    return {"up": GAIN_HEX, "down": LOSS_HEX, "flat": FLAT_HEX}[direction(value)]


def direction(value: float | None) -> str:
    """up, down or flat — flat when it rounds to zero cents (no sign, no colour)."""
    if _missing(value) or round(value, 2) == 0:
        return "flat"
    return "up" if value > 0 else "down"


def ratio(value: float | None, trades: int, decimals: int = 2) -> str:
    """Sharpe or profit factor: "—" while there are too few trades for it to mean anything."""
    if _missing(value) or trades < MIN_TRADES_FOR_RATIOS:
        return DASH
    if math.isinf(value):
        return "∞"
    return f"{value:,.{decimals}f}"


def realized(value: float | None, side: str) -> str:
    """A fill's realized P&L: a buy realizes nothing, so it says "—" rather than "0"."""
    return DASH if side == "buy" else signed_money(value)


def colour_pnl(styler, columns: list[str]):
    """Colour the P&L columns of a pandas Styler by sign."""
    present = [c for c in columns if c in styler.data.columns]
    return styler.map(lambda v: f"color: {pnl_hex(v)}; font-weight: 600", subset=present)


def colour_sides(styler, column: str = "side"):
    if column not in styler.data.columns:
        return styler
    return styler.map(lambda v: f"color: {SIDE_HEX.get(v, 'inherit')}; font-weight: 600",
                      subset=[column])


def colour_status(styler, column: str, hex_by_status: dict[str, str]):
    """Colour a status column ("● running") like its badge."""
    if column not in styler.data.columns:
        return styler

    def css(value) -> str:
        status = str(value).removeprefix("● ")
        return f"color: {hex_by_status.get(status, FLAT_HEX)}; font-weight: 600"

    return styler.map(css, subset=[column])


_ACTIVE = str.maketrans({c: f"\\{c}" for c in "\\*`[]$<~"})  # links, math, bold…
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")  # :red[…], :material/icon:, :emoji: shortcodes
_BLOCK = re.compile(r"^(\s*\d*)([#>+=.)-])")  # a heading, quote or list at the line's start


# A bare URL or address becomes a link even escaped: a word joiner (invisible) breaks it.
_AUTOLINK = re.compile(r"(://|www\.|@)", re.IGNORECASE)
JOINER = "\u2060"


def literal(text: object) -> str:
    """`text` (a name, a message, an error the engine or a user wrote) as Markdown that shows
    it as written: one line (engine.errors.single_line), and nothing in it that Streamlit's
    Markdown would turn into a link, a colour, a formula, bold, a heading or a list."""
    escaped = _DIRECTIVE.sub(r"\:", _BLOCK.sub(r"\1\\\2", single_line(text).translate(_ACTIVE),
                                                count=1))
    return _AUTOLINK.sub(lambda m: m[0][0] + JOINER + m[0][1:], escaped)
