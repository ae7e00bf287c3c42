from datetime import date

from ui.form_check import PARAMS, field_errors

GOOD = {"name": "ok", "symbols": ["BTC-USD"], "strategy": "ma_crossover", "timeframe": "1h",
        "params": {"fast": "5", "slow": "20"}, "source": "replay", "speed": "max",
        "cash": 1000.0, "fee_bps": 10.0, "from": None, "to": None}


def test_a_good_spec_has_no_errors():
    assert field_errors(GOOD, ["BTC-USD"]) == {}


def test_every_bad_field_is_named_at_once():
    bad = {**GOOD, "name": " ", "cash": 0, "speed": "fast", "params": {"fast": "x"},
           "from": date(2010, 1, 1)}
    errors = field_errors(bad, ["BTC-USD"])
    assert set(errors) == {"name", "cash", "speed", "param_fast", "from"}
    assert errors["cash"].startswith("cash must be at least 1")


def test_parameters_are_checked_together_once_each_passes():
    errors = field_errors({**GOOD, "params": {"fast": "30", "slow": "20"}}, ["BTC-USD"])
    assert set(errors) == {PARAMS}


def test_an_unknown_symbol_skips_the_window_check():
    assert set(field_errors({**GOOD, "symbols": []}, ["BTC-USD"])) == {"symbols"}
