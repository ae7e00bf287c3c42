import math

import pandas as pd

from ui import format as fmt


def test_money_has_currency_and_thousands_separators():
    assert fmt.money(19273.66) == "$19,273.66"
    assert fmt.money(-1234567.891) == "-$1,234,567.89"
    assert fmt.money(None) == fmt.money(math.nan) == "—"


def test_pnl_is_signed_and_coloured():
    assert fmt.signed_money(1234.5) == "+$1,234.50"
    assert fmt.signed_money(-12) == "-$12.00"
    assert fmt.signed_money(0.001) == "$0.00"  # rounds to zero: no sign
    assert fmt.signed_pct(5.2657) == "+5.27%"
    assert fmt.pnl_hex(0) == fmt.FLAT_HEX
    assert fmt.pnl_hex(1e-12) == fmt.FLAT_HEX  # shown as $0.00: not green
    assert fmt.pnl_hex("+$3.00") == fmt.GAIN_HEX
    assert fmt.pnl_hex("-$3.00") == fmt.LOSS_HEX
    assert fmt.pnl_hex("—") == fmt.FLAT_HEX


def test_prices_get_the_decimals_their_size_needs():
    assert fmt.price(64123.5) == "$64,123.50"
    assert fmt.price(0.43125) == "$0.4313"


def test_ratios_wait_for_enough_trades():
    assert fmt.ratio(22.06, trades=1) == "—"
    assert fmt.ratio(22.06, trades=fmt.MIN_TRADES_FOR_RATIOS - 1) == "—"
    assert fmt.ratio(1.456, trades=fmt.MIN_TRADES_FOR_RATIOS) == "1.46"
    assert fmt.ratio(None, trades=100) == "—"
    assert fmt.ratio(math.inf, trades=100) == "∞"
    assert str(fmt.MIN_TRADES_FOR_RATIOS) in fmt.RATIO_HELP


def test_a_buy_realizes_nothing_and_sides_are_coloured():
    assert fmt.realized(0.0, "buy") == "—"
    assert fmt.realized(-5.0, "sell") == "-$5.00"

    styler = fmt.colour_sides(pd.DataFrame({"side": ["buy", "sell"]}).style)
    html = styler.to_html()
    assert fmt.SIDE_HEX["buy"] in html
    assert fmt.SIDE_HEX["sell"] in html
