"""Typed, bounded parameters for agent configs and strategies, parsed with clear errors."""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import BadInput, NotFound, shown, single_line

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def bound_text(value: float) -> str:
    """A bound as people read it: 1,000,000,000 · 0.001 · 99."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Param:
    """One setting: its type, default, bounds or choices, and a line of help."""

    name: str
    kind: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    check: Callable[[Any, str], None] | None = None
    blank: bool = True  # an empty value is allowed (and not checked)
    max_len: int = 2000  # characters of a text value

    def parse(self, raw: Any, where: str = "") -> Any:
        """Convert `raw` (a string from a form or CLI, or a value) and check its bounds."""
        field = f"{where}{self.name}"
        value = self._convert(raw, field)
        if self.choices and value not in self.choices:
            raise BadInput(f"{field} must be one of {', '.join(self.choices)} (got {shown(raw)})")
        if self.low is not None and value < self.low:
            raise BadInput(f"{field} must be at least {bound_text(self.low)} "
                           f"(got {shown(raw)})")
        if self.high is not None and value > self.high:
            raise BadInput(f"{field} must be at most {bound_text(self.high)} "
                           f"(got {shown(raw)})")
        if value in ("", None):
            if not self.blank:
                raise BadInput(f"{field} must not be empty")
        elif self.check:
            self.check(value, field)
        return value

    def _convert(self, raw: Any, field: str) -> Any:
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in TRUE or text in FALSE:
                return text in TRUE
            raise BadInput(f"{field} must be true or false (got {shown(raw)})")
        if self.kind is str:
            return text_value(raw, field, self.max_len)
        what = "whole number" if self.kind is int else "number"
        try:
            value = self.kind(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError, OverflowError):
            raise BadInput(f"{field} must be a {what} (got {shown(raw)})") from None
        if self.kind is float and not math.isfinite(value):  # NaN, inf, 1e999
            finite = "" if math.isnan(value) else "finite "
            raise BadInput(f"{field} must be a {finite}number (got {shown(raw)})")
        if self.kind is int and isinstance(raw, float) and raw != value:
            raise BadInput(f"{field} must be a whole number (got {shown(raw)})")
        return value


def text_value(raw: Any, field: str, max_len: int = 2000) -> str:
    """A text setting: one line of printable characters (no line breaks, tabs, NUL or other
    control characters: it reaches logs, events and pages), at most `max_len` long."""
    if isinstance(raw, bytes | bytearray) or not isinstance(raw, str | int | float):
        raise BadInput(f"{field} must be text (got {type(raw).__name__})")
    text = str(raw).strip()
    if not text.isprintable():
        raise BadInput(f"{field} must be one line of printable text (no line breaks, tabs or "
                       f"control characters; got {shown(text)})")
    if len(text) > max_len:
        raise BadInput(f"{field} must be at most {max_len} characters (got {len(text)})")
    return text


def mapping(raw: Any, field: str) -> dict[str, Any]:
    """A mapping of names to values given through the API (a dict, not "fast=3")."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise BadInput(f"{field} must be a mapping of names to values such as {{'fast': 5}} "
                       f"(got {shown(raw)})")
    bad = [k for k in raw if not isinstance(k, str)]
    if bad:
        raise BadInput(f"{field}: every name must be text (got {shown(bad[0])})")
    return dict(raw)


def whole(raw: Any, field: str, low: int, high: int) -> int:
    """A whole number in [low, high] (a count, a limit); a bool or a fraction is refused."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise BadInput(f"{field} must be a whole number (got {shown(raw)})")
    try:
        value = int(raw.strip() if isinstance(raw, str) else raw)
    except ValueError:
        raise BadInput(f"{field} must be a whole number (got {shown(raw)})") from None
    if not low <= value <= high:
        raise BadInput(f"{field} must be between {low} and {high} (got {shown(raw)})")
    return value


def client_key(client: Any) -> str:
    """The stored name of a browser client (an address from a header a proxy may forge): its
    first 200 characters as one line."""
    if not isinstance(client, str):
        raise BadInput(f"client must be text (got {type(client).__name__})")
    return single_line(client)[:200]


def actor(by: Any) -> str:
    """Who acts (a user, "cli", "dashboard"): 1 to 100 characters of one printable line."""
    if not isinstance(by, str):
        raise BadInput(f"by must name who acts (got {shown(by)})")
    name = text_value(by, "by", 100)
    if not name:
        raise BadInput("by must name who acts (1 to 100 characters)")
    return name


def parse_params(
    specs: dict[str, Param], given: dict[str, Any], where: str = "", partial: bool = False
) -> dict[str, Any]:
    """Validate `given` against `specs`; fill defaults unless `partial` (an update)."""
    given = mapping(given, where.strip() or "parameters")
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise BadInput(
            f"unknown {where or 'parameter '}{unknown[0]!r}; known: {', '.join(specs) or 'none'}"
        )
    parsed = {} if partial else {name: spec.default for name, spec in specs.items()}
    for name, raw in given.items():
        parsed[name] = specs[name].parse(raw, where)
    return parsed


def parse_assignments(pairs: list[str], what: str = "KEY=VALUE") -> dict[str, str]:
    """Split CLI `KEY=VALUE` words into a dict, rejecting malformed ones by name."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"{what} expected, got {shown(pair)}")
        out[key.strip()] = value.strip()
    return out


MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds (the migrations' ids; PostgreSQL
# refuses a larger one in a query instead of finding no row)


def record_id(value: Any, kind: str) -> int:
    """An id of a `kind` row (session, sweep…) as the database can look it up: a whole number
    in range (BadInput otherwise; NotFound for one that no row can have)."""
    try:
        key = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadInput(f"{kind} id must be a whole number (got {shown(value)})") from None
    if not 1 <= key <= MAX_ID:
        raise NotFound(f"no {kind} {key}")
    return key


def session_key(session_id: Any) -> int:
    return record_id(session_id, "session")


def sweep_key(sweep_id: Any) -> int:
    return record_id(sweep_id, "sweep")


def agent_key(agent_id: Any) -> str:
    """An agent id as the database can look it up: text of one line, at most 64 characters
    (NotFound otherwise: no agent can have it; PostgreSQL refuses a NUL in a query)."""
    if not isinstance(agent_id, str) or not 1 <= len(agent_id) <= 64 \
            or not agent_id.isprintable():
        raise NotFound(f"no agent {shown(agent_id)}")
    return agent_id


def optional_text(raw: Any, field: str, max_len: int) -> str | None:
    """A filter's text (a source, a search): None or empty for none, else one printable line."""
    if raw is None or raw == "":
        return None
    return text_value(raw, field, max_len) or None
