"""Modules a command imports when it first uses them, so each CLI command starts with only
what it needs (`status` loads no read of engine.cli.reads; a read loads no queueing)."""

import importlib
from typing import Any


class OnUse:
    """The module `name`, imported on its first attribute access."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
