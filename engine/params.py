"""Typed, bounded parameters for agent configs and strategies, parsed with clear errors."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import BadInput, NotFound

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


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

    def parse(self, raw: Any, where: str = "") -> Any:
        """Convert `raw` (a string from a form or CLI, or a value) and check its bounds."""
        field = f"{where}{self.name}"
        value = self._convert(raw, field)
        if self.choices and value not in self.choices:
            raise BadInput(f"{field} must be one of {', '.join(self.choices)} (got {raw!r})")
        if self.low is not None and value < self.low:
            raise BadInput(f"{field} must be at least {self.low:g} (got {raw!r})")
        if self.high is not None and value > self.high:
            raise BadInput(f"{field} must be at most {self.high:g} (got {raw!r})")
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
            raise BadInput(f"{field} must be true or false (got {raw!r})")
        if self.kind is str:
            return str(raw).strip()
        try:
            value = self.kind(raw)
        except (TypeError, ValueError):
            what = "whole number" if self.kind is int else "number"
            raise BadInput(f"{field} must be a {what} (got {raw!r})") from None
        if self.kind is float and value != value:  # NaN
            raise BadInput(f"{field} must be a number (got {raw!r})")
        if self.kind is int and isinstance(raw, float) and raw != int(raw):
            raise BadInput(f"{field} must be a whole number (got {raw!r})")
        return value


def parse_params(
    specs: dict[str, Param], given: dict[str, Any], where: str = "", partial: bool = False
) -> dict[str, Any]:
    """Validate `given` against `specs`; fill defaults unless `partial` (an update)."""
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
            raise BadInput(f"{what} expected, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


MAX_ID = 2**63 - 1  # the largest id a BIGINT holds


def record_id(value: Any, kind: str) -> int:
    """An id of a `kind` row (session, sweep…) as the database can look it up: a whole number
    in range (BadInput otherwise; NotFound for one that no row can have)."""
    try:
        key = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadInput(f"{kind} id must be a whole number (got {value!r})") from None
    if not 1 <= key <= MAX_ID:
        raise NotFound(f"no {kind} {key}")
    return key


def session_key(session_id: Any) -> int:
    return record_id(session_id, "session")


def sweep_key(sweep_id: Any) -> int:
    return record_id(sweep_id, "sweep")
