"""Pause Python's cycle collector around bulk work that makes no reference cycles."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Trading or loading tens of thousands of bars makes as many small acyclic objects;
    collections triggered by them would scan the whole heap again and again. Reference
    counting still frees them as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
