"""Check a new-session spec field by field with the engine's own parsers, writing nothing, so
the form can show every problem at once next to its field. engine.control.actions checks it all
again when the session is created."""

from collections.abc import Callable
from typing import Any

from engine.control.session_spec import (
    FILL_FIELDS,
    FILL_MODEL,
    SESSION_FIELDS,
    parse_name,
    parse_symbols,
)
from engine.control.windows import SOURCES, parse_speed, replay_window
from engine.core.strategies import STRATEGIES
from engine.core.strategy_api import Strategy
from engine.errors import BadInput
from engine.registry import strategies

PARAMS = "params"  # the key of an error about the strategy's parameters together
SENTIMENT = SESSION_FIELDS["sentiment"]  # the strategy's sentiment input: its choices and help
SENTIMENT_LABELS = {"news": "stored news (headline scores)",
                    "price-mood": "price mood (its own closes)", "none": "none"}


def sentiment_select(where: Any, key: str) -> None:
    """The sentiment input a session (or every variant of a sweep) trades with."""
    where.selectbox("Sentiment input", SENTIMENT.choices, key=key,
                    index=SENTIMENT.choices.index(SENTIMENT.default),
                    format_func=lambda v: SENTIMENT_LABELS.get(v, v),
                    help=f"{SENTIMENT.help.capitalize()}. News: the mean of the symbol's "
                         "headline scores published in the 24 h before each bar's close "
                         "(python -m engine news import, or the sentiment agent's feeds).")


def offered_strategies() -> dict[str, type[Strategy]]:
    """Every strategy the forms offer: the built-ins and the operator's files as they are now
    (PAPERDESK_HOME/strategies, scanned again when a file changes)."""
    strategies.current()
    return dict(STRATEGIES)


def _check(errors: dict[str, str], field: str, check: Callable[[], Any]) -> Any:
    """Run one check; on BadInput record its message under `field` and return None."""
    try:
        return check()
    except BadInput as exc:
        errors[field] = str(exc)
        return None


def check_params(errors: dict[str, str], strategy: str, given: dict[str, Any]) -> None:
    """Record under `param_NAME` each parameter the strategy's own parser refuses, then under
    PARAMS what its checks across parameters refuse (e.g. fast below slow)."""
    cls = _check(errors, "strategy", lambda: strategies.lookup(strategy))
    if cls is None:
        return
    bad = False
    for pname, raw in given.items():
        bad |= _check(errors, f"param_{pname}",
                      lambda p=cls.params[pname], r=raw: p.parse(r, "param ")) is None
    if not bad:  # the strategy's own checks across parameters (e.g. fast below slow)
        _check(errors, PARAMS, lambda: cls.validate(given))


def _window_field(message: str) -> str:
    """The clock field a replay_window message names ("from: …", "to: …", "symbols: …")."""
    head = message.split(":", 1)[0]
    return head if head in ("from", "to", "symbols") else "from"


def _clock(errors: dict[str, str], spec: dict[str, Any], symbols: list[str] | None) -> None:
    source = spec.get("source", "replay")
    if source not in SOURCES:
        errors["source"] = f"source must be one of {', '.join(SOURCES)}"
        return
    if source == "live":
        return
    _check(errors, "speed", lambda: parse_speed(spec.get("speed") or "1"))
    if symbols:
        try:
            replay_window(symbols, spec["timeframe"], spec.get("from"), spec.get("to"))
        except BadInput as exc:
            errors[_window_field(str(exc))] = str(exc)


def field_errors(spec: dict[str, Any], available: list[str]) -> dict[str, str]:
    """Every bad field of a form's spec: {field: message}; empty when all pass."""
    errors: dict[str, str] = {}
    _check(errors, "name", lambda: parse_name(spec.get("name")))
    symbols = _check(errors, "symbols", lambda: parse_symbols(spec.get("symbols") or [], available))
    check_params(errors, spec.get("strategy", ""), dict(spec.get("params") or {}))
    for field, param in SESSION_FIELDS.items():
        preset = field in FILL_FIELDS and spec.get(field) is None  # blank: the preset's value
        if field in spec and not preset:
            _check(errors, field, lambda p=param, r=spec[field]: p.parse(r))
    if "fill_model" in spec:
        _check(errors, "fill_model", lambda: FILL_MODEL.parse(spec["fill_model"]))
    _clock(errors, spec, symbols)
    return errors
