"""Pausing Python's cyclic garbage collector around work that makes many objects and no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The collector off for the block, on again afterwards unless it was off already.

    Objects that pile up (a snapshot's thousands of area tuples) make the collector walk them
    again and again, though none of them can be part of a cycle. The switch is process-wide; a
    block that finds it off (another thread inside such a block) leaves it off. Its one user is
    ``dashboard.screens.wall_snapshot``.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
