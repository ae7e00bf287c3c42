"""Fill models: how honest a session's paper fills are, from frictionless to pessimistic.

A preset names values for every fill setting; a session stores the values it trades with (the
preset's, with any the user set overriding them) and the preset's name as a label.

| preset       | fee crypto/stocks | slippage | impact  | volume cap | latency | market price |
|--------------|-------------------|----------|---------|------------|---------|--------------|
| frictionless | 0 / 0 bps         | 0 bps    | 0 bps   | none       | 0 bars  | open         |
| realistic    | 10 / 0 bps        | 2 bps    | 50 bps  | 10 %       | 0 bars  | open         |
| pessimistic  | 60 / 5 bps        | 10 bps   | 100 bps | 2 %        | 1 bar   | worse of O/C |

Realistic: a major crypto exchange's base spot taker fee (0.10 %), a commission-free stock
broker, about half a spread of slippage on liquid markets, and at most a tenth of a bar's volume.
Pessimistic: an entry-tier taker fee (0.60 %, as on Coinbase Advanced) or a small per-trade
commission on stocks, a bar of delay, and the worse of the bar's open and close.
"""

from typing import Any

FILL_FIELDS = ("fee_bps", "slippage_bps", "impact_bps", "volume_cap_pct", "latency_bars",
               "fill_price", "cancel_after_bars")
PRESETS = ("frictionless", "realistic", "pessimistic")
DEFAULT_PRESET = "realistic"  # what a new session or sweep trades with unless it says
CUSTOM = "custom"  # flat fee and slippage only: what sessions before fill models traded with

_VALUES: dict[str, dict[str, Any]] = {
    "frictionless": {"fee_bps": (0.0, 0.0), "slippage_bps": 0.0, "impact_bps": 0.0,
                     "volume_cap_pct": None, "latency_bars": 0, "fill_price": "open"},
    "realistic": {"fee_bps": (10.0, 0.0), "slippage_bps": 2.0, "impact_bps": 50.0,
                  "volume_cap_pct": 10.0, "latency_bars": 0, "fill_price": "open"},
    "pessimistic": {"fee_bps": (60.0, 5.0), "slippage_bps": 10.0, "impact_bps": 100.0,
                    "volume_cap_pct": 2.0, "latency_bars": 1, "fill_price": "worse"},
    CUSTOM: {"fee_bps": (10.0, 10.0), "slippage_bps": 5.0, "impact_bps": 0.0,
             "volume_cap_pct": None, "latency_bars": 0, "fill_price": "open"},
}


def preset_values(name: str, asset_classes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Every fill setting of preset `name` for a session whose symbols are of `asset_classes`
    (the crypto fee when any symbol is crypto; stocks' and currency pairs' brokers charge the
    stocks column)."""
    values = dict(_VALUES[name])
    crypto, stocks = values["fee_bps"]
    values["fee_bps"] = crypto if "crypto" in asset_classes or not asset_classes else stocks
    return {**values, "cancel_after_bars": None}


def overridden(values: dict[str, Any], asset_classes: tuple[str, ...] | list[str]) -> list[str]:
    """The fill settings in `values` that differ from those of its preset (`fill_model`)."""
    if values["fill_model"] not in PRESETS:
        return []
    preset = preset_values(values["fill_model"], asset_classes)
    return [f for f in FILL_FIELDS if values[f] != preset[f]]


def priced_by(settings: Any, bps: float, share: float | None) -> str:
    """One line saying how a fill was priced: 'realistic: open, 2 bps + 0.6 bps impact (1.2 %
    of bar volume), fee 10 bps'."""
    parts = [f"{settings.fill_model}: {settings.fill_price}"]
    impact = bps - settings.slippage_bps
    slip = f"{settings.slippage_bps:g} bps"
    if share is not None and impact > 0:
        slip += f" + {impact:.2f} bps impact ({share * 100:.2f} % of bar volume)"
    parts.append(slip if bps else "no slippage")
    parts.append(f"fee {settings.fee_bps:g} bps")
    return ", ".join(parts)


def summary(values: Any) -> str:
    """The fill model in one line, e.g. 'realistic: fee 10 bps, slippage 2 bps + 50 bps × share
    of bar volume, at most 10 % of a bar's volume, no latency, market orders at the open'."""
    get = values.get if isinstance(values, dict) else lambda k: getattr(values, k)
    cap, latency, after = get("volume_cap_pct"), get("latency_bars"), get("cancel_after_bars")
    parts = [f"fee {get('fee_bps'):g} bps",
             f"slippage {get('slippage_bps'):g} bps"
             + (f" + {get('impact_bps'):g} bps × share of bar volume" if get("impact_bps")
                else ""),
             f"at most {cap:g} % of a bar's volume" if cap else "no volume cap",
             f"{latency} bar{'s' if latency != 1 else ''} latency" if latency else "no latency",
             "market orders at the worse of open and close" if get("fill_price") == "worse"
             else "market orders at the open"]
    if after:
        parts.append(f"unfilled rest cancelled after {after} bars")
    return f"{get('fill_model')}: " + ", ".join(parts)
