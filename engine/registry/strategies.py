"""The strategies a session may name: the built-ins and the operator's own files.

An operator puts strategy files in `PAPERDESK_HOME/strategies/` (the dashboard never uploads
code). Each `*.py` there is imported as its own module; every `Strategy` subclass it defines is
checked against the API (engine.core.strategy_api) and registered under its `name`. A file that
fails to import or breaks the contract becomes one `Problem` line naming the file, the line and
the cause; the other files load as usual. A process scans the folder once (`scan`), and again
when its files change (`current`: the CLI and the dashboard) or on request (`reload`: the engine,
on start and on `python -m engine strategies reload`), so a running session keeps the code it
was loaded with until it is loaded again.
"""

import hashlib
import importlib.util
import re
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from engine.config import load_settings
from engine.core.strategies import STRATEGIES, strategy_class
from engine.core.strategy_api import Strategy, check_strategy_class
from engine.errors import BadInput, PaperDeskError, single_line

FOLDER = "strategies"  # under PAPERDESK_HOME
MODULE_PREFIX = "paperdesk_strategies."  # user modules live apart from the engine's
BUILTIN = "built-in"


@dataclass(frozen=True)
class Source:
    """Where a registered strategy came from: a user file and the sha256 of its text."""

    name: str
    file: str  # the file's name inside the strategies folder, or BUILTIN
    sha256: str | None  # None for the built-ins


@dataclass(frozen=True)
class Problem:
    """A strategy file that did not load: one line naming file, line and cause."""

    file: str
    line: int | None
    cause: str

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: {self.cause}"


@dataclass(frozen=True)
class Loaded:
    """What the last scan found."""

    folder: Path
    sources: dict[str, Source]  # every registered strategy by name, built-ins first
    problems: tuple[Problem, ...]
    signature: tuple  # the folder's files, sizes and modification times when scanned
    pinned: bool = False  # the engine's scan: kept until the next one, whatever the files do


_BUILTINS = {name: Source(name, BUILTIN, None) for name in STRATEGIES}
_lock = threading.Lock()
_state: Loaded | None = None


def folder() -> Path:
    return load_settings().home / FOLDER


def _signature(where: Path) -> tuple:
    if not where.is_dir():
        return ()
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(where.glob("*.py")) if p.is_file())


def _problem(path: Path, exc: BaseException) -> Problem:
    """The line of `path` an exception points at (a syntax error's, or the innermost frame in
    the file), and the exception on one line."""
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if Path(f.filename).resolve() == path.resolve()]
        line = frames[-1].lineno if frames else None
    cause = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return Problem(path.name, line, single_line(f"{type(exc).__name__}: {cause}"))


def _classes(path: Path) -> list[type[Strategy]]:
    """Import `path` as a module of its own; the Strategy classes it defines, checked."""
    module_name = MODULE_PREFIX + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # source_file() and tracebacks find the file by it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    found = [value for value in vars(module).values()
             if isinstance(value, type) and issubclass(value, Strategy)
             and value.__module__ == module_name]
    if not found:
        raise PaperDeskError("defines no subclass of Strategy")
    return [check_strategy_class(cls) for cls in found]


def _load_file(path: Path, sources: dict[str, Source]) -> list[type[Strategy]]:
    try:
        classes = _classes(path)
    except Exception as exc:  # the operator's code: anything may come out of it
        raise _Refused(_problem(path, exc)) from None
    for cls in classes:
        if cls.name in sources:
            where = sources[cls.name].file
            raise _Refused(Problem(path.name, None, f"strategy name {cls.name!r} is already "
                                                    f"taken ({where})"))
    return classes


class _Refused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def scan(where: Path | None = None, *, pin: bool = False) -> Loaded:
    """Load every strategy file of the folder afresh (replacing what an earlier scan
    registered); the built-ins stay. `pin` (the engine) keeps this scan until the next one,
    whatever happens to the files."""
    global _state
    where = where if where is not None else folder()
    with _lock:
        for name in [n for n in STRATEGIES if n not in _BUILTINS]:
            del STRATEGIES[name]
        sources, problems = dict(_BUILTINS), []
        signature = _signature(where)
        for file_name, *_ in signature:
            path = where / file_name
            try:
                classes = _load_file(path, sources)
            except _Refused as refused:
                problems.append(refused.problem)
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            for cls in classes:
                STRATEGIES[cls.name] = cls
                sources[cls.name] = Source(cls.name, path.name, digest)
        _state = Loaded(where, sources, tuple(problems), signature, pin)
        return _state


def current() -> Loaded:
    """The strategies as the folder holds them now: scanned again if its files changed."""
    state, where = _state, folder()
    if state is not None and state.pinned and state.folder == where:
        return state
    if state is None or state.folder != where or state.signature != _signature(where):
        return scan(where)
    return state


def loaded() -> Loaded:
    """What this process loaded last (scanning once if it has not): the engine's view."""
    return _state if _state is not None else scan()


def resolve(name: str, state: Loaded) -> type[Strategy]:
    """The class of strategy `name`; refused with the files that did not load, if any (one of
    them may have been meant)."""
    try:
        return strategy_class(name)
    except BadInput as refused:
        if not state.problems:
            raise
        broken = "; ".join(str(p) for p in state.problems)
        raise BadInput(f"{refused} — not loaded: {broken}") from None


def source_hash(name: str, state: Loaded) -> str | None:
    """The sha256 of the file strategy `name` was loaded from (None for a built-in)."""
    source = state.sources.get(name)
    return source.sha256 if source is not None else None


def lookup(name: str) -> type[Strategy]:
    """The class of strategy `name` as this process knows it (engine.control's checks)."""
    return resolve(name, current())
