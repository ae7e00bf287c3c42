"""Keep Python's cycle collector off the engine's hot paths: pause it around bulk work that
makes no reference cycles, and take the long-lived running sessions out of its sight."""

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


def freeze_long_lived(collect_first: bool) -> None:
    """Move every object alive now to the collector's permanent generation (gc.freeze), after
    sessions were loaded: thousands of running sessions are hundreds of thousands of
    long-lived objects (traders, series, caches) that each full collection would traverse
    again, stalling whichever tick triggered it for a quarter of a second or more. Reference
    counting still frees frozen objects; cyclic garbage among them waits for a freeze that
    unfreezes and collects first (`collect_first`, which the caller asks for now and then)."""
    if collect_first:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
