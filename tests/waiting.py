"""The one way a test waits: ``wait_until(condition, timeout)``.

A test that needs something to happen elsewhere (a server to answer, a stream to carry a change,
a browser to draw it) re-checks the condition until it holds, and fails with what it was waiting
for, the last value it saw and how long it waited. It never sleeps a fixed time and then looks:
that is too short on a loaded machine and wasted time on a quiet one.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def describe(condition: Callable[..., object]) -> str:
    """What a condition checks, for a failure message: a lambda's source line, else its name."""
    name = getattr(condition, "__qualname__", repr(condition))
    if name.endswith("<lambda>"):
        try:
            lines, _ = inspect.getsourcelines(condition)
        except (OSError, TypeError):
            return name
        source = " ".join(line.strip() for line in lines)
        return source if len(source) <= 200 else source[:197] + "..."
    return name


def wait_until(condition: Callable[[], T], timeout: float, *, interval: float = 0.05,
               message: str | Callable[[], str] = "",
               ignoring: tuple[type[BaseException], ...] = (),
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``condition`` until it returns a truthy value, and return that value.

    It is checked at once, then every ``interval`` seconds, and a last time when ``timeout``
    seconds have passed; it never sleeps past the deadline. An exception of a type in ``ignoring``
    counts as "not yet"; any other propagates. On timeout it raises ``AssertionError`` naming
    ``message`` (or the condition's source), the last value or ignored exception seen, and the
    time waited; the last ignored exception is chained as the cause.

    ``clock`` and ``sleep`` are the time source and the pause, replaceable so that the helper
    itself can be tested without waiting.
    """
    started = clock()
    deadline = started + timeout
    last: object = None
    last_error: BaseException | None = None
    while True:
        try:
            value = condition()
        except ignoring as error:
            last, last_error = error, error
        else:
            if value:
                return value
            last, last_error = value, None
        now = clock()
        if now >= deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"timed out after {now - started:.2f} s (timeout {timeout:g} s) waiting for: "
                                 f"{what or describe(condition)}; last seen: {last!r}") from last_error
        sleep(max(0.0, min(interval, deadline - now)))
